"""The dispatcher: recover, skip stale, then claim -> render -> send -> mark, batch after batch,
until nothing is due. This is entry-point code: it reads the clock (through `clock`) and commits.

Order of operations, and why (do not "optimise" these):
- each claim is committed before anything is sent, so a second dispatcher never sees those rows;
- a helper thread renders the batch ahead of the sender, so templates render while the sender
  waits for the server's replies; a context that cannot render fails that row alone;
- rows are sent in id order and each outcome is committed before the next transmission: this is what
  lets `outbox.recover_abandoned` know that at most one row of a dead claim was in flight;
- a batch stops and gives its rest back when half the lease has passed, so recovery (after a full
  lease) never takes rows from a worker that is still alive;
- when the server is unreachable the untransmitted rows are released, not failed: they wait with a
  backoff and go out when the server returns, unless their `not_after` passes first.

Cost: about 2.3 ms of CPU per message on SQLite (render 0.4, calendar files 0.5 where attached, MIME
1, claim, mark and commit 0.4) plus the SMTP round trips; with a real provider the rate limit
dominates. See docs/benchmarks.md.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import SmtpSettings
from models import EventText
from notifications import outbox
from notifications.catalog import NotificationContextError, context_from_json, get_kind
from notifications.delivery import (
    Outcome,
    RateLimiter,
    Result,
    SmtpConnectionError,
    SmtpTransport,
    build_email,
    envelope_sender,
)
from notifications.ics import build_calendar_files
from notifications.render import render_message

DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_CONNECTION_BACKOFF = timedelta(seconds=30)
LOCAL_SINK_HOST = "127.0.0.1"


def utc_clock() -> datetime:
    return datetime.now(UTC)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def retry_backoff(attempts: int) -> timedelta:
    """After the n-th temporary refusal of a message: 1, 2, 4, ... minutes, at most an hour."""
    return min(timedelta(minutes=1) * (1 << max(0, attempts - 1)), timedelta(hours=1))


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped_stale: int = 0
    requeued: int = 0
    uncertain: int = 0
    released: int = 0
    batches: int = 0
    connection_error: str | None = None
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{self.sent} sent",
            f"{self.retried} to retry",
            f"{self.failed} failed",
            f"{self.skipped_stale} skipped as stale",
        ]
        if self.requeued:
            parts.append(f"{self.requeued} recovered from a stopped sender ({self.uncertain} uncertain)")
        if self.connection_error:
            parts.append(f"{self.released} waiting for the server ({self.connection_error})")
        return ", ".join(parts)

    def merge(self, other: DispatchReport) -> None:
        """Add `other`'s counts to this report (lanes of one run, runs of the clock)."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.skipped_stale += other.skipped_stale
        self.requeued += other.requeued
        self.uncertain += other.uncertain
        self.released += other.released
        self.batches += other.batches
        self.connection_error = other.connection_error or self.connection_error
        self.failures.extend(other.failures)


@dataclass(frozen=True, slots=True)
class _Rendered:
    """A claimed row as the bytes to transmit, or the reason it cannot become an email."""

    raw: bytes | None
    error: str | None = None


