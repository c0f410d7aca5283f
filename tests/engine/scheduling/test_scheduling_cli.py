"""`rueda schedule` and `rueda bench schedule` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.main import bench_app
from cli.schedule import schedule_command
from engine.scheduling.io import load_instance, parse_result
from tests.engine.scheduling.checker import check

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "example-instance.json"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("schedule")(schedule_command)
    app.add_typer(bench_app, name="bench")
    return app


@pytest.mark.unit
def test_schedule_command_writes_a_feasible_result(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    outcome = CliRunner().invoke(
        _app(), ["schedule", str(EXAMPLE), "--out", str(out), "--time-limit", "1", "--seed", "3"]
    )
    assert outcome.exit_code == 0, outcome.output
    result = parse_result(json.loads(out.read_text(encoding="utf-8")))
    assert check(load_instance(EXAMPLE), result) == []
    assert outcome.output.startswith(
        "Scheduled 6 of 6 meetings (bound 6), 1 breaks (bound 1, worst 1), optimal,"
    )


@pytest.mark.unit
def test_schedule_command_invalid_instance_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    bad["meetings"][3]["participants"] = ["B2", "S3", "S1"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    outcome = CliRunner().invoke(_app(), ["schedule", str(path), "--out", str(tmp_path / "r.json")])
    assert outcome.exit_code == 2
    assert outcome.output == f"{path}: meetings[3].participants: expected exactly two ids, got 3\n"
    assert not (tmp_path / "r.json").exists()


@pytest.mark.unit
def test_bench_schedule_research_prints_both_solvers(tmp_path: Path) -> None:
    markdown = tmp_path / "bench.md"
    outcome = CliRunner().invoke(
        _app(),
        ["bench", "schedule", "--size", "research", "--time-limit", "0.2", "--markdown", str(markdown)],
        terminal_width=250,
    )
    assert outcome.exit_code == 0, outcome.output
    lines = markdown.read_text(encoding="utf-8").splitlines()
    assert [line.split(" | ")[2] for line in lines[2:]] == ["first-fit", "rueda"] * 6
    assert "first-fit" in outcome.output
