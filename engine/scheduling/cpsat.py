"""CP-SAT on a piece of the schedule: the exact model, used whole on small instances and as a
large-neighbourhood step on big ones.

Problem: given a `State` and a set F of "free" meetings, re-place the meetings of F (each may also
stay unplaced) while every other placed meeting stays where it is, optimising the lexicographic
objective (placed priority, then total breaks, then the worst-off participant's breaks). With F =
all meetings this is the whole problem; it proves optimality on instances of a few hundred meetings.

Model: a Boolean x[m, s, t] per free meeting m, slot s still open to it, and table option t (the
host's table, either host's table for two hosts, or "a pool table"). Per participant and slot at
most one meeting; per table and slot at most one; per slot the pooled meetings at most the free pool
tables; per participant at most `max_meetings`; `after` as "m in slot s excludes its predecessor in
any slot >= s". Breaks of participant p: busy_s as a literal (a constant when a fixed meeting holds
the slot), start_s = busy_s and not busy_{s-1} within a day, breaks = sum(start) - days used; this
is exact, so the `max_break_spread` rule is modelled exactly through the minimum over participants.
Objective: priority * K1 - (sum of breaks) * K2 - max breaks, with K2 and K1 larger than the range
of everything after them, so it is the lexicographic order. A whole-instance `schedule_all` model
fixes every meeting placed; its infeasibility is the proof that `schedule_all` is impossible.

Determinism: one worker, a fixed seed, and a limit in deterministic time (`max_deterministic_time`)
rather than seconds, so the same call gives the same answer on a fast or a slow or a busy machine.
A generous wall-clock limit is set only as a safety net against a runaway search.

Invariants: the state is changed only if the new solution is at least as good for the objective
and satisfies every hard constraint (the model contains them all); otherwise it is restored exactly.

Cost: variables = sum over free meetings of open slots x table options; keep F small on big
instances (a few hundred meetings). Never build this model for 50,000 meetings: measured, it did not
improve a greedy start in 120 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from engine.scheduling.core import State

# Safety net only; the deterministic limit is what normally stops the search.
# Under a load average of 3-4 on 2 cores one deterministic unit took up to 4 s of wall time; the
# net must stay well above that, or it would cut searches the deterministic limit lets finish.
_WALL_FACTOR = 20.0
_POOL = -1


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    improved: bool
    optimal: bool
    infeasible: bool
    deterministic_time: float


def _literal_or(model: cp_model.CpModel, terms: list[cp_model.IntVar]) -> cp_model.IntVar:
    if len(terms) == 1:
        return terms[0]
    busy = model.new_bool_var("")
    model.add(sum(terms) == busy)
    return busy


def reoptimize(
    state: State,
    free: list[int],
    *,
    deterministic_time: float,
    seed: int,
    require_all: bool = False,
    keep_placed: bool = False,
    wall_limit: float | None = None,
) -> SolveOutcome:
    """Re-place the meetings in `free` optimally (within the budget); see the module docstring.

    (With every meeting placed on a small instance, `exact.py` asks the break questions instead.)
    """
    c = state.c
    before = state.score()
    old = [(m, state.slot_of[m], state.table_of[m]) for m in free]
    was_placed = {m for m, s, _ in old if s >= 0}
    for m, s, _ in old:
        if s >= 0:
            state.remove(m)
    free_set = set(free)
    forced: set[int] = set()
    model = cp_model.CpModel()
    xs: dict[int, list[tuple[int, int, cp_model.IntVar]]] = {}
    for m in free:
        options: list[tuple[int, int, cp_model.IntVar]] = []
        # Predecessors and successors inside F are modelled; `candidates` sees only the fixed ones.
        bits = state.candidates(m)
        while bits:
            low = bits & -bits
            s = low.bit_length() - 1
            bits ^= low
            opts = c.table_opts[m]
            if not opts:
                options.append((s, _POOL, model.new_bool_var("")))
            else:
                for t in opts:
                    if not state.table_busy[t] & low:
                        options.append((s, t, model.new_bool_var("")))
        xs[m] = options
        placed = sum(v for _, _, v in options)
        if require_all or (keep_placed and m in was_placed):
            model.add(placed == 1)
            forced.add(m)
        else:
            model.add(placed <= 1)
    by_slot_participant: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    by_slot_table: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for m, options in xs.items():
        a, b = c.ends[m]
        for s, t, v in options:
            by_slot_participant.setdefault((a, s), []).append(v)
            by_slot_participant.setdefault((b, s), []).append(v)
            by_slot_table.setdefault((t, s), []).append(v)
    for (t, s), terms in by_slot_table.items():
        limit = len(state.pool_free[s]) if t == _POOL else 1
        if len(terms) > limit:
            model.add(sum(terms) <= limit)
    affected = sorted({p for m in free for p in c.ends[m]})
    for p in affected:
        own = [v for m in c.by_participant[p] if m in free_set for _, _, v in xs[m]]
        room = c.cap[p] - state.count[p]
        if len(own) > room:
            model.add(sum(own) <= room)
    for m in free:
        for pred in c.preds[m]:
            if pred not in free_set:
                continue
            for s, _, v in xs[m]:
                later = [w for s2, _, w in xs[pred] if s2 >= s]
                if later:
                    model.add(v + sum(later) <= 1)
    breaks_vars: list[cp_model.IntVar] = []
    largest = 0
    total_bound = 0
    for p in affected:
        busy_lits: dict[int, cp_model.IntVar] = {}
        for s in range(c.n_slots):
            terms = by_slot_participant.get((p, s), [])
            if terms:
                if len(terms) > 1:
                    model.add(sum(terms) <= 1)
                busy_lits[s] = _literal_or(model, terms)
        fixed = state.busy[p]
        parts: list[cp_model.LinearExprT] = []
        constant = 0
        bound = 0
        for day in c.day_masks:
            slots = [s for s in range(c.n_slots) if (day >> s) & 1]
            bound += max(0, (len(slots) - 1) // 2)
            if not any(s in busy_lits for s in slots):
                constant += c.breaks_of(fixed & day)
                continue
            day_terms: list[cp_model.IntVar] = []
            starts: list[cp_model.LinearExprT] = []
            previous: cp_model.IntVar | int = 0
            for s in slots:
                current: cp_model.IntVar | int = 1 if (fixed >> s) & 1 else busy_lits.get(s, 0)
                if isinstance(current, int):
                    # A fixed meeting starts a run unless the previous slot is busy too.
                    if current == 1:
                        starts.append(1 - previous)
                else:
                    day_terms.append(current)
                    if isinstance(previous, int):
                        starts.append(current if previous == 0 else 0)
                    else:
                        start = model.new_bool_var("")
                        model.add_bool_and([current, previous.Not()]).only_enforce_if(start)
                        model.add_bool_or([current.Not(), previous]).only_enforce_if(start.Not())
                        starts.append(start)
                previous = current
            if fixed & day:
                parts.append(cp_model.LinearExpr.sum(starts) - 1)
            else:
                any_busy = model.new_bool_var("")
                model.add_max_equality(any_busy, day_terms)
                parts.append(cp_model.LinearExpr.sum(starts) - any_busy)
        breaks = model.new_int_var(0, bound, "")
        model.add(breaks == sum(parts) + constant)
        breaks_vars.append(breaks)
        largest = max(largest, bound)
        total_bound += bound
    affected_set = set(affected)
    others = [state.brk[q] for q in range(len(c.participant_ids)) if q not in affected_set]
    worst = model.new_int_var(0, largest + max(others, default=0), "")
    for v in breaks_vars:
        model.add(worst >= v)
    if others:
        model.add(worst >= max(others))
    spread = c.max_break_spread
    if spread is not None and breaks_vars:
        least = model.new_int_var(0, largest, "")
        model.add_min_equality(least, breaks_vars + ([model.new_constant(min(others))] if others else []))
        for v in breaks_vars:
            model.add(v - least <= spread)
        if others:
            model.add(max(others) - least <= spread)
    k2 = largest + max(others, default=0) + 1
    k1 = (total_bound + 1) * k2
    # Forced meetings add a constant; leaving them out keeps the LP relaxation about breaks.
    priority_term = sum(c.priority[m] * v for m in free if m not in forced for _, _, v in xs[m])
    model.maximize(k1 * priority_term - k2 * sum(breaks_vars) - worst)
    for m, s, t in old:
        for s2, t2, v in xs[m]:
            model.add_hint(v, s2 == s and t2 in (t, _POOL))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = deterministic_time
    # The caller's `wall_limit` (its deadline) is the real net; this one only guards direct calls.
    safety = max(1.0, deterministic_time * _WALL_FACTOR)
    solver.parameters.max_time_in_seconds = (
        safety if wall_limit is None else max(0.05, min(safety, wall_limit))
    )
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        _restore(state, old)
        return SolveOutcome(False, False, status == cp_model.INFEASIBLE, solver.deterministic_time)
    for m in free:
        for s, t, v in xs[m]:
            if solver.boolean_value(v):
                state.place(m, s, None if t == _POOL else t)
                break
    if state.score() < before:
        for m in free:
            if state.slot_of[m] >= 0:
                state.remove(m)
        _restore(state, old)
        return SolveOutcome(False, False, False, solver.deterministic_time)
    optimal = status == cp_model.OPTIMAL
    return SolveOutcome(state.score() > before, optimal, False, solver.deterministic_time)


def _restore(state: State, old: list[tuple[int, int, int]]) -> None:
    for m, s, t in old:
        if s >= 0:
            state.place(m, s, t)
