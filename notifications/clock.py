"""The reminder clock: APScheduler 3.11 wakes the dispatcher when the next outbox row falls due.

Invariants:
- the database is the only schedule. The scheduler holds one in-memory date job (the next wake-up),
  rebuilt from `min(due_at)` of pending rows at start and after every run; nothing is pickled or
  persisted, so a restart, an upgrade or a second machine can never act on a stale job;
- at start the dispatcher runs at once: rows that fell due while nothing was running go out now if
  their `not_after` has not passed, and the stale ones are skipped and counted (`totals`);
- the wake-up is never later than `max_sleep` from now, so rows queued by another process (a flow,
  the portal) are picked up within `max_sleep` even if nobody calls `poke()`;
- runs never overlap: a `poke()` during a run waits for it, then runs again.

Cost: an idle clock costs one small query every `max_sleep`; a run costs what `dispatch_due` costs.
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
from notifications import outbox
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
    ) -> None:
        self._engine = engine
        self._smtp = smtp
        self._clock = clock
        self._max_sleep = max_sleep
        self._lease = lease
        self._calendar_domain = calendar_domain
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._run_lock = threading.Lock()
        self._job_lock = threading.Lock()
        self._job_id: str | None = None
        self._stopping = False
        self._ids = itertools.count(1)
        self.totals = DispatchReport()
        self.runs = 0
        self.next_wake_at: datetime | None = None

    def start(self) -> None:
        """Start the scheduler and run the dispatcher at once (catch-up after a restart)."""
        self._scheduler.start()
        self._wake_at(self._clock())

    def shutdown(self) -> None:
        """Stop after the run in progress, if any. Waits for it outside APScheduler's locks: its
        `shutdown` holds the job-store lock while joining the job threads, and a finishing run needs
        that lock to schedule its successor."""
        with self._run_lock:
            self._stopping = True
        self._scheduler.shutdown(wait=True)

    def poke(self) -> None:
        """Run now: call after queuing rows that are due immediately."""
        self._wake_at(self._clock())

    def _wake_at(self, at: datetime) -> None:
        with self._job_lock:
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
                self._wake_at(self._next_wake())
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
