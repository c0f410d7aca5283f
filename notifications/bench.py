"""Benchmark: queue N messages of every kind (es, en and pt in turn), then render and deliver them to
the local sink (started by the benchmark in a child process), and report messages per second and peak memory.

It measures the whole path of a real run: claim (one UPDATE per batch), render (Jinja2 + Babel +
calendar files), MIME building, one SMTP connection per batch to aiosmtpd, one commit per message,
and the sink writing each `.eml`. The rate limit is set far above the achievable rate so that it
does not cap the figure.

The caller passes an engine on a migrated database (`services.db`), which this layer cannot import;
see `rueda bench notifications` and docs/benchmarks.md. Cost: about 1/200 s per message on 2 cores.
"""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col

from config.settings import SmtpSettings
from models import Event, EventKind, Organization, Participant, ParticipantRole
from notifications import outbox
from notifications.catalog import LANGUAGES
from notifications.dispatcher import dispatch_due
from notifications.samples import sample_contexts
from notifications.sink import read_index


@dataclass(frozen=True, slots=True)
class BenchResult:
    messages: int
    queue_seconds: float
    deliver_seconds: float
    messages_per_second: float
    delivered: int
    peak_rss_mb: float
    mail_mb: float
    sender_cpu_ms: float  # CPU per message in this process (all its threads), during the dispatch
    sink_cpu_ms: float  # CPU per message in the sink's process

    def summary(self) -> str:
        return (
            f"{self.messages} messages: queued in {self.queue_seconds:.1f} s; rendered and delivered "
            f"{self.delivered} in {self.deliver_seconds:.1f} s = {self.messages_per_second:.0f} msg/s; "
            f"CPU per message: sender {self.sender_cpu_ms:.2f} ms, sink {self.sink_cpu_ms:.2f} ms; "
            f"peak RSS of the sender {self.peak_rss_mb:.0f} MB; {self.mail_mb:.0f} MB of mail stored"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _seed(session: Session, count: int, now: datetime) -> list[int]:
    """One event, one organization and up to 1,000 participants (messages cycle over them)."""
    event = Event(
        kind=EventKind.ROUNDTABLE,
        slug=f"bench-{now:%Y%m%d%H%M%S}",
        name="Benchmark",
        timezone="America/Bogota",
        default_language="es",
        starts_on=date(2027, 5, 19),
        ends_on=date(2027, 5, 20),
        slot_minutes=30,
        min_meetings=0,
        max_meetings=16,
        created_at=now,
        updated_at=now,
    )
    organization = Organization(legal_name="Bench SAS", country="CO", created_at=now, updated_at=now)
    session.add_all([event, organization])
    session.flush()
    people: list[dict[str, Any]] = [
        {
            "event_id": event.id,
            "organization_id": organization.id,
            "full_name": f"Persona {i}",
            "email": f"p{i}@bench.example",
            "language": LANGUAGES[i % len(LANGUAGES)],
            "timezone": "America/Bogota",
            "role": ParticipantRole.SELLER,
            "status": "registered",
            "spoken_languages": [],
            "created_at": now,
            "updated_at": now,
        }
        for i in range(min(count, 1000))
    ]
    session.execute(sa.insert(Participant), people)
    ids = session.execute(
        sa.select(col(Participant.id))
        .where(col(Participant.event_id) == event.id)
        .order_by(col(Participant.id))
    )
    return [int(i) for i in ids.scalars()]


def _wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the mail sink exited with code {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the mail sink did not start")


def run_benchmark(engine: Engine, count: int, mail_dir: Path, *, connections: int = 2) -> BenchResult:
    now = datetime.now(UTC)
    contexts = list(sample_contexts().items())
    started = time.perf_counter()
    with Session(engine) as session:
        participants = _seed(session, count, now)
        for i in range(count):
            kind, context = contexts[i % len(contexts)]
            person = participants[i % len(participants)]
            outbox.queue_message(
                session,
                kind=kind,
                context=context,
                recipient_email=f"p{i % len(participants)}@bench.example",
                language=LANGUAGES[i % len(LANGUAGES)],
                idempotency_key=outbox.build_key(kind, person, f"bench-{i}"),
                due_at=now - timedelta(seconds=1),
                now=now,
                participant_id=person,
            )
        session.commit()
    queued = time.perf_counter() - started
    port = _free_port()
    smtp = SmtpSettings(host="127.0.0.1", port=port, rate_per_second=1_000_000, batch_size=200)
    # The sink runs in its own process, as an SMTP server does in production: sharing this
    # process's interpreter lock with the sender would measure the lock, not the sender.
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = subprocess.Popen([sys.executable, "-m", "notifications.sink", str(mail_dir), str(port)])
    try:
        _wait_for_port(port, server)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = dispatch_due(engine, smtp, connections=connections, calendar_domain=outbox.DEFAULT_DOMAIN)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        server.terminate()
        server.wait(30)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Includes the sink's start-up (about 0.5 s of imports): a small overestimate at 20,000 messages.
    sink_cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    delivered = len(read_index(mail_dir))
    mail_bytes = sum(p.stat().st_size for p in mail_dir.glob("*.eml"))
    return BenchResult(
        messages=count,
        queue_seconds=queued,
        deliver_seconds=elapsed,
        messages_per_second=report.sent / elapsed if elapsed else 0.0,
        delivered=delivered,
        # ru_maxrss is in kilobytes on Linux.
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        mail_mb=mail_bytes / 1e6,
        sender_cpu_ms=1000 * cpu / max(1, report.sent),
        sink_cpu_ms=1000 * sink_cpu / max(1, report.sent),
    )
