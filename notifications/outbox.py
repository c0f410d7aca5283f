"""The outbox: queue messages in the business transaction, claim due ones atomically, record what
happened to each. Every function takes a `Session` and `now`; none reads the clock or commits (the
caller commits, so a queued message exists exactly when the business change that caused it does).

States: pending -> sending -> sent | failed | skipped, and sending -> pending on a retry.

Invariants:
- the idempotency key is unique: queuing the same message twice is a no-op (INSERT ... ON CONFLICT
  DO NOTHING on both backends, so a concurrent duplicate is not an error either);
- the Message-ID is a function of the idempotency key alone, so every copy of a message that is ever
  transmitted carries the same Message-ID, and receivers (and our sink) can tell copies apart;
- claiming is a SELECT ... FOR UPDATE SKIP LOCKED then an UPDATE of those ids, in one transaction:
  on PostgreSQL concurrent dispatchers take disjoint rows without waiting; SQLite ignores the lock
  clause but runs the transaction under BEGIN IMMEDIATE (see `services.db`), one writer at a time,
  and the UPDATE's `status = 'pending'` condition makes a lost race harmless on both;
- a row is never sent after `not_after`: claiming ignores such rows and `skip_stale` marks them
  skipped, with the count returned;
- marks are conditional on `status = 'sending' AND claimed_by = <worker>`, so a worker that lost its
  lease cannot overwrite what a newer worker did.

The in-flight policy (rows stuck in `sending`, see docs/notifications.md): a dispatcher sends the
rows of a claim one by one in id order and commits each outcome before the next transmission. So
after a crash, among the rows a dead worker left in `sending`, only the lowest id can have reached
the SMTP server (the one in flight); the others were never transmitted. `recover_abandoned` puts all
of them back to pending once the lease has expired, and flags the first as uncertain. It is sent
again with the same Message-ID: at least once, never lost. The duplicate, when there is one, is a
byte-identical copy with the same Message-ID, which mail clients collapse; a lost agenda is worse.
A row found in flight a second time, after MAX_IN_FLIGHT_STOPS claims, is a dead letter (failed):
whatever stops its sender, it no longer holds its batch for a lease at every try.

Waking the sender: `queue_message` tells the reminder clock, through `notifications.wakeup`, that a
row will exist once the transaction commits (NOTIFY on PostgreSQL, a FIFO poked after commit on
SQLite), so mail queued by the portal's process goes out within a second, not after `max_sleep`.

Cost: queue is one INSERT (plus, once per transaction on PostgreSQL, one `pg_notify`); claim two SELECTs and one UPDATE per batch; each mark one UPDATE by key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models import Notification, NotificationStatus, UTCDateTime
from notifications import wakeup
from notifications.catalog import (
    LANGUAGES,
    Audience,
    Context,
    FailedMessage,
    FirstMeetingReminder,
    MeetingInfo,
    NotificationContextError,
    context_from_json,
    context_to_json,
    get_kind,
    validate_context,
)

DEFAULT_DOMAIN = "rueda.localhost"
MAX_ATTEMPTS = 8  # transmissions that reached a server and got a temporary (4xx) answer
MAX_IN_FLIGHT_STOPS = 3  # claims of one message that ended with its sender stopped mid-send
UNCERTAIN = "uncertain: the sender stopped while this message was in flight; resent with the same Message-ID"
_KEY_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A claimed row as plain data: the dispatcher renders and sends from this, not from the ORM."""

    id: int
    kind: str
    event_id: int | None
    participant_id: int | None
    recipient_email: str
    language: str
    context: dict[str, Any]
    message_id: str
    attempts: int
    not_after: datetime | None
    created_at: datetime
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class Recovery:
    requeued: int  # rows of dead workers put back to pending (including the uncertain ones)
    uncertain: int  # of which possibly transmitted already (at most one per dead claim)
    dead: int = 0  # rows that reached MAX_ATTEMPTS claims: failed for good (dead letters)


def build_key(kind: str, recipient: str | int, entity: str, version: int | str = 1) -> str:
    """kind + recipient + entity + version, e.g. `agenda.published:p42:event-7:v3`."""
    key = f"{kind}:{'p' if isinstance(recipient, int) else ''}{recipient}:{entity}:v{version}"
    if len(key) > _KEY_LIMIT:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        key = f"{key[: _KEY_LIMIT - 33]}#{digest}"
    return key


