"""The solver's working representation: integer indices and slot bitsets.

Problem: every phase (construction, repair, local search, CP-SAT neighbourhoods, rescheduling, the
waiting list) asks the same questions thousands of times: is this participant free in that slot,
which slots can this meeting still use, how many breaks does this agenda have. Asking them of the
string-keyed `Instance` would be far too slow at 50,000 meetings.

Representation: slots, participants, meetings and tables become indices; a set of slots is a Python
int used as a bitset (bit s = slot s). Python ints have no width limit, so any number of slots works,
and `int.bit_count()` counts in C.

Table rules (decided here, documented in docs/algorithms/scheduling.md):
- a host's meetings use the host's table; a meeting between two hosts uses either host's table;
- tables that no participant hosts at form the *pool*; a meeting between two non-hosts takes any free
  pool table. Within a slot all pool tables are interchangeable, so the solver reasons with "is a pool
  table free" and picks the concrete one with a per-slot stack (deterministic, O(1)).

Invariants of `State` (kept by `place`/`remove`, checked by the independent test checker):
- `busy[p]` has bit s iff p has a placed meeting in slot s; no participant has two meetings in a slot;
- `table_busy[t]` has bit s iff a meeting sits at table t in slot s, or the table is out of service
  then (`block_table`); at most one meeting per (table, slot);
- `count[p]` is the number of placed meetings of p and never exceeds `cap[p]`;
- `pool_free[s]` holds exactly the pool tables that are free in slot s.
Placement never checks the `after` constraints or the break spread: callers use `candidates`, which
does, so the invariants above hold for any sequence of `place`/`remove`, and precedence holds for
any sequence built from `candidates`.

Cost: `candidates` is O(1) bit operations plus O(predecessors); `breaks_of` is O(days).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.scheduling.model import Instance

_NO_TABLE = -1


@dataclass(slots=True)
class Compiled:
    """An `Instance` turned into indices and bitsets. Built once, never mutated."""

    instance: Instance
    slot_ids: list[str]
    participant_ids: list[str]
    meeting_ids: list[str]
    table_ids: list[str]
    meeting_index: dict[str, int]
    participant_index: dict[str, int]
    slot_index: dict[str, int]
    table_index: dict[str, int]
    day_of: list[int]
    day_masks: list[int]
    # Bit s is set iff slot s-1 exists and is on the same day: a run of meetings continues across it.
    continues: int
    full: int
    avail: list[int]
    cap: list[int]
    ends: list[tuple[int, int]]
    allowed: list[int]
    # Table options of a meeting; () means "any pool table".
    table_opts: list[tuple[int, ...]]
    pool: tuple[int, ...]
    priority: list[int]
    preds: list[tuple[int, ...]]
    succs: list[tuple[int, ...]]
    by_participant: list[list[int]]
    schedule_all: bool
    max_break_spread: int | None

    @property
    def n_slots(self) -> int:
        return len(self.slot_ids)

    @property
    def n_meetings(self) -> int:
        return len(self.meeting_ids)

    def breaks_of(self, mask: int) -> int:
        """Breaks of an agenda: runs of meetings minus days with a meeting."""
        starts = mask & ~((mask << 1) & self.continues)
        days = 0
        for day in self.day_masks:
            if mask & day:
                days += 1
        return starts.bit_count() - days


def compile_instance(instance: Instance) -> Compiled:
    slot_ids = [s.id for s in instance.slots]
    slot_index = {sid: i for i, sid in enumerate(slot_ids)}
    day_names: dict[str, int] = {}
    day_of: list[int] = []
    for s in instance.slots:
        day_of.append(day_names.setdefault(s.day, len(day_names)))
    day_masks = [0] * len(day_names)
    continues = 0
    for i, d in enumerate(day_of):
        day_masks[d] |= 1 << i
        if i > 0 and day_of[i - 1] == d:
            continues |= 1 << i
    full = (1 << len(slot_ids)) - 1
    table_ids = list(instance.tables)
    table_index = {t: i for i, t in enumerate(table_ids)}
    participant_ids = [p.id for p in instance.participants]
    participant_index = {pid: i for i, pid in enumerate(participant_ids)}
    avail: list[int] = []
    cap: list[int] = []
    host_table: list[int] = []
    for p in instance.participants:
        blocked = 0
        for sid in p.unavailable:
            blocked |= 1 << slot_index[sid]
        avail.append(full & ~blocked)
        # Without `max_meetings` a participant can still meet at most once per slot.
        cap.append(len(slot_ids) if p.max_meetings is None else min(p.max_meetings, len(slot_ids)))
        host_table.append(_NO_TABLE if p.table is None else table_index[p.table])
    hosted = {t for t in host_table if t != _NO_TABLE}
    pool = tuple(t for t in range(len(table_ids)) if t not in hosted)
    session_masks: dict[str, int] = {}
    for i, s in enumerate(instance.slots):
        if s.session is not None:
            session_masks[s.session] = session_masks.get(s.session, 0) | (1 << i)
    meeting_ids = [m.id for m in instance.meetings]
    meeting_index = {mid: i for i, mid in enumerate(meeting_ids)}
    ends: list[tuple[int, int]] = []
    allowed: list[int] = []
    table_opts: list[tuple[int, ...]] = []
    by_participant: list[list[int]] = [[] for _ in participant_ids]
    preds: list[tuple[int, ...]] = []
    succ_lists: list[list[int]] = [[] for _ in meeting_ids]
    for i, m in enumerate(instance.meetings):
        a, b = participant_index[m.participants[0]], participant_index[m.participants[1]]
        ends.append((a, b))
        by_participant[a].append(i)
        by_participant[b].append(i)
        mask = avail[a] & avail[b]
        if m.sessions is not None:
            session_mask = 0
            for name in m.sessions:
                session_mask |= session_masks.get(name, 0)
            mask &= session_mask
        if m.fixed_slot is not None:
            mask &= 1 << slot_index[m.fixed_slot]
        allowed.append(mask)
        opts = tuple(dict.fromkeys(t for t in (host_table[a], host_table[b]) if t != _NO_TABLE))
        table_opts.append(opts)
        pred = tuple(meeting_index[x] for x in m.after)
        preds.append(pred)
        for x in pred:
            succ_lists[x].append(i)
    return Compiled(
        instance=instance,
        slot_ids=slot_ids,
        participant_ids=participant_ids,
        meeting_ids=meeting_ids,
        table_ids=table_ids,
        meeting_index=meeting_index,
        participant_index=participant_index,
        slot_index=slot_index,
        table_index=table_index,
        day_of=day_of,
        day_masks=day_masks,
        continues=continues,
        full=full,
        avail=avail,
        cap=cap,
        ends=ends,
        allowed=allowed,
        table_opts=table_opts,
        pool=pool,
        priority=[m.priority for m in instance.meetings],
        preds=preds,
        succs=[tuple(s) for s in succ_lists],
        by_participant=by_participant,
        schedule_all=instance.constraints.schedule_all,
        max_break_spread=instance.constraints.max_break_spread,
    )


class State:
    """A partial schedule over a `Compiled` instance, kept consistent by `place` and `remove`."""

    __slots__ = (
        "brk",
        "busy",
        "c",
        "count",
        "journal",
        "pool_avail",
        "pool_free",
        "slot_of",
        "table_busy",
        "table_of",
        "total_breaks",
    )

    def __init__(self, c: Compiled) -> None:
        self.c = c
        self.slot_of = [-1] * c.n_meetings
        self.table_of = [-1] * c.n_meetings
        self.busy = [0] * len(c.participant_ids)
        self.brk = [0] * len(c.participant_ids)
        self.count = [0] * len(c.participant_ids)
        self.table_busy = [0] * len(c.table_ids)
        # Reversed so that pop() hands out the lowest-numbered pool table first.
        self.pool_free = [list(reversed(c.pool)) for _ in c.slot_ids]
        self.pool_avail = c.full if c.pool else 0
        self.total_breaks = 0
        # When a list, every place/remove appends (meeting, slot before, table before) for `undo`.
        self.journal: list[tuple[int, int, int]] | None = None

    def block_table(self, t: int, mask: int) -> None:
        """Take table t out of service in the slots of `mask`; call before placing anything there."""
        self.table_busy[t] |= mask
        if t in self.c.pool:
            for s in range(self.c.n_slots):
                if (mask >> s) & 1 and t in self.pool_free[s]:
                    self.pool_free[s].remove(t)
                    if not self.pool_free[s]:
                        self.pool_avail &= ~(1 << s)

    def undo(self, journal: list[tuple[int, int, int]]) -> None:
        """Revert the moves recorded in `journal`, newest first."""
        self.journal = None
        for m, s, t in reversed(journal):
            if self.slot_of[m] >= 0:
                self.remove(m)
            if s >= 0:
                self.place(m, s, t)

    def copy(self) -> State:
        other = State.__new__(State)
        other.c = self.c
        other.slot_of = self.slot_of.copy()
        other.table_of = self.table_of.copy()
        other.busy = self.busy.copy()
        other.brk = self.brk.copy()
        other.count = self.count.copy()
        other.table_busy = self.table_busy.copy()
        other.pool_free = [stack.copy() for stack in self.pool_free]
        other.pool_avail = self.pool_avail
        other.total_breaks = self.total_breaks
        other.journal = None
        return other

    def table_mask(self, m: int) -> int:
        """Slots in which a table that meeting m may use is free."""
        opts = self.c.table_opts[m]
        if not opts:
            return self.pool_avail
        free = 0
        for t in opts:
            free |= ~self.table_busy[t]
        return free & self.c.full

    def precedence_mask(self, m: int) -> int:
        """Slots strictly after every placed predecessor and before every placed successor."""
        c = self.c
        lo, hi = 0, c.n_slots - 1
        for x in c.preds[m]:
            s = self.slot_of[x]
            if s >= 0 and s + 1 > lo:
                lo = s + 1
        for x in c.succs[m]:
            s = self.slot_of[x]
            if s >= 0 and s - 1 < hi:
                hi = s - 1
        if lo > hi:
            return 0
        return ((1 << (hi + 1)) - 1) & ~((1 << lo) - 1)

    def candidates(self, m: int) -> int:
        """Slots where unplaced meeting m can go now without breaking a hard constraint.

        The break spread is not checked here; see `spread_ok`.
        """
        c = self.c
        a, b = c.ends[m]
        if self.count[a] >= c.cap[a] or self.count[b] >= c.cap[b]:
            return 0
        mask = c.allowed[m] & ~(self.busy[a] | self.busy[b]) & self.table_mask(m)
        if mask and (c.preds[m] or c.succs[m]):
            mask &= self.precedence_mask(m)
        return mask

    def pick_table(self, m: int, s: int) -> int:
        opts = self.c.table_opts[m]
        if not opts:
            return self.pool_free[s][-1]
        bit = 1 << s
        for t in opts:
            if not self.table_busy[t] & bit:
                return t
        raise ValueError(f"no free table for meeting {self.c.meeting_ids[m]} in slot {self.c.slot_ids[s]}")

    def place(self, m: int, s: int, table: int | None = None) -> None:
        c = self.c
        t = self.pick_table(m, s) if table is None else table
        bit = 1 << s
        if self.table_busy[t] & bit:
            raise ValueError(f"table {c.table_ids[t]} is taken in slot {c.slot_ids[s]}")
        if not c.table_opts[m]:
            stack = self.pool_free[s]
            stack.remove(t)
            if not stack:
                self.pool_avail &= ~bit
        if self.journal is not None:
            self.journal.append((m, -1, -1))
        self.table_busy[t] |= bit
        self.slot_of[m] = s
        self.table_of[m] = t
        for p in c.ends[m]:
            self.busy[p] |= bit
            self.count[p] += 1
            new = c.breaks_of(self.busy[p])
            self.total_breaks += new - self.brk[p]
            self.brk[p] = new

    def remove(self, m: int) -> None:
        c = self.c
        s, t = self.slot_of[m], self.table_of[m]
        if self.journal is not None:
            self.journal.append((m, s, t))
        bit = 1 << s
        self.table_busy[t] &= ~bit
        if not c.table_opts[m]:
            self.pool_free[s].append(t)
            self.pool_avail |= bit
        self.slot_of[m] = -1
        self.table_of[m] = -1
        for p in c.ends[m]:
            self.busy[p] &= ~bit
            self.count[p] -= 1
            new = c.breaks_of(self.busy[p])
            self.total_breaks += new - self.brk[p]
            self.brk[p] = new

    def added_breaks(self, m: int, s: int) -> int:
        """Change in total breaks if unplaced meeting m went to slot s."""
        c = self.c
        bit = 1 << s
        a, b = c.ends[m]
        return c.breaks_of(self.busy[a] | bit) - self.brk[a] + c.breaks_of(self.busy[b] | bit) - self.brk[b]

    def spread_ok(self, m: int, s: int) -> bool:
        """Would placing m at s keep both participants within the break spread?

        Conservative: it requires breaks <= max_break_spread for everyone, which implies the real
        rule (breaks(p) - min breaks <= d) because breaks are never negative. CP-SAT phases use the
        exact rule.
        """
        limit = self.c.max_break_spread
        if limit is None:
            return True
        c = self.c
        bit = 1 << s
        return all(c.breaks_of(self.busy[p] | bit) <= limit for p in c.ends[m])

    def placed_priority(self) -> int:
        return sum(p for p, s in zip(self.c.priority, self.slot_of, strict=True) if s >= 0)

    def score(self) -> tuple[int, int, int]:
        """The lexicographic objective as a tuple to maximise: (priority, -breaks, -max breaks)."""
        return (self.placed_priority(), -self.total_breaks, -max(self.brk, default=0))
