"""The production topology of docs/deployment.md on one machine, as separate processes, and the
lifecycle of a macrorrueda driven through it.

- PostgreSQL (127.0.0.1:5432): a fresh application database and a fresh Prefect database, both
  named `rueda_mp_<tag>_*`, dropped at the end.
- Redis (127.0.0.1:6379): one empty logical database, claimed with a marker key, for Prefect's
  messaging, messaging cache, causal ordering, concurrency lease storage and docket; flushed at the end.
- `prefect server start --no-services` (API and UI) plus `prefect server services start`
  (scheduler, triggers, event persister...), both on that PostgreSQL and Redis.
- The deployments registered on the `rueda-process` work pool by `python -m flows.deploy`, and
  N `prefect worker start --type process` processes running them.
- The mail sink (`rueda mail-sink`), the reminder clock (`rueda reminder-clock`) and the portal
  (`python -m portal`).

The lifecycle is the demo's main line: create-event, import-participants, close-registration ->
compute-matches (trigger), participants accept, close-requests -> build-schedule (trigger) ->
publish-agendas (trigger) -> every agenda at the sink. Each event has its own slug, so several
lifecycles (a baseline and a faulted one) can run on one cluster and be compared by `fingerprint`.

Used by tests/multiprocess/ and by `make multiprocess` / `make faults`
(`python -m tests.multiprocess.harness --help`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import redis
from sqlalchemy import Engine, text

BIN = Path(sys.executable).parent
PG_ADMIN_DSN = os.environ.get("RUEDA_TEST_PG_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL = "postgresql+{driver}://postgres@127.0.0.1:5432/{name}"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_CLAIM_KEY = "rueda_mp:claimed-by"
PORTAL_SECRET_KEY = "rueda-multiprocess-test-key-" + "0123456789abcdef" * 2


class HarnessError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def claim_redis_db(owner: str) -> int:
    """An empty logical Redis database (1-15), marked as ours so that no parallel run takes it."""
    for index in range(1, 16):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index)
        try:
            if client.dbsize() == 0 and client.set(REDIS_CLAIM_KEY, owner, nx=True):
                return index
        finally:
            client.close()
    raise HarnessError("no empty Redis database among 1-15 on 127.0.0.1:6379")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Cluster:
    root: Path
    workers: int = 2
    split_services: bool = True
    # Messages per second per dispatcher: the "provider's limit" of the test; slow enough that a
    # worker can be killed in the middle of publish-agendas.
    smtp_rate: float = 50.0
    smtp_batch: int = 50
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    stopped: set[str] = field(default_factory=set)
    redis_db: int = 0
    api_port: int = 0
    smtp_port: int = 0
    portal_port: int = 0
    # Portal processes (`python -m portal`), on consecutive free ports; a proxy would balance them.
    portals: int = 1
    portal_ports: list[int] = field(default_factory=list)
    # Each `reset_application` starts a new generation: a fresh application database and mailbox.
    generation: int = 0
    _engine: Engine | None = None

    # -- names and environment -------------------------------------------------------------

    @property
    def app_db(self) -> str:
        return f"rueda_mp_{self.tag}_app"

    @property
    def prefect_db(self) -> str:
        return f"rueda_mp_{self.tag}_prefect"

    @property
    def app_url(self) -> str:
        return PG_URL.format(driver="psycopg", name=self.app_db)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api"

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def mail_dir(self) -> Path:
        return self.root / f"mail-{self.generation}"

    def prefect_env(self) -> dict[str, str]:
        """What every Prefect process of the topology shares (docs/deployment.md)."""
        return {
            "PREFECT_HOME": str(self.root / "prefect-home"),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_API_URL": self.api_url,
            "PREFECT_API_DATABASE_CONNECTION_URL": PG_URL.format(driver="asyncpg", name=self.prefect_db),
            "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
            "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
            "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
            "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
            "PREFECT_REDIS_MESSAGING_URL": self.redis_url,
            "PREFECT_SERVER_DOCKET_URL": self.redis_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
            # Flow-run heartbeats: a run whose process died is marked crashed (zombie detection).
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
            "DO_NOT_TRACK": "1",
        }

    def rueda_env(self) -> dict[str, str]:
        return {
            "RUEDA_DATA_DIR": str(self.root / "data"),
            "RUEDA_DATABASE__URL": self.app_url,
            "RUEDA_SMTP__HOST": "127.0.0.1",
            "RUEDA_SMTP__PORT": str(self.smtp_port),
            "RUEDA_SMTP__SECURITY": "none",
            "RUEDA_SMTP__RATE_PER_SECOND": str(self.smtp_rate),
            "RUEDA_SMTP__BATCH_SIZE": str(self.smtp_batch),
            "RUEDA_PORTAL__HOST": "127.0.0.1",
            "RUEDA_PORTAL__SECRET_KEY": PORTAL_SECRET_KEY,
            "RUEDA_PORTAL__PORT": str(self.portal_port),
        }

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUEDA_", "PREFECT_"))}
        env.update(self.prefect_env())
        env.update(self.rueda_env())
        return env

    @contextlib.contextmanager
    def client_environment(self) -> Iterator[None]:
        """This process talks to the cluster's Prefect API and database while inside.

        Prefect reads its settings from the environment once, when it is first imported (perhaps
        long before, by another test), so the API URL is also set as a Prefect setting, and the
        ephemeral mode is disabled: a client that missed the URL fails instead of starting a
        server of its own on the cluster's databases."""
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_SERVER_ALLOW_EPHEMERAL_MODE,
            temporary_settings,
        )

        saved = dict(os.environ)
        os.environ.update(self.prefect_env())
        os.environ.update(self.rueda_env())
        try:
            with temporary_settings(
                updates={PREFECT_API_URL: self.api_url, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}
            ):
                yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from services.db import make_engine

            self._engine = make_engine(self.app_url)
        return self._engine

    # -- processes ---------------------------------------------------------------------------

    def spawn(
        self,
        name: str,
        command: list[str],
        *,
        cwd: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        env.update(extra_env or {})
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd or self.root,
                start_new_session=True,
                # A shell's background job ignores SIGINT, and children inherit that: restore it,
                # so that `stop` (SIGINT, as Ctrl-C) stops them cleanly.
                preexec_fn=_default_sigint,
            )
        self.processes[name] = process
        self.stopped.discard(name)
        return process

    def check(self) -> None:
        for name, process in self.processes.items():
            if name not in self.stopped and process.poll() is not None:
                raise HarnessError(f"{name} exited with {process.returncode}; see {self.log_dir / name}.log")

    def signal_group(self, name: str, sig: int) -> None:
        """Signal a process and everything it started (a worker and its flow-run processes)."""
        self.stopped.add(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.processes[name].pid, sig)

    def stop_process(self, name: str, *, timeout: float = 30.0) -> None:
        process = self.processes[name]
        self.signal_group(name, signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(name, signal.SIGKILL)
            process.wait()

    def wait(self, check: Callable[[], bool], what: str, *, timeout: float, every: float = 1.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            self.check()
            time.sleep(every)
        raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what}; logs in {self.log_dir}")

    # -- the topology ---------------------------------------------------------------------------

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.redis_db = claim_redis_db(f"{self.tag}:{os.getpid()}")
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            for name in (self.app_db, self.prefect_db):
                admin.execute(f'CREATE DATABASE "{name}"')
        self.api_port, self.smtp_port, self.portal_port = free_port(), free_port(), free_port()
        from services.db import upgrade_database

        upgrade_database(self.app_url)
        self.start_server()
        self.run_checked("deploy", [str(BIN / "python"), "-m", "flows.deploy"])
        self.spawn(
            "mail-sink",
            [str(BIN / "rueda"), "mail-sink", "--port", str(self.smtp_port), "--dir", str(self.mail_dir)],
        )
        for number in range(1, self.workers + 1):
            self.start_worker(number)
        self.spawn("reminder-clock", [str(BIN / "rueda"), "reminder-clock"])
        self.portal_ports = [self.portal_port, *(free_port() for _ in range(self.portals - 1))]
        for number, port in enumerate(self.portal_ports):
            self.spawn(
                "portal" if number == 0 else f"portal-{number + 1}",
                [str(BIN / "python"), "-m", "portal"],
                extra_env={"RUEDA_PORTAL__PORT": str(port)},
            )
        self.wait(self._workers_online, f"{self.workers} workers to poll the pool", timeout=180)
        self.wait(lambda: http_ok(f"{self.portal_url}/signin"), "the portal", timeout=120)

    def start_mail_sink(self) -> None:
        command = [
            str(BIN / "rueda"),
            "mail-sink",
            "--port",
            str(self.smtp_port),
            "--dir",
            str(self.mail_dir),
        ]
        self.spawn("mail-sink", command)
        self.wait(lambda: _listening(self.smtp_port), "the mail sink", timeout=60, every=0.2)

    def reset_application(self) -> None:
        """A fresh application database (same name: every process keeps its settings and
        reconnects) and a fresh mailbox, so that a lifecycle's outcome can be compared with another
        one's row for row: the engine breaks ties by participant ids, which then start at 1 again.
        Event ids move on, though: the lifecycle's Prefect events are deduplicated by ids derived
        from them, and a repeated id would be dropped by the server as a duplicate."""
        from services.db import upgrade_database

        self.generation += 1
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.app_db}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.app_db}"')
        upgrade_database(self.app_url)
        with self.engine.begin() as connection:
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('event', 'id'), :n)"),
                {"n": 1000 * self.generation},
            )
        self.stop_process("mail-sink")
        self.start_mail_sink()

    def start_server(self, *, timeout: float = 240.0) -> None:
        prefect = str(BIN / "prefect")
        serve = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(self.api_port)]
        if self.split_services:
            self.spawn("prefect-api", [*serve, "--no-services"])
        else:
            self.spawn("prefect-api", serve)
        self.wait(lambda: http_ok(f"{self.api_url}/health"), "the Prefect API", timeout=timeout)
        if self.split_services:
            # After the API: it creates the database schema, which the services need.
            self.spawn("prefect-services", [prefect, "server", "services", "start"])

    def stop_server(self) -> None:
        for name in ("prefect-services", "prefect-api"):
            if name in self.processes:
                self.stop_process(name)

    def start_worker(self, number: int) -> None:
        self.spawn(
            f"worker-{number}",
            [
                str(BIN / "prefect"),
                "worker",
                "start",
                "--pool",
                "rueda-process",
                "--type",
                "process",
                "--name",
                f"worker-{number}",
                "--limit",
                "2",
            ],
        )

    def run_checked(self, name: str, command: list[str]) -> None:
        process = self.spawn(name, command)
        if process.wait(timeout=600) != 0:
            raise HarnessError(f"{name} failed; see {self.log_dir / name}.log")
        self.stopped.add(name)

    def _workers_online(self) -> bool:
        from prefect.client.orchestration import get_client

        async def online() -> int:
            async with get_client() as client:
                workers = await client.read_workers_for_work_pool("rueda-process")
            return sum(1 for w in workers if w.status.value == "ONLINE")

        with self.client_environment():
            return asyncio.run(online()) >= self.workers

    def stop(self, *, timeout: float = 30.0) -> None:
        """SIGINT to every process group (as Ctrl-C), SIGKILL to what is left after `timeout`."""
        for name in reversed(list(self.processes)):
            if self.processes[name].poll() is None:
                self.signal_group(name, signal.SIGINT)
        deadline = time.monotonic() + timeout
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.signal_group(name, signal.SIGKILL)
                process.wait()
        if self._engine is not None:
            self._engine.dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            for name in (self.app_db, self.prefect_db):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self.redis_db:
            client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db)
            try:
                client.flushdb()
            finally:
                client.close()

    def errors_in_logs(self) -> dict[str, list[str]]:
        """Lines logged at ERROR by the Prefect processes (the server, services and workers)."""
        found = {}
        for log in sorted(self.log_dir.glob("*.log")):
            lines = [line for line in log.read_text(errors="replace").splitlines() if " | ERROR " in line]
            if lines:
                found[log.stem] = lines
        return found


