"""Held is a state the desk sets (services.onsite: arrive, settle_meetings), for any order of
arrivals, no-shows and settling times: each meeting ends in the one status the rule in docs/api.md
("Arrival, check-in and held") gives it, settling twice changes nothing, and the dashboard's
buckets always add up to the meetings.

The day of tests/portal/organizer/test_held.py: B1 hosts S1 (d1s01, 13:00-13:30 UTC) and S2
(d1s02, 13:30-14:00), B2 hosts S3 (d1s01) and S4 (d1s02).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from models import DomainEvent, Event, Meeting, MeetingStatus
from services.dashboard import load_summary
from services.db import transaction
from services.lifecycle import end_event
from services.onsite import arrive, mark_no_show, settle_meetings
from tests.hostile.strategies import fresh_database
from tests.portal.organizer.test_held import MEETINGS, build_day

pytestmark = pytest.mark.integration

NOW = datetime(2027, 4, 1, 15, 0, tzinfo=UTC)
DAY = datetime(2027, 5, 19, 13, 0, tzinfo=UTC)
SLOT_END = {"d1s01": DAY + timedelta(minutes=30), "d1s02": DAY + timedelta(minutes=60)}
PEOPLE = ("B1", "B2", "S1", "S2", "S3", "S4")


def expected(
    arrivals: dict[str, datetime], no_shows: set[str], settled_at: datetime, *, event_over: bool
) -> dict[str, MeetingStatus]:
    result = {}
    for key, (host, visitor, slot, _) in MEETINGS.items():
        ends = SLOT_END[slot]
        both = host in arrivals and visitor in arrivals and max(arrivals[host], arrivals[visitor]) <= ends
        if key in no_shows:
            result[key] = MeetingStatus.NO_SHOW
        # Ending the event holds the slots that began by then; a slot that never began is not held.
        elif both and (ends <= settled_at or (event_over and ends - timedelta(minutes=30) <= settled_at)):
            result[key] = MeetingStatus.HELD
        elif both:
            result[key] = MeetingStatus.CHECKED_IN
        else:
            result[key] = MeetingStatus.SCHEDULED
    return result


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    arrival_minutes=st.dictionaries(st.sampled_from(PEOPLE), st.integers(min_value=-90, max_value=120)),
    no_shows=st.sets(st.sampled_from(sorted(MEETINGS))),
    extra_minutes=st.integers(min_value=0, max_value=150),
)
def test_meetings_are_held_exactly_by_the_rule(
    sqlite_template: Path,
    tmp_path: Path,
    arrival_minutes: dict[str, int],
    no_shows: set[str],
    extra_minutes: int,
) -> None:
    arrivals = {who: DAY + timedelta(minutes=m) for who, m in arrival_minutes.items()}
    before_the_day = DAY - timedelta(hours=3)
    settled_at = max([before_the_day, *arrivals.values()]) + timedelta(minutes=extra_minutes)
    with fresh_database(sqlite_template, tmp_path) as engine:
        day = build_day(engine, NOW)

        def event_of(session: Session) -> Event:
            event = session.get(Event, day.event_id)
            assert event is not None
            return event

        def current() -> dict[str, MeetingStatus]:
            with transaction(engine) as session:
                rows = {m.id: m.status for m in session.exec(select(Meeting))}
                buckets = load_summary(session, event_of(session)).meetings
            assert sum(buckets.by_status.values()) == buckets.total == len(MEETINGS)
            assert buckets.by_status == {s.value: list(rows.values()).count(s) for s in MeetingStatus}
            return {key: rows[meeting_id] for key, meeting_id in day.meetings.items()}

        # Staff mark the no-shows first (a held meeting is final), then people arrive in time order.
        for key in sorted(no_shows):
            with transaction(engine) as session:
                mark_no_show(session, event_of(session), day.meetings[key], now=before_the_day)
        for who, at in sorted(arrivals.items(), key=lambda item: (item[1], item[0])):
            with transaction(engine) as session:
                assert arrive(session, event_of(session), day.people[who], now=at).changed is True
            with transaction(engine) as session:
                assert arrive(session, event_of(session), day.people[who], now=at).changed is False
            current()
        with transaction(engine) as session:
            settle_meetings(session, event_of(session), now=settled_at)
        assert current() == expected(arrivals, no_shows, settled_at, event_over=False)
        with transaction(engine) as session:
            assert settle_meetings(session, event_of(session), now=settled_at) == ()
        with transaction(engine) as session:
            end_event(session, event_of(session), now=settled_at)
        final = expected(arrivals, no_shows, settled_at, event_over=True)
        assert current() == final
        with transaction(engine) as session:
            facts = session.exec(
                select(DomainEvent.resource_id).where(DomainEvent.name == "rueda.meeting.held")
            )
            held = sorted(facts)
        assert held == sorted(
            f"rueda.meeting.{day.meetings[k]}" for k, s in final.items() if s is MeetingStatus.HELD
        )
