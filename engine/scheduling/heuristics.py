"""Fast feasibility-preserving heuristics: time sweep, greedy, ejection chains, Kempe chains.

Problem: at 12,000-50,000 meetings the exact model is out of reach, but the structure is friendly:
adding a meeting in slot s to an agenda changes its breaks by a number read off two neighbour bits.

- Break delta of one participant for slot s (exact): 0 if it has no meeting that day; otherwise
  -1 if both neighbours of s are busy (two runs merge), 0 if one is, +1 if neither (a new run).
  All slots are scored at once with bit operations, so choosing a slot is O(days), not O(slots).
- `sweep`: the main construction. Slot by slot it keeps each participant's day one contiguous run
  (see its docstring); a participant starts its day as late as its quota allows, and an active
  participant left without a partner is served along a short augmenting path of that slot's
  matching before its run is closed. It never creates a break.
- `construct`: meetings in a given order each take the free slot with the least added breaks for
  both participants; ties go to slots next to both agendas, then next to one, then the earliest.
- `repair`: for a meeting with no common free slot, an ejection chain: put it in a slot where a single
  meeting blocks it, and re-place the ejected meeting the same way, up to a small depth. When the
  blocker is found through the two colours alpha (free for one side) and beta (free for the other)
  this is exactly the Kempe-chain step of bipartite edge colouring (Kőnig), generalised to
  availability, tables and precedences by checking each step with `State.candidates`. A chain is
  judged as a whole on the breaks it adds.
- `relocate`: moves a meeting to another slot when that lowers the breaks of its two participants.
- `kempe_improve`: moves a meeting into a gap of its participant's agenda by exchanging two slots
  along the whole Kempe chain (the connected meetings using either slot), which keeps everyone
  else's slot count and so never unplaces anything.

Invariants: every move goes through `State.candidates`, so hard constraints hold after each step;
an unsuccessful chain is undone exactly. No function reads the clock or a global random generator.

Cost: `sweep` O(slots x (participants + meetings)) plus the augmenting paths (depth 3);
`construct` O(meetings x days); `repair` O(tried slots ^ depth) per meeting, capped by a budget;
`relocate` O(meetings x days) per pass; `kempe_improve` O(gaps x chain size) per participant.
"""

from __future__ import annotations

from engine.scheduling.core import State


def _lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def _delta_masks(state: State, p: int) -> tuple[int, int, int]:
    """(slots that remove a break, slots that add one, slots next to a meeting) for participant p."""
    c = state.c
    busy = state.busy[p]
    left = (busy << 1) & c.continues
    right = (busy >> 1) & (c.continues >> 1)
    used_days = 0
    for day in c.day_masks:
        if busy & day:
            used_days |= day
    minus = left & right & used_days
    plus = used_days & ~left & ~right & c.full
    return minus, plus, (left | right) & c.full


def best_slot(state: State, m: int, mask: int) -> int:
    """The slot in `mask` adding the fewest breaks for meeting m (tie-breaks in module docstring)."""
    if not mask:
        return -1
    c = state.c
    a, b = c.ends[m]
    minus_a, plus_a, adj_a = _delta_masks(state, a)
    minus_b, plus_b, adj_b = _delta_masks(state, b)
    zero_a = c.full & ~minus_a & ~plus_a
    zero_b = c.full & ~minus_b & ~plus_b
    levels = (
        minus_a & minus_b,
        (minus_a & zero_b) | (zero_a & minus_b),
        (minus_a & plus_b) | (plus_a & minus_b) | (zero_a & zero_b),
        (plus_a & zero_b) | (zero_a & plus_b),
        plus_a & plus_b,
    )
    spread = c.max_break_spread
    for level in levels:
        options = level & mask
        while options:
            for preferred in (options & adj_a & adj_b, options & (adj_a | adj_b), options):
                if preferred:
                    s = _lowest(preferred)
                    break
            if spread is None or state.spread_ok(m, s):
                return s
            options &= ~(1 << s)
    return -1


def construct(state: State, order: list[int]) -> None:
    """Place the unplaced meetings of `order`, in that order, greedily (see module docstring)."""
    for m in order:
        if state.slot_of[m] < 0:
            s = best_slot(state, m, state.candidates(m))
            if s >= 0:
                state.place(m, s)


def _blockers(state: State, m: int, s: int) -> list[int]:
    """Placed meetings that keep m out of slot s (its participants' meetings there)."""
    c = state.c
    bit = 1 << s
    found: list[int] = []
    for p in c.ends[m]:
        if state.busy[p] & bit:
            for other in c.by_participant[p]:
                if state.slot_of[other] == s and other not in found:
                    found.append(other)
    return found