# -- the lifecycle -----------------------------------------------------------------------------


@dataclass
class LifecycleRun:
    slug: str
    participants: int
    timings: list[tuple[str, float]] = field(default_factory=list)

    def step(self, label: str, work: Callable[[], object]) -> None:
        started = time.perf_counter()
        work()
        self.timings.append((label, time.perf_counter() - started))


def run_deployment_checked(cluster: Cluster, name: str, parameters: dict[str, Any]) -> None:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    with cluster.client_environment():
        run = run_deployment(f"{name}/rueda", parameters=parameters, timeout=1800)
    assert isinstance(run, FlowRun)
    if run.state is None or not run.state.is_completed():
        raise HarnessError(f"{name} ended {run.state.name if run.state else 'unknown'} ({run.id})")


def event_status(cluster: Cluster, slug: str) -> str:
    with cluster.engine.connect() as connection:
        return str(
            connection.execute(text("SELECT status FROM event WHERE slug = :s"), {"s": slug}).scalar_one()
        )


def reached(cluster: Cluster, slug: str, status: str) -> bool:
    from sqlmodel import Session

    from models import EventStatus
    from services.events import get_event_by_slug
    from services.lifecycle import is_past

    with Session(cluster.engine) as session:
        return is_past(get_event_by_slug(session, slug), EventStatus(status))


