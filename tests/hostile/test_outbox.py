"""The outbox against hostile rows, on a real SMTP server on loopback: a name that holds line breaks
(stored before the doors checked text) never adds a header or a recipient; a row that cannot become
an email fails alone with its reason while the batch goes on; a message whose sending keeps stopping
its sender becomes a dead letter instead of holding its batch forever. After any of them an
unrelated message is still delivered."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from config.settings import SmtpSettings
from models import Notification
from models.enums import NotificationStatus
from notifications import outbox
from notifications.dispatcher import dispatch_due
from notifications.samples import sample_contexts
from notifications.sink import MailSink, load_message
from tests.notifications.seed import Seeded, queue_sample, seed_people

pytestmark = pytest.mark.integration

LEASE = timedelta(minutes=10)
BREAKS = "\r\n\x00\x0b\x0c\x1b\x7f\x85\u2028\u2029"
# Text around the breaks: letters, the header syntax an attacker would use, and spaces.
PIECES = st.sampled_from(
    ["Ana", " ", "Bcc: x@evil.example", "To: y@evil.example", ":", "<", ">", '"', "Gómez"]
)
HOSTILE_NAMES = st.lists(st.one_of(PIECES, st.sampled_from(list(BREAKS))), min_size=1, max_size=12).map(
    "".join
)


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    return seed_people(engine, now)


def _queue_named(session: Session, seeded: Seeded, name: str, *, key: str, now: datetime) -> None:
    context = sample_contexts()["reminder.day-before"]
    hostile = dataclasses.replace(context, recipient=dataclasses.replace(context.recipient, name=name))  # type: ignore[attr-defined]
    assert outbox.queue_message(
        session,
        kind="reminder.day-before",
        context=hostile,
        recipient_email="victim@example.org",
        language="es",
        idempotency_key=key,
        due_at=now,
        now=now,
        event_id=seeded.event_id,
        participant_id=seeded.participant_ids[0],
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=HOSTILE_NAMES)
def test_a_name_with_line_breaks_never_adds_a_header_or_a_recipient(
    engine: Engine, seeded: Seeded, now: datetime, sink: MailSink, smtp: SmtpSettings, name: str
) -> None:
    before = len(sink.entries())
    with Session(engine) as session:
        _queue_named(session, seeded, name, key=f"hostile-{before}", now=now)
        queue_sample(session, seeded, kind="login.requested", index=before, due_at=now, now=now)
        session.commit()
    report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.failed) == (2, 0), report.failures
    hostile, unrelated = sink.entries()[before:]
    assert hostile.rcpt_tos == ["victim@example.org"]
    assert unrelated.rcpt_tos[0].endswith("@example.org") and unrelated.rcpt_tos[0] != "victim@example.org"
    message = load_message(sink.mailbox.directory, hostile)
    assert message.get_all("Bcc") is None
    assert len(message.get_all("To")) == 1
    assert message["To"].addresses[0].addr_spec == "victim@example.org"
    assert not set(str(message["To"])) & set(BREAKS)


def test_a_row_that_cannot_become_an_email_fails_alone(
    engine: Engine, seeded: Seeded, now: datetime, sink: MailSink, smtp: SmtpSettings
) -> None:
    with Session(engine) as session:
        keys = [
            queue_sample(session, seeded, kind="reminder.day-before", index=index, due_at=now, now=now)
            for index in range(5)
        ]
        session.commit()
        # A row written by an older release, whose context no longer renders (a date that is not one).
        broken = session.exec(select(Notification).where(Notification.idempotency_key == keys[2])).one()
        context = dict(broken.context)
        context["event"] = {**context["event"], "starts_on": "not a date"}
        session.execute(update(Notification).where(col(Notification.id) == broken.id).values(context=context))
        session.commit()
    report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.failed) == (4, 1)
    with Session(engine) as session:
        rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
        assert [r.status for r in rows] == [NotificationStatus.SENT] * 2 + [NotificationStatus.FAILED] + [
            NotificationStatus.SENT
        ] * 2
        assert rows[2].last_error is not None and rows[2].last_error.startswith("render: ")
        assert "starts_on" in rows[2].last_error
        [failure] = outbox.list_failures(session, event_id=seeded.event_id, since=now)
        assert failure.recipient_email == rows[2].recipient_email
    assert len(sink.entries()) == 4


def _claim_and_die(engine: Engine, *, at: datetime) -> list[int]:
    """A dispatcher that claims a batch and is killed while sending its first row."""
    with Session(engine) as session:
        claimed = outbox.claim_due(session, now=at, worker="doomed", limit=50)
        session.commit()
    return [m.id for m in claimed]


def test_a_message_that_keeps_stopping_its_sender_becomes_a_dead_letter(
    engine: Engine, seeded: Seeded, now: datetime, sink: MailSink, smtp: SmtpSettings
) -> None:
    with Session(engine) as session:
        for index in range(3):
            queue_sample(session, seeded, kind="reminder.day-before", index=index, due_at=now, now=now)
        session.commit()
    at = now
    for _stop in range(3):  # outbox.MAX_IN_FLIGHT_STOPS
        assert len(_claim_and_die(engine, at=at)) == 3
        at += LEASE
        with Session(engine) as session:
            recovery = outbox.recover_abandoned(session, now=at, lease=LEASE)
            session.commit()
    # Stopped three times with the first row in flight: that row is failed, the others go out.
    assert (recovery.requeued, recovery.uncertain, recovery.dead) == (2, 0, 1)
    report = dispatch_due(engine, smtp, calendar_domain="rueda.localhost", clock=lambda: at)
    assert (report.sent, report.failed) == (2, 0)
    with Session(engine) as session:
        rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
        assert [(r.status, r.attempts) for r in rows] == [
            (NotificationStatus.FAILED, 3),
            (NotificationStatus.SENT, 1),
            (NotificationStatus.SENT, 1),
        ]
        assert rows[0].last_error == "dead letter: its sender stopped while sending it (3 attempts)"
        [failure] = outbox.list_failures(session, event_id=seeded.event_id, since=now)
        assert failure.reason == rows[0].last_error
    assert len(sink.entries()) == 2
