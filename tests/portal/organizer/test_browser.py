"""The organizer pages in a real browser (Debian's Chromium through Playwright), on a scheduled
event: sign in with the keyboard, read the dashboard (its screenshot is docs/images/
portal-dashboard.png), then check a participant in at the desk by typing their QR code and pressing
Enter, and the Check in button with the keyboard only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import (
    EventStatus,
    Meeting,
    MeetingRequest,
    MeetingStatus,
    MemberRole,
    RequestOrigin,
    RequestPriority,
)
from models import RequestStatus as Status
from portal.tokens import checkin_code
from services.accounts import create_user, grant_role
from services.db import run_in_transaction
from services.events import get_event_by_slug
from services.scheduling import build_schedule
from tests.conftest import NOW
from tests.factories import make_event, make_participant
from tests.portal.api.seed import PASSWORD
from tests.portal.conftest import SECRET, Portal
from tests.screenshots import screenshot_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DOCS_IMAGES = screenshot_dir()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BUYERS = [
    ("Laura Smith", "Andes Imports LLC", "US"),
    ("Jonas Weber", "Hamburg Kaffee GmbH", "DE"),
    ("Akiko Tanaka", "Tokyo Fine Foods KK", "JP"),
    ("Pierre Martin", "Saveurs du Monde SARL", "FR"),
]
SELLERS = [
    ("Ana Gómez", "Café Andino SAS"),
    ("Luis Pérez", "Frutas del Valle SAS"),
    ("María Rojas", "Cacao del Sur SAS"),
    ("Jorge Díaz", "Flores de la Sabana SAS"),
    ("Sofía Torres", "Aguacates Hass Export SAS"),
    ("Camilo Ruiz", "Panela Orgánica SAS"),
    ("Valentina Cruz", "Textiles Medellín SAS"),
]


def _scheduled_event(engine: Engine, tables: int = 4) -> tuple[int, int]:
    """Four buyers hosting T1-T4, seven sellers each asking three of them; the schedule built."""

    def setup(session: Session) -> tuple[int, int]:
        event = make_event(
            session, NOW, slug="macrorrueda-demo", name="Macrorrueda Andina 2027", tables=tables
        )
        buyers = [
            make_participant(
                session,
                event,
                NOW,
                f"buyer{n}@example.org",
                full_name=name,
                organization=org,
                role="buyer",
                country=country,
                host_table=f"T{n + 1}",
            )
            for n, (name, org, country) in enumerate(BUYERS)
        ]
        sellers = [
            make_participant(session, event, NOW, f"seller{n}@example.org", full_name=name, organization=org)
            for n, (name, org) in enumerate(SELLERS)
        ]
        for n, seller in enumerate(sellers):
            for k in range(3):
                buyer = buyers[(n + k) % len(buyers)]
                session.add(
                    MeetingRequest(
                        event_id=event.id,
                        requester_id=seller.id,
                        target_id=buyer.id,
                        priority=RequestPriority.MUST if k == 0 else RequestPriority.NICE,
                        origin=RequestOrigin.PARTICIPANT,
                        status=Status.DECLINED if (n, k) == (6, 2) else Status.ACCEPTED,
                        created_at=NOW,
                    )
                )
        event.status = EventStatus.REQUESTS_CLOSED
        session.add(event)
        user = create_user(
            session, email="ana@organizer.org", full_name="Ana Organizadora", password=PASSWORD, now=NOW
        )
        grant_role(session, user, event, MemberRole.ORGANIZER)
        assert event.id is not None and sellers[0].id is not None
        return event.id, sellers[0].id

    event_id, seller_id = run_in_transaction(engine, setup)
    run_in_transaction(
        engine,
        lambda s: build_schedule(s, get_event_by_slug(s, "macrorrueda-demo"), now=NOW, time_limit=5, seed=0),
    )
    return event_id, seller_id


def _open_dashboard(page: Any, portal: Portal) -> None:
    """Sign in with the keyboard as the organizer and open the event's dashboard."""
    page.goto(f"{portal.url}/organizer/login")
    page.get_by_label("Email").fill("ana@organizer.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{portal.url}/organizer/")
    page.get_by_role("link", name="Macrorrueda Andina 2027").click()