def agendas_at_sink(cluster: Cluster, slug: str) -> bool:
    """Every participant with a meeting has an agenda row sent, and the sink holds each of them."""
    from notifications.sink import read_index

    with cluster.engine.connect() as connection:
        expected = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT participant_a_id FROM meeting m JOIN event e ON e.id = m.event_id"
                " WHERE e.slug = :s UNION SELECT participant_b_id FROM meeting m JOIN event e"
                " ON e.id = m.event_id WHERE e.slug = :s) people"
            ),
            {"s": slug},
        ).scalar_one()
        sent = set(
            connection.execute(
                text(
                    "SELECT n.message_id FROM notification n JOIN event e ON e.id = n.event_id"
                    " WHERE e.slug = :s AND n.kind = 'agenda.published' AND n.status = 'sent'"
                ),
                {"s": slug},
            ).scalars()
        )
    if not cluster.mail_dir.exists():
        return False
    received = {entry.message_id for entry in read_index(cluster.mail_dir)}
    return bool(expected > 0 and len(sent) == expected and sent <= received)


def no_active_runs(cluster: Cluster) -> bool:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    async def count() -> int:
        active = FlowRunFilterState(
            type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING, StateType.CANCELLING])
        )
        async with get_client() as client:
            return len(await client.read_flow_runs(flow_run_filter=FlowRunFilter(state=active), limit=5))

    with cluster.client_environment():
        return asyncio.run(count()) == 0


