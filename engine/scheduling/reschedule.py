"""Rescheduling with minimal disruption.

Problem: a published schedule meets reality: cancellations, a participant leaving early (new
unavailable slots), late registrations (new participants and meetings), newly accepted requests
(new meetings), a table out of service. Produce a new schedule that moves as few existing meetings
as possible, never moves a locked meeting (checked in, or held by the organizer), and says exactly
whose agenda changed and how.

Algorithm:
1. Apply the changes to the instance (drop cancelled meetings, add unavailability, participants
   and meetings).
2. Re-place every old assignment that is still valid in the new instance at its old slot *and*
   table, locked ones first. An old assignment is invalid when a participant is now unavailable,
   its table is out of service in that slot, or it collides with a locked meeting.
3. Place the *displaced* meetings (invalid old assignments) and the new meetings, in priority
   order: first without touching anything else; then with ejection chains (depth 2) that may move
   unlocked existing meetings, each move re-checked against every hard constraint.
Meetings that were unscheduled before stay unscheduled (refilling freed capacity is the waiting
list's job, so that organizers decide who gets a freed slot); their reasons are recomputed.

Guarantees: locked meetings keep their slot and table (a change that makes a locked meeting
impossible raises `RescheduleConflict` rather than silently breaking the lock); with no changes the
schedule is returned unchanged; every existing meeting that moves, moves only to make room for a
displaced or new meeting. "Fewest moves" is heuristic (ejection chains are short), not proven.

Cost: O(meetings) to re-place, plus the ejection-chain budget per meeting to place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import StrEnum

from engine.scheduling.core import State, compile_instance
from engine.scheduling.heuristics import best_slot, enforce_spread, repair
from engine.scheduling.io import instance_to_json, parse_instance
from engine.scheduling.model import Instance, MeetingSpec, Participant, ScheduleResult, ScheduleStatus
from engine.scheduling.solver import build_result

_CHAIN_DEPTH = 2
_CHAIN_BUDGET = 200


class RescheduleConflict(ValueError):
    """The changes contradict a locked meeting; the message names it."""


class ChangeKind(StrEnum):
    # A new meeting that got a slot.
    ADDED = "added"
    # An existing meeting whose slot or table changed.
    MOVED = "moved"
    # An existing meeting removed by a cancellation.
    CANCELLED = "cancelled"
    # An existing meeting that lost its place and could not be placed again.
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class TableOutage:
    table: str
    slots: frozenset[str]


@dataclass(frozen=True, slots=True)
class Changes:
    cancelled: frozenset[str] = frozenset()
    # Participant id -> slots it can no longer attend (e.g. leaving early).
    unavailable: tuple[tuple[str, frozenset[str]], ...] = ()
    new_participants: tuple[Participant, ...] = ()
    new_meetings: tuple[MeetingSpec, ...] = ()
    tables_out: tuple[TableOutage, ...] = ()
    # Meetings to lock now, in addition to assignments already marked `is_locked`.
    locked: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MeetingChange:
    meeting: str
    kind: ChangeKind
    # (slot, table) before and after; None when there is none.
    before: tuple[str, str] | None
    after: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class Reschedule:
    instance: Instance
    result: ScheduleResult
    changes: tuple[MeetingChange, ...]
    # Participants whose agenda changed, in instance order.
    affected: tuple[str, ...]


def apply_changes(instance: Instance, changes: Changes) -> Instance:
    """The instance after the changes (cancelled meetings and references to them removed)."""
    known_meetings = {m.id for m in instance.meetings}
    known_participants = {p.id for p in instance.participants} | {p.id for p in changes.new_participants}
    slot_ids = {s.id for s in instance.slots}
    for mid in changes.cancelled:
        if mid not in known_meetings:
            raise ValueError(f"cancelled: unknown meeting {mid!r}")
    extra: dict[str, frozenset[str]] = {}
    for pid, slots in changes.unavailable:
        if pid not in known_participants:
            raise ValueError(f"unavailable: unknown participant {pid!r}")
        if not slots <= slot_ids:
            raise ValueError(f"unavailable[{pid}]: unknown slots {sorted(slots - slot_ids)}")
        extra[pid] = extra.get(pid, frozenset()) | slots
    for outage in changes.tables_out:
        if outage.table not in instance.tables:
            raise ValueError(f"tables_out: unknown table {outage.table!r}")
    participants = tuple(
        replace(p, unavailable=p.unavailable | extra[p.id]) if p.id in extra else p
        for p in (*instance.participants, *changes.new_participants)
    )
    meetings = tuple(
        replace(m, after=tuple(x for x in m.after if x not in changes.cancelled))
        for m in (*instance.meetings, *changes.new_meetings)
        if m.id not in changes.cancelled
    )
    ids = [m.id for m in meetings]
    if len(ids) != len(set(ids)):
        raise ValueError("new_meetings: a meeting id is already in use")
    for m in changes.new_meetings:
        for pid in m.participants:
            if pid not in known_participants:
                raise ValueError(f"new_meetings[{m.id}]: unknown participant {pid!r}")
    changed = replace(instance, participants=participants, meetings=meetings)
    # The changed instance must pass the same validation as a file (duplicate ids, unknown slots
    # or participants in new meetings, ...); FormatError names the offending field.
    return parse_instance(instance_to_json(changed))


def reschedule(instance: Instance, previous: ScheduleResult, changes: Changes) -> Reschedule:
    """Apply `changes` to a schedule of `instance`, disturbing it as little as possible."""
    started = time.perf_counter()
    new_instance = apply_changes(instance, changes)
    c = compile_instance(new_instance)
    state = State(c)
    for outage in changes.tables_out:
        mask = 0
        for sid in outage.slots:
            mask |= 1 << c.slot_index[sid]
        state.block_table(c.table_index[outage.table], mask)
    locked = {a.meeting for a in previous.assignments if a.is_locked} | set(changes.locked)
    before = {a.meeting: (a.slot, a.table) for a in previous.assignments}
    frozen: set[int] = set()
    displaced: list[int] = []
    ordered = sorted(previous.assignments, key=lambda a: a.meeting not in locked)
    for a in ordered:
        if a.meeting in changes.cancelled:
            continue
        if a.meeting not in c.meeting_index or a.slot not in c.slot_index or a.table not in c.table_index:
            raise ValueError(f"previous result: assignment {a} refers to an unknown id")
        m = c.meeting_index[a.meeting]
        s, t = c.slot_index[a.slot], c.table_index[a.table]
        fits = (state.candidates(m) >> s) & 1 and not (state.table_busy[t] >> s) & 1
        fits = fits and (t in c.table_opts[m] if c.table_opts[m] else t in c.pool)
        if fits:
            state.place(m, s, t)
            if a.meeting in locked:
                frozen.add(m)
        elif a.meeting in locked:
            raise RescheduleConflict(
                f"locked meeting {a.meeting} can no longer stay in slot {a.slot} at table {a.table}"
            )
        else:
            displaced.append(m)
    new_ids = {m.id for m in changes.new_meetings}
    todo = displaced + [c.meeting_index[mid] for mid in sorted(new_ids, key=c.meeting_index.__getitem__)]
    todo.sort(key=lambda m: -c.priority[m])
    for m in todo:
        s = best_slot(state, m, state.candidates(m))
        if s >= 0:
            state.place(m, s)
    repair(state, todo, depth=_CHAIN_DEPTH, budget_per_meeting=_CHAIN_BUDGET, frozen=frozenset(frozen))
    # Removing meetings can open gaps beyond `max_break_spread`; close or drop them, never a lock.
    if not enforce_spread(state, frozen):
        raise RescheduleConflict("the locked meetings alone break max_break_spread")
    result = build_result(
        state,
        seconds=time.perf_counter() - started,
        status=ScheduleStatus.FEASIBLE,
        locked=frozenset(locked),
    )
    after = {a.meeting: (a.slot, a.table) for a in result.assignments}
    report: list[MeetingChange] = []
    for spec in instance.meetings:
        old = before.get(spec.id)
        if spec.id in changes.cancelled:
            if old is not None:
                report.append(MeetingChange(spec.id, ChangeKind.CANCELLED, old, None))
            continue
        new = after.get(spec.id)
        if old is not None and new is None:
            report.append(MeetingChange(spec.id, ChangeKind.DROPPED, old, None))
        elif old is not None and new != old:
            report.append(MeetingChange(spec.id, ChangeKind.MOVED, old, new))
    for spec in changes.new_meetings:
        if spec.id in after:
            report.append(MeetingChange(spec.id, ChangeKind.ADDED, None, after[spec.id]))
    pairs = {m.id: m.participants for m in (*instance.meetings, *new_instance.meetings)}
    touched = {pid for change in report for pid in pairs[change.meeting]}
    affected = tuple(p.id for p in new_instance.participants if p.id in touched)
    return Reschedule(new_instance, result, tuple(report), affected)
