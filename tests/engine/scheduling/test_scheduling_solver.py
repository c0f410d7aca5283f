"""Solver properties on random small instances, and exact results on hand-made ones."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from engine.scheduling.generator import GeneratorConfig, generate_instance
from engine.scheduling.model import (
    Constraints,
    Instance,
    MeetingSpec,
    Participant,
    ScheduleStatus,
    Unscheduled,
    UnscheduledReason,
)
from engine.scheduling.solver import EXACT_LIMIT, solve
from tests.engine.scheduling.checker import agenda_breaks, check
from tests.engine.scheduling.scheduling_strategies import instances, make_slots

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _complete_bipartite(n: int) -> Instance:
    buyers = [Participant(f"B{i}", table=f"T{i}") for i in range(n)]
    sellers = [Participant(f"S{j}") for j in range(n)]
    meetings = tuple(MeetingSpec(f"M{i}-{j}", (f"B{i}", f"S{j}")) for i in range(n) for j in range(n))
    return Instance(make_slots(1, n), tuple(f"T{i}" for i in range(n)), (*buyers, *sellers), meetings)


@pytest.mark.unit
@PROPERTY
@given(instances())
def test_solve_result_is_feasible_for_random_instances(instance: Instance) -> None:
    result = solve(instance, time_limit=0.5, seed=1)
    assert check(instance, result) == []


@pytest.mark.unit
@PROPERTY
@given(instances())
def test_solve_same_seed_gives_same_result(instance: Instance) -> None:
    first = solve(instance, time_limit=0.5, seed=7)
    second = solve(instance, time_limit=0.5, seed=7)
    assert (first.assignments, first.unscheduled, first.status) == (
        second.assignments,
        second.unscheduled,
        second.status,
    )
    assert first.stats.breaks == second.stats.breaks


@pytest.mark.unit
@pytest.mark.parametrize("n", [3, 5])
def test_solve_complete_bipartite_with_n_slots_has_zero_breaks(n: int) -> None:
    instance = _complete_bipartite(n)
    result = solve(instance, time_limit=2.0, seed=0)
    assert check(instance, result) == []
    assert (result.stats.placed, result.stats.breaks, result.status) == (n * n, 0, ScheduleStatus.OPTIMAL)
    # Every buyer meets at its own table.
    assert all(a.table == "T" + a.meeting[1 : a.meeting.index("-")] for a in result.assignments)


@pytest.mark.unit
def test_solve_schedule_all_impossible_names_the_blocking_meeting() -> None:
    instance = Instance(
        make_slots(1, 2),
        ("T1", "T2", "T3"),
        (Participant("A"), Participant("B"), Participant("C"), Participant("D")),
        (
            MeetingSpec("M1", ("A", "B"), priority=3),
            MeetingSpec("M2", ("A", "C"), priority=2),
            MeetingSpec("M3", ("A", "D"), priority=1),
        ),
        Constraints(schedule_all=True),
    )
    result = solve(instance, time_limit=2.0, seed=0)
    assert check(instance, result) == []
    assert result.status is ScheduleStatus.SCHEDULE_ALL_IMPOSSIBLE
    assert result.unscheduled == (Unscheduled("M3", UnscheduledReason.PARTICIPANT_FULL),)


@pytest.mark.unit
def test_solve_forced_break_meets_the_break_lower_bound() -> None:
    # A cannot use the middle slot, so its two meetings sit at both ends: one break, provably.
    slots = make_slots(1, 3)
    instance = Instance(
        slots,
        ("T1", "T2"),
        (Participant("A", unavailable=frozenset({slots[1].id})), Participant("B"), Participant("C")),
        (MeetingSpec("M1", ("A", "B")), MeetingSpec("M2", ("A", "C"))),
    )
    result = solve(instance, time_limit=2.0, seed=0)
    assert check(instance, result) == []
    assert (result.stats.breaks, result.stats.lower_bound_breaks) == (1, 1)
    assert agenda_breaks(instance, result) == {"A": 1, "B": 0, "C": 0}
    assert result.status is ScheduleStatus.OPTIMAL


@pytest.mark.unit
def test_solve_upper_bound_counts_max_meetings() -> None:
    instance = Instance(
        make_slots(1, 4),
        ("T1",),
        (Participant("A", max_meetings=2), Participant("B"), Participant("C"), Participant("D")),
        (
            MeetingSpec("M1", ("A", "B"), priority=1),
            MeetingSpec("M2", ("A", "C"), priority=5),
            MeetingSpec("M3", ("A", "D"), priority=2),
        ),
    )
    result = solve(instance, time_limit=2.0, seed=0)
    assert check(instance, result) == []
    assert (result.stats.upper_bound_placed, result.stats.upper_bound_priority) == (2, 7)
    assert result.stats.placed_priority == 7
    assert result.unscheduled == (Unscheduled("M1", UnscheduledReason.PARTICIPANT_FULL),)
    assert result.status is ScheduleStatus.OPTIMAL


@pytest.mark.unit
def test_solve_single_pool_table_limits_pooled_meetings_per_slot() -> None:
    instance = Instance(
        make_slots(1, 1),
        ("P1",),
        (Participant("A"), Participant("B"), Participant("C"), Participant("D")),
        (MeetingSpec("M1", ("A", "B"), priority=2), MeetingSpec("M2", ("C", "D"))),
    )
    result = solve(instance, time_limit=2.0, seed=0)
    assert check(instance, result) == []
    assert [(a.meeting, a.slot, a.table) for a in result.assignments] == [("M1", "d1s0", "P1")]
    assert result.unscheduled == (Unscheduled("M2", UnscheduledReason.NO_TABLE),)


@pytest.mark.unit
def test_solve_respects_precedence_and_fixed_slot() -> None:
    slots = make_slots(1, 3)
    instance = Instance(
        slots,
        ("T1", "T2"),
        (Participant("A", table="T1"), Participant("B"), Participant("C", table="T2")),
        (
            MeetingSpec("M1", ("A", "B"), after=("M2",)),
            MeetingSpec("M2", ("C", "B"), fixed_slot=slots[1].id),
        ),
    )
    result = solve(instance, time_limit=2.0, seed=0)
    assert check(instance, result) == []
    assert {a.meeting: (a.slot, a.table) for a in result.assignments} == {
        "M2": ("d1s1", "T2"),
        "M1": ("d1s2", "T1"),
    }


@pytest.mark.unit
def test_solve_reports_no_allowed_slot() -> None:
    slots = make_slots(1, 2)
    instance = Instance(
        slots,
        ("T1",),
        (
            Participant("A", unavailable=frozenset({slots[0].id})),
            Participant("B", unavailable=frozenset({slots[1].id})),
        ),
        (MeetingSpec("M1", ("A", "B")),),
    )
    result = solve(instance, time_limit=1.0, seed=0)
    assert result.unscheduled == (Unscheduled("M1", UnscheduledReason.NO_ALLOWED_SLOT),)
    assert (result.stats.upper_bound_placed, result.status) == (0, ScheduleStatus.OPTIMAL)


@pytest.mark.unit
def test_solve_large_path_is_feasible_and_reproducible() -> None:
    # Above EXACT_LIMIT the pipeline uses restarts, polish and CP-SAT neighbourhoods instead of
    # the whole model; this instance exercises that path.
    config = GeneratorConfig(
        "mid",
        hosts=120,
        movers=300,
        meetings=EXACT_LIMIT + 100,
        days=2,
        slots_per_day=10,
        pool_tables=10,
        host_cap=16,
        mover_cap=10,
        max_break_spread=3,
    )
    instance = generate_instance(config, seed=2)
    first = solve(instance, time_limit=3.0, seed=4)
    second = solve(instance, time_limit=3.0, seed=4)
    assert check(instance, first) == []
    assert (first.assignments, first.unscheduled) == (second.assignments, second.unscheduled)
    assert first.stats.placed >= first.stats.upper_bound_placed - 5


@pytest.mark.unit
def test_solve_empty_instance_is_trivially_optimal() -> None:
    result = solve(Instance((), (), (), ()), time_limit=1.0, seed=0)
    assert (result.assignments, result.unscheduled, result.status) == ((), (), ScheduleStatus.OPTIMAL)
    assert (result.stats.placed, result.stats.upper_bound_placed, result.stats.breaks) == (0, 0, 0)
