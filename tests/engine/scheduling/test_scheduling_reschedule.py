"""Rescheduling never moves locked meetings, moves nothing without changes, and reports changes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.scheduling.io import FormatError
from engine.scheduling.model import Assignment, Instance, MeetingSpec, Participant
from engine.scheduling.reschedule import (
    ChangeKind,
    Changes,
    MeetingChange,
    RescheduleConflict,
    TableOutage,
    reschedule,
)
from engine.scheduling.solver import solve
from tests.engine.scheduling.checker import check
from tests.engine.scheduling.scheduling_strategies import instances, make_slots

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.unit
@PROPERTY
@given(instances(), st.data())
def test_reschedule_without_changes_moves_nothing(instance: Instance, data: st.DataObject) -> None:
    previous = solve(instance, time_limit=0.3, seed=0)
    locks = data.draw(
        st.lists(st.booleans(), min_size=len(previous.assignments), max_size=len(previous.assignments))
    )
    previous = replace(
        previous,
        assignments=tuple(
            replace(a, is_locked=lock) for a, lock in zip(previous.assignments, locks, strict=True)
        ),
    )
    outcome = reschedule(instance, previous, Changes())
    assert outcome.changes == ()
    assert outcome.affected == ()
    assert outcome.result.assignments == previous.assignments


@pytest.mark.unit
@PROPERTY
@given(instances(), st.data())
def test_reschedule_never_moves_locked_meetings(instance: Instance, data: st.DataObject) -> None:
    previous = solve(instance, time_limit=0.3, seed=0)
    placed = [a.meeting for a in previous.assignments]
    locked = frozenset(data.draw(st.lists(st.sampled_from(placed), unique=True)) if placed else [])
    cancelled = (
        frozenset(
            data.draw(st.lists(st.sampled_from([m.id for m in instance.meetings]), unique=True, max_size=2))
            if instance.meetings
            else []
        )
        - locked
    )
    leaver = data.draw(st.sampled_from([p.id for p in instance.participants]))
    leaver_locked = {
        a.slot
        for a in previous.assignments
        if a.meeting in locked
        and leaver in next(m.participants for m in instance.meetings if m.id == a.meeting)
    }
    gone = frozenset(s.id for s in instance.slots[len(instance.slots) // 2 :]) - leaver_locked
    out_table = data.draw(st.sampled_from(instance.tables)) if instance.tables else None
    outage = ()
    if out_table is not None:
        busy = {a.slot for a in previous.assignments if a.table == out_table and a.meeting in locked}
        outage = (TableOutage(out_table, frozenset(s.id for s in instance.slots) - busy),)
    newcomer = Participant("NEW")
    partner = instance.participants[0].id
    changes = Changes(
        cancelled=cancelled,
        unavailable=((leaver, gone),),
        new_participants=(newcomer,),
        new_meetings=(MeetingSpec("MNEW", ("NEW", partner), priority=3),),
        tables_out=outage,
        locked=locked,
    )
    try:
        outcome = reschedule(instance, previous, changes)
    except RescheduleConflict as error:
        # Once others leave, locked meetings can pin gaps beyond the spread: the only conflict
        # these changes can cause, since they spare every locked slot and table.
        assert instance.constraints.max_break_spread is not None
        assert str(error) == "the locked meetings alone break max_break_spread"
        return
    assert check(outcome.instance, outcome.result) == []
    before = {a.meeting: (a.slot, a.table) for a in previous.assignments}
    after = {a.meeting: (a.slot, a.table) for a in outcome.result.assignments}
    for meeting in locked:
        assert after[meeting] == before[meeting]
    assert all(a.is_locked == (a.meeting in locked) for a in outcome.result.assignments)
    for a in outcome.result.assignments:
        for o in outage:
            assert not (a.table == o.table and a.slot in o.slots)
    reported = {c.meeting for c in outcome.changes}
    differing = {m for m in before.keys() | after.keys() if before.get(m) != after.get(m)}
    assert reported == differing


def _fair() -> Instance:
    slots = make_slots(1, 4)
    return Instance(
        slots,
        ("T1", "T2"),
        (Participant("B1", table="T1"), Participant("B2", table="T2"), Participant("S1"), Participant("S2")),
        (
            MeetingSpec("M1", ("B1", "S1")),
            MeetingSpec("M2", ("B1", "S2")),
            MeetingSpec("M3", ("B2", "S1")),
        ),
    )


@pytest.mark.unit
def test_reschedule_early_leaver_moves_only_its_late_meeting() -> None:
    instance = _fair()
    previous = solve(instance, time_limit=1.0, seed=0)
    previous = replace(
        previous,
        assignments=(
            Assignment("M1", "d1s0", "T1"),
            Assignment("M2", "d1s1", "T1", is_locked=True),
            Assignment("M3", "d1s2", "T2"),
        ),
    )
    changes = Changes(unavailable=(("S1", frozenset({"d1s2", "d1s3"})),))
    outcome = reschedule(instance, previous, changes)
    assert outcome.changes == (MeetingChange("M3", ChangeKind.MOVED, ("d1s2", "T2"), ("d1s1", "T2")),)
    assert outcome.affected == ("B2", "S1")
    assert check(outcome.instance, outcome.result) == []


@pytest.mark.unit
def test_reschedule_reports_cancellation_and_late_registration() -> None:
    instance = _fair()
    previous = replace(
        solve(instance, time_limit=1.0, seed=0),
        assignments=(
            Assignment("M1", "d1s0", "T1"),
            Assignment("M2", "d1s1", "T1"),
            Assignment("M3", "d1s1", "T2"),
        ),
    )
    changes = Changes(
        cancelled=frozenset({"M2"}),
        new_participants=(Participant("S3"),),
        new_meetings=(MeetingSpec("M4", ("B1", "S3")),),
    )
    outcome = reschedule(instance, previous, changes)
    assert outcome.changes == (
        MeetingChange("M2", ChangeKind.CANCELLED, ("d1s1", "T1"), None),
        MeetingChange("M4", ChangeKind.ADDED, None, ("d1s1", "T1")),
    )
    assert outcome.affected == ("B1", "S2", "S3")


@pytest.mark.unit
def test_reschedule_refuses_to_break_a_lock() -> None:
    instance = _fair()
    previous = replace(
        solve(instance, time_limit=1.0, seed=0),
        assignments=(Assignment("M1", "d1s0", "T1", is_locked=True),),
    )
    with pytest.raises(RescheduleConflict, match="locked meeting M1 can no longer stay in slot d1s0"):
        reschedule(instance, previous, Changes(tables_out=(TableOutage("T1", frozenset({"d1s0"})),)))


@pytest.mark.unit
def test_reschedule_rejects_a_late_registration_with_a_taken_id() -> None:
    instance = _fair()
    previous = solve(instance, time_limit=1.0, seed=0)
    with pytest.raises(FormatError) as error:
        reschedule(instance, previous, Changes(new_participants=(Participant("S1"),)))
    assert str(error.value) == "participants[4]: duplicate participant id 'S1' (first at index 2)"
