"""Faults on the multi-process topology. Each test runs the lifecycle again, with the same
generated data, in a fresh application database and mailbox (`Cluster.reset_application`), with one
fault injected, and proves that the outcome equals the no-fault run's (`Fingerprint`: the same
requests, the same meetings in the same slots and tables, the same emails in the same states) and
that the sink received each sent Message-ID.

Run with `make faults` (RUEDA_MP_FAULTS=1): a dead worker's claimed emails wait for the outbox
lease (10 minutes) before another dispatcher takes them, so these take several minutes each.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from notifications.sink import MailSink, SinkHandler
from tests.multiprocess.conftest import PARTICIPANTS, Baseline
from tests.multiprocess.harness import (
    Cluster,
    Fingerprint,
    agendas_sent,
    cut_database_connections,
    delivery,
    fingerprint,
    flow_runs,
    kill_worker_running,
    restart_server,
    run_lifecycle,
)

pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.timeout(2400),
]


def assert_same_outcome(
    cluster: Cluster, slug: str, baseline: Fingerprint, *, max_extra_copies: int = 0
) -> None:
    assert fingerprint(cluster, slug) == baseline
    result = delivery(cluster, slug)
    assert (result.sent, result.received, result.missing, result.unexpected) == (
        len([n for n in baseline.notifications if n[2] == "sent"]),
        len([n for n in baseline.notifications if n[2] == "sent"]),
        0,
        0,
    )
    # At most the message in flight when a process died is sent twice, with the same Message-ID
    # (notifications/outbox.py, the in-flight policy).
    assert result.extra_copies <= max_extra_copies


@pytest.fixture
def workers_restored(cluster: Cluster) -> Iterator[None]:
    yield
    for number in range(1, cluster.workers + 1):
        name = f"worker-{number}"
        if cluster.processes[name].poll() is not None:
            cluster.start_worker(number)


def test_sigkill_a_worker_during_publish_agendas(
    cluster: Cluster, baseline: Baseline, workers_restored: None
) -> None:
    killed: list[str] = []
    cluster.reset_application()
    run = run_lifecycle(
        cluster,
        slug="mp-kill-worker",
        participants=PARTICIPANTS,
        during_publish=lambda: killed.append(
            kill_worker_running(cluster, "publish-agendas", "mp-kill-worker")
        ),
        timeout=1800,
    )
    assert killed and killed[0].startswith("worker-")
    assert_same_outcome(cluster, run.slug, baseline.outcome, max_extra_copies=1)
    runs = flow_runs(cluster, run.slug)
    # The killed run was found dead by its missing heartbeats and marked Crashed; nothing ran twice.
    assert runs[("publish-agendas", "CRASHED")] == 1
    assert sum(n for (name, _), n in runs.items() if name == "publish-agendas") == 1


def test_restart_the_prefect_server_mid_lifecycle(cluster: Cluster, baseline: Baseline) -> None:
    cluster.reset_application()
    run = run_lifecycle(
        cluster,
        slug="mp-restart-server",
        participants=PARTICIPANTS,
        before_close_requests=lambda: restart_server(cluster),
    )
    assert_same_outcome(cluster, run.slug, baseline.outcome)
    assert all(state == "COMPLETED" for (_, state) in flow_runs(cluster, run.slug))


def test_cut_postgresql_connections_during_publish_agendas(cluster: Cluster, baseline: Baseline) -> None:
    cut: list[int] = []

    def fault() -> None:
        cluster.wait(
            lambda: agendas_sent(cluster, "mp-cut-db") > 0, "the first agendas", timeout=900, every=0.2
        )
        cut.append(cut_database_connections(cluster, seconds=5))

    cluster.reset_application()
    run = run_lifecycle(cluster, slug="mp-cut-db", participants=PARTICIPANTS, during_publish=fault)
    assert cut[0] > 0
    assert_same_outcome(cluster, run.slug, baseline.outcome, max_extra_copies=1)


class RefusingForAMinute(SinkHandler):
    """Answers every RCPT with 421 from the first one until 60 s later, then stores as usual."""

    refusals = 0
    first_refusal: float | None = None

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        cls = type(self)
        now = time.monotonic()
        if cls.first_refusal is None:
            cls.first_refusal = now
        if now - cls.first_refusal < 60:
            cls.refusals += 1
            return "421 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_smtp_refuses_for_a_minute(cluster: Cluster, baseline: Baseline) -> None:
    # The sink process gives way to an in-process sink on the same port and mailbox that refuses.
    cluster.reset_application()
    cluster.stop_process("mail-sink")
    refusing = MailSink(cluster.mail_dir, port=cluster.smtp_port, handler_class=RefusingForAMinute)
    refusing.start()
    try:
        run = run_lifecycle(cluster, slug="mp-smtp-refuses", participants=PARTICIPANTS)
    finally:
        refusing.stop()
        cluster.start_mail_sink()
    assert RefusingForAMinute.refusals > 0
    assert_same_outcome(cluster, run.slug, baseline.outcome)
