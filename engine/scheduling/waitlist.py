"""The waiting list: who can take a freed (slot, table)?

Problem: a meeting is cancelled or marked a no-show, and its slot at its table is free. Rank the
meetings still waiting (the result's `unscheduled` meetings: unplaced and waitlisted requests)
that could take exactly that cell, so that staff, or the refill flow, offer it to the best one.

A meeting can use the cell when all of these hold: both participants are available and free in
the slot; the slot is allowed by its sessions and fixed slot; neither participant is at
`max_meetings`; its `after` constraints hold against the placed meetings; the table suits it (the
host's table, either host's table for two hosts, or a pool table for two non-hosts); and the break
spread, if any, stays within its limit (the exact rule, over all participants).

Ranking: higher priority first; then fewer breaks added to the two agendas (a meeting that fills a
gap in both agendas comes before one that opens new gaps); then the order of the meetings in the
instance, which services fill in request order, so earlier requests win the remaining ties.

Cost: O(unscheduled meetings), each an O(1) bitset test after an O(assignments) state rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.scheduling.core import State, compile_instance
from engine.scheduling.model import Instance, ScheduleResult


@dataclass(frozen=True, slots=True)
class WaitlistEntry:
    meeting: str
    priority: int
    # Change in total breaks of the two participants if the meeting took the cell (-1 fills a gap).
    added_breaks: int


def rank_waitlist(
    instance: Instance, result: ScheduleResult, slot: str, table: str
) -> tuple[WaitlistEntry, ...]:
    """Unscheduled meetings of `result` that fit the free cell (slot, table), best first."""
    c = compile_instance(instance)
    if slot not in c.slot_index:
        raise ValueError(f"unknown slot {slot!r}")
    if table not in c.table_index:
        raise ValueError(f"unknown table {table!r}")
    s, t = c.slot_index[slot], c.table_index[table]
    state = State(c)
    for a in result.assignments:
        state.place(c.meeting_index[a.meeting], c.slot_index[a.slot], c.table_index[a.table])
    if (state.table_busy[t] >> s) & 1:
        raise ValueError(f"table {table} is not free in slot {slot}")
    entries: list[tuple[int, int, int, WaitlistEntry]] = []
    for u in result.unscheduled:
        m = c.meeting_index[u.meeting]
        opts = c.table_opts[m]
        if not (t in opts if opts else t in c.pool):
            continue
        if not (state.candidates(m) >> s) & 1:
            continue
        delta = state.added_breaks(m, s)
        if c.max_break_spread is not None:
            # The exact rule, not the solver's conservative one: schedules from the whole CP-SAT
            # model may legitimately have everyone above d breaks.
            state.place(m, s, t)
            spread = max(state.brk) - min(state.brk)
            state.remove(m)
            if spread > c.max_break_spread:
                continue
        entry = WaitlistEntry(u.meeting, c.priority[m], delta)
        entries.append((-c.priority[m], delta, m, entry))
    entries.sort(key=lambda item: item[:3])
    return tuple(item[3] for item in entries)
