"""The outbox on SQLite and PostgreSQL: idempotent queuing, atomic claims, marks, stale rows, the
in-flight recovery policy and moved reminders."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import Notification, NotificationStatus
from notifications import outbox
from notifications.catalog import FailedMessage, NotificationContextError, context_to_json
from notifications.samples import sample_contexts, sample_meetings
from tests.notifications.seed import Seeded, queue_sample, seed_people

pytestmark = pytest.mark.integration

MINUTE = timedelta(minutes=1)


def _rows(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.exec(select(Notification).order_by(col(Notification.id))).all())


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    return seed_people(engine, now)


def test_queue_twice_is_a_no_op(engine: Engine, seeded: Seeded, now: datetime) -> None:
    context = sample_contexts()["agenda.published"]
    arguments = {
        "kind": "agenda.published",
        "context": context,
        "recipient_email": "p0@example.org",
        "language": "es",
        "idempotency_key": "agenda.published:p1:event-1:v1",
        "due_at": now,
        "now": now,
        "event_id": seeded.event_id,
        "participant_id": seeded.participant_ids[0],
    }
    with Session(engine) as session:
        assert outbox.queue_message(session, **arguments) is True
        assert outbox.queue_message(session, **arguments) is False
        session.commit()
    with Session(engine) as session:
        assert outbox.queue_message(session, **arguments) is False
        session.commit()
    [row] = _rows(engine)
    assert row.status == NotificationStatus.PENDING
    assert row.message_id == outbox.message_id_for("agenda.published:p1:event-1:v1")
    assert row.message_id == "<" + row.message_id[1:41] + "@rueda.localhost>"
    assert row.context == context_to_json(context)
    assert (row.attempts, row.due_at, row.not_after, row.language) == (0, now, None, "es")


def test_message_id_depends_only_on_the_key() -> None:
    assert outbox.message_id_for("a") == outbox.message_id_for("a")
    assert outbox.message_id_for("a") != outbox.message_id_for("b")
    assert outbox.build_key("agenda.published", 42, "event-7", 3) == "agenda.published:p42:event-7:v3"
    assert outbox.build_key("organizer.digest", "ops@x.org", "day-2027-05-19") == (
        "organizer.digest:ops@x.org:day-2027-05-19:v1"
    )
    long_key = outbox.build_key("survey.invited", 1, "x" * 300)
    assert len(long_key) == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"context": sample_contexts()["meeting.cancelled"]}, "agenda.published takes a AgendaPublished"),
        ({"language": "fr"}, "no templates in 'fr'"),
        ({"participant_id": None}, "goes to a participant"),
        ({"not_after": datetime(2027, 4, 1, 14, 0, tzinfo=UTC)}, "not_after is before due_at"),
        ({"kind": "agenda.publish"}, "unknown notification kind"),
        ({"recipient_email": "nobody"}, "is not an email address"),
    ],
)
def test_queue_refuses_a_message_that_could_not_be_sent(
    engine: Engine, seeded: Seeded, now: datetime, change: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "kind": "agenda.published",
        "context": sample_contexts()["agenda.published"],
        "recipient_email": "p0@example.org",
        "language": "es",
        "idempotency_key": "k",
        "due_at": now,
        "now": now,
        "participant_id": seeded.participant_ids[0],
    }
    arguments.update(change)
    with Session(engine) as session, pytest.raises(NotificationContextError, match=message):
        outbox.queue_message(session, **arguments)  # type: ignore[arg-type]


def test_claim_takes_due_rows_once_in_id_order(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        queue_sample(session, seeded, kind="survey.invited", index=0, due_at=now - MINUTE, now=now)
        queue_sample(session, seeded, kind="survey.invited", index=1, due_at=now + MINUTE, now=now)
        queue_sample(session, seeded, kind="survey.invited", index=2, due_at=now - 2 * MINUTE, now=now)
        queue_sample(
            session,
            seeded,
            kind="survey.invited",
            index=3,
            due_at=now - 3 * MINUTE,
            now=now,
            not_after=now - MINUTE,
        )
        session.commit()
    with Session(engine) as session:
        claimed = outbox.claim_due(session, now=now, worker="w1", limit=10)
        session.commit()
    assert [m.id for m in claimed] == [1, 3]
    assert [m.attempts for m in claimed] == [1, 1]
    with Session(engine) as session:
        assert outbox.claim_due(session, now=now, worker="w2", limit=10) == []
    rows = _rows(engine)
    assert [r.status for r in rows] == ["sending", "pending", "sending", "pending"]
    assert [r.claimed_by for r in rows] == ["w1", None, "w1", None]
    assert rows[0].claimed_at == now


def test_claim_respects_the_limit_oldest_due_first(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        for i in range(5):
            queue_sample(session, seeded, kind="survey.invited", index=i, due_at=now - i * MINUTE, now=now)
        session.commit()
    with Session(engine) as session:
        claimed = outbox.claim_due(session, now=now, worker="w", limit=2)
    assert [m.id for m in claimed] == [4, 5]


def test_stale_rows_are_skipped_and_counted(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        for i in range(3):
            queue_sample(
                session,
                seeded,
                kind="reminder.first-meeting",
                index=i,
                due_at=now - 2 * MINUTE,
                now=now,
                not_after=now - MINUTE if i < 2 else now + MINUTE,
            )
        session.commit()
    with Session(engine) as session:
        assert outbox.skip_stale(session, now=now) == 2
        session.commit()
    rows = _rows(engine)
    assert [r.status for r in rows] == ["skipped", "skipped", "pending"]
    assert rows[0].last_error == "stale: not_after passed before it could be sent"


def test_marks_apply_only_to_the_claiming_worker(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        for i in range(3):
            queue_sample(session, seeded, kind="survey.invited", index=i, due_at=now, now=now)
        session.commit()
        outbox.claim_due(session, now=now, worker="w1", limit=10)
        session.commit()
        assert outbox.mark_sent(session, 1, worker="w2", now=now) is False
        assert outbox.mark_sent(session, 1, worker="w1", now=now) is True
        assert outbox.mark_sent(session, 1, worker="w1", now=now) is False
        assert outbox.mark_failed(session, 2, worker="w1", error="550 5.1.1 no such user", now=now) is True
        later = now + 5 * MINUTE
        assert (
            outbox.mark_retry(session, 3, worker="w1", error="451 try later", retry_at=later, now=now) is True
        )
        session.commit()
    rows = _rows(engine)
    assert [(r.status, r.last_error) for r in rows] == [
        ("sent", None),
        ("failed", "550 5.1.1 no such user"),
        ("pending", "451 try later"),
    ]
    assert rows[0].sent_at == now
    assert rows[2].due_at == later
    with Session(engine) as session:
        assert outbox.list_failures(session, event_id=seeded.event_id, since=now) == (
            FailedMessage("p1@example.org", "survey.invited", "550 5.1.1 no such user"),
        )
        counts = outbox.count_by_status(session, event_id=seeded.event_id)
    assert counts == {"pending": 1, "sending": 0, "sent": 1, "failed": 1, "skipped": 0}


def test_retry_is_capped_by_not_after_and_gives_up(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        queue_sample(
            session,
            seeded,
            kind="reminder.first-meeting",
            index=0,
            due_at=now,
            now=now,
            not_after=now + MINUTE,
        )
        session.commit()
        for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
            [claimed] = outbox.claim_due(session, now=now + MINUTE, worker="w", limit=1)
            assert claimed.attempts == attempt
            outbox.mark_retry(
                session, claimed.id, worker="w", error="421 busy", retry_at=now + 9 * MINUTE, now=now
            )
            session.commit()
            row = session.get(Notification, claimed.id)
            assert row is not None
            session.refresh(row)
            if attempt < outbox.MAX_ATTEMPTS:
                assert (row.status, row.due_at) == ("pending", now + MINUTE)
    assert row.status == "failed"
    assert row.last_error == f"gave up after {outbox.MAX_ATTEMPTS} attempts: 421 busy"


def test_release_gives_back_the_attempt(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        queue_sample(session, seeded, kind="survey.invited", index=0, due_at=now, now=now)
        queue_sample(
            session, seeded, kind="survey.invited", index=1, due_at=now, now=now, not_after=now + MINUTE
        )
        session.commit()
        outbox.claim_due(session, now=now, worker="w", limit=10)
        assert (
            outbox.release(
                session, [1, 2], worker="w", error="connection: refused", retry_at=now + 5 * MINUTE
            )
            == 2
        )
        session.commit()
    rows = _rows(engine)
    assert [(r.status, r.attempts, r.due_at) for r in rows] == [
        ("pending", 0, now + 5 * MINUTE),
        ("pending", 0, now + MINUTE),
    ]


def test_recovery_requeues_a_dead_claim_and_flags_one_row(
    engine: Engine, seeded: Seeded, now: datetime
) -> None:
    """The in-flight policy: of a dead worker's rows still in `sending`, only the lowest id can have
    been transmitted; all go back to pending and that one is flagged uncertain."""
    lease = timedelta(minutes=10)
    with Session(engine) as session:
        for i in range(6):
            queue_sample(session, seeded, kind="survey.invited", index=i, due_at=now, now=now)
        session.commit()
        outbox.claim_due(session, now=now, worker="dead", limit=4)
        session.commit()
        outbox.mark_sent(session, 1, worker="dead", now=now)
        outbox.mark_sent(session, 2, worker="dead", now=now)
        session.commit()
        assert outbox.recover_abandoned(session, now=now + lease - MINUTE, lease=lease) == outbox.Recovery(
            0, 0
        )
        assert outbox.recover_abandoned(session, now=now + lease, lease=lease) == outbox.Recovery(2, 1)
        session.commit()
    rows = _rows(engine)
    assert [(r.status, r.attempts, r.last_error) for r in rows] == [
        ("sent", 1, None),
        ("sent", 1, None),
        ("pending", 1, outbox.UNCERTAIN),
        ("pending", 0, None),
        ("pending", 0, None),
        ("pending", 0, None),
    ]


def test_concurrent_claims_are_disjoint(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        for i in range(120):
            queue_sample(session, seeded, kind="survey.invited", index=i, due_at=now, now=now)
        session.commit()
    taken: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        mine: list[int] = []
        try:
            while True:
                with Session(engine) as session:
                    claimed = outbox.claim_due(session, now=now, worker=worker, limit=7)
                    session.commit()
                if not claimed:
                    break
                mine.extend(m.id for m in claimed)
        except BaseException as error:
            errors.append(error)
        taken[worker] = mine

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    every = [i for ids in taken.values() for i in ids]
    assert sorted(every) == list(range(1, 121))
    assert len(set(every)) == 120
    with Session(engine) as session:
        assert {r.claimed_by: 0 for r in session.exec(select(Notification)).all()}.keys() <= taken.keys()


def test_moved_meeting_moves_its_pending_reminder(engine: Engine, seeded: Seeded, now: datetime) -> None:
    sample = sample_contexts()["reminder.first-meeting"]
    lead = timedelta(minutes=30)
    with Session(engine) as session:
        for participant, meeting in (
            (seeded.participant_ids[0], sample.meeting),
            (seeded.participant_ids[1], None),
        ):
            context = (
                sample if meeting else dataclasses.replace(sample, meeting=sample_meetings(1, first_id=7)[0])
            )
            outbox.queue_message(
                session,
                kind="reminder.first-meeting",
                context=context,
                recipient_email="p@example.org",
                language="es",
                idempotency_key=outbox.first_meeting_reminder_key(participant, context.meeting.meeting_id),
                due_at=context.meeting.starts_at - lead,
                not_after=context.meeting.starts_at,
                now=now,
                participant_id=participant,
            )
        session.commit()
        moved = dataclasses.replace(
            sample.meeting,
            version=2,
            starts_at=sample.meeting.starts_at + timedelta(hours=2),
            ends_at=sample.meeting.ends_at + timedelta(hours=2),
            table="T30",
        )
        assert outbox.move_meeting_reminders(session, meeting=moved, lead=lead) == 1
        session.commit()
    first, other = _rows(engine)
    assert (first.due_at, first.not_after) == (moved.starts_at - lead, moved.starts_at)
    assert first.context["meeting"]["table"] == "T30"
    assert first.context["meeting"]["version"] == 2
    assert first.message_id == outbox.message_id_for(
        f"reminder.first-meeting:p{seeded.participant_ids[0]}:m101"
    )
    assert other.context["meeting"]["meeting_id"] == 7
    assert other.due_at == sample_meetings(1, first_id=7)[0].starts_at - lead


def test_cancel_pending_and_next_due(engine: Engine, seeded: Seeded, now: datetime) -> None:
    with Session(engine) as session:
        assert outbox.next_due_at(session) is None
        first = queue_sample(session, seeded, kind="survey.invited", index=0, due_at=now + MINUTE, now=now)
        queue_sample(session, seeded, kind="survey.invited", index=1, due_at=now + 2 * MINUTE, now=now)
        session.commit()
        assert outbox.next_due_at(session) == now + MINUTE
        assert outbox.cancel_pending(session, first, reason="meeting cancelled") is True
        assert outbox.cancel_pending(session, first, reason="meeting cancelled") is False
        session.commit()
        assert outbox.next_due_at(session) == now + 2 * MINUTE
    assert _rows(engine)[0].last_error == "cancelled: meeting cancelled"
