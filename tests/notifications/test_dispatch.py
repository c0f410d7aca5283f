"""The dispatcher against a real SMTP server on loopback (aiosmtpd), on SQLite and PostgreSQL:
every kind delivered with its attachments, 4xx retried, 5xx failed, stale rows skipped, and nothing
lost while the server is down."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import SmtpSettings
from models import EventText, Notification
from notifications import outbox
from notifications.catalog import KINDS
from notifications.delivery import RateLimiter
from notifications.dispatcher import dispatch_due
from notifications.sink import Mailbox, MailSink, SinkHandler, load_message
from tests.notifications.conftest import free_port
from tests.notifications.seed import Seeded, queue_sample, seed_people

pytestmark = pytest.mark.integration

MINUTE = timedelta(minutes=1)


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    return seed_people(engine, now)


def _statuses(engine: Engine) -> list[tuple[str, int, str | None]]:
    with Session(engine) as session:
        rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
        return [(r.status.value, r.attempts, r.last_error) for r in rows]


def test_dispatch_delivers_every_kind_with_calendar_files(
    engine: Engine, seeded: Seeded, now: datetime, sink: MailSink, smtp: SmtpSettings
) -> None:
    with Session(engine) as session:
        for index, kind in enumerate(sorted(KINDS)):
            queue_sample(session, seeded, kind=kind, index=index, due_at=now, now=now, language="es")
        session.add(
            EventText(
                event_id=seeded.event_id,
                notification_kind="agenda.published",
                language="es",
                text="Traiga tarjetas <de presentación>.",
            )
        )
        session.commit()
        expected_ids = {r.message_id: r.kind for r in session.exec(select(Notification)).all()}
        keys = {r.message_id: r.idempotency_key for r in session.exec(select(Notification)).all()}
    report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.failed, report.retried, report.batches) == (16, 0, 0, 1)
    assert _statuses(engine) == [("sent", 1, None)] * 16
    entries = sink.entries()
    assert Counter(e.message_id for e in entries) == Counter(list(expected_ids))
    assert {e.rcpt_tos[0] for e in entries} == {"p0@example.org", "p1@example.org", "p2@example.org"}
    by_kind = {expected_ids[e.message_id]: e for e in entries}
    # Every message names its kind and its outbox row: an operator counts them at the sink.
    for entry in entries:
        message = load_message(sink.mailbox.directory, entry)
        assert message["X-Rueda-Kind"] == expected_ids[entry.message_id]
        assert message["X-Rueda-Outbox-Key"] == keys[entry.message_id]
    agenda: EmailMessage = load_message(sink.mailbox.directory, by_kind["agenda.published"])
    assert agenda["Subject"] == "Su agenda de Macrorrueda Pacífico 2027: 3 reuniones"
    assert agenda["To"] == "Ana Gómez <p1@example.org>"  # sorted(KINDS)[1]
    assert agenda["Content-Language"] == "es"
    assert agenda["Auto-Submitted"] == "auto-generated"
    assert agenda.get_content_type() == "multipart/mixed"
    text = agenda.get_body(preferencelist=("plain",))
    html = agenda.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "Traiga tarjetas <de presentación>." in text.get_content()  # type: ignore[attr-defined]
    assert "Traiga tarjetas &lt;de presentación&gt;.</p>" in html.get_content()  # type: ignore[attr-defined]
    [attachment] = list(agenda.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "agenda.ics"
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    assert len(calendar.walk("VEVENT")) == 3
    cancelled: EmailMessage = load_message(sink.mailbox.directory, by_kind["meeting.cancelled"])
    assert [a.get_param("method") for a in cancelled.iter_attachments()] == ["CANCEL"]
    digest: EmailMessage = load_message(sink.mailbox.directory, by_kind["organizer.digest"])
    assert digest.get_content_type() == "multipart/alternative"
    assert list(digest.iter_attachments()) == []
    # Sent: the secret links stay only in the emails; the outbox keeps them redacted.
    with Session(engine) as session:
        stored = {r.kind: json.dumps(r.context) for r in session.exec(select(Notification))}
    assert "login?t=redacted" in stored["login.requested"] and "abc.def" not in stored["login.requested"]
    assert "survey?t=redacted" in stored["survey.invited"] and "t=s1" not in stored["survey.invited"]
    assert "followup?t=redacted" in stored["followup.invited"]
    assert "accept?t=abc" in stored["requests.received"]  # not a sign-in link: kept
    with Session(engine) as session:
        confirmation = session.exec(
            select(Notification).where(Notification.kind == "privacy.erasure-decided")
        ).one()
    # A carried-out erasure's confirmation was the one row still holding the address: not after sending.
    assert confirmation.recipient_email == f"erased-{confirmation.participant_id}@erased.invalid"
    assert by_kind["privacy.erasure-decided"].rcpt_tos[0].endswith("@example.org")
    login: EmailMessage = load_message(sink.mailbox.directory, by_kind["login.requested"])
    login_text = login.get_body(preferencelist=("plain",))
    assert login_text is not None and "https://rueda.example.org/login?t=abc.def" in login_text.get_content()  # type: ignore[attr-defined]


class RefusingHandler(SinkHandler):
    """Answers RCPT for busy@ with 451 the first `busy_times` times, and gone@ with 550."""

    busy_times = 2

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(mailbox)
        self.busy_seen = 0

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy@") and self.busy_seen < self.busy_times:
            self.busy_seen += 1
            return "451 4.3.2 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_dispatch_retries_4xx_and_fails_5xx(
    engine: Engine, seeded: Seeded, now: datetime, tmp_path: Path
) -> None:
    with Session(engine) as session:
        queue_sample(
            session, seeded, kind="survey.invited", index=0, due_at=now, now=now, email="busy@example.org"
        )
        queue_sample(
            session, seeded, kind="survey.invited", index=1, due_at=now, now=now, email="gone@example.org"
        )
        queue_sample(
            session, seeded, kind="survey.invited", index=2, due_at=now, now=now, email="ok@example.org"
        )
        session.commit()
    port = free_port()
    sink_with_refusals = MailSink(tmp_path / "mail", port=port, handler_class=RefusingHandler)
    smtp = SmtpSettings(host="127.0.0.1", port=port, rate_per_second=1000)
    with sink_with_refusals:
        first = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
        assert (first.sent, first.retried, first.failed) == (1, 1, 1)
        assert first.failures == ["2: 550 5.1.1 mailbox unavailable"]
        assert _statuses(engine) == [
            ("pending", 1, "451 4.3.2 try again later"),
            ("failed", 1, "550 5.1.1 mailbox unavailable"),
            ("sent", 1, None),
        ]
        # Not due again before the backoff (1 minute after the first refusal).
        assert (
            dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now + MINUTE / 2).sent
            == 0
        )
        second = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now + MINUTE)
        assert (second.sent, second.retried) == (0, 1)
        third = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now + 3 * MINUTE)
        assert third.sent == 1
        assert [e.rcpt_tos for e in sink_with_refusals.entries()] == [
            ["ok@example.org"],
            ["busy@example.org"],
        ]
    assert _statuses(engine)[0] == ("sent", 3, "451 4.3.2 try again later")
    with Session(engine) as session:
        [failure] = outbox.list_failures(session, event_id=seeded.event_id, since=now)
    assert failure.recipient_email == "gone@example.org"


def test_smtp_down_for_a_while_loses_nothing(
    engine: Engine, seeded: Seeded, now: datetime, tmp_path: Path
) -> None:
    with Session(engine) as session:
        for index in range(30):
            queue_sample(session, seeded, kind="reminder.day-before", index=index, due_at=now, now=now)
        session.commit()
    port = free_port()
    smtp = SmtpSettings(host="127.0.0.1", port=port, rate_per_second=1000, batch_size=8)
    backoff = timedelta(seconds=30)
    for minute in range(3):  # down: three tries, each gives every row back untouched
        at = now + minute * MINUTE
        report = dispatch_due(
            engine,
            smtp,
            calendar_domain="rueda.localhost",
            clock=lambda at=at: at,
            connection_backoff=backoff,
        )  # type: ignore[misc]
        assert (report.sent, report.released, report.batches) == (0, 8, 1)
        assert report.connection_error is not None and "ConnectionRefusedError" in report.connection_error
    with Session(engine) as session:
        rows = session.exec(select(Notification)).all()
        assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
        assert outbox.next_due_at(session) == now
    with MailSink(tmp_path / "mail", port=port) as sink:  # back up
        report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now + 3 * MINUTE)
        assert (report.sent, report.batches, report.connection_error) == (30, 4, None)
        counts = Counter(e.message_id for e in sink.entries())
    with Session(engine) as session:
        assert set(counts) == {r.message_id for r in session.exec(select(Notification)).all()}
    assert set(counts.values()) == {1}
    assert {s for s, _, _ in _statuses(engine)} == {"sent"}


def test_server_dropping_mid_batch_gives_the_rest_back(
    engine: Engine, seeded: Seeded, now: datetime, tmp_path: Path
) -> None:
    class DroppingHandler(SinkHandler):
        """Stores three messages, then drops the connection in the middle of the fourth."""

        async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
            if len(list(self.mailbox.directory.glob("*.eml"))) >= 3:
                assert server.transport is not None
                server.transport.close()
                return "421 4.3.0 closing"
            return await super().handle_DATA(server, session, envelope)

    with Session(engine) as session:
        for index in range(6):
            queue_sample(session, seeded, kind="survey.reminder", index=index, due_at=now, now=now)
        session.commit()
    port = free_port()
    smtp = SmtpSettings(host="127.0.0.1", port=port, rate_per_second=1000)
    with MailSink(tmp_path / "mail", port=port, handler_class=DroppingHandler):
        report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.retried, report.released) == (3, 0, 3)
    assert report.connection_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert [(s, a) for s, a, _ in _statuses(engine)] == [("sent", 1)] * 3 + [("pending", 0)] * 3


def test_stale_rows_are_never_sent(
    engine: Engine, seeded: Seeded, now: datetime, sink: MailSink, smtp: SmtpSettings
) -> None:
    with Session(engine) as session:
        queue_sample(
            session,
            seeded,
            kind="reminder.first-meeting",
            index=0,
            due_at=now - 2 * MINUTE,
            not_after=now - MINUTE,
            now=now,
        )
        queue_sample(
            session,
            seeded,
            kind="reminder.first-meeting",
            index=1,
            due_at=now - 2 * MINUTE,
            not_after=now,
            now=now,
        )
        session.commit()
    report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.skipped_stale) == (1, 1)
    assert [e.rcpt_tos for e in sink.entries()] == [["p1@example.org"]]


def test_unrenderable_row_fails_alone(
    engine: Engine, seeded: Seeded, now: datetime, sink: MailSink, smtp: SmtpSettings
) -> None:
    with Session(engine) as session:
        queue_sample(session, seeded, kind="survey.invited", index=0, due_at=now, now=now)
        queue_sample(session, seeded, kind="survey.invited", index=1, due_at=now, now=now)
        session.commit()
        row = session.get(Notification, 1)
        assert row is not None
        row.context = {"event": {}}
        session.add(row)
        session.commit()
    report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.failed) == (1, 1)
    [(status, attempts, error), sent] = _statuses(engine)
    assert (status, attempts, sent) == ("failed", 1, ("sent", 1, None))
    assert error is not None and error.startswith("render: stored survey.invited context is invalid")
    assert len(sink.entries()) == 1


def test_rate_limiter_spaces_sends_evenly() -> None:
    ticks = iter([0.0, 0.0, 0.05, 0.5, 0.5])
    slept: list[float] = []
    limiter = RateLimiter(10, clock=lambda: next(ticks), sleep=slept.append)
    for _ in range(5):
        limiter.wait()
    assert [round(s, 6) for s in slept] == [0.1, 0.15, 0.1]


def test_parallel_connections_send_each_message_once(
    engine: Engine, seeded: Seeded, now: datetime, sink: MailSink
) -> None:
    with Session(engine) as session:
        for index in range(40):
            queue_sample(session, seeded, kind="survey.reminder", index=index, due_at=now, now=now)
        session.commit()
    smtp = SmtpSettings(host="127.0.0.1", port=sink.port, rate_per_second=10_000, batch_size=5)
    report = dispatch_due(
        engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now, worker="w", connections=3
    )
    assert (report.sent, report.failed, report.batches) == (40, 0, 8)
    counts = Counter(e.message_id for e in sink.entries())
    with Session(engine) as session:
        rows = session.exec(select(Notification)).all()
    assert set(counts) == {r.message_id for r in rows}
    assert set(counts.values()) == {1}
    assert {r.claimed_by for r in rows} <= {"w/1", "w/2", "w/3"}
    assert {r.status for r in rows} == {"sent"}
