"""The integrity the database holds by itself, proven on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlmodel import Session, select

from models import (
    DomainEvent,
    Event,
    EventTable,
    Meeting,
    MeetingSeat,
    MeetingStatus,
    SurveyInvitation,
    SurveyResponse,
    SurveyResponseKind,
    SurveyWave,
    TimeSlot,
)
from services.db import transaction
from services.domain_events import record_fact
from tests.factories import make_event, make_participant

pytestmark = pytest.mark.integration


def _setup(engine: Engine, now: datetime) -> dict[str, int]:
    with transaction(engine) as session:
        event = make_event(session, now)
        a = make_participant(session, event, now, "a@cafe.co")
        b = make_participant(session, event, now, "b@cafe.co")
        c = make_participant(session, event, now, "c@cafe.co")
        slots = session.exec(
            select(TimeSlot).where(TimeSlot.event_id == event.id).order_by(TimeSlot.ordinal)
        ).all()
        tables = session.exec(
            select(EventTable).where(EventTable.event_id == event.id).order_by(EventTable.id)
        ).all()
        return {
            "event": event.id,
            "a": a.id,
            "b": b.id,
            "c": c.id,
            "s1": slots[0].id,
            "s2": slots[1].id,
            "t1": tables[0].id,
            "t2": tables[1].id,
        }  # type: ignore[dict-item]


def _meeting(
    ids: dict[str, int], now: datetime, a: str, b: str, slot: str, table: str, **kw: object
) -> Meeting:
    return Meeting(
        event_id=ids["event"],
        participant_a_id=ids[a],
        participant_b_id=ids[b],
        slot_id=ids[slot],
        table_id=ids[table],
        created_at=now,
        updated_at=now,
        **kw,
    )


def _place(session: Session, meeting: Meeting) -> Meeting:
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    for person in (meeting.participant_a_id, meeting.participant_b_id):
        session.add(MeetingSeat(meeting_id=meeting.id, participant_id=person, slot_id=meeting.slot_id))
    session.flush()
    return meeting


def test_participant_email_unique_per_event(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.execute(
            text(
                "INSERT INTO participant (event_id, organization_id, full_name, email, language, timezone, role, status,"
                " spoken_languages, created_at, updated_at) SELECT event_id, organization_id, 'X', email, language,"
                " timezone, role, status, spoken_languages, created_at, updated_at FROM participant WHERE id = :id"
            ),
            {"id": ids["a"]},
        )


def test_two_active_meetings_cannot_share_slot_and_table(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        _place(session, _meeting(ids, now, "a", "b", "s1", "t1"))
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(_meeting(ids, now, "c", "b", "s1", "t1"))


def test_cancelled_meeting_frees_its_slot_and_table(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        session.add(_meeting(ids, now, "a", "b", "s1", "t1", status=MeetingStatus.CANCELLED))
        session.add(_meeting(ids, now, "a", "c", "s1", "t1"))
    with transaction(engine) as session:
        assert len(session.exec(select(Meeting)).all()) == 2


def test_participant_cannot_sit_in_two_meetings_of_one_slot(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        _place(session, _meeting(ids, now, "a", "b", "s1", "t1"))
    # b as the visitor of one meeting and the host of another, at another table: still one slot.
    with pytest.raises(IntegrityError), transaction(engine) as session:
        _place(session, _meeting(ids, now, "b", "c", "s1", "t2"))


def test_moving_a_meeting_moves_its_seats(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        meeting_id = _place(session, _meeting(ids, now, "a", "b", "s1", "t1")).id
    with transaction(engine) as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.slot_id = ids["s2"]
        meeting.version += 1
    with transaction(engine) as session:
        seats = session.exec(select(MeetingSeat.slot_id).where(MeetingSeat.meeting_id == meeting_id)).all()
        assert seats == [ids["s2"], ids["s2"]]


def test_enum_values_are_checked_by_the_database(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.execute(text("UPDATE participant SET role = 'king' WHERE id = :id"), {"id": ids["a"]})


def test_negative_amounts_are_refused(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        invitation = SurveyInvitation(
            event_id=ids["event"],
            participant_id=ids["a"],
            wave=SurveyWave.POST_EVENT,
            token_hash="h",
            created_at=now,
        )
        session.add(invitation)
        session.flush()
        invitation_id = invitation.id
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(
            SurveyResponse(
                invitation_id=invitation_id,
                kind=SurveyResponseKind.PARTICIPANT,
                expected_3m_cents=-100,
                submitted_at=now,
            )
        )


def test_meeting_must_use_a_slot_of_its_own_event(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        other = make_event(session, now, slug="otra-rueda")
        foreign_slot = session.exec(select(TimeSlot.id).where(TimeSlot.event_id == other.id)).first()
    with pytest.raises(IntegrityError), transaction(engine) as session:
        meeting = _meeting(ids, now, "a", "b", "s1", "t1")
        meeting.slot_id = foreign_slot  # type: ignore[assignment]
        session.add(meeting)


def test_domain_events_are_append_only(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        fact = record_fact(
            session, "rueda.test.recorded", resource="rueda.event.1", event_id=ids["event"], now=now
        )
        fact_id = fact.id
    with pytest.raises(DBAPIError, match="append-only"), transaction(engine) as session:
        session.execute(text("UPDATE domain_event SET name = 'rueda.x.y'"))
    with pytest.raises(DBAPIError, match="append-only"), transaction(engine) as session:
        session.execute(text("DELETE FROM domain_event"))
    with transaction(engine) as session:
        assert sorted(session.exec(select(DomainEvent.name)).all()) == [
            "rueda.event.created",
            "rueda.participant.registered",
            "rueda.participant.registered",
            "rueda.participant.registered",
            "rueda.test.recorded",
        ]
        stored = session.get(DomainEvent, fact_id)
        assert stored is not None and stored.name == "rueda.test.recorded"


def test_naive_datetimes_are_refused(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with pytest.raises(StatementError, match="naive datetime"), transaction(engine) as session:
        event = session.get(Event, ids["event"])
        assert event is not None
        event.updated_at = now.replace(tzinfo=None) + timedelta(hours=1)


def test_datetimes_come_back_aware_utc(engine: Engine, now: datetime) -> None:
    ids = _setup(engine, now)
    with transaction(engine) as session:
        event = session.get(Event, ids["event"])
        assert event is not None
        session.expire_all()
        reloaded = session.get(Event, ids["event"])
        assert reloaded is not None
        assert reloaded.created_at == now
        assert reloaded.created_at.utcoffset() == timedelta(0)
