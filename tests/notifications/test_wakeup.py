"""Mail queued by another process wakes the reminder clock (issue 14, item 3): LISTEN/NOTIFY on
PostgreSQL, a FIFO next to the database file on SQLite. The clocks here sleep `max_sleep` = 10
minutes, so a message that reaches the sink within the 30 s wait came through the wake-up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from config.settings import SmtpSettings
from models import Notification, NotificationStatus
from notifications import wakeup
from notifications.clock import ReminderClock
from notifications.sink import MailSink
from services.db import make_engine
from tests.notifications.seed import Seeded, queue_sample, seed_people

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TEN_MINUTES = timedelta(minutes=10)


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.02)


@pytest.fixture
def idle_clock(engine: Engine, smtp: SmtpSettings) -> Iterator[ReminderClock]:
    """A clock that has done its first run on an empty outbox and sleeps for ten minutes."""
    clock = ReminderClock(engine, smtp, calendar_domain="rueda.localhost", max_sleep=TEN_MINUTES)
    clock.start()
    try:
        _wait_for(lambda: clock.runs == 1)
        assert clock.listening
        assert clock.next_wake_at is not None
        assert clock.next_wake_at - datetime.now(UTC) > timedelta(minutes=9)
        yield clock
    finally:
        clock.shutdown()


def _queue_in_subprocess(db_url: str, seeded: Seeded, count: int, tag: str, gap: float = 0.0) -> list[str]:
    """The portal's process: its own interpreter, engine and connections."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.notifications.queue_elsewhere",
            db_url,
            str(seeded.event_id),
            str(seeded.participant_ids[0]),
            str(count),
            tag,
            str(gap),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_mail_queued_by_another_process_wakes_the_clock(
    db_url: str, engine: Engine, sink: MailSink, idle_clock: ReminderClock
) -> None:
    seeded = seed_people(engine, datetime.now(UTC), count=1)
    expected = idle_clock.listener.mode if idle_clock.listener else None
    assert expected == ("postgresql" if db_url.startswith("postgresql") else "fifo")
    commits = _queue_in_subprocess(db_url, seeded, 3, "a", gap=0.2)
    assert len(commits) == 3
    _wait_for(lambda: len(sink.entries()) == 3)
    assert sorted(entry.rcpt_tos[0] for entry in sink.entries()) == [
        f"signin-a-{i}@example.org" for i in range(3)
    ]
    # A second request, after the clock went back to sleep, wakes it again.
    _wait_for(lambda: idle_clock.next_wake_at is not None and idle_clock.next_wake_at > datetime.now(UTC))
    _queue_in_subprocess(db_url, seeded, 1, "b")
    _wait_for(lambda: len(sink.entries()) == 4)
    assert idle_clock.totals.sent == 4
    assert idle_clock.totals.failed == 0


def test_mail_queued_through_a_separate_engine_wakes_the_clock(
    db_url: str, engine: Engine, sink: MailSink, idle_clock: ReminderClock
) -> None:
    start = datetime.now(UTC)
    seeded = seed_people(engine, start, count=2)
    other = make_engine(db_url)  # a second pool in this process, as a flow beside the clock
    try:
        with Session(other) as session:
            queue_sample(session, seeded, kind="registration.confirmed", index=0, due_at=start, now=start)
            queue_sample(session, seeded, kind="requests.received", index=1, due_at=start, now=start)
            session.commit()
    finally:
        other.dispose()
    _wait_for(lambda: len(sink.entries()) == 2)
    assert sorted(entry.rcpt_tos[0] for entry in sink.entries()) == ["p0@example.org", "p1@example.org"]


