"""Venue time through the doors (issue 14, item 1): a buyer in Seoul registers through the portal for
an in-person rueda in Colombia. The agenda email read from the mail sink and their agenda page show
every meeting at the venue's hour, with the weekday and the zone named, and their own zone as a
second line. The same buyer at a virtual event sees their own hours."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import MeetingRequest
from notifications.dispatcher import dispatch_due
from notifications.sink import MailSink, load_message
from services.agendas import publish_agendas
from services.db import run_in_transaction
from services.events import get_event_by_slug
from tests.portal.conftest import Portal, later, open_event, register, registration_form
from tests.portal.helpers import latest_link, participant_id, post_form, schedule_event, sign_in

pytestmark = pytest.mark.integration

SELLER, BUYER = "ana@andino.example", "minjun@seoul-coffee.example"


def _agenda_text(portal: Portal, tmp_path: Path, event_format: str) -> tuple[str, str]:
    """Register both over HTTP, request and accept, schedule, publish; the buyer's agenda email
    (plain text, from the sink) and agenda page."""
    open_event(portal.engine, format=event_format)
    with (
        portal.client() as seller,
        portal.client() as buyer,
        MailSink(tmp_path / "mail", port=portal.settings.smtp.port) as sink,
    ):
        assert register(seller, "rueda-test", registration_form(SELLER)).status_code == 200
        sign_in(seller, latest_link(portal.engine, SELLER))
        form = registration_form(
            BUYER,
            full_name="Kim Min-jun",
            organization="Seoul Coffee Co",
            country="KR",
            role="buyer",
            timezone="Asia/Seoul",
            language="en",
            offer_hs="",
            demand_hs="0901",
            demand_description="Green coffee",
        )
        assert register(buyer, "rueda-test", form).status_code == 200
        sign_in(buyer, latest_link(portal.engine, BUYER))
        target = participant_id(portal.engine, BUYER)
        asked = post_form(
            seller, "/me/catalog", "/me/requests", {"target_id": str(target), "priority": "must"}
        )
        assert asked.status_code == 303
        with Session(portal.engine) as session:
            request_id = session.exec(
                select(MeetingRequest.id).where(MeetingRequest.target_id == target)
            ).one()
        assert post_form(buyer, "/me/requests", f"/me/requests/{request_id}/accept", {}).status_code == 303
        schedule_event(portal.engine, "rueda-test")
        run_in_transaction(
            portal.engine,
            lambda s: publish_agendas(
                s,
                get_event_by_slug(s, "rueda-test"),
                now=later(0),
                agenda_url=f"{portal.settings.portal.public_url}/agenda",
                first_meeting_lead=timedelta(minutes=30),
            ),
        )
        report = dispatch_due(
            portal.engine, portal.settings.smtp, calendar_domain=portal.settings.portal.uid_domain
        )
        assert report.failed == 0
        [agenda] = [
            load_message(sink.mailbox.directory, e)
            for e in sink.entries()
            if e.rcpt_tos == [BUYER] and e.subject.startswith("Your agenda")
        ]
        assert isinstance(agenda, EmailMessage)
        body = agenda.get_body(("plain",))
        assert body is not None
        page = buyer.get("/me/agenda")
        assert page.status_code == 200
        return str(body.get_content()).replace("\r\n", "\n"), page.text


def test_in_person_times_are_the_venues_with_the_own_zone_beside(
    sqlite_engine: Engine, make_portal: Callable[..., Portal], tmp_path: Path
) -> None:
    text, page = _agenda_text(make_portal(sqlite_engine), tmp_path, "in_person")
    [line] = [line for line in text.splitlines() if line.startswith("* ")]
    # The venue's hour (08:00 in Bogotá), with the weekday; not 10:00 PM in Seoul.
    assert line.startswith("* Wednesday, May 19, 2027 8:00\u202fAM–8:30\u202fAM · Table T")
    assert (
        "Times are shown in Colombia Time.\nIn your own time zone (South Korea Time) that is 14 h later."
        in text
    )
    assert "Times at the venue (America/Bogota); yours (Asia/Seoul) below each." in page
    cell = re.search(
        r"<td>(Wednesday, May 19, 2027<br><strong>8:00\u202fAM–8:30\u202fAM</strong>.*?)</td>", page, re.S
    )
    assert cell is not None
    assert "Your time: May 19, 2027, 10:00\u202fPM" in cell.group(1)


def test_virtual_times_are_the_participants(
    sqlite_engine: Engine, make_portal: Callable[..., Portal], tmp_path: Path
) -> None:
    text, page = _agenda_text(make_portal(sqlite_engine), tmp_path, "virtual")
    [line] = [line for line in text.splitlines() if line.startswith("* ")]
    assert line.startswith("* Wednesday, May 19, 2027 10:00\u202fPM–10:30\u202fPM · Table T")
    assert "Times are shown in South Korea Time." in text
    assert "In your own time zone" not in text
    assert "Times in your time zone (Asia/Seoul)." in page
    assert "Your time:" not in page
