"""The break models of `engine.scheduling.exact` and the planted generator: exact known optima."""

from __future__ import annotations

from random import Random

import pytest

from engine.scheduling.bounds import break_lower_bounds
from engine.scheduling.core import State, compile_instance
from engine.scheduling.exact import minimize_breaks, reach_bound
from engine.scheduling.generator import GeneratorConfig, generate_planted, hidden_breaks, research_config
from engine.scheduling.model import (
    Assignment,
    Constraints,
    Instance,
    MeetingSpec,
    Participant,
    ScheduleResult,
    ScheduleStatus,
    Stats,
)
from engine.scheduling.solver import build_result, solve
from tests.engine.scheduling.checker import agenda_breaks, check
from tests.engine.scheduling.scheduling_strategies import make_slots


def _forum(seed: int, gap_share: float = 0.0) -> GeneratorConfig:
    return GeneratorConfig(
        "tiny-forum",
        hosts=0,
        movers=14,
        meetings=30,
        days=1,
        slots_per_day=8,
        pool_tables=6,
        late_share=0.15,
        early_share=0.15,
        one_day_share=0.0,
        session_share=0.0,
        schedule_all=True,
        max_break_spread=2,
        planted=True,
        gap_share=gap_share,
    )


def _hidden_result(instance: Instance, hidden: dict[str, str]) -> ScheduleResult:
    """The hidden schedule as a result (pool tables handed out per slot), for the checker."""
    used: dict[str, int] = {}
    assignments = []
    for m in instance.meetings:
        slot = hidden[m.id]
        assignments.append(Assignment(m.id, slot, instance.tables[used.get(slot, 0)]))
        used[slot] = used.get(slot, 0) + 1
    breaks = hidden_breaks(instance, hidden)
    stats = Stats(
        placed=len(assignments),
        unplaced=0,
        placed_priority=sum(m.priority for m in instance.meetings),
        breaks=sum(breaks.values()),
        max_breaks=max(breaks.values(), default=0),
        upper_bound_placed=len(assignments),
        lower_bound_breaks=0,
        seconds=0.0,
        upper_bound_priority=sum(m.priority for m in instance.meetings),
    )
    return ScheduleResult(tuple(assignments), (), stats)


def _triangle() -> Instance:
    # Three meetings that pairwise share a participant need three different slots; whoever is not
    # in the middle one meets in slots 1 and 3: one break in every schedule, yet each participant
    # alone (two meetings, three free slots) could have none, so `bounds.py` says 0.
    return Instance(
        make_slots(1, 3),
        ("P1", "P2"),
        (Participant("A"), Participant("B"), Participant("C")),
        (MeetingSpec("AB", ("A", "B")), MeetingSpec("BC", ("B", "C")), MeetingSpec("AC", ("A", "C"))),
        Constraints(schedule_all=True, max_break_spread=2),
    )


@pytest.mark.unit
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_hidden_schedule_is_feasible_and_its_breaks_are_counted(seed: int) -> None:
    planted = generate_planted(research_config(Random(seed), seed + 1), seed)
    hidden = dict(planted.hidden)
    result = _hidden_result(planted.instance, hidden)
    assert check(planted.instance, result) == []
    breaks = agenda_breaks(planted.instance, result)
    assert (planted.breaks, planted.max_breaks) == (sum(breaks.values()), max(breaks.values()))
    # Only participants away in the middle of the day have a break, and at most one.
    assert planted.max_breaks <= 1
    assert generate_planted(research_config(Random(seed), seed + 1), seed) == planted


@pytest.mark.unit
def test_planted_without_gaps_is_break_free() -> None:
    for seed in range(5):
        planted = generate_planted(_forum(seed), seed)
        assert planted.breaks == 0
        assert len(planted.hidden) == len(planted.instance.meetings)


@pytest.mark.unit
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_solve_planted_zero_break_forum_reaches_zero_and_proves_it(seed: int) -> None:
    planted = generate_planted(_forum(seed), seed)
    assert planted.breaks == 0
    result = solve(planted.instance, time_limit=5.0, seed=seed)
    assert check(planted.instance, result) == []
    assert (result.stats.unplaced, result.stats.breaks, result.status) == (0, 0, ScheduleStatus.OPTIMAL)


@pytest.mark.unit
def test_reach_bound_moves_a_broken_schedule_to_zero_breaks() -> None:
    # A-B, B-C, C-D on four slots: placed as 1, 3, 4, B has a break; 1, 2, 3 has none.
    instance = Instance(
        make_slots(1, 4),
        ("P1", "P2"),
        (Participant("A"), Participant("B"), Participant("C"), Participant("D")),
        (MeetingSpec("AB", ("A", "B")), MeetingSpec("BC", ("B", "C")), MeetingSpec("CD", ("C", "D"))),
    )
    c = compile_instance(instance)
    state = State(c)
    for m, s in ((0, 0), (1, 2), (2, 3)):
        state.place(m, s)
    assert state.total_breaks == 1
    outcome = reach_bound(state, [0, 0, 0, 0], deterministic_time=5.0, seed=0)
    assert (outcome.optimal, outcome.improved, state.total_breaks) == (True, True, 0)
    result = build_result(state, seconds=0.0, status=ScheduleStatus.FEASIBLE)
    assert check(instance, result) == []
    assert result.status is ScheduleStatus.OPTIMAL


@pytest.mark.unit
def test_reach_bound_proves_the_triangle_needs_a_break() -> None:
    instance = _triangle()
    state = State(compile_instance(instance))
    for m in range(3):
        state.place(m, m)
    outcome = reach_bound(state, [0, 0, 0], deterministic_time=5.0, seed=0)
    assert (outcome.optimal, outcome.lower_bound) == (False, 1)
    exact = minimize_breaks(state, deterministic_time=5.0, seed=0)
    assert (exact.optimal, exact.lower_bound, state.total_breaks) == (True, 1, 1)


@pytest.mark.unit
def test_solve_triangle_is_optimal_with_one_break_above_the_simple_bound() -> None:
    instance = _triangle()
    result = solve(instance, time_limit=2.0, seed=0)
    assert check(instance, result) == []
    assert (result.stats.breaks, result.stats.lower_bound_breaks, result.status) == (
        1,
        1,
        ScheduleStatus.OPTIMAL,
    )


@pytest.mark.unit
def test_solve_planted_forum_with_forced_breaks_meets_its_bound() -> None:
    # Participants away mid-day with more meetings than either side of the absence holds must
    # break once in any schedule; the planted schedule has exactly those breaks.
    for seed in range(20):
        planted = generate_planted(_forum(seed, gap_share=0.3), seed)
        c = compile_instance(planted.instance)
        if planted.breaks and sum(break_lower_bounds(c, len(planted.instance.meetings))) == planted.breaks:
            break
    else:
        pytest.fail("no planted forum with forced breaks among 20 seeds")
    result = solve(planted.instance, time_limit=5.0, seed=0)
    assert check(planted.instance, result) == []
    assert (result.stats.breaks, result.stats.lower_bound_breaks, result.status) == (
        planted.breaks,
        planted.breaks,
        ScheduleStatus.OPTIMAL,
    )
