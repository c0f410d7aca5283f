"""Backup and restore of both databases of the topology, as docs/deployment.md says to do them:
`pg_dump -Fc` while everything runs, `pg_restore` into empty databases. The restored application
database builds the same outcome report (every table and the HTML, byte for byte, for the same
generation time); the restored Prefect database holds the same deployments, automations, work pool
and flow runs."""

from __future__ import annotations

import filecmp
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
import psycopg
import pytest
from sqlmodel import Session

from services.db import make_engine
from services.events import get_event_by_slug
from services.report import OutcomeReport, build_report
from services.report_render import write_report_files
from tests.conftest import PG_ADMIN_DSN
from tests.multiprocess.conftest import Baseline
from tests.multiprocess.harness import PG_URL, Cluster

pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.timeout(900),
]

GENERATED_AT = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def dump_and_restore(source: str, target: str, folder: Path) -> None:
    dump = folder / f"{source}.dump"
    connection = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    subprocess.run(["pg_dump", "-Fc", *connection, "-d", source, "-f", str(dump)], check=True, timeout=300)
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{target}"')
    subprocess.run(
        ["pg_restore", "--no-owner", *connection, "-d", target, str(dump)], check=True, timeout=300
    )


def report_files(url: str, slug: str, folder: Path) -> tuple[Path, OutcomeReport]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            event = get_event_by_slug(session, slug)
            assert event.id is not None
            report = build_report(session, event.id, now=GENERATED_AT)
    finally:
        engine.dispose()
    write_report_files(report, folder)
    return folder, report


def prefect_state(name: str, slug: str) -> dict[str, list[tuple[str, ...]]]:
    """What the Prefect database holds that does not change while the cluster idles: deployments,
    automations, work pools, and the event's flow runs with their states and task runs."""
    queries = {
        "deployments": "SELECT f.name, d.name, coalesce(p.name, '') FROM deployment d"
        " JOIN flow f ON f.id = d.flow_id LEFT JOIN work_queue q ON q.id = d.work_queue_id"
        " LEFT JOIN work_pool p ON p.id = q.work_pool_id ORDER BY 1, 2",
        "automations": "SELECT name FROM automation ORDER BY 1",
        "work_pools": "SELECT name, type FROM work_pool ORDER BY 1",
        "flow_runs": "SELECT r.name, r.state_type::text, count(t.id) FROM flow_run r"
        " LEFT JOIN task_run t ON t.flow_run_id = r.id WHERE r.name LIKE %(like)s GROUP BY 1, 2 ORDER BY 1, 2",
    }
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as connection:
        return {
            key: [tuple(str(v) for v in row) for row in connection.execute(query, {"like": f"% {slug}"})]
            for key, query in queries.items()
        }


def test_both_databases_restore_and_the_report_is_identical(
    cluster: Cluster, baseline: Baseline, tmp_path: Path
) -> None:
    run = baseline.run
    restored_app, restored_prefect = f"{cluster.app_db}_restored", f"{cluster.prefect_db}_restored"
    try:
        dump_and_restore(cluster.app_db, restored_app, tmp_path)
        dump_and_restore(cluster.prefect_db, restored_prefect, tmp_path)

        # Matplotlib names the SVG elements of the charts with random ids unless given a salt.
        with matplotlib.rc_context({"svg.hashsalt": "rueda"}):
            original, report = report_files(cluster.app_url, run.slug, tmp_path / "original")
            restored_url = PG_URL.format(driver="psycopg", name=restored_app)
            restored, restored_report = report_files(restored_url, run.slug, tmp_path / "restored")
        assert restored_report == report
        tables = sorted(p.name for p in (original / "csv").iterdir())
        assert tables and tables == sorted(p.name for p in (restored / "csv").iterdir())
        match, mismatch, errors = filecmp.cmpfiles(
            original, restored, ["report.html", *(f"csv/{name}" for name in tables)], shallow=False
        )
        assert (mismatch, errors) == ([], [])
        assert len(match) == len(tables) + 1

        state = prefect_state(restored_prefect, run.slug)
        assert state == prefect_state(cluster.prefect_db, run.slug)
        assert ("publish-agendas", "rueda", "rueda-process") in state["deployments"]
        assert ("rueda: crash flow runs whose heartbeats stopped",) in state["automations"]
        assert state["work_pools"] == [("rueda-process", "process")]
        assert len(state["flow_runs"]) == 7
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            for name in (restored_app, restored_prefect):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
