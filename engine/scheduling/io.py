"""Read and write the public scheduling formats, validating every field.

Problem: instances come from files written by people and other programs. A bad instance must fail
with one message that names the JSON path of the first bad field
(`meetings[3].participants: expected exactly two ids, got 3`), never with a traceback from deep
inside the solver.

Invariants: `parse_instance` returns an `Instance` only if it satisfies every rule the JSON Schema
in `docs/schemas/schedule-instance-1.schema.json` states, plus the cross-references a schema cannot
express (unknown or duplicate ids, unknown sessions, slot order). Unknown fields are rejected so
that a typo (`priorty`) is not silently ignored. Writers emit the same shape the readers accept.

Cost: one pass over the document, O(size) with dictionary look-ups.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.scheduling.model import (
    INSTANCE_FORMAT,
    RESULT_FORMAT,
    Assignment,
    Constraints,
    Instance,
    MeetingSpec,
    Participant,
    ScheduleResult,
    ScheduleStatus,
    Slot,
    Stats,
    Unscheduled,
    UnscheduledReason,
)


class FormatError(ValueError):
    """A document does not follow its format. `path` is the JSON path of the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _object(value: object, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(path, f"expected an object, got {_type_name(value)}")
    for key in value:
        if key not in required and key not in optional:
            raise FormatError(f"{path}.{key}" if path else key, "unknown field")
    for key in sorted(required):
        if key not in value:
            raise FormatError(f"{path}.{key}" if path else key, "missing required field")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise FormatError(path, f"expected a list, got {_type_name(value)}")
    return value


def _id(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise FormatError(path, f"expected a non-empty string, got {_type_name(value)}")
    return value


def _optional_str(value: object, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FormatError(path, f"expected a string or null, got {_type_name(value)}")
    return value


# The largest priority: the solver's objective weighs priorities with 64-bit integers.
MAX_PRIORITY = 1_000_000
# Counts (caps, spreads) beyond this mean nothing for an event and would overflow the solver.
MAX_COUNT = 1_000_000


def _int(value: object, path: str, minimum: int, maximum: int | None = None) -> int:
    # bool is a subclass of int in Python; `true` is not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(path, f"expected an integer, got {_type_name(value)}")
    if value < minimum:
        raise FormatError(path, f"expected an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        shown = str(value) if value < 10**20 else f"an integer of {len(str(value))} digits"
        raise FormatError(path, f"expected an integer <= {maximum:,}, got {shown}")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise FormatError(path, f"expected true or false, got {_type_name(value)}")
    return value


def _datetime(value: object, path: str) -> str | None:
    text = _optional_str(value, path)
    if text is not None:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            shown = text if len(text) <= 60 else text[:60] + "..."
            raise FormatError(path, f"expected an ISO 8601 date-time, got {shown!r}") from None
    return text


def _format_tag(data: dict[str, Any], expected: str) -> None:
    if data["format"] != expected:
        raise FormatError("format", f"expected {expected!r}, got {data['format']!r}")


def _unique(ids: list[str], path: str, what: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, item in enumerate(ids):
        if item in index:
            raise FormatError(f"{path}[{i}]", f"duplicate {what} id {item!r} (first at index {index[item]})")
        index[item] = i
    return index


def _parse_slots(raw: object) -> tuple[Slot, ...]:
    slots: list[Slot] = []
    # The first slot time seen: every other must agree on having a UTC offset or not, since
    # naive and aware times cannot be compared (which comes first?).
    first_time: tuple[str, bool] | None = None
    for i, item in enumerate(_list(raw, "slots")):
        path = f"slots[{i}]"
        obj = _object(item, path, {"id", "day"}, {"session", "start", "end"})
        slot = Slot(
            id=_id(obj["id"], f"{path}.id"),
            day=_id(obj["day"], f"{path}.day"),
            session=_optional_str(obj.get("session"), f"{path}.session"),
            start=_datetime(obj.get("start"), f"{path}.start"),
            end=_datetime(obj.get("end"), f"{path}.end"),
        )
        for field, text in (("start", slot.start), ("end", slot.end)):
            if text is None:
                continue
            aware = datetime.fromisoformat(text).tzinfo is not None
            if first_time is None:
                first_time = (f"{path}.{field}", aware)
            elif aware != first_time[1]:
                raise FormatError(
                    f"{path}.{field}",
                    f"{text} {'has' if aware else 'has no'} UTC offset but {first_time[0]} "
                    f"{'has' if first_time[1] else 'has no'} UTC offset: use one kind for every slot time",
                )
        if (
            slot.start is not None
            and slot.end is not None
            and datetime.fromisoformat(slot.end) <= datetime.fromisoformat(slot.start)
        ):
            raise FormatError(f"{path}.end", f"{slot.end} is not after start {slot.start}")
        if slots and slots[-1].start is not None and slot.start is not None:
            previous = datetime.fromisoformat(slots[-1].start)
            current = datetime.fromisoformat(slot.start)
            if current < previous:
                raise FormatError(f"{path}.start", "slots must be listed in time order")
        slots.append(slot)
    _unique([s.id for s in slots], "slots", "slot")
    return tuple(slots)


def _parse_tables(raw: object) -> tuple[str, ...]:
    tables = tuple(_id(t, f"tables[{i}]") for i, t in enumerate(_list(raw, "tables")))
    _unique(list(tables), "tables", "table")
    return tables


def _parse_participants(raw: object, slot_ids: set[str], table_ids: set[str]) -> tuple[Participant, ...]:
    participants: list[Participant] = []
    for i, item in enumerate(_list(raw, "participants")):
        path = f"participants[{i}]"
        obj = _object(item, path, {"id"}, {"unavailable", "table", "max_meetings"})
        unavailable: list[str] = []
        for j, slot in enumerate(_list(obj.get("unavailable", []), f"{path}.unavailable")):
            slot_id = _id(slot, f"{path}.unavailable[{j}]")
            if slot_id not in slot_ids:
                raise FormatError(f"{path}.unavailable[{j}]", f"unknown slot {slot_id!r}")
            unavailable.append(slot_id)
        table = _optional_str(obj.get("table"), f"{path}.table")
        if table is not None and table not in table_ids:
            raise FormatError(f"{path}.table", f"unknown table {table!r}")
        cap = obj.get("max_meetings")
        participants.append(
            Participant(
                id=_id(obj["id"], f"{path}.id"),
                unavailable=frozenset(unavailable),
                table=table,
                max_meetings=None if cap is None else _int(cap, f"{path}.max_meetings", 0, MAX_COUNT),
            )
        )
    _unique([p.id for p in participants], "participants", "participant")
    return tuple(participants)


def _parse_meetings(
    raw: object, participant_ids: set[str], slot_ids: set[str], sessions: set[str]
) -> tuple[MeetingSpec, ...]:
    items = _list(raw, "meetings")
    meeting_ids = _unique(
        [
            _id(_object(m, f"meetings[{i}]", {"id"}, set(_MEETING_FIELDS))["id"], f"meetings[{i}].id")
            for i, m in enumerate(items)
        ],
        "meetings",
        "meeting",
    )
    meetings: list[MeetingSpec] = []
    for i, obj in enumerate(items):
        path = f"meetings[{i}]"
        _object(obj, path, {"id", "participants"}, set(_MEETING_FIELDS))
        pair = _list(obj["participants"], f"{path}.participants")
        if len(pair) != 2:
            raise FormatError(f"{path}.participants", f"expected exactly two ids, got {len(pair)}")
        first = _id(pair[0], f"{path}.participants[0]")
        second = _id(pair[1], f"{path}.participants[1]")
        for j, pid in enumerate((first, second)):
            if pid not in participant_ids:
                raise FormatError(f"{path}.participants[{j}]", f"unknown participant {pid!r}")
        if first == second:
            raise FormatError(f"{path}.participants", f"a participant cannot meet itself ({first!r})")
        meeting_sessions: tuple[str, ...] | None = None
        if obj.get("sessions") is not None:
            names = []
            for j, name in enumerate(_list(obj["sessions"], f"{path}.sessions")):
                session = _id(name, f"{path}.sessions[{j}]")
                if session not in sessions:
                    raise FormatError(f"{path}.sessions[{j}]", f"no slot has session {session!r}")
                names.append(session)
            meeting_sessions = tuple(names)
        fixed = _optional_str(obj.get("fixed_slot"), f"{path}.fixed_slot")
        if fixed is not None and fixed not in slot_ids:
            raise FormatError(f"{path}.fixed_slot", f"unknown slot {fixed!r}")
        after: list[str] = []
        for j, ref in enumerate(
            _list(obj.get("after") if obj.get("after") is not None else [], f"{path}.after")
        ):
            other = _id(ref, f"{path}.after[{j}]")
            if other not in meeting_ids:
                raise FormatError(f"{path}.after[{j}]", f"unknown meeting {other!r}")
            if other == obj["id"]:
                raise FormatError(f"{path}.after[{j}]", "a meeting cannot come after itself")
            after.append(other)
        priority = obj.get("priority", 1)
        meetings.append(
            MeetingSpec(
                id=obj["id"],
                participants=(first, second),
                priority=_int(priority, f"{path}.priority", 1, MAX_PRIORITY),
                sessions=meeting_sessions,
                fixed_slot=fixed,
                after=tuple(after),
            )
        )
    return tuple(meetings)


_MEETING_FIELDS = ("id", "participants", "priority", "sessions", "fixed_slot", "after")


def parse_instance(data: object) -> Instance:
    """Validate a decoded `rueda.schedule-instance/1` document and build the `Instance`."""
    obj = _object(
        data, "", {"format", "slots", "tables", "participants", "meetings"}, {"name", "constraints"}
    )
    _format_tag(obj, INSTANCE_FORMAT)
    name = obj.get("name", "")
    if not isinstance(name, str):
        raise FormatError("name", f"expected a string, got {_type_name(name)}")
    slots = _parse_slots(obj["slots"])
    tables = _parse_tables(obj["tables"])
    slot_ids = {s.id for s in slots}
    sessions = {s.session for s in slots if s.session is not None}
    participants = _parse_participants(obj["participants"], slot_ids, set(tables))
    meetings = _parse_meetings(obj["meetings"], {p.id for p in participants}, slot_ids, sessions)
    raw_constraints = _object(
        obj.get("constraints", {}), "constraints", set(), {"schedule_all", "max_break_spread"}
    )
    spread = raw_constraints.get("max_break_spread")
    constraints = Constraints(
        schedule_all=_bool(raw_constraints.get("schedule_all", False), "constraints.schedule_all"),
        max_break_spread=None
        if spread is None
        else _int(spread, "constraints.max_break_spread", 0, MAX_COUNT),
    )
    return Instance(slots, tables, participants, meetings, constraints, name)


def load_json(path: Path) -> object:
    """Read a JSON file; a syntax error, text that is not UTF-8 or nesting too deep to decode
    becomes a `FormatError` naming the place."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise FormatError(
            "$",
            f"not UTF-8 text (byte {error.start}, line {line}: 0x{raw[error.start]:02x}); "
            "save the file as UTF-8",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(
            "$", f"not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}"
        ) from None
    except RecursionError:
        raise FormatError(
            "$", "JSON nested too deeply to read (no instance needs more than 5 levels)"
        ) from None


def load_instance(path: Path) -> Instance:
    return parse_instance(load_json(path))


def instance_to_json(instance: Instance) -> dict[str, Any]:
    """The instance as a `rueda.schedule-instance/1` document; optional fields are omitted when unset."""
    slots: list[dict[str, Any]] = []
    for s in instance.slots:
        slot: dict[str, Any] = {"id": s.id, "day": s.day}
        for key, value in (("session", s.session), ("start", s.start), ("end", s.end)):
            if value is not None:
                slot[key] = value
        slots.append(slot)
    participants: list[dict[str, Any]] = []
    slot_order = {s.id: i for i, s in enumerate(instance.slots)}
    for p in instance.participants:
        item: dict[str, Any] = {"id": p.id}
        if p.unavailable:
            item["unavailable"] = sorted(p.unavailable, key=slot_order.__getitem__)
        if p.table is not None:
            item["table"] = p.table
        if p.max_meetings is not None:
            item["max_meetings"] = p.max_meetings
        participants.append(item)
    meetings: list[dict[str, Any]] = []
    for m in instance.meetings:
        meeting: dict[str, Any] = {"id": m.id, "participants": list(m.participants), "priority": m.priority}
        if m.sessions is not None:
            meeting["sessions"] = list(m.sessions)
        if m.fixed_slot is not None:
            meeting["fixed_slot"] = m.fixed_slot
        if m.after:
            meeting["after"] = list(m.after)
        meetings.append(meeting)
    return {
        "format": INSTANCE_FORMAT,
        "name": instance.name,
        "slots": slots,
        "tables": list(instance.tables),
        "participants": participants,
        "meetings": meetings,
        "constraints": {
            "schedule_all": instance.constraints.schedule_all,
            "max_break_spread": instance.constraints.max_break_spread,
        },
    }


def result_to_json(result: ScheduleResult) -> dict[str, Any]:
    """The result as a `rueda.schedule/1` document."""
    assignments: list[dict[str, Any]] = []
    for a in result.assignments:
        item: dict[str, Any] = {"meeting": a.meeting, "slot": a.slot, "table": a.table}
        if a.is_locked:
            item["locked"] = True
        assignments.append(item)
    s = result.stats
    return {
        "format": RESULT_FORMAT,
        "status": str(result.status),
        "assignments": assignments,
        "unscheduled": [{"meeting": u.meeting, "reason": str(u.reason)} for u in result.unscheduled],
        "stats": {
            "placed": s.placed,
            "unplaced": s.unplaced,
            "placed_priority": s.placed_priority,
            "breaks": s.breaks,
            "max_breaks": s.max_breaks,
            "upper_bound_placed": s.upper_bound_placed,
            "lower_bound_breaks": s.lower_bound_breaks,
            "seconds": s.seconds,
            "upper_bound_priority": s.upper_bound_priority,
        },
    }


_STATS_INT_FIELDS = (
    "placed",
    "unplaced",
    "placed_priority",
    "breaks",
    "max_breaks",
    "upper_bound_placed",
    "lower_bound_breaks",
)


def parse_result(data: object) -> ScheduleResult:
    """Validate a decoded `rueda.schedule/1` document (for rescheduling an existing schedule)."""
    obj = _object(data, "", {"format", "assignments", "unscheduled", "stats"}, {"status"})
    _format_tag(obj, RESULT_FORMAT)
    status_text = obj.get("status", str(ScheduleStatus.FEASIBLE))
    if status_text not in {str(s) for s in ScheduleStatus}:
        raise FormatError("status", f"unknown status {status_text!r}")
    assignments: list[Assignment] = []
    for i, item in enumerate(_list(obj["assignments"], "assignments")):
        path = f"assignments[{i}]"
        a = _object(item, path, {"meeting", "slot", "table"}, {"locked"})
        assignments.append(
            Assignment(
                meeting=_id(a["meeting"], f"{path}.meeting"),
                slot=_id(a["slot"], f"{path}.slot"),
                table=_id(a["table"], f"{path}.table"),
                is_locked=_bool(a.get("locked", False), f"{path}.locked"),
            )
        )
    unscheduled: list[Unscheduled] = []
    reasons = {str(r) for r in UnscheduledReason}
    for i, item in enumerate(_list(obj["unscheduled"], "unscheduled")):
        path = f"unscheduled[{i}]"
        u = _object(item, path, {"meeting", "reason"}, set())
        if u["reason"] not in reasons:
            raise FormatError(f"{path}.reason", f"unknown reason {u['reason']!r}")
        unscheduled.append(Unscheduled(_id(u["meeting"], f"{path}.meeting"), UnscheduledReason(u["reason"])))
    raw = _object(obj["stats"], "stats", {*_STATS_INT_FIELDS, "seconds"}, {"upper_bound_priority"})
    ints = {key: _int(raw[key], f"stats.{key}", 0) for key in _STATS_INT_FIELDS}
    seconds = raw["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise FormatError("stats.seconds", f"expected a number >= 0, got {_type_name(seconds)}")
    stats = Stats(
        **ints,
        seconds=float(seconds),
        upper_bound_priority=_int(raw.get("upper_bound_priority", 0), "stats.upper_bound_priority", 0),
    )
    return ScheduleResult(tuple(assignments), tuple(unscheduled), stats, ScheduleStatus(status_text))


def load_result(path: Path) -> ScheduleResult:
    return parse_result(load_json(path))


def write_json(document: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