def answer_requests(cluster: Cluster, slug: str, seed: int) -> None:
    from cli.up_cmd import _answer_requests

    _answer_requests(cluster.engine, slug, seed)


def run_lifecycle(
    cluster: Cluster,
    *,
    slug: str,
    participants: int,
    seed: int = 1,
    during_publish: Callable[[], None] | None = None,
    before_close_requests: Callable[[], None] | None = None,
    timeout: float = 1800,
) -> LifecycleRun:
    """The lifecycle up to every agenda at the sink; `during_publish` runs as soon as
    publish-agendas has sent its first agendas (to inject a fault there)."""
    from cli.data_cmd import write_demo_files
    from services.files import read_mapping_file

    event_file, people_file = write_demo_files(
        cluster.root / "inputs" / slug,
        participants=participants,
        seed=seed,
        with_errors=False,
        file_format="xlsx",
        start_on=date(2027, 5, 19),
        slug=slug,
    )
    run = LifecycleRun(slug, participants)
    run.step(
        "create-event",
        lambda: run_deployment_checked(
            cluster, "create-event", {"definition": read_mapping_file(event_file)}
        ),
    )
    run.step(
        "import-participants",
        lambda: run_deployment_checked(
            cluster, "import-participants", {"params": {"event_slug": slug, "file_path": str(people_file)}}
        ),
    )
    run.step(
        "close-registration",
        lambda: run_deployment_checked(cluster, "close-registration", {"params": {"event_slug": slug}}),
    )
    run.step(
        "-> compute-matches (trigger)",
        lambda: cluster.wait(
            lambda: reached(cluster, slug, "requests_open"), "compute-matches", timeout=timeout
        ),
    )
    run.step("participants answer", lambda: answer_requests(cluster, slug, seed))
    if before_close_requests is not None:
        before_close_requests()
    run.step(
        "close-requests",
        lambda: run_deployment_checked(cluster, "close-requests", {"params": {"event_slug": slug}}),
    )
    run.step(
        "-> build-schedule (trigger)",
        lambda: cluster.wait(lambda: reached(cluster, slug, "published"), "build-schedule", timeout=timeout),
    )
    if during_publish is not None:
        run.step("fault during publish-agendas", during_publish)
    run.step(
        "-> publish-agendas (trigger), every agenda at the sink",
        lambda: cluster.wait(
            lambda: agendas_at_sink(cluster, slug), "the agendas", timeout=timeout, every=2.0
        ),
    )
    run.step(
        "last runs finish",
        lambda: cluster.wait(lambda: no_active_runs(cluster), "the last runs", timeout=timeout),
    )
    return run


