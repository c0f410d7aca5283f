"""Held is a state the desk sets (issue 14, item 5), through the real portal: staff record arrivals
at the check-in desk and a no-show, the slots end, the event ends, and the dashboard and the
outcome report count the meetings that took place.

Four meetings on day 1 (America/Bogota, 08:00 = 13:00 UTC): buyer B1 hosts S1 (d1s01) and S2
(d1s02) at T1, buyer B2 hosts S3 (d1s01) and S4 (d1s02) at T2. Everybody but S4 arrives; staff mark
B2 × S4 a no-show. The slots are in 2027, after the desk's real clock, so every arrival is in time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from config import Settings
from models import (
    DomainEvent,
    Event,
    EventStatus,
    EventTable,
    Meeting,
    MeetingSeat,
    MeetingStatus,
    MemberRole,
    Participant,
    ParticipantRole,
    TimeSlot,
)
from services.accounts import create_user, grant_role
from services.db import transaction
from services.lifecycle import end_event
from services.onsite import arrive, settle_meetings
from services.report import build_report
from tests.factories import make_event, make_participant
from tests.portal.api.seed import PASSWORD, TestClient, build_app, portal_settings

pytestmark = pytest.mark.integration

EN = {"Accept-Language": "en"}

SLUG = "rueda-del-dia"
DASH = f"/organizer/events/{SLUG}"
# d1s01 ends 13:30 UTC, d1s02 ends 14:00 UTC.
BETWEEN_SLOTS = datetime(2027, 5, 19, 13, 45, tzinfo=UTC)
AFTER_THE_DAY = datetime(2027, 5, 21, 12, 0, tzinfo=UTC)
MEETINGS = {"M1": ("B1", "S1", "d1s01", "T1"), "M2": ("B1", "S2", "d1s02", "T1")}
MEETINGS |= {"M3": ("B2", "S3", "d1s01", "T2"), "M4": ("B2", "S4", "d1s02", "T2")}


@dataclass(frozen=True, slots=True)
class Day:
    event_id: int
    people: dict[str, int]
    meetings: dict[str, int]


@pytest.fixture
def day(engine: Engine, now: datetime) -> Day:
    return build_day(engine, now)


def build_day(engine: Engine, now: datetime) -> Day:
    """The event (published), its six participants, four scheduled meetings and staff Sol."""
    with transaction(engine) as session:
        event = make_event(session, now, slug=SLUG, name="Rueda del día")
        assert event.id is not None
        people: dict[str, int] = {}
        for name in ("B1", "B2", "S1", "S2", "S3", "S4"):
            role = ParticipantRole.BUYER if name.startswith("B") else ParticipantRole.SELLER
            person = make_participant(
                session,
                event,
                now,
                f"{name.lower()}@example.org",
                full_name=f"Persona {name}",
                organization=f"Empresa {name} SAS",
                role=role,
            )
            assert person.id is not None
            people[name] = person.id
        slots = {
            s.code: s.id or 0 for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))
        }
        tables = {
            t.code: t.id or 0 for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))
        }
        meetings: dict[str, int] = {}
        for key, (host, visitor, slot, table) in MEETINGS.items():
            meeting = Meeting(
                event_id=event.id,
                participant_a_id=people[host],
                participant_b_id=people[visitor],
                slot_id=slots[slot],
                table_id=tables[table],
                created_at=now,
                updated_at=now,
            )
            session.add(meeting)
            session.flush()
            assert meeting.id is not None
            meetings[key] = meeting.id
            for who in (host, visitor):
                session.add(
                    MeetingSeat(meeting_id=meeting.id, participant_id=people[who], slot_id=meeting.slot_id)
                )
        event.status = EventStatus.PUBLISHED
        session.add(event)
        staff = create_user(
            session, email="sol@organizer.org", full_name="Sol Staff", password=PASSWORD, now=now
        )
        grant_role(session, staff, event, MemberRole.STAFF)
        return Day(event.id, people, meetings)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return portal_settings(tmp_path, db_url)


@pytest.fixture
def client(engine: Engine, settings: Settings, day: Day) -> Iterator[TestClient]:
    with TestClient(build_app(settings, engine), follow_redirects=False) as client:
        yield client


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def figures(client: TestClient) -> dict[str, str]:
    page = client.get(DASH, headers=EN)
    assert page.status_code == 200
    keys = ("scheduled", "checked-in", "held", "no-shows", "cancelled")
    found = {key: re.search(rf'id="fig-{key}">([^<]*)<', page.text) for key in keys}
    return {key: match.group(1).strip() for key, match in found.items() if match is not None}


def statuses(engine: Engine, day: Day) -> dict[str, MeetingStatus]:
    with transaction(engine) as session:
        rows = {m.id: m.status for m in session.exec(select(Meeting).where(Meeting.event_id == day.event_id))}
    return {key: rows[meeting_id] for key, meeting_id in day.meetings.items()}


def test_the_desk_sets_held_and_the_dashboard_and_report_count_it(
    client: TestClient, engine: Engine, day: Day
) -> None:
    login = csrf(client, "/organizer/login")
    signed_in = client.post(
        "/organizer/login", data={"email": "sol@organizer.org", "password": PASSWORD, "csrf_token": login}
    )
    assert signed_in.status_code == 303
    assert figures(client) == {
        "scheduled": "4",
        "checked-in": "0",
        "held": "0",
        "no-shows": "0",
        "cancelled": "0",
    }

    # Arrivals at the desk, one participant after the other (staff role is enough).
    for name in ("B1", "S1", "S2", "B2", "S3"):
        desk = f"{DASH}/checkin/{day.people[name]}"
        page = client.get(desk, headers=EN)
        assert "Not arrived yet." in page.text and "Checked in (arrived)" in page.text
        token = csrf(client, desk)
        arrived = client.post(
            f"{DASH}/participants/{day.people[name]}/arrive", data={"csrf_token": token}, headers=EN
        )
        assert (arrived.status_code, arrived.headers["location"]) == (303, desk)
        page = client.get(desk, headers=EN)
        assert "Arrival recorded." in page.text
        assert "Checked in (arrived)" not in page.text
    # Arriving twice keeps the first arrival and changes nothing.
    again = client.post(
        f"{DASH}/participants/{day.people['S1']}/arrive", data={"csrf_token": csrf(client, DASH)}, headers=EN
    )
    assert again.status_code == 303
    assert "already arrived" in client.get(DASH, headers=EN).text
    # A participant who is not in this event is not found.
    unknown = client.post(f"{DASH}/participants/999999/arrive", data={"csrf_token": csrf(client, DASH)})
    assert unknown.status_code == 404
    # Without the CSRF token the desk refuses.
    assert client.post(f"{DASH}/participants/{day.people['S4']}/arrive").status_code == 403
    assert statuses(engine, day) == {
        "M1": MeetingStatus.CHECKED_IN,
        "M2": MeetingStatus.CHECKED_IN,
        "M3": MeetingStatus.CHECKED_IN,
        "M4": MeetingStatus.SCHEDULED,
    }
    assert figures(client) == {
        "scheduled": "1",
        "checked-in": "3",
        "held": "0",
        "no-shows": "0",
        "cancelled": "0",
    }

    # S4 never came: staff mark the meeting a no-show from B2's desk page.
    b2_desk = f"{DASH}/checkin/{day.people['B2']}"
    missed = client.post(
        f"{DASH}/meetings/{day.meetings['M4']}/no-show",
        data={"csrf_token": csrf(client, b2_desk), "participant_id": str(day.people["B2"])},
    )
    assert missed.status_code == 303
    assert figures(client) == {
        "scheduled": "0",
        "checked-in": "3",
        "held": "0",
        "no-shows": "1",
        "cancelled": "0",
    }

    # The first slot has ended: its two meetings are held, the second slot's is still checked in.
    with transaction(engine) as session:
        event = session.get(Event, day.event_id)
        assert event is not None
        assert settle_meetings(session, event, now=BETWEEN_SLOTS) == (day.meetings["M1"], day.meetings["M3"])
    assert figures(client) == {
        "scheduled": "0",
        "checked-in": "1",
        "held": "2",
        "no-shows": "1",
        "cancelled": "0",
    }

    # The event ends: every meeting that took place is held; a no-show stays a no-show.
    with transaction(engine) as session:
        event = session.get(Event, day.event_id)
        assert event is not None
        assert end_event(session, event, now=AFTER_THE_DAY).changed is True
        assert settle_meetings(session, event, now=AFTER_THE_DAY) == ()
    assert statuses(engine, day) == {
        "M1": MeetingStatus.HELD,
        "M2": MeetingStatus.HELD,
        "M3": MeetingStatus.HELD,
        "M4": MeetingStatus.NO_SHOW,
    }
    assert figures(client) == {
        "scheduled": "0",
        "checked-in": "0",
        "held": "3",
        "no-shows": "1",
        "cancelled": "0",
    }

    with transaction(engine) as session:
        report = build_report(session, day.event_id, now=AFTER_THE_DAY)
        held_facts = session.exec(
            select(DomainEvent.resource_id).where(DomainEvent.name == "rueda.meeting.held")
        ).all()
        arrivals = session.exec(
            select(Participant.full_name).where(
                Participant.event_id == day.event_id,
                Participant.arrived_at.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
    assert (report.funnel.held, report.funnel.no_show, report.funnel.cancelled) == (3, 1, 0)
    assert [(s.key, s.count) for s in report.funnel.stages[-2:]] == [("scheduled", 4), ("held", 3)]
    assert report.funnel.no_show_rate == 0.25
    assert sorted(held_facts) == sorted(f"rueda.meeting.{day.meetings[k]}" for k in ("M1", "M2", "M3"))
    assert sorted(arrivals) == ["Persona B1", "Persona B2", "Persona S1", "Persona S2", "Persona S3"]


def test_arrival_after_a_slot_ended_does_not_make_its_meeting_held(engine: Engine, day: Day) -> None:
    """Arriving after a meeting's slot ended says nothing about that meeting: it stays scheduled
    (staff can still check it in by hand, or mark it a no-show)."""
    with transaction(engine) as session:
        event = session.get(Event, day.event_id)
        assert event is not None
        arrive(session, event, day.people["B1"], now=datetime(2027, 5, 19, 12, 55, tzinfo=UTC))
        # S1 arrives after d1s01 (B1 × S1) ended at 13:30; S2 never comes.
        arrive(session, event, day.people["S1"], now=BETWEEN_SLOTS)
        assert settle_meetings(session, event, now=AFTER_THE_DAY) == ()
        assert end_event(session, event, now=AFTER_THE_DAY).changed is True
    assert statuses(engine, day) == dict.fromkeys(MEETINGS, MeetingStatus.SCHEDULED)


def test_ending_early_holds_no_slot_that_never_began(engine: Engine, day: Day) -> None:
    """Everyone arrives before the day; the event is ended during d1s01: its meetings are held,
    d1s02's (which never began) stay checked in, not held."""
    early = datetime(2027, 5, 19, 12, 30, tzinfo=UTC)
    with transaction(engine) as session:
        event = session.get(Event, day.event_id)
        assert event is not None
        for who in day.people:
            arrive(session, event, day.people[who], now=early)
        assert end_event(session, event, now=datetime(2027, 5, 19, 13, 10, tzinfo=UTC)).changed is True
    assert statuses(engine, day) == {
        "M1": MeetingStatus.HELD,
        "M3": MeetingStatus.HELD,
        "M2": MeetingStatus.CHECKED_IN,
        "M4": MeetingStatus.CHECKED_IN,
    }


def test_an_erased_participant_leaves_the_meetings_their_arrival_checked_in(engine: Engine, day: Day) -> None:
    """B1 and S2 arrive (so d1s02's B1 × S2 is checked in ahead); B1 is erased before d1s02 begins:
    that meeting is cancelled, not kept for settling; an erased person cannot arrive again."""
    from services.erasure import ErasureOptions, carry_out_erasure
    from services.errors import ConflictError

    morning = datetime(2027, 5, 19, 12, 30, tzinfo=UTC)
    options = ErasureOptions(agenda_url="http://127.0.0.1/agenda", first_meeting_lead=timedelta(minutes=30))
    with transaction(engine) as session:
        event = session.get(Event, day.event_id)
        assert event is not None
        arrive(session, event, day.people["B1"], now=morning)
        arrive(session, event, day.people["S2"], now=morning)
        carry_out_erasure(session, event, day.people["B1"], by="dpo", now=morning, options=options)
        with pytest.raises(ConflictError, match="is withdrawn; they have no meetings to attend"):
            arrive(session, event, day.people["B1"], now=morning)
    found = statuses(engine, day)
    assert (found["M1"], found["M2"]) == (MeetingStatus.CANCELLED, MeetingStatus.CANCELLED)
