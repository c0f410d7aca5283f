"""Hypothesis strategies and small builders for scheduling tests."""

from __future__ import annotations

from hypothesis import strategies as st

from engine.scheduling.model import Constraints, Instance, MeetingSpec, Participant, Slot


def make_slots(days: int, per_day: int) -> tuple[Slot, ...]:
    half = max(1, per_day // 2)
    return tuple(
        Slot(f"d{d}s{i}", f"d{d}", "am" if i < half else "pm")
        for d in range(1, days + 1)
        for i in range(per_day)
    )


@st.composite
def instances(draw: st.DrawFn, max_participants: int = 7, max_meetings: int = 12) -> Instance:
    days = draw(st.integers(1, 2))
    per_day = draw(st.integers(2, 5))
    slots = make_slots(days, per_day)
    slot_ids = [s.id for s in slots]
    n = draw(st.integers(2, max_participants))
    hosts = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    pool = draw(st.integers(0, 2))
    tables = [f"H{i}" for i in range(n) if hosts[i]] + [f"P{i}" for i in range(pool)]
    participants = []
    for i in range(n):
        unavailable = draw(st.frozensets(st.sampled_from(slot_ids), max_size=len(slot_ids) // 2))
        cap = draw(st.one_of(st.none(), st.integers(1, 4)))
        participants.append(Participant(f"P{i}", unavailable, f"H{i}" if hosts[i] else None, cap))
    count = draw(st.integers(0, max_meetings))
    meetings: list[MeetingSpec] = []
    for j in range(count):
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        sessions = draw(st.one_of(st.none(), st.just(("am",)), st.just(("pm",))))
        fixed = draw(st.one_of(st.none(), st.none(), st.none(), st.sampled_from(slot_ids)))
        after = ()
        if j > 0 and draw(st.integers(0, 5)) == 0:
            after = (f"M{draw(st.integers(0, j - 1))}",)
        meetings.append(
            MeetingSpec(f"M{j}", (f"P{a}", f"P{b}"), draw(st.integers(1, 3)), sessions, fixed, after)
        )
    constraints = Constraints(draw(st.booleans()), draw(st.one_of(st.none(), st.integers(0, 2))))
    return Instance(slots, tuple(tables), tuple(participants), tuple(meetings), constraints, "random")