def people_with_meetings(cluster: Cluster, slug: str) -> int:
    with cluster.engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT participant_a_id FROM meeting m JOIN event e ON e.id = m.event_id"
                    " WHERE e.slug = :s UNION SELECT participant_b_id FROM meeting m JOIN event e"
                    " ON e.id = m.event_id WHERE e.slug = :s) people"
                ),
                {"s": slug},
            ).scalar_one()
        )


def agendas_sent(cluster: Cluster, slug: str) -> int:
    with cluster.engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM notification n JOIN event e ON e.id = n.event_id"
                    " WHERE e.slug = :s AND n.kind = 'agenda.published' AND n.status = 'sent'"
                ),
                {"s": slug},
            ).scalar_one()
        )


# -- what a run leaves behind ------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprint:
    """The business outcome of a lifecycle, free of ids and slugs, so two events compare."""

    status: str
    participants: int
    requests: tuple[tuple[str, int], ...]
    meetings: tuple[tuple[str, str, str, str, str], ...]
    notifications: tuple[tuple[str, str, str], ...]


def fingerprint(cluster: Cluster, slug: str) -> Fingerprint:
    with cluster.engine.connect() as connection:
        params = {"s": slug}
        event_id = connection.execute(text("SELECT id FROM event WHERE slug = :s"), params).scalar_one()
        ids = {"e": event_id}
        status = connection.execute(text("SELECT status FROM event WHERE id = :e"), ids).scalar_one()
        participants = connection.execute(
            text("SELECT count(*) FROM participant WHERE event_id = :e"), ids
        ).scalar_one()
        requests = connection.execute(
            text(
                "SELECT status, count(*) FROM meeting_request WHERE event_id = :e GROUP BY status ORDER BY status"
            ),
            ids,
        ).all()
        meetings = connection.execute(
            text(
                "SELECT s.code, t.code, a.email, b.email, m.status FROM meeting m"
                " JOIN time_slot s ON s.id = m.slot_id JOIN event_table t ON t.id = m.table_id"
                " JOIN participant a ON a.id = m.participant_a_id JOIN participant b ON b.id = m.participant_b_id"
                " WHERE m.event_id = :e ORDER BY 1, 2"
            ),
            ids,
        ).all()
        notifications = connection.execute(
            text(
                "SELECT kind, recipient_email, status FROM notification WHERE event_id = :e ORDER BY 1, 2, 3"
            ),
            ids,
        ).all()
    return Fingerprint(
        str(status),
        int(participants),
        tuple((str(s), int(n)) for s, n in requests),
        tuple(tuple(str(v) for v in row) for row in meetings),  # type: ignore[misc]
        tuple(tuple(str(v) for v in row) for row in notifications),  # type: ignore[misc]
    )


