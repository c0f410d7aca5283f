"""Organizer text over real HTTP: written on the setup page, stored as `event_text`, sent by the
real dispatcher to a real SMTP sink, and shown there as data, never as a template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from config import Settings
from config.settings import SmtpSettings
from models import Event, EventText
from models.schemas import ORGANIZER_TEXT_KINDS
from notifications import outbox
from notifications.dispatcher import dispatch_due
from notifications.samples import sample_contexts
from notifications.sink import MailSink, load_message
from portal.organizer.messages import TEXT_KIND_LABELS
from services.db import transaction
from tests.notifications.conftest import free_port
from tests.portal.api.seed import PASSWORD, Seeded, TestClient, build_app, portal_settings, seed

pytestmark = pytest.mark.integration

DASH = "/organizer/events/rueda-resultados"
SETUP = f"{DASH}/setup"
HOSTILE = "{{ 7*7 }} <b>x</b>"
HOSTILE_EN = '{% include "base.txt" %} <script>alert(1)</script>'


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    return seed(engine, now)


@pytest.fixture
def client(engine: Engine, tmp_path: Path, db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    settings: Settings = portal_settings(tmp_path, db_url)
    with TestClient(build_app(settings, engine), follow_redirects=False) as client:
        yield client


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail", port=free_port()) as running:
        yield running


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def _sign_in(client: TestClient) -> None:
    token = _csrf(client, "/organizer/login")
    response = client.post(
        "/organizer/login", data={"email": "ana@organizer.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def _fields(client: TestClient) -> dict[str, str]:
    """The setup form as the browser would send it back unchanged."""
    page = client.get(SETUP).text
    fields = {"csrf_token": _csrf(client, SETUP)}
    for name, value in re.findall(r'<input id="f-[^"]+" name="([^"]+)" type="[^"]+" value="([^"]*)"', page):
        fields[name] = unescape(value)
    for name, value in re.findall(r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        fields[name] = unescape(value)
    for name, value in re.findall(
        r'<select id="f-[^"]+" name="([^"]+)"[^>]*>.*?value="([^"]+)" selected', page, re.S
    ):
        fields[name] = unescape(value)
    return fields


def _texts(engine: Engine, event_id: int) -> list[tuple[str, str, str]]:
    with transaction(engine) as session:
        rows = session.exec(
            select(EventText).where(EventText.event_id == event_id).order_by(col(EventText.id))
        ).all()
        return [(r.notification_kind, r.language, r.text) for r in rows]


def test_every_kind_of_the_setup_page_has_a_label() -> None:
    assert list(TEXT_KIND_LABELS) == list(ORGANIZER_TEXT_KINDS)


def test_organizer_text_saved_on_the_setup_page_is_sent_as_data(
    client: TestClient, engine: Engine, seeded: Seeded, now: datetime, sink: MailSink
) -> None:
    _sign_in(client)
    page = client.get(SETUP)
    assert page.status_code == 200
    # One box per kind and language of the event (es, en); none for Portuguese.
    names = re.findall(r'<textarea id="f-[^"]+" name="(text:[^"]+)"', page.text)
    assert names == [f"text:{kind}:{lang}" for kind in ORGANIZER_TEXT_KINDS for lang in ("es", "en")]

    fields = _fields(client)
    saved = client.post(
        SETUP,
        data=fields
        | {
            "text:agenda.published:es": HOSTILE,
            "text:agenda.published:en": HOSTILE_EN,
            "text:reminder.day-before:en": "Bring cards.\r\n\r\nSee you.",
        },
    )
    assert (saved.status_code, saved.headers["location"]) == (303, SETUP)
    assert sorted(_texts(engine, seeded.event_a)) == [
        ("agenda.published", "en", HOSTILE_EN),
        ("agenda.published", "es", HOSTILE),
        ("reminder.day-before", "en", "Bring cards.\n\nSee you."),
    ]
    again = client.get(SETUP).text
    assert '">{{ 7*7 }} &lt;b&gt;x&lt;/b&gt;</textarea>' in again
    assert re.search(r"<details class=\"field\" open>\s*<summary>Agenda publicada", again)

    # The dispatcher reads the text when it sends: an agenda email in Spanish and one in English.
    with transaction(engine) as session:
        for person, language in (("S1", "es"), ("S2", "en")):
            queued = outbox.queue_message(
                session,
                kind="agenda.published",
                context=sample_contexts()["agenda.published"],
                recipient_email=f"{person.lower()}@example.org",
                language=language,
                idempotency_key=outbox.build_key("agenda.published", seeded.people[person], "organizer-text"),
                due_at=now,
                now=now,
                event_id=seeded.event_a,
                participant_id=seeded.people[person],
            )
            assert queued
    smtp = SmtpSettings(host="127.0.0.1", port=sink.port, rate_per_second=10_000, batch_size=50)
    report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.failed) == (2, 0)
    parts = {}
    for entry in sink.entries():
        message: EmailMessage = load_message(sink.mailbox.directory, entry)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        parts[message["Content-Language"]] = (
            text.get_content().replace("\r\n", "\n"),  # type: ignore[attr-defined]
            html.get_content(),  # type: ignore[attr-defined]
        )
    assert sorted(parts) == ["en", "es"]
    text_es, html_es = parts["es"]
    assert "\n{{ 7*7 }} <b>x</b>\n" in text_es
    assert "{{ 7*7 }} &lt;b&gt;x&lt;/b&gt;" in html_es
    assert "<b>x</b>" not in html_es and HOSTILE_EN not in text_es
    text_en, html_en = parts["en"]
    assert '\n{% include "base.txt" %} <script>alert(1)</script>\n' in text_en
    assert "{% include &#34;base.txt&#34; %} &lt;script&gt;alert(1)&lt;/script&gt;" in html_en
    assert "<script>" not in html_en and HOSTILE not in text_en

    # An empty box removes the text.
    fields = _fields(client)
    assert fields["text:agenda.published:es"] == HOSTILE
    fields["text:agenda.published:es"] = ""
    fields["text:agenda.published:en"] = ""
    fields["text:reminder.day-before:en"] = "Bring cards.\n\nSee you."
    assert client.post(SETUP, data=fields).status_code == 303
    assert _texts(engine, seeded.event_a) == [("reminder.day-before", "en", "Bring cards.\n\nSee you.")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hola\x07", "contains U+0007 BEL at character 5"),
        ("x" * 2001, "the text is 2001 characters long; the limit is 2000"),
    ],
)
def test_a_bad_organizer_text_is_refused_beside_its_box_and_nothing_is_saved(
    client: TestClient, engine: Engine, seeded: Seeded, text: str, message: str
) -> None:
    _sign_in(client)
    fields = _fields(client) | {"name": "Renamed at the same time", "text:survey.invited:en": "Thanks!"}
    bad = client.post(SETUP, data=fields | {"text:agenda.published:es": text})
    assert bad.status_code == 422
    assert re.findall(r'<p class="error" id="([^"]+)-error">', bad.text) == ["text:agenda.published:es"]
    found = re.search(r'<p class="error" id="text:agenda.published:es-error">([^<]*)</p>', bad.text)
    assert found is not None and found.group(1).startswith(message)
    assert 'aria-describedby="text:agenda.published:es-error" aria-invalid="true"' in bad.text
    # The other boxes keep what was typed.
    assert ">Thanks!</textarea>" in bad.text
    assert _texts(engine, seeded.event_a) == []
    with transaction(engine) as session:
        event = session.get(Event, seeded.event_a)
        assert event is not None and event.name != "Renamed at the same time"
