"""Break-minimising CP-SAT models for small instances whose every meeting is placed.

Problem: once every placeable meeting is placed, the placed priority is the largest possible and
only breaks are left: minimise the total breaks, then the worst-off participant's breaks, keeping
every meeting placed and every hard constraint (availability, sessions, fixed slots, tables,
`after`, `max_break_spread`). This is the problem of the forums of Bofill et al. (JAIR 2022).

Common part: x[m, s, t] for meeting m in slot s (allowed: both available, its sessions, its fixed
slot) at table option t (its host's table, either host's table, or "a pool table"); exactly one
per meeting; at most one meeting per participant and slot (busy[p, s] = the sum), per host table
and slot; pooled meetings per slot at most the pool tables in service; `after` as in `cpsat.py`.

Two questions are asked of it:

- `reach_bound`: "is there a schedule in which every participant has exactly its lower bound of
  breaks (`bounds.break_lower_bounds`)?" If yes, it is optimal (the bounds meet); if CP-SAT proves
  no, the total bound rises by one. Exactly at its bound, a participant's agenda has a known shape,
  which is what makes this model strong:
  - bound 0, all meetings on one day (k of them): busy on one window of k consecutive usable slots.
    One literal per window start, exactly one chosen, busy[p, t] = the windows covering t. A
    meeting placed in slot t therefore rules out every window not covering t, and with it every
    slot more than k - 1 away, for both of its participants: the propagation that the run-start
    counting below lacks. Two such participants who meet need windows that overlap in a slot
    their meeting may use: direct clauses between their window literals.
  - bound b > 0 on one day: the bound counts how many maximal stretches ("segments") of usable
    slots k meetings need; at exactly b breaks each used segment holds one unbroken run. One
    literal per interval of a segment, at most one per segment, busy = the intervals covering t,
    and at most b + 1 segments used.
  - participants over several days: exact run-start counting (below), at most its bound.
  Every participant sits at its bound, so `max_break_spread` holds iff the bounds' spread does.
- `minimize_breaks`: the optimisation. Exact breaks per participant and day: a run starts where
  busy_s and not busy_(s-1); breaks = run starts - days used; `max_break_spread` exactly through a
  minimum over participants. Redundant window literals as above for one-day participants, gated
  by a literal z_p ("p has no break"): breaks_p >= 1 - z_p. Objective K * (total) + (worst), K
  larger than any worst value: the lexicographic order. CP-SAT's objective bound gives a lower
  bound on total breaks valid for every schedule placing every meeting.

Both change the state only to a schedule at least as good for (breaks, worst), and both take the
current schedule as a hint (optional for `reach_bound`: measured, a hint with breaks steers the
feasibility search towards them about as often as it helps).

Search: one worker, `random_seed`, `max_deterministic_time` and no LP (`linearization_level` 0):
measured on the research shapes, the LP-guided search made no progress in 3 deterministic units
where propagation alone found zero-break agendas in under 1. `reach_bound` also skips presolve
probing (`cp_model_probing_level` 0): on 18 planted forums it then found or disproved the bound on
12 within 1.7 units, against 10 with probing. Deterministic; a wall-clock limit is only a safety
net.

Cost: variables = sum over meetings of allowed slots x table options (about 2,600 on a 225-meeting,
22-slot forum), plus slots x participants busy and run-start literals and at most slots^2 / 2
interval literals per segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from engine.scheduling.core import State

_POOL = -1
# Safety net only (see `cpsat._WALL_FACTOR` for the measurement behind it).
_WALL_FACTOR = 20.0


@dataclass(frozen=True, slots=True)
class BreakOutcome:
    improved: bool
    # `minimize_breaks`: CP-SAT proved the schedule optimal for (breaks, worst).
    # `reach_bound`: a schedule with every participant at its bound was found (and is in `state`).
    optimal: bool
    # A lower bound on the total breaks of any schedule placing every meeting (0 if none known).
    lower_bound: int
    deterministic_time: float


@dataclass(slots=True)
class _Base:
    model: cp_model.CpModel
    meetings: list[int]
    xs: dict[int, list[tuple[int, int, cp_model.IntVar]]]
    # Per participant: slot -> busy literal, for the slots where one of its meetings may go.
    busy: list[dict[int, cp_model.IntVar]]


def _slots(mask: int) -> list[int]:
    result: list[int] = []
    while mask:
        low = mask & -mask
        result.append(low.bit_length() - 1)
        mask ^= low
    return result


def _base(state: State) -> _Base:
    c = state.c
    meetings = [m for m in range(c.n_meetings) if c.allowed[m]]
    if any(state.slot_of[m] < 0 for m in meetings):
        raise ValueError("the break models need every placeable meeting placed")
    model = cp_model.CpModel()
    # Slots where a table is out of service (blocked), rather than taken by one of the meetings.
    occupied = [0] * len(c.table_ids)
    for m in meetings:
        occupied[state.table_of[m]] |= 1 << state.slot_of[m]
    blocked = [state.table_busy[t] & ~occupied[t] for t in range(len(c.table_ids))]
    xs: dict[int, list[tuple[int, int, cp_model.IntVar]]] = {}
    for m in meetings:
        options: list[tuple[int, int, cp_model.IntVar]] = []
        for s in _slots(c.allowed[m]):
            if not c.table_opts[m]:
                options.append((s, _POOL, model.new_bool_var("")))
                continue
            for t in c.table_opts[m]:
                if not (blocked[t] >> s) & 1:
                    options.append((s, t, model.new_bool_var("")))
        model.add_exactly_one(v for _, _, v in options)
        xs[m] = options
    by_participant_slot: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    by_table_slot: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for m, options in xs.items():
        a, b = c.ends[m]
        for s, t, v in options:
            by_participant_slot.setdefault((a, s), []).append(v)
            by_participant_slot.setdefault((b, s), []).append(v)
            by_table_slot.setdefault((t, s), []).append(v)
    pool_blocked = [sum(1 for t in c.pool if (blocked[t] >> s) & 1) for s in range(c.n_slots)]
    for (t, s), terms in by_table_slot.items():
        limit = len(c.pool) - pool_blocked[s] if t == _POOL else 1
        if len(terms) > limit:
            model.add(sum(terms) <= limit)
    for m in meetings:
        for pred in c.preds[m]:
            if pred not in xs:
                continue
            for s, _, v in xs[m]:
                later = [w for s2, _, w in xs[pred] if s2 >= s]
                if later:
                    model.add(v + sum(later) <= 1)
    busy: list[dict[int, cp_model.IntVar]] = []
    for p in range(len(c.participant_ids)):
        literals: dict[int, cp_model.IntVar] = {}
        for s in range(c.n_slots):
            terms = by_participant_slot.get((p, s), [])
            if terms:
                literal = model.new_bool_var("")
                model.add(sum(terms) == literal)
                literals[s] = literal
        busy.append(literals)
    return _Base(model, meetings, xs, busy)


def _one_day(state: State, slots: dict[int, cp_model.IntVar]) -> bool:
    return sum(1 for day in state.c.day_masks if any((day >> s) & 1 for s in slots)) == 1


def _run_breaks(
    model: cp_model.CpModel, state: State, busy: dict[int, cp_model.IntVar]
) -> tuple[cp_model.IntVar, int]:
    """Exact breaks of one participant (run starts minus days used), and their largest value."""
    c = state.c
    parts: list[cp_model.LinearExprT] = []
    bound = 0
    for day in c.day_masks:
        slots = [s for s in sorted(busy) if (day >> s) & 1]
        if not slots:
            continue
        bound += (len(slots) - 1) // 2
        starts: list[cp_model.IntVar] = []
        for s in slots:
            previous = busy.get(s - 1) if (c.continues >> s) & 1 else None
            if previous is None:
                starts.append(busy[s])
                continue
            start = model.new_bool_var("")
            model.add_bool_and([busy[s], previous.Not()]).only_enforce_if(start)
            model.add_bool_or([busy[s].Not(), previous]).only_enforce_if(start.Not())
            starts.append(start)
        used = model.new_bool_var("")
        model.add_max_equality(used, [busy[s] for s in slots])
        parts.append(cp_model.LinearExpr.sum(starts) - used)
    breaks = model.new_int_var(0, bound, "")
    model.add(breaks == sum(parts))
    return breaks, bound


def _windows(
    model: cp_model.CpModel, busy: dict[int, cp_model.IntVar], count: int, continues: int
) -> list[tuple[int, cp_model.IntVar]]:
    """A literal per window of `count` consecutive usable slots of one day: (first slot, literal)."""
    result: list[tuple[int, cp_model.IntVar]] = []
    for s in sorted(busy):
        window = range(s, s + count)
        if all(t in busy for t in window) and all((continues >> t) & 1 for t in window[1:]):
            result.append((s, model.new_bool_var("")))
    return result


def _segments(busy: dict[int, cp_model.IntVar], continues: int) -> list[list[int]]:
    segments: list[list[int]] = []
    for s in sorted(busy):
        if segments and s - 1 == segments[-1][-1] and (continues >> s) & 1:
            segments[-1].append(s)
        else:
            segments.append([s])
    return segments


def _solve(
    base: _Base,
    state: State,
    *,
    deterministic_time: float,
    seed: int,
    wall_limit: float | None,
    hint: bool,
    probing: bool = True,
) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
    if hint:
        for m, options in base.xs.items():
            s0, t0 = state.slot_of[m], state.table_of[m]
            for s, t, v in options:
                base.model.add_hint(v, s == s0 and t in (t0, _POOL))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.linearization_level = 0
    if not probing:
        solver.parameters.cp_model_probing_level = 0
    solver.parameters.max_deterministic_time = max(0.0, deterministic_time)
    safety = max(1.0, deterministic_time * _WALL_FACTOR)
    solver.parameters.max_time_in_seconds = (
        safety if wall_limit is None else max(0.05, min(safety, wall_limit))
    )
    return solver, solver.solve(base.model)


def _apply(base: _Base, state: State, solver: cp_model.CpSolver) -> bool:
    """Move to the solver's schedule if it is at least as good; True if it is strictly better."""
    before = (state.total_breaks, max(state.brk, default=0))
    chosen = {
        m: next((s, t) for s, t, v in options if solver.boolean_value(v)) for m, options in base.xs.items()
    }
    old = [(m, state.slot_of[m], state.table_of[m]) for m in base.meetings]
    for m in base.meetings:
        state.remove(m)
    for m in base.meetings:
        s, t = chosen[m]
        state.place(m, s, None if t == _POOL else t)
    after = (state.total_breaks, max(state.brk, default=0))
    if after > before:
        for m in base.meetings:
            state.remove(m)
        for m, s, t in old:
            state.place(m, s, t)
    return after < before


