"""Bounds that let a schedule state its own distance from the best possible one.

Problem: "we placed 11,988 meetings with 310 breaks" means little without the limit. Two bounds:

- Upper bound on placement (count and priority): the b-matching LP relaxation. Variables
  0 <= x_m <= 1 for every meeting with at least one allowed slot (availability, sessions and fixed
  slot); for every participant, sum of its x_m <= min(max_meetings, usable slots); the pooled
  meetings together <= pool tables x slots they can use. Any schedule is a feasible 0/1 point of
  this LP, so floor(LP optimum) bounds it. On bipartite instances (buyers meet sellers) the
  participant rows are totally unimodular, so without the pool row the bound is the exact maximum
  b-matching: only slot conflicts (edge colouring) and tables can open a gap.
- Lower bound on breaks, valid for every schedule that places at least a given priority P. With
  slack = (total placeable priority) - P, participant p keeps at least k_p of its meetings, where
  k_p = (its placeable meetings) - (how many of its cheapest meetings fit in the slack). Its usable
  slots split, per day, into maximal runs ("segments"). Meetings in j segments of one day make at
  least j - 1 breaks, so p needs at least the fewest extra segments, largest first after the
  largest of each day, whose lengths reach k_p. The sum over participants bounds the total; the
  largest bounds the worst-off participant.

Invariants: bounds are sound (never cut off a feasible schedule); they need not be tight.

Cost: one sparse LP with one column per meeting and one row per participant (HiGHS; well under a
second at 50,000 meetings), plus O(participants x slots) for the break bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array

from engine.scheduling.core import Compiled

# The LP optimum is a float; subtract a little before flooring so that 41.9999999 counts as 42.
_LP_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class Bounds:
    upper_placed: int
    upper_priority: int
    # Per participant, the breaks it must have in any schedule placing at least the given priority.
    lower_breaks: tuple[int, ...]

    @property
    def lower_total_breaks(self) -> int:
        return sum(self.lower_breaks)

    @property
    def lower_max_breaks(self) -> int:
        return max(self.lower_breaks, default=0)


def usable_slots(c: Compiled, p: int) -> int:
    """Slots in which participant p could hold at least one of its meetings."""
    mask = 0
    for m in c.by_participant[p]:
        mask |= c.allowed[m]
    return mask


def placement_upper_bound(c: Compiled, weights: list[int]) -> int:
    """floor of the LP relaxation of the weighted b-matching (see module docstring)."""
    columns = [m for m in range(c.n_meetings) if c.allowed[m] and weights[m] > 0]
    if not columns:
        return 0
    n_participants = len(c.participant_ids)
    rows: list[int] = []
    cols: list[int] = []
    for j, m in enumerate(columns):
        a, b = c.ends[m]
        rows += [a, b]
        cols += [j, j]
    capacity = [min(c.cap[p], usable_slots(c, p).bit_count()) for p in range(n_participants)]
    pooled = [j for j, m in enumerate(columns) if not c.table_opts[m]]
    if pooled:
        pool_slots = 0
        for j in pooled:
            pool_slots |= c.allowed[columns[j]]
        rows += [n_participants] * len(pooled)
        cols += pooled
        capacity.append(len(c.pool) * pool_slots.bit_count())
    matrix = csr_array(
        (np.ones(len(rows)), (np.array(rows), np.array(cols))), shape=(len(capacity), len(columns))
    )
    cost = -np.array([weights[m] for m in columns], dtype=float)
    solution = linprog(cost, A_ub=matrix, b_ub=np.array(capacity, dtype=float), bounds=(0, 1), method="highs")
    if solution.status != 0:
        # The LP is always feasible (x = 0) and bounded; if HiGHS still fails, fall back to the
        # trivial bound rather than report a wrong one.
        return sum(weights[m] for m in columns)
    return math.floor(-float(solution.fun) + _LP_TOLERANCE)


def _segments_by_day(c: Compiled, mask: int) -> list[list[int]]:
    result: list[list[int]] = []
    for day in c.day_masks:
        lengths: list[int] = []
        run = 0
        bits = mask & day
        for s in range(c.n_slots):
            if not (day >> s) & 1:
                continue
            if (bits >> s) & 1:
                run += 1
            elif run:
                lengths.append(run)
                run = 0
        if run:
            lengths.append(run)
        result.append(lengths)
    return result


def min_breaks_for(c: Compiled, p: int, k: int) -> int:
    """Fewest breaks participant p can have with k meetings in its usable slots."""
    if k <= 1:
        return 0
    firsts: list[int] = []
    extras: list[int] = []
    for lengths in _segments_by_day(c, usable_slots(c, p) & c.avail[p]):
        if lengths:
            ordered = sorted(lengths, reverse=True)
            firsts.append(ordered[0])
            extras += ordered[1:]
    room = sum(firsts)
    breaks = 0
    for length in sorted(extras, reverse=True):
        if room >= k:
            break
        room += length
        breaks += 1
    return breaks


def break_lower_bounds(c: Compiled, priority_placed: int) -> tuple[int, ...]:
    """Per-participant break lower bounds for schedules placing at least `priority_placed`."""
    placeable = [m for m in range(c.n_meetings) if c.allowed[m]]
    slack = sum(c.priority[m] for m in placeable) - priority_placed
    result: list[int] = []
    for p in range(len(c.participant_ids)):
        own = sorted(c.priority[m] for m in c.by_participant[p] if c.allowed[m])
        droppable = 0
        spent = 0
        for weight in own:
            if spent + weight > slack:
                break
            spent += weight
            droppable += 1
        keep = min(len(own) - droppable, c.cap[p])
        result.append(min_breaks_for(c, p, keep))
    return tuple(result)


def compute_bounds(c: Compiled, priority_placed: int) -> Bounds:
    ones = [1] * c.n_meetings
    return Bounds(
        upper_placed=placement_upper_bound(c, ones),
        upper_priority=placement_upper_bound(c, c.priority),
        lower_breaks=break_lower_bounds(c, priority_placed),
    )