def first_meeting_reminder_key(participant_id: int, meeting_id: int) -> str:
    """One first-meeting reminder per participant and meeting, whatever the meeting's version: a
    moved meeting moves its reminder (`move_meeting_reminders`) instead of queuing a second one."""
    return f"reminder.first-meeting:p{participant_id}:m{meeting_id}"


def message_id_for(idempotency_key: str, domain: str = DEFAULT_DOMAIN) -> str:
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(Notification)
    if name == "sqlite":
        return sqlite.insert(Notification)
    raise NotImplementedError(f"the outbox supports SQLite and PostgreSQL, not {name}")


def queue_message(
    session: Session,
    *,
    kind: str,
    context: Context,
    recipient_email: str,
    language: str,
    idempotency_key: str,
    due_at: datetime,
    now: datetime,
    not_after: datetime | None = None,
    event_id: int | None = None,
    participant_id: int | None = None,
    domain: str = DEFAULT_DOMAIN,
) -> bool:
    """Queue one message; True if queued, False if that idempotency key was already queued.
    Raises NotificationContextError for a context, language or window that cannot be sent."""
    spec = get_kind(kind)
    validate_context(kind, context)
    if language not in LANGUAGES:
        raise NotificationContextError(f"no templates in {language!r}; use one of {', '.join(LANGUAGES)}")
    if spec.audience is Audience.PARTICIPANT and participant_id is None:
        raise NotificationContextError(f"{kind} goes to a participant: give participant_id")
    if "@" not in recipient_email:
        raise NotificationContextError(f"{recipient_email!r} is not an email address")
    if due_at.tzinfo is None or (not_after is not None and not_after.tzinfo is None):
        raise NotificationContextError("due_at and not_after must be aware datetimes")
    if not_after is not None and not_after < due_at:
        raise NotificationContextError("not_after is before due_at: the message could never be sent")
    if not idempotency_key or len(idempotency_key) > _KEY_LIMIT:
        raise NotificationContextError(f"idempotency keys have 1 to {_KEY_LIMIT} characters")
    statement = (
        _insert(session)
        .values(
            kind=kind,
            event_id=event_id,
            participant_id=participant_id,
            recipient_email=recipient_email,
            language=language,
            context=context_to_json(context),
            idempotency_key=idempotency_key,
            message_id=message_id_for(idempotency_key, domain),
            due_at=due_at,
            not_after=not_after,
            status=NotificationStatus.PENDING,
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(col(Notification.id))
    )
    # RETURNING, not rowcount: the driver's rowcount for an ORM-enabled insert is not reliable.
    queued = session.connection().execute(statement).first() is not None
    if queued:
        wakeup.notify_queued(session)  # the reminder clock sends it once this transaction commits
    return queued


def _claimable(now: datetime) -> Any:
    return sa.and_(
        col(Notification.status) == NotificationStatus.PENDING,
        col(Notification.due_at) <= now,
        sa.or_(col(Notification.not_after).is_(None), col(Notification.not_after) >= now),
    )


def claim_due(session: Session, *, now: datetime, worker: str, limit: int) -> list[ClaimedMessage]:
    """Take up to `limit` due rows for `worker`, oldest due first, returned in id order (the order
    in which they must be sent: the in-flight policy depends on it). Commit right after."""
    # Two statements in one transaction, not UPDATE ... WHERE id IN (SELECT ... LIMIT ... FOR UPDATE):
    # PostgreSQL re-evaluates such a sub-select while rechecking locked rows and can update more
    # than `limit` rows. The SELECT locks its rows (SKIP LOCKED passes over other workers' rows).
    candidates = session.execute(
        select(Notification.id)
        .where(_claimable(now))
        .order_by(col(Notification.due_at), col(Notification.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    candidate_ids = list(candidates.scalars().all())
    if not candidate_ids:
        return []
    claimed = session.connection().execute(
        sa.update(Notification)
        .where(col(Notification.id).in_(candidate_ids))
        .where(col(Notification.status) == NotificationStatus.PENDING)
        .values(
            status=NotificationStatus.SENDING,
            claimed_at=now,
            claimed_by=worker,
            attempts=col(Notification.attempts) + 1,
        )
        .returning(col(Notification.id))
    )
    ids = sorted(i for i in claimed.scalars() if i is not None)
    if not ids:
        return []
    # Plain rows, not ORM objects: the UPDATE above bypassed the session, whose copies may be stale.
    table = Notification.__table__  # type: ignore[attr-defined]
    rows = session.connection().execute(sa.select(table).where(table.c.id.in_(ids)).order_by(table.c.id))
    return [
        ClaimedMessage(
            id=row.id,
            kind=row.kind,
            event_id=row.event_id,
            participant_id=row.participant_id,
            recipient_email=row.recipient_email,
            language=row.language,
            context=row.context,
            message_id=row.message_id,
            attempts=row.attempts,
            not_after=row.not_after,
            created_at=row.created_at,
            idempotency_key=row.idempotency_key,
        )
        for row in rows
    ]


def _mine(notification_id: int, worker: str) -> Any:
    return sa.and_(
        col(Notification.id) == notification_id,
        col(Notification.status) == NotificationStatus.SENDING,
        col(Notification.claimed_by) == worker,
    )


# Built once: this runs once per message, and building the statement cost more than executing it.
_MARK_SENT = (
    sa.update(Notification)
    .where(col(Notification.id) == sa.bindparam("notification_id"))
    .where(col(Notification.status) == NotificationStatus.SENDING)
    .where(col(Notification.claimed_by) == sa.bindparam("worker"))
    .values(status=NotificationStatus.SENT, sent_at=sa.bindparam("now", type_=UTCDateTime()))
)


def mark_sent(session: Session, notification_id: int, *, worker: str, now: datetime) -> bool:
    result = session.connection().execute(
        _MARK_SENT, {"notification_id": notification_id, "worker": worker, "now": now}
    )
    return bool(result.rowcount == 1)


def mark_failed(session: Session, notification_id: int, *, worker: str, error: str, now: datetime) -> bool:
    """A permanent failure (5xx, bad address, unrenderable context): never retried, listed in the
    organizer digest."""
    result = session.execute(
        sa.update(Notification)
        .where(_mine(notification_id, worker))
        .values(status=NotificationStatus.FAILED, last_error=error[:1000], claimed_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def mark_retry(
    session: Session, notification_id: int, *, worker: str, error: str, retry_at: datetime, now: datetime
) -> bool:
    """A temporary failure of this message (4xx): pending again from `retry_at`, but never later
    than its `not_after`; after MAX_ATTEMPTS it fails for good."""
    row = session.get(Notification, notification_id, populate_existing=True)
    if row is None or row.status != NotificationStatus.SENDING or row.claimed_by != worker:
        return False
    if row.attempts >= MAX_ATTEMPTS:
        return mark_failed(
            session,
            notification_id,
            worker=worker,
            error=f"gave up after {row.attempts} attempts: {error}",
            now=now,
        )
    due_at = retry_at if row.not_after is None else min(retry_at, row.not_after)
    result = session.execute(
        sa.update(Notification)
        .where(_mine(notification_id, worker))
        .values(status=NotificationStatus.PENDING, due_at=due_at, last_error=error[:1000])
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(
    session: Session, notification_ids: Sequence[int], *, worker: str, error: str, retry_at: datetime
) -> int:
    """Give back claimed rows that were never transmitted (the server was unreachable, or the batch
    ran out of lease): pending from `retry_at` (capped at `not_after`), and the attempt counted at
    claim time is taken back, since no server saw the message."""
    if not notification_ids:
        return 0
    result = session.execute(
        sa.update(Notification)
        .where(col(Notification.id).in_(list(notification_ids)))
        .where(col(Notification.status) == NotificationStatus.SENDING)
        .where(col(Notification.claimed_by) == worker)
        .values(
            status=NotificationStatus.PENDING,
            due_at=sa.case(
                (
                    sa.and_(col(Notification.not_after).is_not(None), col(Notification.not_after) < retry_at),
                    col(Notification.not_after),
                ),
                else_=retry_at,
            ),
            attempts=sa.case((col(Notification.attempts) > 0, col(Notification.attempts) - 1), else_=0),
            last_error=error[:1000],
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def skip_stale(session: Session, *, now: datetime) -> int:
    """Mark pending rows whose `not_after` has passed as skipped: a reminder after the meeting is
    noise. Returns how many."""
    result = session.execute(
        sa.update(Notification)
        .where(col(Notification.status) == NotificationStatus.PENDING)
        .where(col(Notification.not_after).is_not(None))
        .where(col(Notification.not_after) < now)
        .values(
            status=NotificationStatus.SKIPPED, last_error="stale: not_after passed before it could be sent"
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


REMINDER_KINDS = ("reminder.day-before", "reminder.first-meeting")
ENDED_FIRST = "skipped: the event ended before this reminder went out"


def skip_reminders_of_ended_event(session: Session, event_id: int) -> int:
    """An ended event's reminders that never went out (no dispatcher ran before their meeting, or
    the meeting was still ahead when the event was ended early) are skipped with that reason,
    never left pending. Returns how many."""
    result = session.execute(
        sa.update(Notification)
        .where(col(Notification.event_id) == event_id)
        .where(col(Notification.kind).in_(REMINDER_KINDS))
        .where(col(Notification.status) == NotificationStatus.PENDING)
        .values(status=NotificationStatus.SKIPPED, last_error=ENDED_FIRST)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# Kinds whose context carries a secret link (a sign-in or survey token in `?t=`).
LINK_KINDS = (
    "login.requested",
    "registration.confirmed",
    "survey.invited",
    "survey.reminder",
    "followup.invited",
)
_TOKEN = re.compile(r"([?&]t=)[^&#\s\"']+")
REDACTED = "redacted"


def redact_sent_links(session: Session) -> int:
    """Remove the secret from the links of messages that will never be sent again (sent, failed or
    skipped): the token exists only in the email itself, not at rest in the outbox, so a copy of
    the database cannot sign anybody in or open their survey. The confirmation of an erasure loses
    its recipient's address the same way. Returns how many rows changed."""
    rows = session.exec(
        select(Notification)
        .where(col(Notification.kind).in_(LINK_KINDS))
        .where(
            col(Notification.status).in_(
                (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.SKIPPED)
            )
        )
        .where(sa.cast(col(Notification.context), sa.Text).like("%t=%"))
        # Redaction rewrites every link of a row at once: a row with one redacted link is done, and
        # is not read again by every later dispatch run.
        .where(sa.not_(sa.cast(col(Notification.context), sa.Text).like(f"%t={REDACTED}%")))
    ).all()
    changed = 0
    for row in rows:
        redacted = _redact(row.context)
        if redacted != row.context:
            row.context = redacted
            session.add(row)
            changed += 1
    changed += _forget_erased_recipients(session)
    session.flush()
    return changed


# A deleted participant's address, everywhere it was: unique per participant (the event's unique
# email constraint holds) and in a domain that can never receive mail (RFC 2606).
ERASED_DOMAIN = "erased.invalid"
ERASURE_KIND = "privacy.erasure-decided"


def erased_address(participant_id: int | None) -> str:
    return f"erased-{participant_id}@{ERASED_DOMAIN}"


def _forget_erased_recipients(session: Session) -> int:
    """The confirmation of a carried-out erasure is the one message that still needs the person's
    address; once it will never be sent again, the outbox forgets the address too."""
    rows = session.exec(
        select(Notification)
        .where(col(Notification.kind) == ERASURE_KIND)
        .where(
            col(Notification.status).in_(
                (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.SKIPPED)
            )
        )
        .where(sa.not_(col(Notification.recipient_email).like(f"%@{ERASED_DOMAIN}")))
    ).all()
    changed = 0
    for row in rows:
        if row.context.get("completed") is True:
            row.recipient_email = erased_address(row.participant_id)
            session.add(row)
            changed += 1
    return changed


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _TOKEN.sub(rf"\g<1>{REDACTED}", value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def recover_abandoned(session: Session, *, now: datetime, lease: timedelta) -> Recovery:
    """Put rows left in `sending` by a worker whose lease expired back to pending (the in-flight
    policy in the module docstring). Rows past `not_after` then go to `skip_stale` as usual."""
    rows = session.exec(
        select(Notification)
        .where(col(Notification.status) == NotificationStatus.SENDING)
        .where(col(Notification.claimed_at) <= now - lease)
        .order_by(col(Notification.claimed_by), col(Notification.id))
        .execution_options(populate_existing=True)
    ).all()
    uncertain = dead = 0
    seen: set[tuple[str | None, datetime | None]] = set()
    for row in rows:
        claim = (row.claimed_by, row.claimed_at)
        if row.attempts >= MAX_ATTEMPTS or (
            row.last_error == UNCERTAIN and row.attempts >= MAX_IN_FLIGHT_STOPS
        ):
            # In flight again when its sender stopped, after it was already resent once for that:
            # a message that crashes its sender (or whose sending keeps getting the process killed)
            # is a dead letter. It shows in the organizer digest and on the dashboard, and no longer
            # holds the rest of its batch for a lease at every try.
            row.status = NotificationStatus.FAILED
            row.last_error = f"dead letter: its sender stopped while sending it ({row.attempts} attempts)"
            row.claimed_at = now
            session.add(row)
            seen.add(claim)
            dead += 1
            continue
        row.status = NotificationStatus.PENDING
        if claim not in seen:
            # The lowest id of a dead claim is the only row that may have been in flight.
            seen.add(claim)
            uncertain += 1
            row.last_error = UNCERTAIN
        else:
            # Never transmitted: the attempt counted at claim time did not happen.
            row.attempts = max(0, row.attempts - 1)
        session.add(row)
    session.flush()
    return Recovery(requeued=len(rows) - dead, uncertain=uncertain, dead=dead)


def cancel_pending(session: Session, idempotency_key: str, *, reason: str) -> bool:
    """Skip a message that is no longer true (e.g. the reminder of a cancelled meeting)."""
    result = session.execute(
        sa.update(Notification)
        .where(col(Notification.idempotency_key) == idempotency_key)
        .where(col(Notification.status) == NotificationStatus.PENDING)
        .values(status=NotificationStatus.SKIPPED, last_error=f"cancelled: {reason}"[:1000])
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def move_meeting_reminders(session: Session, *, meeting: MeetingInfo, lead: timedelta) -> int:
    """A rescheduled meeting moves its pending first-meeting reminders: new times and table in the
    context, `due_at` = start - lead, `not_after` = start. Returns how many rows moved. Reminders
    already sent stay sent (the service queues `agenda.changed` for the change itself)."""
    rows = session.exec(
        select(Notification)
        .where(col(Notification.status) == NotificationStatus.PENDING)
        .where(col(Notification.kind) == "reminder.first-meeting")
        .where(col(Notification.idempotency_key).like(f"reminder.first-meeting:p%:m{meeting.meeting_id}"))
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:
        old = context_from_json(row.kind, row.context)
        assert isinstance(old, FirstMeetingReminder)
        new = dataclasses.replace(old, meeting=meeting)
        validate_context(row.kind, new)
        row.context = context_to_json(new)
        row.due_at = meeting.starts_at - lead
        row.not_after = meeting.starts_at
        session.add(row)
    session.flush()
    return len(rows)


def next_due_at(session: Session) -> datetime | None:
    """When the next pending row falls due (the reminder clock sleeps until then)."""
    value: datetime | None = session.exec(
        select(sa.func.min(col(Notification.due_at))).where(
            col(Notification.status) == NotificationStatus.PENDING
        )
    ).one()
    return value


def count_by_status(session: Session, *, event_id: int | None = None) -> dict[NotificationStatus, int]:
    query = select(Notification.status, sa.func.count()).group_by(col(Notification.status))
    if event_id is not None:
        query = query.where(col(Notification.event_id) == event_id)
    counts = dict.fromkeys(NotificationStatus, 0)
    for status, count in session.exec(query).all():
        counts[NotificationStatus(status)] = int(count)
    return counts


def list_failures(session: Session, *, event_id: int, since: datetime) -> tuple[FailedMessage, ...]:
    """Permanent failures since `since`, for the organizer digest."""
    rows = session.exec(
        select(Notification)
        .where(col(Notification.event_id) == event_id)
        .where(col(Notification.status) == NotificationStatus.FAILED)
        .where(col(Notification.claimed_at) >= since)
        .order_by(col(Notification.id))
    ).all()
    return tuple(
        FailedMessage(recipient_email=r.recipient_email, kind=r.kind, reason=r.last_error or "") for r in rows
    )