def reach_bound(
    state: State,
    lower: Sequence[int],
    *,
    deterministic_time: float,
    seed: int,
    wall_limit: float | None = None,
    hint: bool = False,
) -> BreakOutcome:
    """Look for a schedule with every participant at its break lower bound (module docstring).

    `lower[p]` must be a valid lower bound on p's breaks in every schedule placing every meeting.
    Outcome: `optimal` if found (the state then holds it), `lower_bound` sum(lower) + 1 if proven
    impossible, else sum(lower).
    """
    c = state.c
    total = sum(lower)
    spread = c.max_break_spread
    if spread is not None and lower and max(lower) - min(lower) > spread:
        # Everyone at its bound would break the spread rule: the bound cannot be reached.
        return BreakOutcome(False, False, total + 1, 0.0)
    base = _base(state)
    model = base.model
    window_of: dict[int, tuple[int, list[tuple[int, cp_model.IntVar]]]] = {}
    for p, busy in enumerate(base.busy):
        count = sum(1 for m in c.by_participant[p] if m in base.xs)
        if count <= 1:
            continue
        if not _one_day(state, busy):
            model.add(_run_breaks(model, state, busy)[0] <= lower[p])
            continue
        if lower[p] == 0:
            windows = _windows(model, busy, count, c.continues)
            window_of[p] = (count, windows)
            model.add_exactly_one(v for _, v in windows)
            for t, literal in busy.items():
                model.add(literal == sum(v for s, v in windows if s <= t < s + count))
            continue
        used: list[cp_model.IntVar] = []
        for segment in _segments(busy, c.continues):
            runs = [
                (first, last, model.new_bool_var(""))
                for i, first in enumerate(segment)
                for last in segment[i:]
            ]
            model.add_at_most_one(v for _, _, v in runs)
            for t in segment:
                model.add(busy[t] == sum(v for first, last, v in runs if first <= t <= last))
            literal = model.new_bool_var("")
            model.add(literal == sum(v for _, _, v in runs))
            used.append(literal)
        model.add(sum(used) <= lower[p] + 1)
    # Two participants who meet need overlapping windows in a slot their meeting may use: direct
    # clauses between window literals (measured: a little faster to a zero-break schedule).
    for m in base.xs:
        a, b = c.ends[m]
        if a not in window_of or b not in window_of:
            continue
        allowed = {s for s, _, _ in base.xs[m]}
        for u, w in ((a, b), (b, a)):
            (ku, windows_u), (kw, windows_w) = window_of[u], window_of[w]
            for s, literal in windows_u:
                span = [t for t in range(s, s + ku) if t in allowed]
                partners = [v for s2, v in windows_w if any(s2 <= t < s2 + kw for t in span)]
                model.add_bool_or([*partners, literal.Not()])
    solver, status = _solve(
        base,
        state,
        deterministic_time=deterministic_time,
        seed=seed,
        wall_limit=wall_limit,
        hint=hint,
        probing=False,
    )
    spent = solver.deterministic_time
    if status == cp_model.INFEASIBLE:
        return BreakOutcome(False, False, total + 1, spent)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return BreakOutcome(False, False, total, spent)
    improved = _apply(base, state, solver)
    return BreakOutcome(improved, True, total, spent)


