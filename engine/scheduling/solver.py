"""`solve`: the anytime scheduling pipeline.

Problem: place meetings into (slot, table) pairs under the hard constraints of
docs/algorithms/scheduling.md (no double booking, availability, sessions, host and pooled tables,
one meeting per table and slot, fixed slots, `after`, `max_meetings`, optional `schedule_all` and
`max_break_spread`), maximising placed priority, then minimising total breaks, then the worst-off
participant's breaks.

Pipeline:
1. Construction (`build_initial`): a time sweep that builds contiguous agendas slot by slot and
   never creates a break (`heuristics.sweep`), break-free ejection chains for what it left, then
   the break-aware greedy and any-cost ejection (Kempe) chains for the rest.
2. Polish: relocation and Kempe-chain passes that lower breaks (`polish`).
   Steps 1-2 are restarted with other tie-breaks as often as `start_count` says; the best is kept.
3. CP-SAT large-neighbourhood search: each step frees the meetings of one participant with breaks
   and of its partners on that day, and re-solves that piece exactly with everyone else fixed; a
   step is kept only if it is no worse.
4. Small instances (<= `EXACT_LIMIT` meetings) also get whole-instance CP-SAT models. While
   meetings are unplaced, the model of `cpsat.py`: once right after the first start (easy
   instances are proven there and stop), and again after steps 2-3; it proves optimality, or for
   `schedule_all` impossibility, when it can. Once every placeable meeting is placed, only breaks
   are left and the break models of `exact.py` take over (`_minimize_breaks`): first "everyone at
   its break lower bound?" (found: optimal; disproved: the bound rises by one), then restarts,
   and the minimisation, which proves optimality or gives a lower bound.

Determinism: everything is driven by `random.Random(seed)` and by deterministic budgets: pass
and restart counts for the heuristics, and for CP-SAT one worker, a fixed seed and `max_deterministic_time`,
summed over neighbourhoods against a budget derived from `time_limit`. The wall clock
(`time.perf_counter`) is only a safety net that stops work early when the machine is much slower
than the calibration; when it trips, the result can differ from a run on a faster machine.

Cost: construction and repair are near-linear in the number of meetings; the rest uses the time
limit and never more.
"""

from __future__ import annotations

import time
from random import Random

from engine.scheduling.bounds import break_lower_bounds, compute_bounds
from engine.scheduling.core import Compiled, State, compile_instance
from engine.scheduling.cpsat import reoptimize
from engine.scheduling.exact import minimize_breaks, reach_bound
from engine.scheduling.heuristics import (
    DEFAULT_START_SLACK,
    construct,
    enforce_spread,
    kempe_improve,
    relocate,
    repair,
    sweep,
)
from engine.scheduling.model import (
    Assignment,
    Instance,
    ScheduleResult,
    ScheduleStatus,
    Stats,
    Unscheduled,
    UnscheduledReason,
)

# Above this many meetings the whole CP-SAT model is not built (see the module docstring).
EXACT_LIMIT = 1500
# CP-SAT deterministic time per wall-clock second of the time limit. Measured on the project's
# 2-core machine: one unit took 1 s idle and 4-5 s of wall time under a load average of 4 (Python
# model building included). Kept low so that the deterministic budget, not the wall-clock safety
# net, ends the search even on a loaded machine: the result then does not depend on the load.
_DETERMINISTIC_PER_SECOND = 0.15
# The neighbourhood search gains little on large instances (measured: 204 -> 202 breaks at the
# macrorrueda size between 3 s and 10 s; 213 vs 212 with 0.5 vs 0.25 deterministic units), so it
# gets a small budget, which a loaded machine still finishes before the deadline: the run then
# stays reproducible, and the macrorrueda size finishes well within 10 s.
_NEIGHBOURHOOD_SHARE = 0.1
_NEIGHBOURHOOD_TIME = 0.3
_REPAIR_DEPTH = 3
_REPAIR_BUDGET = 60
_POLISH_PASSES = 4
_KEMPE_LIMIT = 40
_RESERVE = 0.1
_SECONDS_PER_MEETING = 2e-4
_RESTART_SHARE = 0.5
_LINEAR_UP_TO = 12_000
_MAX_STARTS = 200
_START_SLACKS = (DEFAULT_START_SLACK, 1, 5)
# Share of the CP-SAT budget for the first, proof-seeking whole-model solve on small instances.
_QUICK_SHARE = 0.15
# Small instances: a smaller share for restarts, and half the CP-SAT budget for neighbourhoods.
_SMALL_RESTART_SHARE = 0.15
_SMALL_NEIGHBOURHOOD_SHARE = 0.5
# CP-SAT deterministic time per second of the time limit on small instances. Higher than
# `_DETERMINISTIC_PER_SECOND`: on the research shapes the break models need 0.2-3 units to reach a
# zero-break or at-the-bound schedule, and a 300-meeting model still finishes its budget within
# the limit at a moderate load; under heavy load the wall-clock net can cut it (see "Determinism").
_SMALL_DETERMINISTIC_PER_SECOND = 0.4
# Share of the small-instance CP-SAT budget for `reach_bound`; `minimize_breaks` gets the rest.
_REACH_SHARE = 0.5
# Wall seconds that building and presolving the whole break model takes at forum size on a
# loaded machine (measured 0.6 s at a load average of 6); with less time left it is skipped.
_MODEL_SECONDS = 1.0


