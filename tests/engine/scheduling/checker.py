"""An independent feasibility checker for `rueda.schedule/1` results.

Written from SCHEDULE_FORMAT.md and docs/algorithms/scheduling.md only: it reads the public engine
types and recomputes everything with plain dictionaries, sharing no code with the solver (no
bitsets, no compiled index), so a bug in the solver's bookkeeping cannot hide itself here.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from engine.scheduling.model import Instance, ScheduleResult, ScheduleStatus


def agenda_breaks(instance: Instance, result: ScheduleResult) -> dict[str, int]:
    """Breaks per participant: idle runs strictly between its first and last meeting of a day."""
    position = {s.id: i for i, s in enumerate(instance.slots)}
    day = {s.id: s.day for s in instance.slots}
    meeting = {m.id: m for m in instance.meetings}
    used: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for a in result.assignments:
        for pid in meeting[a.meeting].participants:
            used[pid][day[a.slot]].append(position[a.slot])
    breaks = {p.id: 0 for p in instance.participants}
    for pid, days in used.items():
        for indices in days.values():
            indices.sort()
            breaks[pid] += sum(1 for x, y in pairwise(indices) if y - x > 1)
    return breaks


def check(instance: Instance, result: ScheduleResult) -> list[str]:
    """Every violated rule, as readable lines; an empty list means the result is feasible."""
    problems: list[str] = []
    slots = {s.id: s for s in instance.slots}
    position = {s.id: i for i, s in enumerate(instance.slots)}
    participants = {p.id: p for p in instance.participants}
    meetings = {m.id: m for m in instance.meetings}
    hosted = {p.table for p in instance.participants if p.table is not None}
    seen: dict[str, str] = {}
    for a in result.assignments:
        if a.meeting not in meetings:
            problems.append(f"unknown meeting {a.meeting}")
            continue
        if a.meeting in seen:
            problems.append(f"{a.meeting} assigned twice")
        seen[a.meeting] = a.slot
        if a.slot not in slots:
            problems.append(f"{a.meeting}: unknown slot {a.slot}")
            continue
        if a.table not in instance.tables:
            problems.append(f"{a.meeting}: unknown table {a.table}")
    for u in result.unscheduled:
        if u.meeting in seen:
            problems.append(f"{u.meeting} is both assigned and unscheduled")
        if u.meeting not in meetings:
            problems.append(f"unknown unscheduled meeting {u.meeting}")
    listed = {a.meeting for a in result.assignments} | {u.meeting for u in result.unscheduled}
    if len(result.unscheduled) != len({u.meeting for u in result.unscheduled}):
        problems.append("a meeting is listed twice in unscheduled")
    for m in instance.meetings:
        if m.id not in listed:
            problems.append(f"{m.id} is neither assigned nor unscheduled")
    if problems:
        return problems
    by_participant_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_table_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
    count: dict[str, int] = defaultdict(int)
    for a in result.assignments:
        m = meetings[a.meeting]
        slot = slots[a.slot]
        by_table_slot[(a.table, a.slot)].append(m.id)
        host_tables = {participants[pid].table for pid in m.participants} - {None}
        if host_tables and a.table not in host_tables:
            problems.append(f"{m.id}: table {a.table} is not a host table of its participants")
        if not host_tables and a.table in hosted:
            problems.append(f"{m.id}: table {a.table} belongs to a host, not to the pool")
        for pid in m.participants:
            by_participant_slot[(pid, a.slot)].append(m.id)
            count[pid] += 1
            if a.slot in participants[pid].unavailable:
                problems.append(f"{m.id}: {pid} is unavailable in {a.slot}")
        if m.sessions is not None and slot.session not in m.sessions:
            problems.append(f"{m.id}: slot {a.slot} is outside sessions {m.sessions}")
        if m.fixed_slot is not None and a.slot != m.fixed_slot:
            problems.append(f"{m.id}: fixed to {m.fixed_slot} but placed in {a.slot}")
        for pred in m.after:
            if pred in seen and position[seen[pred]] >= position[a.slot]:
                problems.append(f"{m.id} in {a.slot} is not after {pred} in {seen[pred]}")
    for (pid, sid), ids in by_participant_slot.items():
        if len(ids) > 1:
            problems.append(f"{pid} double-booked in {sid}: {sorted(ids)}")
    for (tid, sid), ids in by_table_slot.items():
        if len(ids) > 1:
            problems.append(f"table {tid} used twice in {sid}: {sorted(ids)}")
    for pid, n in count.items():
        cap = participants[pid].max_meetings
        if cap is not None and n > cap:
            problems.append(f"{pid} has {n} meetings, more than max_meetings {cap}")
    breaks = agenda_breaks(instance, result)
    spread = instance.constraints.max_break_spread
    if spread is not None and breaks and max(breaks.values()) - min(breaks.values()) > spread:
        problems.append(f"break spread {max(breaks.values()) - min(breaks.values())} exceeds {spread}")
    if (
        instance.constraints.schedule_all
        and result.unscheduled
        and result.status
        not in (
            ScheduleStatus.SCHEDULE_ALL_IMPOSSIBLE,
            ScheduleStatus.SCHEDULE_ALL_UNMET,
        )
    ):
        problems.append(f"schedule_all not met but status is {result.status}")
    stats = result.stats
    expected = {
        "placed": len(result.assignments),
        "unplaced": len(result.unscheduled),
        "placed_priority": sum(meetings[a.meeting].priority for a in result.assignments),
        "breaks": sum(breaks.values()),
        "max_breaks": max(breaks.values(), default=0),
    }
    for name, value in expected.items():
        if getattr(stats, name) != value:
            problems.append(f"stats.{name} is {getattr(stats, name)}, expected {value}")
    if stats.upper_bound_placed < stats.placed:
        problems.append("upper_bound_placed is below placed")
    if stats.upper_bound_priority < stats.placed_priority:
        problems.append("upper_bound_priority is below placed_priority")
    if stats.lower_bound_breaks > stats.breaks:
        problems.append("lower_bound_breaks is above breaks")
    return problems