@pytest.mark.postgres
def test_the_listener_reconnects_after_its_connection_is_killed(
    pg_engine: Engine, postgres_url: str, sink: MailSink, smtp: SmtpSettings
) -> None:
    clock = ReminderClock(pg_engine, smtp, calendar_domain="rueda.localhost", max_sleep=TEN_MINUTES)
    clock.start()
    try:
        _wait_for(lambda: clock.runs == 1)
        assert clock.listener is not None
        assert clock.listener.connections == 1
        with pg_engine.begin() as connection:
            killed = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query = :listen) AS t"
                ),
                {"listen": f"LISTEN {wakeup.CHANNEL}"},
            ).scalar_one()
        assert killed == 1
        _wait_for(lambda: clock.listener is not None and clock.listener.connections == 2)
        # The reconnection pokes once (rows committed while nobody listened); wait for that run to end.
        _wait_for(
            lambda: (
                clock.runs >= 2 and clock.next_wake_at is not None and clock.next_wake_at > datetime.now(UTC)
            )
        )
        seeded = seed_people(pg_engine, datetime.now(UTC), count=1)
        _queue_in_subprocess(postgres_url, seeded, 2, "r")
        _wait_for(lambda: len(sink.entries()) == 2)
    finally:
        clock.shutdown()
    assert clock.totals.sent == 2


def test_queuing_with_no_clock_listening_raises_nothing(db_url: str, engine: Engine, tmp_path: Path) -> None:
    start = datetime.now(UTC)
    seeded = seed_people(engine, start, count=1)
    fifo = wakeup.fifo_path(engine.url)
    if fifo is not None:
        assert not fifo.exists()  # no clock ever ran on this database
    _queue_in_subprocess(db_url, seeded, 1, "nobody")
    if fifo is not None:
        # A clock ran and stopped: its FIFO stays, with no reader.
        listener = wakeup.Listener(engine, lambda: None)
        listener.start()
        listener.stop()
        assert fifo.exists()
        assert wakeup.poke_fifo(fifo) is False
    _queue_in_subprocess(db_url, seeded, 1, "stopped")
    with Session(engine) as session:
        rows = session.exec(select(Notification)).all()
    assert sorted((r.recipient_email, r.status) for r in rows) == [
        ("signin-nobody-0@example.org", NotificationStatus.PENDING),
        ("signin-stopped-0@example.org", NotificationStatus.PENDING),
    ]


def test_one_signal_per_committed_transaction_that_queued(db_url: str, engine: Engine) -> None:
    """Three messages in one transaction: one signal, after commit. A rolled-back transaction and
    one that queued nothing: none."""
    start = datetime.now(UTC)
    seeded = seed_people(engine, start, count=3)
    received: list[object] = []
    fifo = wakeup.fifo_path(engine.url)
    if fifo is not None:
        os.mkfifo(fifo, 0o600)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)

        def signals() -> bytes:
            try:
                return os.read(reader, 100)
            except BlockingIOError:
                return b""

    else:
        listener = psycopg.connect(
            engine.url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
        )
        listener.add_notify_handler(received.append)
        listener.execute(f"LISTEN {wakeup.CHANNEL}")

        def signals() -> bytes:
            listener.execute("SELECT 1")  # notifications reach an idle connection between statements
            got = b"\x01" * len(received)
            received.clear()
            return got

    try:
        with Session(engine) as session:
            queue_sample(session, seeded, kind="login.requested", index=0, due_at=start, now=start)
            session.rollback()
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            session.commit()
        assert signals() == b""
        with Session(engine) as session:
            for index in range(3):
                queue_sample(session, seeded, kind="login.requested", index=index, due_at=start, now=start)
            if fifo is not None:
                assert signals() == b""  # nothing before the commit
            session.commit()
        assert signals() == b"\x01"
        # The same session again: its next transaction signals afresh.
        with Session(engine) as session:
            queue_sample(session, seeded, kind="survey.invited", index=0, due_at=start, now=start)
            session.commit()
            queue_sample(session, seeded, kind="survey.invited", index=1, due_at=start, now=start)
            session.commit()
        assert signals() == b"\x01\x01"
    finally:
        if fifo is not None:
            os.close(reader)
        else:
            listener.close()