def dispatch_due(
    engine: Engine,
    smtp: SmtpSettings,
    *,
    clock: Callable[[], datetime] = utc_clock,
    worker: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    recover_after: timedelta | None = None,
    connection_backoff: timedelta = DEFAULT_CONNECTION_BACKOFF,
    max_batches: int | None = None,
    connections: int = 1,
    calendar_domain: str,
) -> DispatchReport:
    """Send everything that is due now. Returns what happened; never raises for a message or an
    unreachable server (those are data in the report and in the outbox).

    `recover_after` (default: `lease`) is how old a claim must be before its rows are taken back
    from a worker presumed dead; pass zero only when you know no other dispatcher is running.

    `connections` > 1 sends over that many SMTP connections at once, each in its own thread with
    its own claims (worker `<id>/<n>`), all under the one rate limit. Each connection waits for the
    server's reply to every command, so parallel connections hide that latency; the in-flight
    policy holds per connection (at most one uncertain row per connection after a crash).

    `calendar_domain` is the domain of the calendar UIDs (`settings.portal.uid_domain`, the same the
    portal's download and feed use, so one meeting is one calendar entry whichever way it came)."""
    worker = worker or new_worker_id()
    limiter = RateLimiter(smtp.rate_per_second)
    report = DispatchReport()
    # One connection for the whole run: with SQLite's NullPool a session per commit would open and
    # close a connection per message, and closing the last WAL connection checkpoints (fsync).
    with engine.connect() as connection, Session(bind=connection, expire_on_commit=False) as session:
        now = clock()
        recovery = outbox.recover_abandoned(
            session, now=now, lease=lease if recover_after is None else recover_after
        )
        report.requeued, report.uncertain = recovery.requeued, recovery.uncertain
        report.skipped_stale += outbox.skip_stale(session, now=now)
        outbox.redact_sent_links(session)
        session.commit()
    lane = _Lane(engine, smtp, limiter, clock, lease, connection_backoff, max_batches, calendar_domain)
    try:
        if connections == 1:
            report.merge(_run_lane(lane, worker))
        else:
            with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="smtp") as pool:
                runs = [pool.submit(_run_lane, lane, f"{worker}/{n}") for n in range(1, connections + 1)]
                for run in runs:
                    report.merge(run.result())
    finally:
        # Even when a lane died (the database went away): links already sent lose their secret.
        with engine.connect() as connection, Session(bind=connection) as session:
            outbox.redact_sent_links(session)
            session.commit()
    return report


@dataclass(frozen=True)
class _Lane:
    """What every SMTP connection of one run shares; each lane adds its own worker id."""

    engine: Engine
    smtp: SmtpSettings
    limiter: RateLimiter
    clock: Callable[[], datetime]
    lease: timedelta
    connection_backoff: timedelta
    max_batches: int | None
    calendar_domain: str


def _run_lane(lane: _Lane, worker: str) -> DispatchReport:
    """Claim and send batches over one SMTP connection at a time until nothing is due."""
    report = DispatchReport()
    smtp, clock, lease, max_batches = lane.smtp, lane.clock, lane.lease, lane.max_batches
    host = smtp.host or LOCAL_SINK_HOST
    sender = envelope_sender(smtp.from_address)
    # Never claim more than can be sent within half the lease at the configured rate.
    batch_size = max(1, min(smtp.batch_size, int(smtp.rate_per_second * lease.total_seconds() / 2)))
    with lane.engine.connect() as connection, Session(bind=connection, expire_on_commit=False) as session:
        while max_batches is None or report.batches < max_batches:
            claimed_at = clock()
            batch = outbox.claim_due(session, now=claimed_at, worker=worker, limit=batch_size)
            session.commit()
            if not batch:
                break
            report.batches += 1
            texts = _organizer_texts(session, batch)
            if not _send_batch(
                session,
                batch,
                texts,
                smtp=smtp,
                host=host,
                sender=sender,
                worker=worker,
                clock=clock,
                limiter=lane.limiter,
                deadline=claimed_at + lease / 2,
                connection_backoff=lane.connection_backoff,
                calendar_domain=lane.calendar_domain,
                report=report,
            ):
                break
            report.skipped_stale += outbox.skip_stale(session, now=clock())
            session.commit()
    return report


def _organizer_texts(session: Session, batch: list[outbox.ClaimedMessage]) -> dict[tuple[int, str, str], str]:
    event_ids = {m.event_id for m in batch if m.event_id is not None}
    if not event_ids:
        return {}
    rows = session.exec(
        select(EventText)
        .where(col(EventText.event_id).in_(event_ids))
        .where(col(EventText.notification_kind).in_({m.kind for m in batch}))
    ).all()
    return {(r.event_id, r.notification_kind, r.language): r.text for r in rows}


def render_claimed(
    claimed: outbox.ClaimedMessage, organizer_text: str | None, *, from_address: str, calendar_domain: str
) -> _Rendered:
    """Context JSON -> the exact bytes to transmit (text, HTML, calendar files). Pure."""
    try:
        context = context_from_json(claimed.kind, claimed.context)
        rendered = render_message(claimed.kind, context, claimed.language, organizer_text=organizer_text)
        files = build_calendar_files(
            claimed.kind,
            context,
            language=claimed.language,
            organizer=from_address,
            attendee=claimed.recipient_email,
            stamp_at=claimed.created_at,
            domain=calendar_domain,
        )
        email = build_email(
            rendered=rendered,
            calendar_files=files,
            from_address=from_address,
            to_address=claimed.recipient_email,
            to_name=context.recipient.name if get_kind(claimed.kind).audience == "participant" else None,
            message_id=claimed.message_id,
            language=claimed.language,
            date_at=claimed.created_at,
            kind=claimed.kind,
            outbox_key=claimed.idempotency_key,
        )
        return _Rendered(raw=email)
    except NotificationContextError as error:
        return _Rendered(raw=None, error=f"render: {error}")
    except Exception as error:  # any row that cannot become an email fails alone
        # e.g. email.errors.HeaderParseError for a header built from stored text: isolating the
        # row is the point, whatever the exception; the batch and every other message go on.
        return _Rendered(raw=None, error=f"render: {type(error).__name__}: {error}")