@dataclass(frozen=True)
class Delivery:
    """The sink against the outbox, for one event: Message-IDs sent, received, and extra copies."""

    sent: int
    received: int
    missing: int
    unexpected: int
    extra_copies: int


def delivery(cluster: Cluster, slug: str) -> Delivery:
    from notifications.sink import read_index

    with cluster.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT n.message_id, n.status FROM notification n JOIN event e ON e.id = n.event_id WHERE e.slug = :s"
            ),
            {"s": slug},
        ).all()
    ours = {message_id for message_id, _ in rows}
    sent = {message_id for message_id, status in rows if status == "sent"}
    copies = Counter(e.message_id for e in read_index(cluster.mail_dir) if e.message_id in ours)
    received = set(copies)
    return Delivery(
        sent=len(sent),
        received=len(received),
        missing=len(sent - received),
        unexpected=len(received - sent),
        extra_copies=sum(n - 1 for n in copies.values()),
    )


def flow_runs(cluster: Cluster, slug: str) -> Counter[tuple[str, str]]:
    """(flow name, final state type) of every run for this event (run names end with the slug)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    async def read() -> Counter[tuple[str, str]]:
        async with get_client() as client:
            flows = {f.id: f.name for f in await client.read_flows(limit=200)}
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=slug)), limit=200
            )
        return Counter(
            (flows[r.flow_id], r.state_type.value if r.state_type else "NONE")
            for r in runs
            if r.name.endswith(f" {slug}")
        )

    with cluster.client_environment():
        return asyncio.run(read())


# -- faults ----------------------------------------------------------------------------------


def kill_worker_running(cluster: Cluster, flow_name: str, slug: str, *, timeout: float = 600) -> str:
    """Wait until `flow_name` for `slug` runs on a worker and has sent some mail, then SIGKILL that
    worker and its flow-run process, as the death of their machine would. Returns the worker's name."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    found: dict[str, int] = {}

    def running_pid() -> bool:
        async def read() -> int | None:
            async with get_client() as client:
                runs = await client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=f"{flow_name} {slug}")),
                    limit=5,
                )
            for run in runs:
                if (
                    run.state_type is not None
                    and run.state_type.value == "RUNNING"
                    and run.infrastructure_pid
                ):
                    return int(run.infrastructure_pid.rsplit(":", 1)[-1])
            return None

        with cluster.client_environment():
            pid = asyncio.run(read())
        if pid is None or agendas_sent(cluster, slug) == 0:
            return False
        found["pid"] = pid
        return True

    cluster.wait(running_pid, f"{flow_name} to run and send", timeout=timeout, every=0.2)
    # The worker runs each flow run in a session of its own: find the worker among its ancestors,
    # then kill the run's group and the worker's group, as the death of their machine would.
    workers = {process.pid: name for name, process in cluster.processes.items() if name.startswith("worker-")}
    pid = found["pid"]
    ancestor = pid
    while ancestor > 1 and ancestor not in workers:
        ancestor = parent_pid(ancestor)
    if ancestor not in workers:
        raise HarnessError(f"flow-run process {pid} was not started by a worker of ours")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    name = workers[ancestor]
    cluster.signal_group(name, signal.SIGKILL)
    cluster.processes[name].wait()
    return name


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def restart_server(cluster: Cluster) -> None:
    """Stop the Prefect API and services, then start them again on the same databases."""
    cluster.stop_server()
    cluster.start_server()


