"""A demo-sized roundtable for the browser test and the README screenshot: the demo's generated
participants, requests and a greedy placement of the accepted ones at the buyers' tables, then
simulated outcomes and answers (services.report_demo). Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import (
    EventTable,
    Meeting,
    MeetingRequest,
    MeetingSeat,
    Participant,
    ParticipantRole,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    TimeSlot,
)
from models.schemas import EventDefinition
from services.db import transaction
from services.demo_data import build_event_definition, build_participant_rows
from services.events import create_event
from services.files import Sheet
from services.participants import import_participants
from services.report_demo import SimulatedOutcome, simulate_survey_answers

SURVEYS_AT = datetime(2027, 5, 21, 13, 0, tzinfo=UTC)


def build_demo_event(
    engine: Engine, now: datetime, *, participants: int = 120, seed: int = 3
) -> tuple[int, SimulatedOutcome]:
    with transaction(engine) as session:
        event = create_event(
            session,
            EventDefinition.model_validate(build_event_definition(participants, start_on=date(2027, 5, 19))),
            now=now,
        )
        assert event.id is not None
        rows = build_participant_rows(participants, seed=seed)
        headings = sorted({key for row in rows for key in row})
        sheet = Sheet(headings, [(number, row) for number, row in enumerate(rows, start=2)])
        import_participants(session, event, sheet, source="demo.xlsx", now=now)
        _place_meetings(session, event.id, now, random.Random(seed))
        event_id = event.id
    with transaction(engine) as session:
        outcome = simulate_survey_answers(session, event_id, seed=seed, now=SURVEYS_AT)
    return event_id, outcome


def _place_meetings(session: Session, event_id: int, now: datetime, rng: random.Random) -> None:
    people = session.exec(
        select(Participant).where(Participant.event_id == event_id).order_by(col(Participant.id))
    ).all()
    buyers = [p for p in people if p.role is ParticipantRole.BUYER and p.table_id is not None]
    sellers = [p for p in people if p.role is not ParticipantRole.BUYER]
    slots = list(
        session.exec(select(TimeSlot).where(TimeSlot.event_id == event_id).order_by(col(TimeSlot.ordinal)))
    )
    free_tables = [
        t.id or 0
        for t in session.exec(select(EventTable).where(EventTable.event_id == event_id))
        if t.id not in {b.table_id for b in buyers}
    ]
    busy: set[tuple[int, int]] = set()
    table_busy: set[tuple[int, int]] = set()
    for seller in sellers:
        assert seller.id is not None
        for buyer in rng.sample(buyers, k=min(6, len(buyers))):
            assert buyer.id is not None and buyer.table_id is not None
            status = rng.choices(
                (RequestStatus.ACCEPTED, RequestStatus.DECLINED, RequestStatus.EXPIRED), weights=(75, 15, 10)
            )[0]
            request = MeetingRequest(
                event_id=event_id,
                requester_id=seller.id,
                target_id=buyer.id,
                priority=RequestPriority.NICE,
                origin=rng.choice((RequestOrigin.PARTICIPANT, RequestOrigin.SUGGESTED)),
                status=status,
                created_at=now,
            )
            session.add(request)
            if status is not RequestStatus.ACCEPTED:
                continue
            session.flush()
            # A seller's meetings cluster in one or two sessions, leaving the odd break, as real agendas do.
            start = rng.randrange(len(slots))
            for slot in slots[start:] + slots[:start]:
                assert slot.id is not None
                if (seller.id, slot.id) in busy or (buyer.id, slot.id) in busy:
                    continue
                table_id: int | None = buyer.table_id
                if (table_id, slot.id) in table_busy:
                    table_id = next((t for t in free_tables if (t, slot.id) not in table_busy), None)
                if table_id is None:
                    continue
                meeting = Meeting(
                    event_id=event_id,
                    request_id=request.id,
                    participant_a_id=buyer.id,
                    participant_b_id=seller.id,
                    slot_id=slot.id,
                    table_id=table_id,
                    created_at=now,
                    updated_at=now,
                )
                session.add(meeting)
                session.flush()
                assert meeting.id is not None
                for person in (buyer.id, seller.id):
                    session.add(MeetingSeat(meeting_id=meeting.id, participant_id=person, slot_id=slot.id))
                    busy.add((person, slot.id))
                table_busy.add((table_id, slot.id))
                break
    session.flush()