def meeting_order(c: Compiled, rng: Random) -> list[int]:
    """Fixed meetings first, then by priority; within a priority, the most constrained first.

    "Most constrained" = fewest allowed slots, then the busiest participants; the seeded shuffle
    only breaks the remaining ties.
    """
    degree = [len(ms) for ms in c.by_participant]
    jitter = [rng.random() for _ in range(c.n_meetings)]

    def key(m: int) -> tuple[bool, int, int, int, float]:
        a, b = c.ends[m]
        fixed = c.instance.meetings[m].fixed_slot is not None
        return (not fixed, -c.priority[m], c.allowed[m].bit_count(), -(degree[a] + degree[b]), jitter[m])

    return sorted(range(c.n_meetings), key=key)


def unscheduled_reason(state: State, m: int) -> UnscheduledReason:
    """Why unplaced meeting m has no slot in the final state (checks in order, first match wins)."""
    c = state.c
    a, b = c.ends[m]
    if not c.allowed[m]:
        return UnscheduledReason.NO_ALLOWED_SLOT
    if state.count[a] >= c.cap[a] or state.count[b] >= c.cap[b]:
        return UnscheduledReason.PARTICIPANT_FULL
    free = c.allowed[m] & ~(state.busy[a] | state.busy[b])
    if not free:
        return UnscheduledReason.NO_COMMON_FREE_SLOT
    free &= state.table_mask(m)
    if not free:
        return UnscheduledReason.NO_TABLE
    if not free & state.precedence_mask(m):
        return UnscheduledReason.INFEASIBLE_PRECEDENCE
    if c.max_break_spread is not None:
        return UnscheduledReason.BREAK_SPREAD
    return UnscheduledReason.TIME_LIMIT