def test_dashboard_and_keyboard_check_in_in_a_browser(
    sqlite_engine: Engine, make_portal: Callable[..., Portal]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    event_id, seller_id = _scheduled_event(sqlite_engine)
    portal = make_portal(sqlite_engine, login_attempts_per_window=1000)
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
            _open_dashboard(page, portal)
            expect(page.locator("#fig-registrations")).to_have_text("11")
            expect(page.locator("#fig-acceptance")).to_have_text("95 %")
            page.screenshot(path=str(DOCS_IMAGES / "portal-dashboard.png"), full_page=True)

            page.get_by_role("link", name="Check-in desk").click()
            # The code field has the focus: a scanner (or a person) types the code and Enter.
            expect(page.locator("#f-code")).to_be_focused()
            page.keyboard.type(checkin_code(SECRET, event_id, seller_id))
            page.keyboard.press("Enter")
            page.wait_for_url(f"{portal.url}/organizer/events/macrorrueda-demo/checkin/{seller_id}")
            first = page.get_by_role("button", name="Check in").first
            first.focus()
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_have_text("Meeting checked in.")
        finally:
            browser.close()
    with Session(sqlite_engine) as session:
        statuses = sorted(
            m.status.value
            for m in session.exec(
                select(Meeting).where(
                    (Meeting.participant_a_id == seller_id) | (Meeting.participant_b_id == seller_id)
                )
            )
        )
    assert statuses.count(MeetingStatus.CHECKED_IN.value) == 1


def test_a_full_grid_page_keeps_its_slots_and_tables_in_view(
    sqlite_engine: Engine, make_portal: Callable[..., Portal]
) -> None:
    """A page of 30 tables is far wider than the screen: the grid uses the window's width, scrolls
    inside its region, and the slot column and the table row stay in view while it scrolls; no
    cell's text is cut."""
    from playwright.sync_api import expect, sync_playwright

    _scheduled_event(sqlite_engine, tables=30)
    portal = make_portal(sqlite_engine, login_attempts_per_window=1000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 480}, locale="en-US")
            _open_dashboard(page, portal)
            headers = page.locator(".schedule-grid thead th")
            expect(headers).to_have_count(32)  # the slot, T1..T30, the empty count
            region = page.locator(".grid-scroll")
            box = region.bounding_box()
            assert box is not None
            assert box["width"] >= 1240  # 1280 less the page's padding and the scroll bar
            sizes = region.evaluate(
                "el => [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight]"
            )
            assert sizes[0] > sizes[1] and sizes[2] > sizes[3]  # it scrolls both ways
            cut = page.evaluate(
                "() => [...document.querySelectorAll('.schedule-grid th, .schedule-grid td')]"
                ".filter(c => c.scrollWidth > c.clientWidth).map(c => c.textContent)"
            )
            assert cut == []

            region.evaluate("el => { el.scrollLeft = el.scrollWidth; el.scrollTop = el.scrollHeight; }")
            page.wait_for_timeout(100)
            after = region.bounding_box()
            assert after is not None
            slot_cell = page.locator(".schedule-grid tbody th").last.bounding_box()
            table_head = headers.nth(30).bounding_box()  # T30, the last table
            corner = headers.first.bounding_box()
            assert slot_cell is not None and table_head is not None and corner is not None
            assert abs(slot_cell["x"] - after["x"]) < 2  # the slot column stays at the left edge
            assert abs(corner["y"] - after["y"]) < 2 and abs(corner["x"] - after["x"]) < 2
            assert abs(table_head["y"] - after["y"]) < 2  # the table row stays at the top
            assert table_head["x"] + table_head["width"] <= after["x"] + after["width"]  # T30 in full view
        finally:
            browser.close()
