"""`rueda demo --exit`, the README's main job, end to end in a fresh data directory: a Prefect
server, the served deployments, and a 300-participant macrorrueda driven through the lifecycle."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(900)  # about 4 minutes on 2 quiet cores; the default 300 s is for unit tests
def test_demo_runs_the_lifecycle_and_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUEDA_", "PREFECT_"))}
    env.update(
        RUEDA_DATA_DIR=str(tmp_path / "data"),
        RUEDA_PREFECT__SERVER_PORT=str(_free_port()),
        RUEDA_SMTP__PORT=str(_free_port()),
        RUEDA_PORTAL__PORT=str(_free_port()),
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
    assert "portal:       http://127.0.0.1:" in result.stdout
    with sqlite3.connect(tmp_path / "data" / "rueda.db") as db:
        status = db.execute("SELECT status FROM event WHERE slug = 'macrorrueda-demo'").fetchone()
        participants = db.execute("SELECT count(*) FROM participant").fetchone()
        meetings = db.execute(
            "SELECT status, count(*) FROM meeting GROUP BY status ORDER BY status"
        ).fetchall()
        accepted = db.execute("SELECT count(*) FROM meeting_request WHERE status = 'accepted'").fetchone()
        waitlisted = db.execute("SELECT count(*) FROM waitlist_entry").fetchone()
        placed = db.execute("SELECT count(*) FROM waitlist_entry WHERE status = 'placed'").fetchone()
        surveyed = db.execute(
            "SELECT count(*) FROM (SELECT participant_a_id FROM meeting WHERE status IN ('held', 'no_show')"
            " UNION SELECT participant_b_id FROM meeting WHERE status IN ('held', 'no_show'))"
        ).fetchone()
        invitations = db.execute(
            "SELECT wave, count(*), count(completed_at) FROM survey_invitation GROUP BY wave ORDER BY wave"
        ).fetchall()
        pending = db.execute(
            "SELECT count(*) FROM domain_event WHERE id NOT IN (SELECT domain_event_id FROM domain_event_emission)"
        ).fetchone()
    assert (status, participants, pending) == (("ended",), (300,), (0,))
    by_status = dict(meetings)
    # Two cancelled and two missed on the desk, the rest held or missed on the day; every accepted
    # request is a meeting or on the waiting list, and refills turned some of those into meetings.
    assert set(by_status) == {"cancelled", "held", "no_show"}
    assert by_status["cancelled"] == 2 and by_status["no_show"] >= 2
    assert sum(by_status.values()) == accepted[0] - waitlisted[0] + placed[0]
    assert accepted[0] > 300
    # Everyone with a held or missed meeting was invited; about 70% answered through the emailed link.
    waves = {wave: (invited, answered) for wave, invited, answered in invitations}
    assert set(waves) == {"post_event", "followup_3m"}
    post_invited, post_answered = waves["post_event"]
    followup_invited, followup_answered = waves["followup_3m"]
    assert post_invited == surveyed[0]
    assert 0.55 * post_invited < post_answered < 0.85 * post_invited
    # The follow-up goes to those with a held meeting; about half the post-event respondents answer.
    assert post_answered * 0.3 < followup_answered < post_answered * 0.7 and followup_invited <= post_invited
    with sqlite3.connect(tmp_path / "data" / "prefect" / "prefect.db") as prefect_db:
        runs = prefect_db.execute(
            "SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id"
            " WHERE r.state_type != 'SCHEDULED' AND f.name != 'reconcile-events' ORDER BY r.start_time"
        ).fetchall()
    assert all(state == "COMPLETED" for _, state in runs), runs
    lifecycle = [
        "create-event",
        "import-participants",
        "close-registration",
        "compute-matches",
        "close-requests",
        "build-schedule",
        "publish-agendas",
        "end-event",
        "send-surveys",
        "send-followups",
        "build-report",
    ]
    # The main line in order (each started by the demo or by the previous step's event), and the
    # desk's four changes, each followed by one refill run started by its event.
    assert [name for name, _ in runs if name in lifecycle] == lifecycle
    assert Counter(name for name, _ in runs if name not in lifecycle) == {
        "handle-cancellation": 2,
        "mark-no-show": 2,
        "refill-from-waitlist": 4,
    }
    # Every email sent arrived at the mail sink exactly once, counted by Message-ID.
    from notifications.sink import read_index

    received = read_index(tmp_path / "data" / "mail")
    with sqlite3.connect(tmp_path / "data" / "rueda.db") as db:
        sent = db.execute("SELECT message_id FROM notification WHERE status = 'sent'").fetchall()
        agendas = db.execute(
            "SELECT count(*) FROM notification WHERE kind = 'agenda.published' AND status = 'sent'"
        ).fetchone()
        surveys = db.execute(
            "SELECT count(*) FROM notification WHERE kind = 'survey.invited' AND status = 'sent'"
        ).fetchone()
        with_meetings = db.execute(
            "SELECT count(*) FROM (SELECT participant_a_id FROM meeting UNION SELECT participant_b_id FROM meeting)"
        ).fetchone()
    assert sorted(e.message_id for e in received) == sorted(m for (m,) in sent)
    assert len(sent) == len({e.message_id for e in received})
    assert agendas[0] <= with_meetings[0] and surveys[0] == post_invited
    report = tmp_path / "data" / "reports" / "macrorrueda-demo" / "report.html"
    assert "Expected business by horizon" in report.read_text(encoding="utf-8")
    # The server and the serve process wrote no error but one: the Prefect server on SQLite reports
    # "database is locked" under concurrent runs (PREFECT_NOTES.md; its periodic services retry on
    # their next loop). Any other error fails, e.g. the scheduler's with SQLAlchemy 2.1.
    for log in ("prefect-server.log", "serve.log"):
        text = (tmp_path / "data" / "logs" / log).read_text()
        errors = [entry for entry in _entries(text) if " | ERROR " in entry.splitlines()[0]]
        unexpected = [entry for entry in errors if "database is locked" not in entry]
        assert unexpected == [], unexpected[0][:3000]
    portal_log = (tmp_path / "data" / "logs" / "portal.log").read_text()
    assert "Traceback" not in portal_log and "ERROR" not in portal_log, portal_log[-3000:]


def _entries(log: str) -> list[str]:
    """A Prefect log split into entries: a timestamped line and the traceback lines under it."""
    return [e for e in re.split(r"\n(?=\d\d:\d\d:\d\d\.\d{3} \| )", log) if e.strip()]