def _try_place(state: State, m: int, depth: int, tabu: set[int], budget: list[int], max_cost: int) -> bool:
    """Place m adding at most `max_cost` breaks, ejecting one blocker per level, `depth` levels.

    Undone exactly on failure. A very large `max_cost` accepts any slot.
    """
    s = best_slot(state, m, state.candidates(m))
    if s >= 0 and state.added_breaks(m, s) <= max_cost:
        state.place(m, s)
        return True
    if depth == 0:
        return False
    c = state.c
    a, b = c.ends[m]
    if state.count[a] >= c.cap[a] or state.count[b] >= c.cap[b]:
        return False
    options = c.allowed[m]
    while options and budget[0] > 0:
        s = _lowest(options)
        options &= options - 1
        blockers = _blockers(state, m, s)
        if len(blockers) != 1 or blockers[0] in tabu:
            continue
        budget[0] -= 1
        blocker = blockers[0]
        old_slot, old_table = state.slot_of[blocker], state.table_of[blocker]
        state.remove(blocker)
        if (state.candidates(m) >> s) & 1 and state.spread_ok(m, s) and state.added_breaks(m, s) <= max_cost:
            state.place(m, s)
            tabu.add(blocker)
            if _try_place(state, blocker, depth - 1, tabu, budget, max_cost):
                return True
            tabu.discard(blocker)
            state.remove(m)
        state.place(blocker, old_slot, old_table)
    return False


def repair(
    state: State,
    order: list[int],
    *,
    depth: int,
    budget_per_meeting: int,
    max_cost: int = 1 << 30,
    frozen: frozenset[int] = frozenset(),
) -> int:
    """Try to place each unplaced meeting of `order` with an ejection chain; returns how many.

    With `max_cost` = 0 only chains that add no break anywhere along the chain are accepted.
    Meetings in `frozen` are never ejected.
    """
    placed = 0
    for m in order:
        if state.slot_of[m] >= 0:
            continue
        before = state.total_breaks
        journal: list[tuple[int, int, int]] = []
        state.journal = journal
        done = _try_place(state, m, depth, {m, *frozen}, [budget_per_meeting], max_cost)
        state.journal = None
        if done and state.total_breaks - before > max_cost:
            # The chain's own step costs were within the limit, but ejecting meetings from the
            # middle of other agendas opened breaks there: judge the chain as a whole.
            state.undo(journal)
        elif done:
            placed += 1
    return placed


def relocate(state: State, meetings: list[int], frozen: set[int]) -> int:
    """One pass of single-meeting moves that strictly lower total breaks; returns the gain."""
    gain = 0
    c = state.c
    for m in meetings:
        s_old = state.slot_of[m]
        if s_old < 0 or m in frozen or c.instance.meetings[m].fixed_slot is not None:
            continue
        a, b = c.ends[m]
        before = state.brk[a] + state.brk[b]
        if before == 0:
            continue
        t_old = state.table_of[m]
        state.remove(m)
        s = best_slot(state, m, state.candidates(m) & ~(1 << s_old))
        if s >= 0:
            bit = 1 << s
            after = c.breaks_of(state.busy[a] | bit) + c.breaks_of(state.busy[b] | bit)
            if after < before:
                state.place(m, s)
                gain += before - after
                continue
        state.place(m, s_old, t_old)
    return gain


# A fresh participant starts its day when its free slots left today exceed its share of meetings
# by at most `start_slack`. Measured on the macrorrueda and x10 shapes: 3 gave the fewest breaks
# (0: 2,914, 1: 2,639, 3: 2,350, 5: 2,360 at x10 before polishing); restarts also try others.
DEFAULT_START_SLACK = 3
# Depth of the augmenting paths in `sweep`. 3 -> 4 cost four times the time for 4% fewer breaks.
SERVE_DEPTH = 3


