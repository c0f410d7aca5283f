"""Commit-to-sink latency of sign-in links queued by another process (issue 14, item 3), on SQLite
and PostgreSQL: a ReminderClock with `max_sleep` = 10 minutes sends to a real sink; a child process
(`queue_elsewhere`, the portal's side) queues 20 `login.requested` messages, one transaction each,
0.2 s apart; each latency is the sink's receipt time minus that commit's time. Prints p50 and max.

    .venv/bin/python -m tests.notifications.bench_wakeup [count]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) for the second line; see docs/benchmarks.md."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from config.settings import SmtpSettings
from notifications.clock import ReminderClock
from notifications.sink import MailSink
from services.db import make_engine, upgrade_database
from tests.conftest import PG_ADMIN_DSN
from tests.notifications.conftest import free_port
from tests.notifications.seed import seed_people

REPO = Path(__file__).resolve().parents[2]


def measure(url: str, folder: Path, count: int) -> list[float]:
    upgrade_database(url)
    engine = make_engine(url)
    try:
        seeded = seed_people(engine, datetime.now(UTC), count=1)
        with MailSink(folder / "mail", port=free_port()) as sink:
            smtp = SmtpSettings(host="127.0.0.1", port=sink.port, rate_per_second=10_000, batch_size=50)
            clock = ReminderClock(
                engine, smtp, calendar_domain="rueda.localhost", max_sleep=timedelta(minutes=10)
            )
            clock.start()
            try:
                while clock.runs < 1:
                    time.sleep(0.02)
                args = [url, str(seeded.event_id), str(seeded.participant_ids[0]), str(count), "bench", "0.2"]
                done = subprocess.run(
                    [sys.executable, "-m", "tests.notifications.queue_elsewhere", *args],
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                commits = [datetime.fromisoformat(line) for line in done.stdout.split()]
                deadline = time.monotonic() + 60
                while len(sink.entries()) < count and time.monotonic() < deadline:
                    time.sleep(0.02)
            finally:
                clock.shutdown()
            received = {e.rcpt_tos[0]: datetime.fromisoformat(e.received_at) for e in sink.entries()}
    finally:
        engine.dispose()
    return [
        (received[f"signin-bench-{i}@example.org"] - commit).total_seconds()
        for i, commit in enumerate(commits)
    ]


def report(name: str, latencies: list[float], count: int) -> None:
    line = (
        f"{name}: {len(latencies)}/{count} delivered; commit to sink p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    sys.stdout.write(line + "\n")


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report("SQLite", measure(f"sqlite:///{folder / 'rueda.db'}", folder / "sqlite", count), count)
        name = f"rueda_bench_wake_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            report("PostgreSQL", measure(url, folder / "pg", count), count)
        finally:
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
