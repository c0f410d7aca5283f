"""`rueda demo --exit`, the README's main job, end to end in a fresh data directory: a Prefect
server, the served deployments, and a 300-participant macrorrueda driven through the lifecycle."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_runs_the_lifecycle_and_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUEDA_", "PREFECT_"))}
    env.update(
        RUEDA_DATA_DIR=str(tmp_path / "data"),
        RUEDA_PREFECT__SERVER_PORT=str(_free_port()),
        RUEDA_SMTP__PORT=str(_free_port()),
        COLUMNS="120",
    )
    rueda = str(Path(sys.executable).parent / "rueda")
    result = subprocess.run(
        [rueda, "demo", "--exit"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "demo done: 300 participants" in result.stdout
    with sqlite3.connect(tmp_path / "data" / "rueda.db") as db:
        status = db.execute("SELECT status FROM event WHERE slug = 'macrorrueda-demo'").fetchone()
        participants = db.execute("SELECT count(*) FROM participant").fetchone()
        meetings = db.execute("SELECT count(*) FROM meeting WHERE status IN ('held', 'no_show')").fetchone()
        accepted = db.execute("SELECT count(*) FROM meeting_request WHERE status = 'accepted'").fetchone()
        waitlisted = db.execute("SELECT count(*) FROM waitlist_entry").fetchone()
        pending = db.execute(
            "SELECT count(*) FROM domain_event WHERE id NOT IN (SELECT domain_event_id FROM domain_event_emission)"
        ).fetchone()
    assert (status, participants, pending) == (("ended",), (300,), (0,))
    assert meetings[0] + waitlisted[0] == accepted[0] > 300
    with sqlite3.connect(tmp_path / "data" / "prefect" / "prefect.db") as prefect_db:
        runs = prefect_db.execute(
            "SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id"
            " WHERE r.state_type != 'SCHEDULED' AND f.name != 'reconcile-events' ORDER BY r.start_time"
        ).fetchall()
    assert runs == [
        ("create-event", "COMPLETED"),
        ("import-participants", "COMPLETED"),
        ("close-registration", "COMPLETED"),
        ("compute-matches", "COMPLETED"),
        ("close-requests", "COMPLETED"),
        ("build-schedule", "COMPLETED"),
        ("publish-agendas", "COMPLETED"),
        ("end-event", "COMPLETED"),
        ("build-report", "COMPLETED"),
    ]
    # Every agenda arrived at the mail sink exactly once, counted by Message-ID.
    from notifications.sink import read_index

    received = read_index(tmp_path / "data" / "mail")
    with sqlite3.connect(tmp_path / "data" / "rueda.db") as db:
        sent = db.execute(
            "SELECT message_id FROM notification WHERE kind = 'agenda.published' AND status = 'sent'"
        ).fetchall()
        with_meetings = db.execute(
            "SELECT count(*) FROM (SELECT participant_a_id FROM meeting UNION SELECT participant_b_id FROM meeting)"
        ).fetchone()
    assert sorted(e.message_id for e in received) == sorted(m for (m,) in sent)
    assert len(sent) == with_meetings[0] == len({e.message_id for e in received})
    report = tmp_path / "data" / "reports" / "macrorrueda-demo" / "report.html"
    assert "Expected business by horizon" in report.read_text(encoding="utf-8")
    # The server and the serve process wrote no error.
    for log in ("prefect-server.log", "serve.log"):
        text = (tmp_path / "data" / "logs" / log).read_text()
        assert " | ERROR " not in text, text[-3000:]