def _transmit(transport: SmtpTransport, raw: bytes, sender: str, recipient: str) -> Result:
    """`transport.send`, with any error it does not classify (an address smtplib cannot encode,
    a bug) turned into this message's permanent failure instead of the batch's end."""
    try:
        return transport.send(raw, sender=sender, recipient=recipient)
    except SmtpConnectionError:
        raise
    except Exception as error:  # one message never stops the others
        return Result(Outcome.FAILED, f"send: {type(error).__name__}: {error}")


def _send_batch(
    session: Session,
    batch: list[outbox.ClaimedMessage],
    texts: dict[tuple[int, str, str], str],
    *,
    smtp: SmtpSettings,
    host: str,
    sender: str,
    worker: str,
    clock: Callable[[], datetime],
    limiter: RateLimiter,
    deadline: datetime,
    connection_backoff: timedelta,
    calendar_domain: str,
    report: DispatchReport,
) -> bool:
    """Render and send one claimed batch over one connection, in id order. A helper thread renders
    ahead while this thread waits for the server's replies, so rendering and the network overlap.
    Returns False when the server is unreachable."""

    def give_back(start: int, error: str, retry_at: datetime) -> None:
        ids = [m.id for m in batch[start:]]
        report.released += outbox.release(session, ids, worker=worker, error=error, retry_at=retry_at)
        session.commit()

    def organizer_text(m: outbox.ClaimedMessage) -> str | None:
        return None if m.event_id is None else texts.get((m.event_id, m.kind, m.language))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="render") as renderer:
        futures = [
            renderer.submit(
                render_claimed,
                m,
                organizer_text(m),
                from_address=smtp.from_address,
                calendar_domain=calendar_domain,
            )
            for m in batch
        ]
        try:
            with SmtpTransport(smtp, host=host) as transport:
                for index, (claimed, future) in enumerate(zip(batch, futures, strict=True)):
                    if clock() >= deadline:
                        give_back(index, "lease: batch took too long; given back", clock())
                        return True
                    item = future.result()
                    if item.raw is None:
                        # A row that cannot become an email will not get better by waiting.
                        error = item.error or "render failed"
                        outbox.mark_failed(session, claimed.id, worker=worker, error=error, now=clock())
                        session.commit()
                        report.failed += 1
                        report.failures.append(f"{claimed.id}: {error}")
                        continue
                    limiter.wait()
                    result = _transmit(transport, item.raw, sender, claimed.recipient_email)
                    now = clock()
                    if result.outcome is Outcome.SENT:
                        outbox.mark_sent(session, claimed.id, worker=worker, now=now)
                        report.sent += 1
                    elif result.outcome is Outcome.RETRY:
                        retry_at = now + retry_backoff(claimed.attempts)
                        outbox.mark_retry(
                            session,
                            claimed.id,
                            worker=worker,
                            error=result.reason,
                            retry_at=retry_at,
                            now=now,
                        )
                        report.retried += 1
                    elif result.outcome is Outcome.FAILED:
                        outbox.mark_failed(session, claimed.id, worker=worker, error=result.reason, now=now)
                        report.failed += 1
                        report.failures.append(f"{claimed.id}: {result.reason}")
                    else:
                        report.connection_error = result.reason
                        give_back(index, f"connection: {result.reason}", now + connection_backoff)
                        return False
                    # Commit each outcome before the next transmission (the in-flight policy needs it).
                    session.commit()
        except SmtpConnectionError as error:
            report.connection_error = str(error)
            give_back(0, f"connection: {error}", clock() + connection_backoff)
            return False
        finally:
            for future in futures:
                future.cancel()
    return True