def sweep(state: State, rank: list[int], start_slack: int = DEFAULT_START_SLACK) -> None:
    """Time-sweep construction that keeps agendas contiguous.

    Slot by slot, a participant is *fresh* (no meeting yet that day), *active* (met in the
    previous slot) or *closed* (its run for the day has ended). Active participants are served
    first, most urgent first (least slack = free slots left minus meetings left), each taking the
    best partner that is active too, else fresh; then fresh participants start, most urgent first.
    A closed participant is not touched again that day, so the sweep never creates a break; what
    it cannot place is left for `construct` and `repair`. `rank[m]` orders a participant's
    meetings (lower first: higher priority, then the instance order given by the caller).
    """
    c = state.c
    n = len(c.participant_ids)
    todo = [sorted(ms, key=rank.__getitem__) for ms in c.by_participant]
    for day in c.day_masks:
        slots = [s for s in range(c.n_slots) if (day >> s) & 1]
        closed = [False] * n
        for s in slots:
            bit = 1 << s
            later = c.full & ~((1 << s) - 1)
            previous = bit >> 1 if (c.continues >> s) & 1 else 0

            def slack(p: int, later: int = later) -> int:
                return (c.avail[p] & ~state.busy[p] & later).bit_count() - len(todo[p])

            for p in range(n):
                todo[p] = [m for m in todo[p] if state.slot_of[m] < 0]
            active = [p for p in range(n) if state.busy[p] & previous and todo[p] and not closed[p]]
            active.sort(key=slack)
            is_active = set(active)
            fresh = [p for p in range(n) if todo[p] and not state.busy[p] & day and not closed[p]]
            fresh.sort(key=slack)
            today = day & later

            def must_start(p: int, today: int = today, later: int = later) -> bool:
                room_today = (c.avail[p] & today).bit_count()
                room_all = (c.avail[p] & later).bit_count()
                if not room_all:
                    return False
                quota = -(-len(todo[p]) * room_today // room_all)
                return room_today - quota <= start_slack

            starters = [p for p in fresh if must_start(p)]
            for group in (active, starters):
                for p in group:
                    if state.busy[p] & bit:
                        continue
                    best = -1
                    best_key = (2, 0)
                    for m in todo[p]:
                        a, b = c.ends[m]
                        q = b if a == p else a
                        if closed[q] or state.busy[q] & bit or not (state.candidates(m) >> s) & 1:
                            continue
                        if q not in is_active and state.busy[q] & day:
                            continue
                        key = (0 if q in is_active else 1, slack(q))
                        if key < best_key:
                            best, best_key = m, key
                            if key[0] == 0:
                                break
                    if best >= 0 and state.spread_ok(best, s):
                        state.place(best, s)
            for p in active:
                if not state.busy[p] & bit and not _serve(
                    state, p, s, SERVE_DEPTH, closed, is_active, day, {p}
                ):
                    closed[p] = True


def _serve(
    state: State,
    p: int,
    s: int,
    depth: int,
    closed: list[bool],
    is_active: set[int],
    day: int,
    visited: set[int],
) -> bool:
    """Give active participant p a meeting in slot s, along an augmenting path of the slot's matching.

    First a free partner; else a partner q already meeting r in slot s is taken, and r either
    stays fresh (it had nothing else that day, so it simply starts later) or, if active, is served
    the same way, `depth` levels deep. Every step goes through `State.candidates`; a failed path is
    undone exactly.
    """
    c = state.c
    bit = 1 << s
    open_meetings = [m for m in c.by_participant[p] if state.slot_of[m] < 0]
    for m in open_meetings:
        a, b = c.ends[m]
        q = b if a == p else a
        if closed[q] or state.busy[q] & bit or (q not in is_active and state.busy[q] & day):
            continue
        if (state.candidates(m) >> s) & 1 and state.spread_ok(m, s):
            state.place(m, s)
            return True
    if depth == 0:
        return False
    for m in open_meetings:
        a, b = c.ends[m]
        q = b if a == p else a
        if closed[q] or q in visited or not state.busy[q] & bit:
            continue
        if q not in is_active and state.busy[q] & day & ~bit:
            continue
        taken = next(x for x in c.by_participant[q] if state.slot_of[x] == s)
        x, y = c.ends[taken]
        r = y if x == q else x
        if r in visited or c.instance.meetings[taken].fixed_slot is not None:
            continue
        table = state.table_of[taken]
        state.remove(taken)
        if (state.candidates(m) >> s) & 1 and state.spread_ok(m, s):
            state.place(m, s)
            if not state.busy[r] & day:
                return True
            if r in is_active and _serve(state, r, s, depth - 1, closed, is_active, day, visited | {p, q}):
                return True
            state.remove(m)
        state.place(taken, s, table)
    return False


def _kempe_component(state: State, m: int, alpha: int, beta: int, limit: int) -> list[int] | None:
    """Meetings reachable from m through shared participants, using only slots alpha and beta.

    None if the component exceeds `limit` meetings or holds a fixed meeting.
    """
    c = state.c
    component = [m]
    seen = {m}
    i = 0
    while i < len(component):
        x = component[i]
        i += 1
        if c.instance.meetings[x].fixed_slot is not None:
            return None
        for p in c.ends[x]:
            for y in c.by_participant[p]:
                if y not in seen and state.slot_of[y] in (alpha, beta):
                    seen.add(y)
                    component.append(y)
                    if len(component) > limit:
                        return None
    return component


def kempe_swap(state: State, m: int, target: int, limit: int, frozen: set[int]) -> bool:
    """Move m to slot `target` by exchanging the two slots along its Kempe chain.

    Kept only if the touched agendas get fewer breaks (or as many breaks and fewer idle slots,
    see `_shape`) and every hard constraint holds (each meeting re-enters through
    `State.candidates`); otherwise undone exactly. Returns whether it was kept.
    """
    source = state.slot_of[m]
    component = _kempe_component(state, m, source, target, limit)
    if component is None or any(x in frozen for x in component):
        return False
    old = {x: state.slot_of[x] for x in component}
    touched = {p for x in component for p in state.c.ends[x]}
    before = _shape(state, touched)
    journal: list[tuple[int, int, int]] = []
    state.journal = journal
    for x in component:
        state.remove(x)
    ok = True
    for x in component:
        new = target if old[x] == source else source
        if (state.candidates(x) >> new) & 1 and state.spread_ok(x, new):
            state.place(x, new)
        else:
            ok = False
            break
    state.journal = None
    if ok and _shape(state, touched) < before:
        return True
    state.undo(journal)
    return False


def _shape(state: State, participants: set[int]) -> tuple[int, int]:
    """(breaks, idle slots inside the agendas' daily spans) of some participants.

    Idle slots break ties between equal break counts: shrinking a two-slot gap to one slot is
    progress even though the break count has not moved yet.
    """
    c = state.c
    breaks = 0
    idle = 0
    for p in participants:
        breaks += state.brk[p]
        busy = state.busy[p]
        for day in c.day_masks:
            b = busy & day
            if b:
                idle += b.bit_length() - _lowest(b) - b.bit_count()
    return breaks, idle


def kempe_improve(state: State, frozen: set[int], limit: int) -> int:
    """For every participant with a break, try Kempe swaps that move one of its meetings into a
    gap of its agenda; returns the number of breaks removed."""
    c = state.c
    start = state.total_breaks
    for p in range(len(c.participant_ids)):
        improved = True
        while improved and state.brk[p] > 0:
            improved = False
            for day in c.day_masks:
                busy = state.busy[p] & day
                if not c.breaks_of(busy):
                    continue
                first, last = _lowest(busy), busy.bit_length() - 1
                span = ((1 << (last + 1)) - 1) & ~((1 << first) - 1)
                gaps = span & ~busy
                for m in list(c.by_participant[p]):
                    slot = state.slot_of[m]
                    if slot < 0 or not (busy >> slot) & 1 or m in frozen:
                        continue
                    bits = gaps & c.allowed[m]
                    while bits and not improved:
                        g = _lowest(bits)
                        bits &= bits - 1
                        improved = kempe_swap(state, m, g, limit, frozen)
                    if improved:
                        break
                if improved:
                    break
    return start - state.total_breaks


def enforce_spread(state: State, frozen: set[int]) -> bool:
    """Make the exact `max_break_spread` rule hold: breaks(p) - min breaks <= d for everyone.

    The construction keeps everyone within d, but removing meetings (ejection chains, rescheduling
    after a participant leaves) can open gaps. First relocation and Kempe passes try to close them;
    then meetings of the worst agenda are unplaced, the one whose removal leaves it fewest breaks
    first, until the rule holds. Returns False if only meetings in `frozen` are left to unplace.
    """
    c = state.c
    limit = c.max_break_spread
    if limit is None or not c.participant_ids:
        return True
    if max(state.brk) - min(state.brk) > limit:
        relocate(state, [m for m in range(c.n_meetings) if m not in frozen], frozen)
        kempe_improve(state, frozen, 40)
    while max(state.brk) - min(state.brk) > limit:
        worst = max(range(len(c.participant_ids)), key=lambda p: (state.brk[p], -p))
        best, best_breaks = -1, 0
        for m in c.by_participant[worst]:
            if state.slot_of[m] < 0 or m in frozen:
                continue
            s, t = state.slot_of[m], state.table_of[m]
            state.remove(m)
            if best < 0 or state.brk[worst] < best_breaks:
                best, best_breaks = m, state.brk[worst]
            state.place(m, s, t)
        if best < 0:
            return False
        state.remove(best)
    return True
