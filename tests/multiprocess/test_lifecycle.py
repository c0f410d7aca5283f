"""The lifecycle on the production topology as separate processes: a Prefect API
(`--no-services`) and `prefect server services start` on PostgreSQL and Redis, two process
workers running the deployments from the work pool, the mail sink and the reminder clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.multiprocess.conftest import PARTICIPANTS, Baseline
from tests.multiprocess.harness import PORTAL_SECRET_KEY, Cluster, Delivery, http_ok
from tests.multiprocess.load import PAGES

pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.timeout(1800),
]

LIFECYCLE = [
    "create-event",
    "import-participants",
    "close-registration",
    "compute-matches",
    "close-requests",
    "build-schedule",
    "publish-agendas",
]


def test_the_lifecycle_runs_on_two_workers(cluster: Cluster, baseline: Baseline) -> None:
    outcome = baseline.outcome
    assert (outcome.status, outcome.participants) == ("published", PARTICIPANTS)
    # Each step ran once, on a worker, and completed: the three triggered ones by their events.
    assert baseline.flow_runs == Counter({(name, "COMPLETED"): 1 for name in LIFECYCLE})
    # Every agenda reached the sink once, by Message-ID, and nothing else was sent for the event.
    people = baseline.people_with_meetings
    assert people > PARTICIPANTS * 0.8
    assert baseline.delivery == Delivery(
        sent=people, received=people, missing=0, unexpected=0, extra_copies=0
    )
    agendas = Counter(kind for kind, _, status in outcome.notifications if status == "sent")
    assert agendas == Counter({"agenda.published": people})
    # The workers took every one of them from the pool.
    submitted = {
        name: (cluster.log_dir / f"{name}.log").read_text().count("submitting flow run")
        for name in ("worker-1", "worker-2")
    }
    assert sum(submitted.values()) >= len(LIFECYCLE)
    # The portal, on the same application database, answers.
    assert http_ok(f"{cluster.portal_url}/signin")
    # No process of the topology logged an error.
    assert cluster.errors_in_logs() == {}


def test_production_check_passes_on_the_cluster(cluster: Cluster, tmp_path: Path) -> None:
    env = cluster.environment()
    env.update(RUEDA_PORTAL__SECRET_KEY="k" * 48, RUEDA_PORTAL__BASE_URL="https://rueda.example.org")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rueda"), "up", "--production-check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "PASS  database is PostgreSQL",
        "PASS  database reachable",
        "PASS  database at the code's migration head",
        "PASS  PREFECT_API_URL set",
        "PASS  Prefect API reachable",
        "PASS  Prefect server database is PostgreSQL",
        "PASS  Prefect messaging on Redis",
        "PASS  work pool 'rueda-process' exists",
        "PASS  Redis reachable",
        "PASS  SMTP host set",
        "PASS  SMTP server answers EHLO",
        "PASS  portal secret key",
        "PASS  portal base URL is https",
        "13 checks",
    ]
    assert lines[-1] == "13 checks: 13 passed, 0 failed, 0 skipped"
    assert (
        "PASS  Prefect messaging on Redis: broker, cache and lease storage are prefect_redis; docket on Redis"
        in lines
    )
    assert os.environ.get("PREFECT_API_URL") != cluster.api_url  # the test process was left alone


def test_signed_in_participants_browse_the_portal_from_a_second_process(
    cluster: Cluster, baseline: Baseline
) -> None:
    # The load generator of `make load`, small: every page of every signed-in user answers 200.
    users = 20
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.multiprocess.load",
            "--url",
            cluster.portal_url,
            "--database-url",
            cluster.app_url,
            "--secret-key",
            PORTAL_SECRET_KEY,
            "--event",
            baseline.run.slug,
            "--users",
            str(users),
            "--duration",
            "15",
            "--ramp",
            "2",
            "--think",
            "0.5,1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert (report["users"], report["errors"], report["error_rate"]) == (users, {}, 0.0)
    pages = report["pages"]
    assert sorted(pages) == sorted(PAGES)
    # Each user asks for the pages in turn, so every page was asked for at least once per user.
    assert min(page["requests"] for page in pages.values()) >= users
