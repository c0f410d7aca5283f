"""Choose the meetings: a lexicographic max-utility b-matching solved as min-cost flow (OR-Tools).

Problem: from the scored pairs, the accepted requests and the organizer's rules, choose meetings so
that (1) as many minimum-meeting places as possible are filled, then (2) the total utility is
highest, subject to each participant's cap min(max_meetings, free_slots).

Model. Forced pairs are placed first (sorted by ids; one beyond a participant's cap is refused with
reason `capacity`) and use up caps. Each participant v keeps r(v) = cap - forced meetings and a
target t(v) = min(min_meetings, max_meetings, cap) - forced meetings. The objective is
    maximise  BIG * sum_v min(deg(v), t(v))  +  sum of 1000 * utility over selected pairs,
with BIG larger than any possible utility difference, so fairness strictly comes first (total
shortfall from the minimum is minimised, then utility maximised). The network is
    source -> S(v) -> D(u) -> sink,   plus a source -> sink bypass at cost 0,
where S(v) is v as supplier and D(u) is u as demander, one unit arc per scored pair (cost -utility),
and each side arc is split in a first part of t units at cost -BIG and the rest at cost 0.

Guarantee. A pure buyer has only a D node and a pure seller only an S node, so when no participant
has pairs on both sides (no "both" roles, no buyer-buyer requests) the graph is bipartite and the
min-cost flow is an exact optimum of the objective above over the pairs kept by scoring (checked
against CP-SAT in the tests). A participant with pairs on both sides makes it a b-matching on a
general graph (seller -> both -> buyer -> seller is a triangle), which no flow expresses exactly.
Such a participant's cap is split between its S and D nodes:
1. Lagrangian pricing (`_price_split`): relax the coupling, price each two-sided participant's
   units, bisect the prices for `PRICE_ROUNDS` solves, and split as the priced relaxation used them;
2. the exact flow for that split; then, at most `REBALANCE_ROUNDS` times, a side that is full
   while the participant has spare capacity receives it, targets follow the flow (`_allocate`), and
   the flow is solved again. The previous solution stays feasible with the same objective value
   under the new split, so no round is worse than the one before.
The result is optimal for the final split. Measured against CP-SAT on the benchmark population
(`bench.run_optimality_check`): optimal at 100 and 200 participants, 0.002% below at 400, and
0.021% below CP-SAT's best after 300 s at 2,400 (docs/benchmarks.md (Matching)).

Cost: with "both" participants about a dozen min-cost flow solves, otherwise one, over 2n + 2 nodes
and one arc per candidate pair; 0.2-0.4 s per solve at n = 2,400 and 235,000 pairs.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from engine.matching.explain import explanation, score_reasons
from engine.matching.preferences import (
    ResolvedPreferences,
    pair_key,
    request_bonus,
    request_reasons,
    resolve_preferences,
)
from engine.matching.scoring import THRESHOLD_TOLERANCE, IntArray, PairScores
from engine.matching.types import (
    Component,
    MatchProfile,
    MatchResult,
    Meeting,
    OrganizerRules,
    Preference,
    RejectedForcedPair,
    RejectionReason,
    Role,
    Shortfall,
    ShortfallReason,
)

PRICE_ROUNDS = 8
REBALANCE_ROUNDS = 4
UTILITY_SCALE = 1000  # utilities are compared to 1/1000; min-cost flow needs integer costs

BoolArray = npt.NDArray[np.bool_]


def select_meetings(
    scores: PairScores, preferences: Iterable[Preference] = (), rules: OrganizerRules = OrganizerRules()
) -> MatchResult:
    """Choose the meetings (see the module docstring); weights come from `scores.weights`.

    Forced, forbidden and requested pairs must be in `scores` (pass them as `extra_pairs` to
    `score_pairs`, as `compute_matches` does) for their scores and shortfall reasons to be right.
    """
    profiles = scores.profiles
    weights = scores.weights
    n = len(profiles)
    by_id = {p.id: p for p in profiles}
    index = {p.id: i for i, p in enumerate(profiles)}
    resolved = resolve_preferences(by_id, preferences, rules)

    first = np.minimum(scores.supplier, scores.demander)
    second = np.maximum(scores.supplier, scores.demander)
    keys = first * max(n, 1) + second  # unique per row: scoring keeps each unordered pair once
    row_of = {int(k): r for r, k in enumerate(keys)}

    def rows_of(pairs: Iterable[tuple[str, str]]) -> list[int]:
        found = []
        for a, b in pairs:
            i, j = sorted((index[a], index[b]))
            row = row_of.get(i * max(n, 1) + j)
            if row is not None:
                found.append(row)
        return found

    caps = np.array([p.cap for p in profiles], dtype=np.int64)
    remaining = caps.copy()
    forced_pairs, rejected_forced = _place_forced(rules, resolved, index, remaining)
    forced_rows = rows_of(forced_pairs)
    forced_per_participant = caps - remaining

    is_excluded = np.zeros(len(keys), dtype=bool)
    is_excluded[rows_of(p for p in resolved.excluded if p[0] in index and p[1] in index)] = True
    is_requested = np.zeros(len(keys), dtype=bool)
    is_requested[rows_of(resolved.requests)] = True
    is_forced = np.zeros(len(keys), dtype=bool)
    is_forced[forced_rows] = True
    # Two buyers or two sellers are scored only as extra pairs; the threshold alone never makes
    # them candidates: they meet only when forced or requested under the `anyone` policy.
    sells = np.array([p.role is not Role.BUYER for p in profiles], dtype=bool)
    buys = np.array([p.role is not Role.SELLER for p in profiles], dtype=bool)
    is_above = (
        (scores.score >= weights.min_score - THRESHOLD_TOLERANCE)
        & sells[scores.supplier]
        & buys[scores.demander]
    )
    is_eligible = ~is_excluded & (is_above | is_requested)
    in_flow = is_eligible & ~is_forced

    bonus = np.zeros(len(keys))
    for pair, kinds in resolved.requests.items():
        for row in rows_of([pair]):
            bonus[row] = request_bonus(kinds, weights)
    utility = scores.score + bonus

    minimum = np.array([min(weights.min_meetings, p.max_meetings) for p in profiles], dtype=np.int64)
    target = np.maximum(0, np.minimum(minimum, caps) - forced_per_participant)
    flow_rows = np.flatnonzero(in_flow)
    chosen = _solve(
        n,
        scores.supplier[flow_rows],
        scores.demander[flow_rows],
        np.rint(utility[flow_rows] * UTILITY_SCALE).astype(np.int64),
        remaining,
        target,
    )
    selected_rows = sorted({*flow_rows[chosen].tolist(), *forced_rows})
    meetings = [_meeting(scores, row, float(utility[row]), resolved, is_forced[row]) for row in selected_rows]
    # Forced pairs that scoring never saw get a meeting with no score reasons.
    meetings += [_unscored_forced(by_id[a], by_id[b]) for a, b in forced_pairs if not rows_of([(a, b)])]
    meetings.sort(key=lambda m: (m.supplier_id, m.demander_id))

    degree = np.zeros(n, dtype=np.int64)
    for m in meetings:
        degree[index[m.supplier_id]] += 1
        degree[index[m.demander_id]] += 1
    shortfalls = _shortfalls(
        scores,
        degree,
        minimum,
        excluded_above=is_excluded & is_above,
        extra=(is_eligible | is_forced) & ~is_above,
    )
    return MatchResult(
        meetings=tuple(meetings),
        shortfalls=tuple(shortfalls),
        rejected_requests=resolved.rejected,
        rejected_forced_pairs=tuple(rejected_forced),
        total_utility=float(sum(m.utility for m in meetings)),
        meetings_per_participant=tuple((p.id, int(degree[i])) for i, p in enumerate(profiles)),
    )


def _place_forced(
    rules: OrganizerRules, resolved: ResolvedPreferences, index: dict[str, int], remaining: IntArray
) -> tuple[list[tuple[str, str]], list[RejectedForcedPair]]:
    """Accept forced pairs in sorted order while both sides have room; `remaining` is updated."""
    accepted: list[tuple[str, str]] = []
    rejected: list[RejectedForcedPair] = []
    for pair in sorted({pair_key(a, b) for a, b in rules.forced_pairs}):
        a, b = pair
        reason = None
        if a not in index or b not in index:
            reason = RejectionReason.UNKNOWN_PARTICIPANT
        elif a == b:
            reason = RejectionReason.SELF_PAIR
        elif pair in resolved.forbidden:
            reason = RejectionReason.FORBIDDEN
        elif pair in resolved.do_not_meet:
            reason = RejectionReason.DO_NOT_MEET
        elif remaining[index[a]] < 1 or remaining[index[b]] < 1:
            reason = RejectionReason.CAPACITY
        if reason is None:
            remaining[index[a]] -= 1
            remaining[index[b]] -= 1
            accepted.append(pair)
        else:
            rejected.append(RejectedForcedPair(pair, reason))
    return accepted, rejected


def _shortfalls(
    scores: PairScores, degree: IntArray, minimum: IntArray, excluded_above: BoolArray, extra: BoolArray
) -> list[Shortfall]:
    """Everyone below their minimum, with the first reason that applies (`ShortfallReason` order).

    Candidates after the rules: pairs at or above the threshold (counted before any pruning) minus
    those the rules excluded, plus requested or forced pairs below the threshold.
    """
    n = len(scores.profiles)
    excluded = _per_participant(scores, np.flatnonzero(excluded_above), n)
    after = scores.candidate_counts - excluded + _per_participant(scores, np.flatnonzero(extra), n)
    before = after + excluded
    return [
        Shortfall(
            p.id,
            int(degree[i]),
            int(minimum[i]),
            _reason(p.cap, minimum[i], after[i], before[i]),
            int(after[i]),
        )
        for i, p in enumerate(scores.profiles)
        if degree[i] < minimum[i]
    ]


def _per_participant(scores: PairScores, rows: IntArray, n: int) -> IntArray:
    ends = np.concatenate([scores.supplier[rows], scores.demander[rows]])
    return np.bincount(ends, minlength=n).astype(np.int64)


def _reason(cap: int, minimum: int, after: int, before: int) -> ShortfallReason:
    if cap < minimum:
        return ShortfallReason.NO_FREE_SLOTS
    if after < minimum:
        return (
            ShortfallReason.EXCLUDED_BY_RULES if before >= minimum else ShortfallReason.NOT_ENOUGH_CANDIDATES
        )
    return ShortfallReason.CANDIDATES_FULL


def _meeting(
    scores: PairScores, row: int, utility: float, resolved: ResolvedPreferences, is_forced: bool | np.bool_
) -> Meeting:
    supplier = scores.profiles[int(scores.supplier[row])]
    demander = scores.profiles[int(scores.demander[row])]
    kinds = resolved.requests.get(pair_key(supplier.id, demander.id), {})
    reasons: list[tuple[Component, str]] = [(Component.FORCED, "")] if is_forced else []
    reasons += request_reasons(kinds, supplier.id)
    reasons += score_reasons(supplier, demander, scores.components[row].tolist(), scores.weights)
    return Meeting(
        supplier_id=supplier.id,
        demander_id=demander.id,
        score=float(scores.score[row]),
        utility=utility,
        is_forced=bool(is_forced),
        is_mutual=len(kinds) == 2,
        explanation=explanation(reasons),
        reasons=tuple(reasons),
    )


def _unscored_forced(a: MatchProfile, b: MatchProfile) -> Meeting:
    supplier, demander = (b, a) if a.role is Role.BUYER and b.role is not Role.BUYER else (a, b)
    reasons = ((Component.FORCED, ""),)
    return Meeting(supplier.id, demander.id, 0.0, 0.0, True, False, explanation(reasons), reasons)


def _solve(
    n: int, supplier: IntArray, demander: IntArray, utility: IntArray, capacity: IntArray, target: IntArray
) -> BoolArray:
    """Which of the given pairs to select (see the module docstring); all arrays are per pair or per
    participant, `capacity` and `target` already net of forced meetings."""
    on_supply = np.bincount(supplier, minlength=n)
    on_demand = np.bincount(demander, minlength=n)
    two_sided = (on_supply > 0) & (on_demand > 0)
    # Any utility difference between two selections is below the sum of |utility|.
    big = int(np.abs(utility).sum()) + 1
    supply_cap = np.where(on_demand == 0, capacity, 0).astype(np.int64)
    if two_sided.any():
        supply_cap = np.where(
            two_sided,
            _price_split(n, supplier, demander, utility, capacity, target, two_sided, big),
            supply_cap,
        )
    demand_cap = capacity - supply_cap
    zero = np.zeros(n, dtype=np.int64)
    supply_target, demand_target = _allocate(target, supply_cap, demand_cap, zero, zero)
    best: tuple[int, int] | None = None
    best_chosen = np.zeros(len(supplier), dtype=bool)
    for _ in range(REBALANCE_ROUNDS):
        chosen = _min_cost_flow(
            n, supplier, demander, utility, supply_cap, demand_cap, supply_target, demand_target, big
        )
        supply_flow = np.bincount(supplier[chosen], minlength=n)
        demand_flow = np.bincount(demander[chosen], minlength=n)
        value = (int(np.minimum(supply_flow + demand_flow, target).sum()), int(utility[chosen].sum()))
        if best is None or value > best:
            best, best_chosen = value, chosen
        spare = capacity - supply_flow - demand_flow
        supply_full = supply_flow == supply_cap
        demand_full = demand_flow == demand_cap
        grow_supply = two_sided & (spare > 0) & supply_full & ~demand_full
        grow_demand = two_sided & (spare > 0) & demand_full & ~supply_full
        if not (grow_supply | grow_demand).any():
            break
        supply_cap = np.where(
            grow_supply, supply_flow + spare, np.where(grow_demand, supply_flow, supply_cap)
        )
        demand_cap = capacity - supply_cap
        supply_target, demand_target = _allocate(target, supply_cap, demand_cap, supply_flow, demand_flow)
    return best_chosen


def _price_split(
    n: int,
    supplier: IntArray,
    demander: IntArray,
    utility: IntArray,
    capacity: IntArray,
    target: IntArray,
    two_sided: BoolArray,
    big: int,
) -> IntArray:
    """How much of each two-sided participant's cap to give its supplier side (Lagrangian pricing).

    Relax the coupling S(v) + D(v) <= cap(v): both sides get the whole cap, and every unit through
    either side pays a price p(v). Bisect each p(v) independently: over-used at p -> raise it,
    under-used -> lower it, until every two-sided participant uses at most its cap or the rounds run
    out. Pricing lets a participant's scarce side win: a "both" exporter is worth more as a
    supplier to buyers with spare seats than as a demander of sellers' scarce seats, which a split
    by raw utility gets wrong (measured with min_score 0.35: 0.9% of utility lost at 400
    participants, 0% with prices).
    Two-sided participants get no minimum reward in the relaxation, which would otherwise count
    twice; the final solves restore it.
    """
    low = np.zeros(n, dtype=np.int64)
    # A price above most pair utilities only empties the side; the 90th percentile bounds the search.
    high = np.full(n, int(np.percentile(np.abs(utility), 90)) + 1, dtype=np.int64)
    price = np.zeros(n, dtype=np.int64)
    relaxed_target = np.where(two_sided, 0, target)
    split = capacity
    for _ in range(PRICE_ROUNDS):
        relaxed = _min_cost_flow(
            n, supplier, demander, utility, capacity, capacity, relaxed_target, relaxed_target, big, price
        )
        used_supply = np.bincount(supplier[relaxed], minlength=n)
        used = used_supply + np.bincount(demander[relaxed], minlength=n)
        # The split follows the relaxed solution: over-used caps scaled down pro rata, spare
        # capacity to the side that was used more.
        scaled = (2 * capacity * used_supply + used) // np.maximum(2 * used, 1)
        split = np.where(
            used > capacity,
            scaled,
            np.where(2 * used_supply >= used, capacity - (used - used_supply), used_supply),
        )
        excess = np.where(two_sided, used - capacity, 0)
        if (excess <= 0).all() and (price[excess < 0] == 0).all():
            break
        low = np.where(excess > 0, price, low)
        high = np.where(excess < 0, price, high)
        price = np.where(excess == 0, price, (low + high) // 2)
    return np.asarray(split, dtype=np.int64)


def _allocate(
    target: IntArray, supply_cap: IntArray, demand_cap: IntArray, supply_flow: IntArray, demand_flow: IntArray
) -> tuple[IntArray, IntArray]:
    """Split each target between the S and D sides: first what the current flow already fills, so
    the current solution keeps its objective value, then the rest where there is more room."""
    supply_target = np.minimum(supply_flow, target)
    demand_target = np.minimum(demand_flow, target - supply_target)
    left = target - supply_target - demand_target
    supply_room = supply_cap - supply_target
    demand_room = demand_cap - demand_target
    to_supply = np.where(supply_room >= demand_room, np.minimum(left, supply_room), 0)
    demand_extra = np.minimum(left - to_supply, demand_room)
    to_supply = np.minimum(left - demand_extra, supply_room)
    return supply_target + to_supply, demand_target + demand_extra


def _min_cost_flow(
    n: int,
    supplier: IntArray,
    demander: IntArray,
    utility: IntArray,
    supply_cap: IntArray,
    demand_cap: IntArray,
    supply_target: IntArray,
    demand_target: IntArray,
    big: int,
    price: IntArray | None = None,
) -> BoolArray:
    """One exact solve for fixed side caps and targets; returns which pairs carry flow."""
    source, sink = 2 * n, 2 * n + 1
    people = np.arange(n, dtype=np.int64)
    total = int(supply_cap.sum())
    tails = [supplier, np.full(n, source), np.full(n, source), n + people, n + people, np.array([source])]
    heads = [n + demander, people, people, np.full(n, sink), np.full(n, sink), np.array([sink])]
    capacities = [
        np.ones(len(supplier), dtype=np.int64),
        supply_target,
        supply_cap - supply_target,
        demand_target,
        demand_cap - demand_target,
        np.array([total]),
    ]
    extra = np.zeros(n, dtype=np.int64) if price is None else price
    costs = [-utility, extra - big, extra, extra - big, extra, np.zeros(1)]
    flow = min_cost_flow.SimpleMinCostFlow()
    pair_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(capacities).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )[: len(supplier)]
    flow.set_nodes_supplies(
        np.array([source, sink], dtype=np.int32), np.array([total, -total], dtype=np.int64)
    )
    status = flow.solve()
    if status != flow.OPTIMAL:
        # Unreachable for a well-formed network (the bypass arc makes every supply feasible).
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return np.asarray(flow.flows(pair_arcs)) > 0
