"""`rueda mail send/ls/show` and `rueda mail-sink`, through a throwaway Typer app (cli/main.py
registers the same objects)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlmodel import Session
from typer.testing import CliRunner

from cli import mail_cmd
from notifications.sink import MailSink
from services.db import make_engine
from tests.notifications.conftest import free_port
from tests.notifications.seed import queue_sample, seed_people

pytestmark = pytest.mark.integration

app = typer.Typer()
app.add_typer(mail_cmd.mail_app, name="mail")
app.command("mail-sink")(mail_cmd.mail_sink_command)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_template: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("RUEDA_"):
            monkeypatch.delenv(name)
    database = tmp_path / "rueda.db"
    shutil.copyfile(sqlite_template, database)
    monkeypatch.setenv("RUEDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RUEDA_DATABASE__URL", f"sqlite:///{database}")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def _queue_two(url: str) -> None:
    start = datetime.now(UTC)
    engine = make_engine(url)
    try:
        seeded = seed_people(engine, start, count=2)
        with Session(engine) as session:
            for index, kind in enumerate(("survey.invited", "agenda.published")):
                queue_sample(
                    session, seeded, kind=kind, index=index, due_at=start - timedelta(minutes=1), now=start
                )
            session.commit()
    finally:
        engine.dispose()


def test_mail_send_then_ls_and_show(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _queue_two(os.environ["RUEDA_DATABASE__URL"])
    port = free_port()
    monkeypatch.setenv("RUEDA_SMTP__PORT", str(port))
    down = runner.invoke(app, ["mail", "send"])
    assert down.exit_code == 75, down.output
    assert down.output.startswith(
        "mail: 0 sent, 0 to retry, 0 failed, 0 skipped as stale, 2 waiting for the server"
    )
    mail = tmp_path / "data" / "mail"
    with MailSink(mail, port=port) as sink:
        # Released rows wait out the connection backoff; a sender run in 30 s would send them.
        assert runner.invoke(app, ["mail", "send"]).output == (
            "mail: 0 sent, 0 to retry, 0 failed, 0 skipped as stale\n"
        )
        engine = make_engine(os.environ["RUEDA_DATABASE__URL"])
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE notification SET due_at = '2000-01-01 00:00:00.000000'")
        engine.dispose()
        sent = runner.invoke(app, ["mail", "send"])
        assert sent.exit_code == 0, sent.output
        assert sent.output == "mail: 2 sent, 0 to retry, 0 failed, 0 skipped as stale\n"
        first, second = sink.entries()
    listing = runner.invoke(app, ["mail", "ls"])
    assert listing.exit_code == 0, listing.output
    assert "¿Cómo le fue en Macrorrueda Pacífico 2027?" in listing.output
    assert "Su agenda de Macrorrueda Pacífico 2027: 3 reuniones" in listing.output
    assert listing.output.rstrip().endswith("2 messages, 2 distinct Message-IDs")
    shown = runner.invoke(app, ["mail", "show", "2"])
    assert shown.exit_code == 0, shown.output
    assert "Subject: Su agenda de Macrorrueda Pacífico 2027: 3 reuniones" in shown.output
    assert "Attachments: agenda.ics" in shown.output
    assert "* miércoles, 19 de mayo de 2027 8:00–8:30 · Mesa T12" in shown.output
    by_id = runner.invoke(app, ["mail", "show", first.message_id, "--html"])
    assert by_id.exit_code == 0, by_id.output
    assert '<html lang="es">' in by_id.output
    raw = runner.invoke(app, ["mail", "show", "1", "--raw"])
    assert f"Message-ID: {first.message_id}" in raw.output
    missing = runner.invoke(app, ["mail", "show", "9"])
    assert missing.exit_code == 1
    assert "no message '9' in the sink" in missing.output
    assert second.seq == 2


def test_mail_sink_refuses_a_busy_port(runner: CliRunner, tmp_path: Path) -> None:
    port = free_port()
    with MailSink(tmp_path / "other", port=port):
        result = runner.invoke(app, ["mail-sink", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
