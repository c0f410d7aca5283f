"""`rueda schedule` against hostile files: valid instances from the engine's generator, mutated
(naive and aware times mixed, priorities like 10**30, Latin-1 bytes, JSON nested past the recursion
limit, truncated files, wrong types, unknown and missing fields) and sent to unusable `--out` paths
(a missing folder, a folder). Property: exit 0 with a valid result, or a non-zero exit with exactly
one line on stderr and no traceback; the `--out` file is never half-written (it is the old file or a
whole new one)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.schedule import schedule_command
from engine.scheduling.generator import GeneratorConfig, generate_instance
from engine.scheduling.io import instance_to_json, parse_result

pytestmark = pytest.mark.unit

OLD = '{"old": "a previous result, kept whole"}\n'
CONFIG = GeneratorConfig(
    name="hostile", hosts=3, movers=4, meetings=8, days=1, slots_per_day=4, pool_tables=1
)
BASE = instance_to_json(generate_instance(CONFIG, 1))


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("schedule")(schedule_command)
    app.command("unused")(lambda: None)  # two commands: `schedule` stays a subcommand
    return app


def _copy() -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(BASE))
    return copied


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def hostile_files(draw: st.DrawFn) -> bytes:
    """A generated valid instance, with zero or more mutations, as the bytes of a file."""
    doc = _copy()
    encoding = "utf-8"
    kinds = draw(
        st.lists(
            st.sampled_from(
                ["naive", "priority", "latin1", "deep", "value", "drop", "unknown", "int", "truncate"]
            ),
            max_size=3,
        )
    )
    # The mutations that can replace whole sections come last, so the others find their target.
    for kind in sorted(kinds, key=lambda k: k in ("value", "drop", "deep")):
        slot = draw(st.integers(min_value=0, max_value=len(BASE["slots"]) - 1))
        meeting = draw(st.integers(min_value=0, max_value=len(BASE["meetings"]) - 1))
        if kind == "naive":
            field = draw(st.sampled_from(["start", "end"]))
            doc["slots"][slot][field] = doc["slots"][slot][field][:19]
        elif kind == "priority":
            value = draw(
                st.sampled_from([10**30, 2**63, 2**31, 1_000_001, 1_000_000, 0, -1, True, 1.5, "2", None])
            )
            doc["meetings"][meeting]["priority"] = value
        elif kind == "latin1":
            doc["name"] = "Macrorrueda Café Ñandú"
            encoding = "latin-1"
        elif kind == "deep":
            depth = draw(st.sampled_from([10, 1_000, 100_000]))
            doc[draw(st.sampled_from(["name", "constraints", "tables"]))] = "DEEP"
            doc["__deep__"] = depth
        elif kind == "value":
            key = draw(
                st.sampled_from(["slots", "tables", "participants", "meetings", "name", "constraints"])
            )
            doc[key] = draw(json_values)
        elif kind == "drop":
            doc.pop(draw(st.sampled_from(sorted(k for k in doc if not k.startswith("__")))), None)
        elif kind == "unknown":
            doc[draw(st.sampled_from(["priorty", "slot", "x"]))] = 1
        elif kind == "int":
            value = draw(st.sampled_from([10**30, -(10**30), 2**64]))
            target = draw(st.sampled_from(["max_meetings", "max_break_spread"]))
            if target == "max_meetings":
                doc["participants"][0]["max_meetings"] = value
            else:
                doc["constraints"]["max_break_spread"] = value
        elif kind == "truncate":
            doc["__truncate__"] = draw(st.floats(min_value=0.0, max_value=0.99))
    depth = doc.pop("__deep__", None)
    cut = doc.pop("__truncate__", None)
    text = json.dumps(doc, ensure_ascii=False)
    if depth is not None:
        text = text.replace('"DEEP"', "[" * depth + "]" * depth)
    data = text.encode(encoding, errors="replace")
    if cut is not None:
        data = data[: int(len(data) * cut)]
    return data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hostile_files(), out_kind=st.sampled_from(["file", "existing", "missing-folder", "folder"]))
def test_hostile_instances_end_in_one_line_or_a_valid_result(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, out_kind: str
) -> None:
    folder = tmp_path_factory.mktemp("case")
    instance = folder / "instance.json"
    instance.write_bytes(data)
    out = {
        "file": folder / "result.json",
        "existing": folder / "result.json",
        "missing-folder": folder / "absent" / "result.json",
        "folder": folder,
    }[out_kind]
    if out_kind == "existing":
        out.write_text(OLD, encoding="utf-8")
    outcome = CliRunner().invoke(
        _app(), ["schedule", str(instance), "--out", str(out), "--time-limit", "0.5"], terminal_width=80
    )
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), repr(outcome.exception)
    assert "Traceback" not in outcome.stdout + outcome.stderr
    if outcome.exit_code == 0:
        assert outcome.stderr == ""
        parse_result(json.loads(out.read_text(encoding="utf-8")))
    else:
        lines = outcome.stderr.splitlines()
        assert len(lines) == 1, outcome.stderr
        assert lines[0].startswith((f"{instance}: ", f"{out}: ")), lines[0]
        if out_kind == "existing":
            assert out.read_text(encoding="utf-8") == OLD
        elif out_kind == "file":
            assert not out.exists()
    # No temporary file is left beside the result.
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def _run(tmp_path: Path, data: bytes, out: Path) -> subprocess.CompletedProcess[str]:
    instance = tmp_path / "instance.json"
    instance.write_bytes(data)
    rueda = str(Path(sys.executable).parent / "rueda")
    return subprocess.run(
        [rueda, "schedule", str(instance), "--out", str(out), "--time-limit", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "HOME": str(tmp_path)},
        cwd=tmp_path,
    )


def _doc(change: Any) -> bytes:
    doc = _copy()
    change(doc)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _mixed(doc: dict[str, Any]) -> None:
    doc["slots"][3]["start"] = doc["slots"][3]["start"][:19]


def _priority(doc: dict[str, Any]) -> None:
    doc["meetings"][2]["priority"] = 10**30


LATIN1 = json.dumps({**BASE, "name": "Macrorrueda Café"}, ensure_ascii=False).encode("latin-1")
DEEP = json.dumps(BASE).replace('"tables": [', '"tables": ' + "[" * 100_000 + "]" * 100_000 + ", [").encode()


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (
            _doc(_mixed),
            "instance.json: slots[3].start: 2026-05-20T10:30:00 has no UTC offset but slots[0].start has "
            "UTC offset: use one kind for every slot time",
        ),
        (
            _doc(_priority),
            "instance.json: meetings[2].priority: expected an integer <= 1,000,000, got an integer of 31 digits",
        ),
        (LATIN1, "instance.json: $: not UTF-8 text (byte "),
        (DEEP, "instance.json: $: JSON nested too deeply to read"),
    ],
    ids=["mixed-times", "priority-1e30", "latin-1", "deep-nesting"],
)
def test_the_named_hostile_files_through_the_real_cli(tmp_path: Path, data: bytes, line: str) -> None:
    out = tmp_path / "result.json"
    done = _run(tmp_path, data, out)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [only] = done.stderr.splitlines()
    assert only.startswith(str(tmp_path / line)), only
    assert not out.exists()


@pytest.mark.parametrize("where", ["missing-folder", "folder"])
def test_an_unusable_out_is_refused_before_solving(tmp_path: Path, where: str) -> None:
    out = tmp_path / "absent" / "result.json" if where == "missing-folder" else tmp_path
    done = _run(tmp_path, _doc(lambda d: None), out)
    assert done.returncode == 2
    assert done.stdout == ""  # nothing was solved
    expected = (
        f"{out}: folder {tmp_path / 'absent'} does not exist"
        if where == "missing-folder"
        else f"{out}: is a folder; give a file name, e.g. --out schedule.json"
    )
    assert done.stderr.splitlines() == [expected]
