"""The public formats: validation messages, round trips, and the JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.scheduling.generator import generate_instance, macro_config
from engine.scheduling.io import (
    FormatError,
    instance_to_json,
    load_instance,
    load_json,
    parse_instance,
    parse_result,
    result_to_json,
)
from engine.scheduling.solver import solve
from tests.engine.scheduling.checker import check

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def _example() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / "example-instance.json").read_text(encoding="utf-8"))
    return loaded


def _broken(path: list[str | int], value: object) -> dict[str, Any]:
    doc = _example()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.unit
@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _broken(["meetings", 3, "participants"], ["B2", "S3", "S1"]),
            "meetings[3].participants: expected exactly two ids, got 3",
        ),
        (
            _broken(["meetings", 0, "participants"], ["B1", "S9"]),
            "meetings[0].participants[1]: unknown participant 'S9'",
        ),
        (_broken(["meetings", 1, "id"], "M1"), "meetings[1]: duplicate meeting id 'M1' (first at index 0)"),
        (_broken(["meetings", 5, "fixed_slot"], "d9s01"), "meetings[5].fixed_slot: unknown slot 'd9s01'"),
        (_broken(["meetings", 4, "after"], ["M77"]), "meetings[4].after[0]: unknown meeting 'M77'"),
        (
            _broken(["meetings", 2, "sessions"], ["evening"]),
            "meetings[2].sessions[0]: no slot has session 'evening'",
        ),
        (_broken(["meetings", 0, "priority"], 0), "meetings[0].priority: expected an integer >= 1, got 0"),
        (
            _broken(["meetings", 0, "priority"], True),
            "meetings[0].priority: expected an integer, got a boolean",
        ),
        (_broken(["meetings", 0, "priorty"], 2), "meetings[0].priorty: unknown field"),
        (
            _broken(["participants", 1, "unavailable"], ["d1s01", "x"]),
            "participants[1].unavailable[1]: unknown slot 'x'",
        ),
        (_broken(["participants", 0, "table"], "T9"), "participants[0].table: unknown table 'T9'"),
        (
            _broken(["participants", 2, "max_meetings"], -1),
            "participants[2].max_meetings: expected an integer >= 0, got -1",
        ),
        (_broken(["tables", 1], "T1"), "tables[1]: duplicate table id 'T1' (first at index 0)"),
        (
            _broken(["slots", 1, "start"], "2026-05-20T08:00:00-05:00"),
            "slots[1].start: slots must be listed in time order",
        ),
        (
            _broken(["constraints", "schedule_all"], "yes"),
            "constraints.schedule_all: expected true or false, got a string",
        ),
        (
            _broken(["format"], "rueda.schedule-instance/2"),
            "format: expected 'rueda.schedule-instance/1', got 'rueda.schedule-instance/2'",
        ),
    ],
)
def test_parse_instance_names_the_bad_field(document: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError) as error:
        parse_instance(document)
    assert str(error.value) == message


@pytest.mark.unit
def test_load_json_reports_syntax_error_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": \n', encoding="utf-8")
    with pytest.raises(FormatError) as error:
        load_json(path)
    assert str(error.value) == "$: not valid JSON (line 2, column 1): Expecting value"


@pytest.mark.unit
def test_instance_round_trips_through_json() -> None:
    instance = generate_instance(macro_config(), seed=3)
    assert parse_instance(json.loads(json.dumps(instance_to_json(instance)))) == instance


@pytest.mark.unit
def test_example_files_match_schemas_and_loader() -> None:
    example = _example()
    jsonschema.validate(example, _schema("schedule-instance-1.schema.json"))
    schedule = json.loads((SCHEMAS / "example-schedule.json").read_text(encoding="utf-8"))
    jsonschema.validate(schedule, _schema("schedule-1.schema.json"))
    instance = load_instance(SCHEMAS / "example-instance.json")
    assert check(instance, parse_result(schedule)) == []


@pytest.mark.unit
def test_solver_output_matches_schema_and_round_trips() -> None:
    instance = parse_instance(_example())
    result = solve(instance, time_limit=1.0, seed=0)
    document = result_to_json(result)
    jsonschema.validate(document, _schema("schedule-1.schema.json"))
    assert parse_result(json.loads(json.dumps(document))) == result


@pytest.mark.unit
@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["meetings", 0, "participants"], ["B1"]),
        (["meetings", 0, "priority"], 0),
        (["meetings", 0, "priority"], True),
        (["meetings", 0, "priorty"], 2),
        (["participants", 2, "max_meetings"], -1),
        (["constraints", "schedule_all"], "yes"),
        (["constraints", "max_break_spread"], 1.5),
        (["slots", 0, "id"], ""),
        (["format"], "rueda.schedule-instance/2"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(path: list[str | int], value: object) -> None:
    bad = _broken(path, value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, _schema("schedule-instance-1.schema.json"))
    with pytest.raises(FormatError):
        parse_instance(bad)