def build_result(
    state: State,
    *,
    seconds: float,
    status: ScheduleStatus,
    locked: frozenset[str] = frozenset(),
    proven_priority: int | None = None,
    proven_breaks: int = 0,
) -> ScheduleResult:
    """Turn a state into a `ScheduleResult` with bounds, statistics and reasons.

    `proven_breaks`: a lower bound on breaks proven by CP-SAT for schedules of the placed priority
    (`exact.py`); the reported bound is the larger of it and the bounds of `bounds.py`.
    """
    c = state.c
    assignments = tuple(
        Assignment(
            c.meeting_ids[m], c.slot_ids[s], c.table_ids[state.table_of[m]], c.meeting_ids[m] in locked
        )
        for m, s in sorted(enumerate(state.slot_of), key=lambda item: (item[1], item[0]))
        if s >= 0
    )
    unscheduled = tuple(
        Unscheduled(c.meeting_ids[m], unscheduled_reason(state, m))
        for m in range(c.n_meetings)
        if state.slot_of[m] < 0
    )
    priority = state.placed_priority()
    bounds = compute_bounds(c, priority)
    upper_placed, upper_priority = bounds.upper_placed, bounds.upper_priority
    if proven_priority is not None:
        upper_priority = min(upper_priority, proven_priority)
        weights = {c.priority[m] for m in range(c.n_meetings) if c.allowed[m]}
        if len(weights) == 1:
            upper_placed = min(upper_placed, proven_priority // weights.pop())
    breaks = sum(state.brk)
    worst = max(state.brk, default=0)
    lower_breaks = max(bounds.lower_total_breaks, proven_breaks)
    if status is ScheduleStatus.FEASIBLE and (
        priority == upper_priority and breaks == lower_breaks and worst == bounds.lower_max_breaks
    ):
        status = ScheduleStatus.OPTIMAL
    if c.schedule_all and unscheduled and status in (ScheduleStatus.FEASIBLE, ScheduleStatus.OPTIMAL):
        impossible = upper_placed < c.n_meetings or status is ScheduleStatus.OPTIMAL
        status = ScheduleStatus.SCHEDULE_ALL_IMPOSSIBLE if impossible else ScheduleStatus.SCHEDULE_ALL_UNMET
    placed = len(assignments)
    return ScheduleResult(
        assignments=assignments,
        unscheduled=unscheduled,
        stats=Stats(
            placed=placed,
            unplaced=len(unscheduled),
            placed_priority=priority,
            breaks=breaks,
            max_breaks=worst,
            upper_bound_placed=max(upper_placed, placed),
            # Proven optimal: no schedule placing as much has fewer breaks than this one.
            lower_bound_breaks=breaks if status is ScheduleStatus.OPTIMAL else min(lower_breaks, breaks),
            seconds=round(seconds, 3),
            upper_bound_priority=max(upper_priority, priority),
        ),
        status=status,
    )


def _neighbourhood(state: State, p: int) -> list[int]:
    """Meetings of p and of its partners, on the days where p has a break."""
    c = state.c
    days = 0
    for day in c.day_masks:
        if c.breaks_of(state.busy[p] & day):
            days |= day
    free: dict[int, None] = {}
    for m in c.by_participant[p]:
        s = state.slot_of[m]
        if s < 0 or not (days >> s) & 1:
            continue
        free[m] = None
        for q in c.ends[m]:
            for other in c.by_participant[q]:
                so = state.slot_of[other]
                if so >= 0 and (days >> so) & 1 and c.instance.meetings[other].fixed_slot is None:
                    free[other] = None
    return list(free)


def polish(state: State, *, frozen: set[int], deadline: float) -> None:
    """Relocation and Kempe-chain passes until a pass gains nothing (or the deadline)."""
    movable = [m for m in range(state.c.n_meetings) if m not in frozen]
    for _ in range(_POLISH_PASSES):
        gained = relocate(state, movable, frozen) + kempe_improve(state, frozen, _KEMPE_LIMIT)
        if gained == 0 or time.perf_counter() > deadline:
            break


def search_neighbourhoods(
    state: State, rng: Random, *, seed: int, deterministic_budget: float, deadline: float, frozen: set[int]
) -> None:
    """CP-SAT large-neighbourhood search around participants with breaks."""
    c = state.c
    spent = 0.0
    tried: set[int] = set()
    while spent < deterministic_budget and time.perf_counter() < deadline:
        broken = [p for p in range(len(c.participant_ids)) if state.brk[p] > 0 and p not in tried]
        if not broken:
            break
        p = max(broken, key=lambda q: (state.brk[q], rng.random()))
        tried.add(p)
        free = [m for m in _neighbourhood(state, p) if m not in frozen]
        if not free:
            continue
        outcome = reoptimize(
            state,
            free,
            deterministic_time=_NEIGHBOURHOOD_TIME,
            seed=seed,
            keep_placed=True,
            wall_limit=deadline - time.perf_counter(),
        )
        spent += outcome.deterministic_time
        if outcome.improved:
            # The agendas around p changed, so participants already tried may improve now.
            tried -= {q for m in free for q in c.ends[m]}
            tried.add(p)


def build_initial(state: State, order: list[int], start_slack: int = DEFAULT_START_SLACK) -> None:
    """Sweep, then break-free ejection chains, then greedy and any-cost chains for the rest."""
    rank = [0] * len(order)
    for i, m in enumerate(order):
        rank[m] = i
    sweep(state, rank, start_slack)
    repair(state, order, depth=2, budget_per_meeting=_REPAIR_BUDGET, max_cost=0)
    construct(state, order)
    repair(state, order, depth=_REPAIR_DEPTH, budget_per_meeting=_REPAIR_BUDGET)


def start_count(c: Compiled, time_limit: float, share: float) -> int:
    """How many constructions to try: a deterministic estimate, not a clock reading.

    One construction plus polish costs about `_SECONDS_PER_MEETING` per meeting up to the
    macrorrueda size (measured on the project's machine: 0.04 s at 228 meetings, 2 s at 12,000) and
    grows faster beyond it (25 s at 50,000); restarts may use `share` of the time limit.
    Small instances get many starts, which pays: the best of 60 starts had half the breaks of the
    first on the research-shaped instances. The x10 size gets one.
    """
    n = max(c.n_meetings, 1)
    estimate = n * _SECONDS_PER_MEETING * max(1.0, n / _LINEAR_UP_TO)
    return max(1, min(_MAX_STARTS, int(max(0.0, time_limit) * share / estimate)))


def _best_start(c: Compiled, rng: Random, *, count: int, deadline: float, offset: int = 0) -> State:
    """Best of `count` constructions with different tie-breaks and start slacks, each polished."""
    best: State | None = None
    for k in range(offset, offset + max(1, count)):
        # Safety net only (see the module docstring): stop restarting on a very slow machine.
        if best is not None and time.perf_counter() > deadline:
            break
        state = State(c)
        build_initial(state, meeting_order(c, rng), _START_SLACKS[k % len(_START_SLACKS)])
        polish(state, frozen=set(), deadline=deadline)
        if best is None or state.score() > best.score():
            best = state
    return state if best is None else best


def solve(instance: Instance, *, time_limit: float, seed: int) -> ScheduleResult:
    """Schedule `instance` within about `time_limit` seconds; deterministic for a given seed."""
    started = time.perf_counter()
    # Keep a little time for the bounds (one LP) and for writing the result.
    deadline = started + max(0.0, time_limit) * (1 - _RESERVE)
    c = compile_instance(instance)
    rng = Random(seed)
    status = ScheduleStatus.FEASIBLE
    proven: int | None = None
    proven_breaks = 0
    if c.n_meetings <= EXACT_LIMIT:
        # Restarts have their share of the time; CP-SAT a deterministic budget for the rest.
        budget = max(0.0, time_limit) * (1 - _SMALL_RESTART_SHARE) * _SMALL_DETERMINISTIC_PER_SECOND
        # Easy small instances are proven optimal from the first start in a fraction of the
        # budget; only the others are worth restarts and neighbourhoods.
        state = _best_start(c, rng, count=1, deadline=deadline)
        impossible = False
        if not _all_placed(state):
            status, proven, impossible = _solve_exactly(
                state, seed=seed, budget=budget * _QUICK_SHARE, deadline=deadline, impossible=False
            )
            budget *= 1 - _QUICK_SHARE
        if proven is None and not _all_placed(state):
            starts = start_count(c, time_limit, _SMALL_RESTART_SHARE)
            if starts > 1:
                other = _best_start(c, rng, count=starts - 1, deadline=deadline, offset=1)
                if other.score() > state.score():
                    state = other
            # Measured on the earlier research shapes: neighbourhoods took 9 -> 3, 18 -> 14 and
            # 5 -> 3 breaks where the whole model alone found nothing better in the same budget.
            search_neighbourhoods(
                state,
                rng,
                seed=seed,
                deterministic_budget=budget * _SMALL_NEIGHBOURHOOD_SHARE,
                deadline=deadline,
                frozen=set(),
            )
            budget *= 1 - _SMALL_NEIGHBOURHOOD_SHARE
            if not _all_placed(state):
                status, proven, _ = _solve_exactly(
                    state, seed=seed, budget=budget, deadline=deadline, impossible=impossible
                )
                budget = 0.0
        if proven is None and _all_placed(state):
            state, status, proven_breaks = _minimize_breaks(
                state,
                rng,
                seed=seed,
                budget=budget,
                deadline=deadline,
                starts=start_count(c, time_limit, _SMALL_RESTART_SHARE),
            )
            if status is ScheduleStatus.OPTIMAL:
                proven = state.placed_priority()
    else:
        budget = max(0.0, time_limit) * (1 - _RESTART_SHARE) * _DETERMINISTIC_PER_SECOND
        state = _best_start(c, rng, count=start_count(c, time_limit, _RESTART_SHARE), deadline=deadline)
        search_neighbourhoods(
            state,
            rng,
            seed=seed,
            deterministic_budget=budget * _NEIGHBOURHOOD_SHARE,
            deadline=deadline,
            frozen=set(),
        )
    # Nothing is frozen here, so this always succeeds (at worst by unplacing meetings).
    enforce_spread(state, set())
    return build_result(
        state,
        seconds=time.perf_counter() - started,
        status=status,
        proven_priority=proven,
        proven_breaks=proven_breaks,
    )


def _all_placed(state: State) -> bool:
    """Every meeting that has an allowed slot is placed: the placed priority is the largest."""
    c = state.c
    return all(state.slot_of[m] >= 0 for m in range(c.n_meetings) if c.allowed[m])


def _minimize_breaks(
    state: State, rng: Random, *, seed: int, budget: float, deadline: float, starts: int
) -> tuple[State, ScheduleStatus, int]:
    """Small instance, every placeable meeting placed: only breaks are left (see `exact.py`).

    1. If every participant already sits at its break lower bound, the schedule is optimal.
    2. Ask CP-SAT for a schedule with everyone at its bound (`reach_bound`): found, it is optimal;
       proven impossible, the bound on the total rises by one.
    3. Restarts of the construction, for a better start (hint) of step 4.
    4. Minimise (breaks, worst) from the best schedule (`minimize_breaks`), which proves
       optimality when it finishes, and otherwise gives a lower bound on the total.

    Returns the schedule, its status and a proven lower bound on its total breaks.
    """
    c = state.c
    lower = break_lower_bounds(c, state.placed_priority())
    if state.total_breaks == sum(lower) and max(state.brk, default=0) == max(lower, default=0):
        return state, ScheduleStatus.OPTIMAL, state.total_breaks
    reached = reach_bound(
        state,
        lower,
        deterministic_time=budget * _REACH_SHARE,
        seed=seed,
        wall_limit=deadline - time.perf_counter(),
    )
    if reached.optimal:
        return state, ScheduleStatus.OPTIMAL, state.total_breaks
    proven_breaks = reached.lower_bound
    if starts > 1:
        other = _best_start(c, rng, count=starts - 1, deadline=deadline, offset=1)
        if _all_placed(other) and other.score() > state.score():
            state = other
    # No neighbourhood search here: measured on eight forums that did not reach their bound, it
    # took twice the wall time (a model is built per step) for no fewer breaks (120 against 115 in all).
    rest = max(0.0, budget - reached.deterministic_time)
    if deadline - time.perf_counter() < _MODEL_SECONDS:
        # Safety net only: on an overloaded machine there is no time left to even build the model.
        return state, ScheduleStatus.FEASIBLE, proven_breaks
    outcome = minimize_breaks(
        state,
        deterministic_time=max(0.01, rest),
        seed=seed,
        wall_limit=deadline - time.perf_counter(),
    )
    if outcome.optimal:
        return state, ScheduleStatus.OPTIMAL, state.total_breaks
    return state, ScheduleStatus.FEASIBLE, max(proven_breaks, outcome.lower_bound)


def _solve_exactly(
    state: State, *, seed: int, budget: float, deadline: float, impossible: bool
) -> tuple[ScheduleStatus, int | None, bool]:
    """Whole-model CP-SAT from the current state.

    Returns the status, the proven optimal priority (None if not proven) and whether
    `schedule_all` is proven impossible (pass it back in to skip that model next time).
    When every placeable meeting is placed, the priority is optimal and only breaks are left; it
    then returns at once and `_minimize_breaks` takes over.
    """
    c = state.c
    everything = list(range(c.n_meetings))
    placed_all = all(s >= 0 for s in state.slot_of)
    if c.schedule_all and not impossible and not placed_all:
        outcome = reoptimize(
            state,
            everything,
            deterministic_time=budget / 2,
            seed=seed,
            require_all=True,
            wall_limit=(deadline - time.perf_counter()) / 2,
        )
        budget -= outcome.deterministic_time
        if outcome.optimal:
            return ScheduleStatus.OPTIMAL, state.placed_priority(), False
        impossible = outcome.infeasible
    if _all_placed(state):
        # Only breaks are left: `_minimize_breaks` takes over.
        return ScheduleStatus.FEASIBLE, None, False
    outcome = reoptimize(
        state,
        everything,
        deterministic_time=max(budget, 0.01),
        seed=seed,
        wall_limit=deadline - time.perf_counter(),
    )
    unproven = ScheduleStatus.SCHEDULE_ALL_IMPOSSIBLE if impossible else ScheduleStatus.FEASIBLE
    if outcome.optimal:
        proven = ScheduleStatus.SCHEDULE_ALL_IMPOSSIBLE if impossible else ScheduleStatus.OPTIMAL
        return proven, state.placed_priority(), impossible
    return unproven, None, impossible