def cut_database_connections(cluster: Cluster, *, seconds: float = 5.0) -> int:
    """Terminate every connection to the application database for `seconds` (repeatedly, so that
    reconnects in that window are cut too). Returns how many connections were terminated."""
    cut = 0
    deadline = time.monotonic() + seconds
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        while time.monotonic() < deadline:
            cut += len(
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (cluster.app_db,),
                ).fetchall()
            )
            time.sleep(0.2)
    return cut


# -- make multiprocess / make faults -------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.multiprocess.harness", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--participants", "-n", type=int, default=2400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--single-server", action="store_true", help="One `prefect server start` with its services."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the cluster's directory (logs) at the end.")
    parser.add_argument(
        "--load-users",
        default="",
        help="Then N portal users (tests/multiprocess/load.py), each thinking 0.5 to 2 s between pages, or "
        "N@MIN-MAX seconds; several runs, one after the other: 200,2000,2000@15-45.",
    )
    parser.add_argument(
        "--portals", type=int, default=1, help="Portal processes (the load is spread over them)."
    )
    parser.add_argument("--load-duration", type=float, default=60.0, help="Seconds of portal load.")
    args = parser.parse_args(argv)
    root = Path(f"/tmp/rueda_mp_{uuid.uuid4().hex[:8]}")
    cluster = Cluster(root, workers=args.workers, split_services=not args.single_server, portals=args.portals)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        cluster.start()
        ready = time.perf_counter() - started
        print(f"cluster up in {ready:.1f} s: {cluster.api_url}, logs in {cluster.log_dir}")  # noqa: T201
        run = run_lifecycle(cluster, slug="macrorrueda-mp", participants=args.participants)
        report = {
            "participants": args.participants,
            "workers": args.workers,
            "split_services": cluster.split_services,
            "cluster_start_seconds": round(ready, 1),
            "timings": [(label, round(seconds, 1)) for label, seconds in run.timings],
            "total_seconds": round(sum(s for _, s in run.timings), 1),
            "flow_runs": sorted(
                f"{name} {state} x{n}" for (name, state), n in flow_runs(cluster, run.slug).items()
            ),
            "delivery": delivery(cluster, run.slug).__dict__,
            "meetings": len(fingerprint(cluster, run.slug).meetings),
            "runs_per_worker": {
                name: (cluster.log_dir / f"{name}.log").read_text().count("submitting flow run")
                for name in cluster.processes
                if name.startswith("worker-")
            },
            "load_average_start_end": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "errors_in_logs": {k: len(v) for k, v in cluster.errors_in_logs().items()},
        }
        print(json.dumps(report, indent=2))  # noqa: T201
        for spec in [n for n in args.load_users.split(",") if n]:
            users_text, _, think_text = spec.partition("@")
            users, think = int(users_text), (think_text or "0.5-2").replace("-", ",")
            load = subprocess.run(
                [
                    str(BIN / "python"),
                    "-m",
                    "tests.multiprocess.load",
                    "--url",
                    ",".join(f"http://127.0.0.1:{port}" for port in cluster.portal_ports),
                    "--database-url",
                    cluster.app_url,
                    "--secret-key",
                    PORTAL_SECRET_KEY,
                    "--event",
                    run.slug,
                    "--users",
                    str(users),
                    "--duration",
                    str(args.load_duration),
                    "--think",
                    think,
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=args.load_duration + 600,
            )
            print(f"load average {os.getloadavg()[0]:.1f}", load.stdout, load.stderr[-3000:])  # noqa: T201
            cluster.check()
            if load.returncode:
                return load.returncode
        return 0
    finally:
        cluster.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
