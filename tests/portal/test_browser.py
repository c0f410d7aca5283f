"""A participant's whole path in headless Chromium against the real portal (uvicorn on loopback,
SQLite, real SMTP delivery to the aiosmtpd sink): register on a phone, take the sign-in link from
the stored email, sign in, ask a buyer for a meeting; the buyer (a second browser context) signs
in and accepts; the schedule is built; the agenda shows the meeting; the survey is answered.
Screenshots of the main pages go to docs/images/portal-*.png with RUEDA_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time
from sqlmodel import Session, select

from models import EventTable, Meeting, MeetingRequest, RequestStatus, SurveyResponse, SurveyWave, TimeSlot
from notifications.dispatcher import dispatch_due
from notifications.sink import MailSink, load_message
from services.db import run_in_transaction
from services.surveys import create_invitations
from tests.portal.conftest import Portal, open_event
from tests.portal.helpers import participant_id, schedule_event
from tests.screenshots import screenshot_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DOCS_IMAGES = screenshot_dir()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _sign_in_link(portal: Portal, sink: MailSink, email: str) -> str:
    """Deliver what the portal queued, then read the newest email to `email` from the sink."""
    report = dispatch_due(
        portal.engine, portal.settings.smtp, calendar_domain=portal.settings.portal.uid_domain
    )
    assert report.failed == 0
    entries = [e for e in sink.entries() if e.rcpt_tos == [email]]
    assert entries, f"no email reached {email}"
    message = load_message(sink.mailbox.directory, entries[-1])
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"{re.escape(portal.url)}/login\?t=[A-Za-z0-9_.\-]+", text)
    assert found is not None, text
    return found.group(0)


def test_participant_path_in_the_browser(portal: Portal, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    event_id = open_event(portal.engine, name="Macrorrueda Pacífico 2027", tables=4)
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    with (
        MailSink(tmp_path / "mail", port=portal.settings.smtp.port) as sink,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        seller = browser.new_context(viewport=PHONE, locale="es-CO", is_mobile=True, has_touch=True)
        buyer = browser.new_context(viewport=DESKTOP, locale="en-GB")
        for context in (seller, buyer):
            context.set_default_timeout(15_000)
        page = seller.new_page()

        # 1. Register, on a phone, in Spanish (the browser's language).
        page.goto(f"{portal.url}/e/rueda-test/register")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.get_by_role("button", name="Inscribirme").click()
        expect(page.locator("#consent-error")).to_have_text(
            "Para inscribirse debe autorizar el tratamiento de sus datos."
        )
        expect(page.locator("#email-error")).to_be_visible()
        expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
        page.goto(f"{portal.url}/e/rueda-test/register")
        page.get_by_label("Nombre completo").fill("Ana Gómez")
        page.get_by_label("Correo electrónico").fill("ana@andino.example")
        page.get_by_label("Cargo").fill("Gerente comercial")
        page.get_by_label("Organización").fill("Café Andino SAS")
        page.get_by_label("País").select_option("CO")
        page.get_by_label("Vender", exact=True).check()
        page.get_by_label("Lo que ofrece: códigos SA (HS)").fill("0901, 1801")
        page.get_by_label("Lo que ofrece, en palabras").fill(
            "Café verde especial de Nariño; cacao fino de aroma"
        )
        page.get_by_label("Autorizo el tratamiento de mis datos personales para estas finalidades.").check()
        page.screenshot(path=str(DOCS_IMAGES / "portal-registration.png"), full_page=True)
        page.get_by_role("button", name="Inscribirme").click()
        expect(page.get_by_role("heading", name="Revise su correo")).to_be_visible()

        # The counterpart registers in English on a desktop.
        other = buyer.new_page()
        other.goto(f"{portal.url}/e/rueda-test/register")
        other.get_by_label("Full name").fill("Hans Müller")
        other.get_by_label("Email address").fill("hans@rheinkaffee.example")
        other.get_by_label("Organization").fill("Rheinkaffee GmbH")
        other.get_by_label("Country").select_option("DE")
        other.get_by_label("Buy", exact=True).check()
        other.get_by_label("Time zone of your agenda").fill("Europe/Berlin")
        other.get_by_label("What you seek: HS codes").fill("0901")
        other.get_by_label("What you seek, in words").fill("Specialty green coffee, two containers a month")
        other.get_by_label("I authorize the processing of my personal data for these purposes.").check()
        other.get_by_role("button", name="Register").click()
        expect(other.get_by_role("heading", name="Check your email")).to_be_visible()

        # 2-3. Take the link from the mail sink and sign in.
        page.goto(_sign_in_link(portal, sink, "ana@andino.example"))
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", name="Mi perfil")).to_be_visible()
        # The profile: she also speaks English, and finds the HS chapter of cocoa with the picker.
        page.get_by_label("English").check()
        page.get_by_role("button", name="Guardar mi perfil").click()
        expect(page.get_by_text("Su perfil quedó guardado.")).to_be_visible()
        page.get_by_label("Buscar por producto o código").fill("cacao")
        page.get_by_role("button", name="Buscar", exact=True).click()
        chapter = page.get_by_role("listitem").filter(has_text="Cacao y sus preparaciones")
        expect(chapter).to_contain_text("18")
        chapter.get_by_role("button", name="Lo ofrezco").click()
        expect(page.locator("#f-offer_hs")).to_have_value("0901, 1801, 18")
        other.goto(_sign_in_link(portal, sink, "hans@rheinkaffee.example"))
        other.get_by_role("button", name="Sign in").click()
        expect(other.get_by_role("heading", name="My profile")).to_be_visible()

        # 4. Ask for a meeting from the catalog.
        page.goto(f"{portal.url}/me/catalog?role=buyer")
        card = page.get_by_role("article").filter(has_text="Hans Müller")
        expect(card).to_contain_text("Rheinkaffee GmbH")
        card.get_by_text("Pedir una reunión").click()
        card.get_by_label("Indispensable").check()
        card.get_by_label("Nota para la contraparte (opcional)").fill(
            "Podemos enviar dos contenedores al mes."
        )
        page.screenshot(path=str(DOCS_IMAGES / "portal-catalog.png"), full_page=True)
        card.get_by_role("button", name="Enviar solicitud").click()
        expect(page.get_by_text("Su solicitud fue enviada.")).to_be_visible()

        # 5. The counterpart accepts.
        other.goto(f"{portal.url}/me/requests")
        incoming = other.get_by_role("article").filter(has_text="Ana Gómez")
        expect(incoming).to_contain_text("Podemos enviar dos contenedores al mes.")
        incoming.get_by_role("button", name="Accept").click()
        expect(other.get_by_text("Your answer is saved.")).to_be_visible()
        with Session(portal.engine) as session:
            assert session.exec(select(MeetingRequest.status)).all() == [RequestStatus.ACCEPTED]

        # 6-7. The schedule is built; the agenda shows the meeting in each one's time zone.
        schedule_event(portal.engine, "rueda-test")
        with Session(portal.engine) as session:
            meeting = session.exec(select(Meeting)).one()
            slot = session.get(TimeSlot, meeting.slot_id)
            table = session.get(EventTable, meeting.table_id)
            assert slot is not None and table is not None
        page.goto(f"{portal.url}/me/agenda")
        row = page.get_by_role("row").filter(has_text="Hans Müller")
        expect(row).to_contain_text("Rheinkaffee GmbH")
        expect(row.locator(".table-code")).to_have_text(table.code)
        bogota = format_time(slot.starts_at.astimezone(ZoneInfo("America/Bogota")), "short", locale="es")
        expect(row).to_contain_text(bogota)
        expect(page.locator("svg.segno")).to_be_visible()
        other.goto(f"{portal.url}/me/agenda")
        berlin = format_time(slot.starts_at.astimezone(ZoneInfo("Europe/Berlin")), "short", locale="en")
        assert berlin != bogota
        expect(other.get_by_role("row").filter(has_text="Ana Gómez")).to_contain_text(berlin)
        other.screenshot(path=str(DOCS_IMAGES / "portal-agenda.png"), full_page=True)
        with other.expect_download() as download:
            other.get_by_role("link", name="Download .ics").click()
        calendar = Path(download.value.path()).read_text()
        assert calendar.count("BEGIN:VEVENT") == 1 and f"UID:meeting-{meeting.id}@" in calendar

        # 8. The survey, from the invitation's link, on the phone.
        links = run_in_transaction(
            portal.engine,
            lambda s: create_invitations(s, event_id, SurveyWave.POST_EVENT, now=datetime.now(UTC)),
        )
        ana = participant_id(portal.engine, "ana@andino.example")
        token = next(link.token for link in links if link.participant_id == ana)
        page.goto(f"{portal.url}/survey?t={token}")
        meeting_box = page.get_by_role("group", name="Hans Müller · Rheinkaffee GmbH")
        meeting_box.get_by_label("Sí").check()
        meeting_box.get_by_label("5", exact=True).check()
        meeting_box.get_by_label("Negocios esperados en 12 meses").fill("48000")
        whole = page.get_by_role("group", name="El evento en general")
        whole.get_by_role("radiogroup", name="¿Qué tan satisfecho está con el evento? (1 a 5)").get_by_label(
            "4", exact=True
        ).check()
        whole.get_by_role(
            "radiogroup", name="¿Qué tan probable es que lo recomiende a un colega? (0 a 10)"
        ).get_by_label("9", exact=True).check()
        page.screenshot(path=str(DOCS_IMAGES / "portal-survey.png"), full_page=True)
        page.get_by_role("button", name="Enviar mis respuestas").click()
        expect(page.locator("#saved")).to_have_text("¡Gracias! Sus respuestas quedaron guardadas.")
        browser.close()
    with Session(portal.engine) as session:
        answers = session.exec(select(SurveyResponse).order_by(SurveyResponse.kind)).all()
    assert [
        (a.kind.value, a.took_place, a.interest, a.expected_12m_cents, a.satisfaction, a.recommend)
        for a in answers
    ] == [
        ("meeting", True, 5, 4_800_000, None, None),
        ("participant", None, None, None, 4, 9),
    ]
