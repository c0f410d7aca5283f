"""The waiting list ranks exactly the meetings that fit a freed cell."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.scheduling.model import (
    Assignment,
    Instance,
    MeetingSpec,
    Participant,
    ScheduleResult,
    Stats,
    Unscheduled,
    UnscheduledReason,
)
from engine.scheduling.solver import solve
from engine.scheduling.waitlist import WaitlistEntry, rank_waitlist
from tests.engine.scheduling.checker import check
from tests.engine.scheduling.scheduling_strategies import instances, make_slots


@pytest.mark.unit
def test_rank_waitlist_orders_by_priority_then_added_breaks_then_instance_order() -> None:
    slots = make_slots(1, 3)
    instance = Instance(
        slots,
        ("T1", "P1"),
        (
            Participant("B1", table="T1"),
            Participant("S1"),
            Participant("S2"),
            Participant("S3"),
            Participant("S4", unavailable=frozenset({"d1s1"})),
            Participant("S5"),
        ),
        (
            MeetingSpec("M1", ("B1", "S1")),
            MeetingSpec("M2", ("B1", "S2")),
            MeetingSpec("M3", ("B1", "S3")),
            MeetingSpec("M4", ("B1", "S4"), priority=5),
            MeetingSpec("M5", ("S2", "S5"), priority=9),
            MeetingSpec("M6", ("S1", "S3"), priority=2),
            MeetingSpec("M7", ("B1", "S5")),
        ),
    )
    # M2 in d1s1 was cancelled: T1 is free in d1s1.
    result = ScheduleResult(
        assignments=(Assignment("M1", "d1s0", "T1"), Assignment("M3", "d1s2", "T1")),
        unscheduled=tuple(
            Unscheduled(m, UnscheduledReason.NO_COMMON_FREE_SLOT) for m in ("M2", "M4", "M5", "M6", "M7")
        ),
        stats=Stats(2, 5, 2, 1, 1, 7, 0, 0.0),
    )
    ranked = rank_waitlist(instance, result, "d1s1", "T1")
    # M4: S4 unavailable; M5 and M6: two non-hosts need a pool table, not T1.
    # M7 fills B1's gap (-1) and opens nothing for S5; M2 fills the same gap.
    assert ranked == (WaitlistEntry("M2", 1, -1), WaitlistEntry("M7", 1, -1))
    assert rank_waitlist(instance, result, "d1s1", "P1") == (
        WaitlistEntry("M5", 9, 0),
        WaitlistEntry("M6", 2, 0),
    )


@pytest.mark.unit
def test_rank_waitlist_rejects_a_busy_cell() -> None:
    instance = Instance(
        make_slots(1, 1),
        ("T1",),
        (Participant("B1", table="T1"), Participant("S1")),
        (MeetingSpec("M1", ("B1", "S1")),),
    )
    result = ScheduleResult((Assignment("M1", "d1s0", "T1"),), (), Stats(1, 0, 1, 0, 0, 1, 0, 0.0))
    with pytest.raises(ValueError, match="table T1 is not free in slot d1s0"):
        rank_waitlist(instance, result, "d1s0", "T1")


@pytest.mark.unit
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.data())
def test_rank_waitlist_every_candidate_fits_the_freed_cell(instance: Instance, data: st.DataObject) -> None:
    result = solve(instance, time_limit=0.3, seed=0)
    if not result.assignments:
        return
    freed = data.draw(st.sampled_from(result.assignments))
    after_cancel = replace(
        result,
        assignments=tuple(a for a in result.assignments if a != freed),
        unscheduled=(*result.unscheduled, Unscheduled(freed.meeting, UnscheduledReason.NO_COMMON_FREE_SLOT)),
    )
    ranked = rank_waitlist(instance, after_cancel, freed.slot, freed.table)
    # Cancelling can open a gap beyond max_break_spread; refilling must not add new problems.
    already = {p for p in check(instance, after_cancel) if not p.startswith("stats.")}
    if not already:
        # The cancelled meeting itself fits its own cell.
        assert freed.meeting in [e.meeting for e in ranked]
    keys = [(-e.priority, e.added_breaks) for e in ranked]
    assert keys == sorted(keys)
    for entry in ranked:
        refilled = replace(
            after_cancel,
            assignments=(*after_cancel.assignments, Assignment(entry.meeting, freed.slot, freed.table)),
            unscheduled=tuple(u for u in after_cancel.unscheduled if u.meeting != entry.meeting),
        )
        problems = {p for p in check(instance, refilled) if not p.startswith("stats.")}
        assert problems <= already
