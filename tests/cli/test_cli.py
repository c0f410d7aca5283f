"""The command line end to end, in process: help reads well, errors are one line, the demo data
round-trips through create and import."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

pytestmark = pytest.mark.integration

COMMANDS = [
    [],
    ["config"],
    ["config", "show"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["event"],
    ["event", "create"],
    ["event", "update"],
    ["event", "list"],
    ["event", "show"],
    ["import"],
    ["import", "participants"],
    ["export"],
    ["export", "participants"],
    ["export", "agendas"],
    ["demo-data"],
    ["demo"],
    ["up"],
    ["schedule"],
    ["bench"],
    ["bench", "schedule"],
    ["report"],
    ["mail"],
    ["mail", "ls"],
    ["mail", "show"],
    ["mail", "send"],
    ["mail-sink"],
    ["reminder-clock"],
    ["bench", "matching"],
    ["bench", "notifications"],
    ["portal"],
    ["user"],
    ["user", "add"],
    ["token"],
    ["token", "create"],
    ["token", "list"],
    ["token", "revoke"],
]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("RUEDA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rueda")
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: rueda {' '.join(command)}".strip() in result.output
    assert "Traceback" not in result.output


def test_commands_before_db_upgrade_say_what_to_run(runner: CliRunner) -> None:
    result = runner.invoke(app, ["event", "list"])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "error: the database has no schema; this version needs 0005: run `rueda db upgrade`"
    )


def test_missing_file_is_one_line(runner: CliRunner) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["event", "create", "--file", "nope.toml"])
    assert (result.exit_code, result.output.strip()) == (1, "error: nope.toml: no such file")
    result = runner.invoke(app, ["import", "participants", "p.xlsx", "--event", "ghost"])
    assert (result.exit_code, result.output.strip()) == (1, "error: p.xlsx: no such file")


def test_demo_data_create_import_export(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["demo-data", "--participants", "30", "--seed", "4", "--out", "demo", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    created = runner.invoke(app, ["event", "create", "--file", "demo/event.yaml"])
    assert created.exit_code == 0, created.output
    assert "event macrorrueda-demo created" in created.output
    assert "32 slots of 30 min, 11 tables, 0 participants" in created.output
    again = runner.invoke(app, ["event", "create", "--file", "demo/event.yaml"])
    assert (again.exit_code, again.output.strip()) == (
        1,
        "error: event 'macrorrueda-demo' already exists; use `rueda event update`",
    )
    imported = runner.invoke(
        app, ["import", "participants", "demo/participants.csv", "--event", "macrorrueda-demo"]
    )
    assert imported.exit_code == 0, imported.output
    assert "imported 30 participants into macrorrueda-demo: 30 new, 0 updated" in imported.output
    exported = runner.invoke(
        app, ["export", "participants", "--event", "macrorrueda-demo", "--out", "out/p.xlsx"]
    )
    assert (exported.exit_code, exported.output.strip()) == (0, "wrote 30 participants to out/p.xlsx")
    agendas = runner.invoke(app, ["export", "agendas", "--event", "macrorrueda-demo", "--out", "out/a.csv"])
    assert (agendas.exit_code, agendas.output.strip()) == (0, "wrote 0 agenda rows to out/a.csv")
    assert (tmp_path / "out" / "a.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "email,full_name,organization,day,slot,start,end,timezone,table,counterpart,counterpart_organization,"
        "counterpart_country,status"
    ]


def test_broken_rows_exit_non_zero_with_a_table(runner: CliRunner) -> None:
    runner.invoke(app, ["demo-data", "--participants", "20", "--out", "demo", "--with-errors"])
    runner.invoke(app, ["db", "upgrade"])
    runner.invoke(app, ["event", "create", "--file", "demo/event.yaml"])
    result = runner.invoke(
        app, ["import", "participants", "demo/participants.xlsx", "--event", "macrorrueda-demo"]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == "error: participants.xlsx: 8 problems found; nothing was imported"
    numbers = [int(m.group(1)) for line in lines if (m := re.match(r"^│\s+(\d+) │", line))]
    assert numbers == list(range(22, 30))
    assert "Traceback" not in result.output


def test_demo_data_csv_is_deterministic(runner: CliRunner, tmp_path: Path) -> None:
    for folder in ("one", "two"):
        result = runner.invoke(app, ["demo-data", "-n", "50", "-s", "7", "--out", folder, "--format", "csv"])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "one/participants.csv").read_bytes() == (
        tmp_path / "two/participants.csv"
    ).read_bytes()
    assert (tmp_path / "one/event.yaml").read_bytes() == (tmp_path / "two/event.yaml").read_bytes()


def test_bad_option_value_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["demo-data", "--format", "ods"])
    assert result.exit_code == 2
    assert "Invalid value for --format: use xlsx or csv" in result.output
