"""The reminder clock with APScheduler and the real clock: at start it sends what is overdue (but
not stale), skips and counts what is stale, then sleeps until the next `due_at` in the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import SmtpSettings
from notifications.clock import ReminderClock
from notifications.sink import MailSink
from tests.notifications.seed import queue_sample, seed_people

pytestmark = pytest.mark.integration


def _wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.02)


def test_clock_catches_up_skips_stale_and_wakes_at_next_due(
    engine: Engine, sink: MailSink, smtp: SmtpSettings
) -> None:
    start = datetime.now(UTC)
    seeded = seed_people(engine, start, count=4)
    hour = timedelta(hours=1)
    soon_at = start + timedelta(seconds=3)  # after the first run, even on a busy machine
    later_at = start + timedelta(seconds=40)
    with Session(engine) as session:
        kind = "reminder.first-meeting"
        queue_sample(
            session, seeded, kind=kind, index=0, due_at=start - hour, not_after=start + hour, now=start
        )
        queue_sample(
            session, seeded, kind=kind, index=1, due_at=start - 2 * hour, not_after=start - hour, now=start
        )
        queue_sample(session, seeded, kind=kind, index=2, due_at=soon_at, not_after=start + hour, now=start)
        queue_sample(session, seeded, kind=kind, index=3, due_at=later_at, not_after=start + hour, now=start)
        session.commit()
    clock = ReminderClock(engine, smtp, calendar_domain="rueda.localhost", max_sleep=timedelta(seconds=60))
    clock.start()
    try:
        _wait_for(lambda: clock.runs == 1)
        assert len(sink.entries()) == 1
        assert clock.next_wake_at == soon_at
        _wait_for(lambda: len(sink.entries()) == 2)
        _wait_for(lambda: clock.runs == 2)
        assert clock.next_wake_at == later_at
    finally:
        clock.shutdown()
    first, second = sink.entries()
    assert (first.rcpt_tos, second.rcpt_tos) == (["p0@example.org"], ["p2@example.org"])
    assert datetime.fromisoformat(second.received_at) >= soon_at
    assert (clock.totals.sent, clock.totals.skipped_stale, clock.totals.failed) == (2, 1, 0)


def test_clock_poke_sends_new_rows_at_once(engine: Engine, sink: MailSink, smtp: SmtpSettings) -> None:
    start = datetime.now(UTC)
    seeded = seed_people(engine, start)
    clock = ReminderClock(engine, smtp, calendar_domain="rueda.localhost", max_sleep=timedelta(seconds=60))
    clock.start()
    try:
        _wait_for(lambda: clock.runs == 1)
        assert sink.entries() == []
        with Session(engine) as session:
            queue_sample(session, seeded, kind="survey.invited", index=0, due_at=start, now=start)
            session.commit()
        clock.poke()
        _wait_for(lambda: len(sink.entries()) == 1, seconds=10)
    finally:
        clock.shutdown()
    assert clock.totals.sent == 1
