"""The reminder clock: APScheduler 3.11 wakes the dispatcher when the next outbox row falls due, and
at once when any process commits newly queued mail.

Invariants:
- the database is the only schedule. The scheduler holds one in-memory date job (the next wake-up),
  rebuilt from `min(due_at)` of pending rows at start and after every run; nothing is pickled or
  persisted, so a restart, an upgrade or a second machine can never act on a stale job;
- at start the dispatcher runs at once: rows that fell due while nothing was running go out now if
  their `not_after` has not passed, and the stale ones are skipped and counted (`totals`);
- rows queued by another process (the portal's sign-in links, registration confirmations and
  request notifications, a flow) wake the clock as soon as their transaction commits: a
  `notifications.wakeup.Listener` (LISTEN rueda_outbox on PostgreSQL, the `<database>-wake` FIFO on
  SQLite) calls `poke()`. This is a signal, not a poll; see docs/notifications.md;
- the wake-up is never later than `max_sleep` from now: the safety net for a lost signal (the LISTEN
  connection reconnecting, a platform without FIFOs), so nothing waits longer than `max_sleep`;
- runs never overlap: a `poke()` during a run waits for it, then runs again. A poke that arrives
  while a finishing run computes its next wake-up is not overwritten by it (`_pokes`).

Cost: an idle clock costs one small query every `max_sleep` and, on PostgreSQL, one idle connection;
a run costs what `dispatch_due` costs.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import SmtpSettings
from notifications import outbox, wakeup
from notifications.dispatcher import DEFAULT_LEASE, DispatchReport, dispatch_due, utc_clock

logger = logging.getLogger(__name__)


class ReminderClock:
    def __init__(
        self,
        engine: Engine,
        smtp: SmtpSettings,
        *,
        clock: Callable[[], datetime] = utc_clock,
        max_sleep: timedelta = timedelta(seconds=60),
        lease: timedelta = DEFAULT_LEASE,
        calendar_domain: str,
        listen: bool = True,
    ) -> None:
        self._engine = engine
        self._smtp = smtp
        self._clock = clock
        self._max_sleep = max_sleep
        self._lease = lease
        self._calendar_domain = calendar_domain
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._run_lock = threading.Lock()
        self._job_lock = threading.RLock()  # poke() holds it around _wake_at
        self._job_id: str | None = None
        self._pokes = 0  # pokes so far, under _job_lock
        self.listener = wakeup.Listener(engine, self.poke) if listen else None  # None: max_sleep only
        self._stopping = False
        self._ids = itertools.count(1)
        self.totals = DispatchReport()
        self.runs = 0
        self.next_wake_at: datetime | None = None

    def start(self) -> None:
        """Start the scheduler and run the dispatcher at once (catch-up after a restart), then listen
        for mail queued by other processes."""
        self._scheduler.start()
        if self.listener is not None:
            # Before the first run: a row committed after that run's query signals the listener.
            self.listener.start()
        self._wake_at(self._clock())

    @property
    def listening(self) -> bool:
        """True while the wake-up listener is connected (PostgreSQL) or reading its FIFO (SQLite)."""
        return self.listener is not None and self.listener.connected.is_set()

    def shutdown(self) -> None:
        """Stop after the run in progress, if any. Waits for it outside APScheduler's locks: its
        `shutdown` holds the job-store lock while joining the job threads, and a finishing run needs
        that lock to schedule its successor."""
        if self.listener is not None:
            self.listener.stop()  # first: no poke may reach a scheduler that is shutting down
        with self._run_lock:
            self._stopping = True
        self._scheduler.shutdown(wait=True)

    def poke(self) -> None:
        """Run now: the wake-up listener calls this when mail was queued; call it yourself after
        queuing rows in this process."""
        with self._job_lock:
            self._pokes += 1
            self._wake_at(self._clock())

    def _wake_at(self, at: datetime, *, unless_poked_since: int | None = None) -> None:
        with self._job_lock:
            if unless_poked_since is not None and self._pokes != unless_poked_since:
                # A poke came in while the finishing run read the outbox, maybe before that row was
                # committed: keep the poke's job (pending, or fired and waiting for the run lock).
                return
            if self._job_id is not None:
                with contextlib.suppress(JobLookupError):  # it may have fired already
                    self._scheduler.remove_job(self._job_id)
            # A fresh id per wake-up: APScheduler removes a fired date job after submitting it, which
            # would race with a run that schedules its successor under the same id.
            self._job_id = f"dispatch-{next(self._ids)}"
            self.next_wake_at = at
            self._scheduler.add_job(
                self._run, "date", run_date=at, id=self._job_id, misfire_grace_time=None, coalesce=True
            )

    def _run(self) -> None:
        with self._run_lock:
            if self._stopping:
                return
            try:
                report = dispatch_due(
                    self._engine,
                    self._smtp,
                    clock=self._clock,
                    lease=self._lease,
                    calendar_domain=self._calendar_domain,
                )
                self.totals.merge(report)
                if report.sent or report.failed or report.skipped_stale or report.connection_error:
                    logger.info("mail: %s", report.summary())
            except Exception:
                # Keep the clock alive (a database restart must not stop reminders); try again later.
                logger.exception("mail dispatch failed; retrying in %s", self._max_sleep)
            finally:
                with self._job_lock:
                    pokes = self._pokes
                self._wake_at(self._next_wake(), unless_poked_since=pokes)
                self.runs += 1  # last: a reader that sees the count also sees the next wake-up

    def _next_wake(self) -> datetime:
        now = self._clock()
        try:
            with Session(self._engine) as session:
                due = outbox.next_due_at(session)
        except Exception:
            logger.exception("cannot read the outbox; retrying in %s", self._max_sleep)
            due = None
        latest = now + self._max_sleep
        if due is None:
            return latest
        return max(now, min(due, latest))