def minimize_breaks(
    state: State,
    *,
    deterministic_time: float,
    seed: int,
    wall_limit: float | None = None,
) -> BreakOutcome:
    """Re-place every meeting to minimise (breaks, worst breaks), from the current schedule."""
    c = state.c
    base = _base(state)
    model = base.model
    modelled: list[cp_model.IntVar] = []
    largest = 0
    for p, busy in enumerate(base.busy):
        count = sum(1 for m in c.by_participant[p] if m in base.xs)
        if count <= 1:
            continue
        breaks, bound = _run_breaks(model, state, busy)
        modelled.append(breaks)
        largest = max(largest, bound)
        if not _one_day(state, busy):
            continue
        windows = _windows(model, busy, count, c.continues)
        zero = model.new_bool_var("")
        model.add(sum(v for _, v in windows) == zero)
        model.add(breaks + zero >= 1)
        for t, literal in busy.items():
            covering = [v for s, v in windows if s <= t < s + count]
            model.add(literal >= sum(covering))
            model.add(literal <= sum(covering)).only_enforce_if(zero)
    worst = model.new_int_var(0, largest, "")
    if modelled:
        model.add_max_equality(worst, modelled)
    spread = c.max_break_spread
    if spread is not None and modelled:
        if len(modelled) == len(c.participant_ids):
            least = model.new_int_var(0, largest, "")
            model.add_min_equality(least, modelled)
            for v in modelled:
                model.add(v - least <= spread)
        else:
            # Someone has at most one meeting, hence no break: the minimum is 0.
            for v in modelled:
                model.add(v <= spread)
    k = largest + 1
    model.minimize(k * sum(modelled) + worst)
    solver, status = _solve(
        base, state, deterministic_time=deterministic_time, seed=seed, wall_limit=wall_limit, hint=True
    )
    spent = solver.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return BreakOutcome(False, False, 0, spent)
    # Every schedule has objective k * breaks + worst >= the bound, and worst <= k - 1.
    lower = max(0, -(-(round(solver.best_objective_bound) - (k - 1)) // k))
    improved = _apply(base, state, solver)
    optimal = status == cp_model.OPTIMAL
    return BreakOutcome(improved, optimal, state.total_breaks if optimal else lower, spent)
