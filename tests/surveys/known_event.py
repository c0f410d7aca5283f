"""A small roundtable with known survey answers, built through the services (meetings and requests
inserted with the models), and every figure its report must show.

Six meetings between two buyers (B1 in the US, B2 in Germany) and sellers S1-S3; S4 got no meeting
and S5 withdrew. The answers exercise each rule: a held/no-show disagreement (M3), amounts that
differ beyond the tolerance (M1 at 3 months, M2 at 12 months), amounts within it (M2 immediately),
an answer in EUR at the event's rate while stating another, one in COP at the stated rate, a
one-sided answer (M5), a no-show both sides confirm (M4) and a cancelled meeting (M6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from models import (
    EventTable,
    Meeting,
    MeetingRequest,
    MeetingSeat,
    MeetingStatus,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    SurveyWave,
    TimeSlot,
)
from services.db import transaction
from services.surveys import (
    FollowupLine,
    MeetingAnswer,
    ParticipantAnswer,
    create_invitations,
    submit_answers,
)
from tests.factories import make_event, make_participant

SURVEY_AT = datetime(2027, 5, 21, 12, 0, tzinfo=UTC)
FOLLOWUP_3M_AT = datetime(2027, 8, 20, 12, 0, tzinfo=UTC)
FOLLOWUP_6M_AT = datetime(2027, 11, 20, 12, 0, tzinfo=UTC)

PEOPLE: dict[str, dict[str, Any]] = {
    "B1": {"organization": "Andes Imports LLC", "role": ParticipantRole.BUYER, "country": "US"},
    "B2": {"organization": "Hamburg Kaffee GmbH", "role": ParticipantRole.BUYER, "country": "DE"},
    "S1": {
        "organization": "Café Andino SAS",
        "country": "CO",
        "region": "Antioquia",
        "sectors": "0111",
        "offer_hs": "090111",
        "women_led": True,
    },
    "S2": {
        "organization": "Frutas del Valle SAS",
        "country": "CO",
        "region": "Valle del Cauca",
        "sectors": "1030;0111",
        "offer_hs": "090121;0804",
        "peasant": True,
        "indigenous": True,
    },
    "S3": {
        "organization": "Confecciones Medellín SAS",
        "country": "CO",
        "region": "Antioquia",
        "sectors": "1410",
        "offer_hs": "6109",
    },
    "S4": {"organization": "Cacao del Sur SAS", "country": "CO", "region": "Nariño", "offer_hs": "1801"},
    "S5": {"organization": "Retirada SAS", "country": "CO"},
}

# name: (host, visitor, slot code, table code, status)
MEETINGS: dict[str, tuple[str, str, str, str, MeetingStatus]] = {
    "M1": ("B1", "S1", "d1s01", "T1", MeetingStatus.HELD),
    "M2": ("B1", "S2", "d1s03", "T1", MeetingStatus.HELD),
    "M3": ("B2", "S1", "d1s02", "T2", MeetingStatus.HELD),
    "M4": ("B2", "S3", "d1s04", "T2", MeetingStatus.NO_SHOW),
    "M5": ("B2", "S2", "d2s01", "T2", MeetingStatus.HELD),
    "M6": ("B1", "S3", "d1s02", "T1", MeetingStatus.CANCELLED),
}

# (requester, target, origin, status)
REQUESTS = [
    ("S1", "B1", RequestOrigin.PARTICIPANT, RequestStatus.ACCEPTED),
    ("S2", "B1", RequestOrigin.SUGGESTED, RequestStatus.ACCEPTED),
    ("S1", "B2", RequestOrigin.PARTICIPANT, RequestStatus.ACCEPTED),
    ("S3", "B2", RequestOrigin.ORGANIZER, RequestStatus.ACCEPTED),
    ("S2", "B2", RequestOrigin.SUGGESTED, RequestStatus.ACCEPTED),
    ("S3", "B1", RequestOrigin.PARTICIPANT, RequestStatus.ACCEPTED),
    ("S4", "B1", RequestOrigin.PARTICIPANT, RequestStatus.DECLINED),
    ("S4", "B2", RequestOrigin.SUGGESTED, RequestStatus.EXPIRED),
]

USD_RATES = {"EUR": 1.10}


@dataclass(frozen=True, slots=True)
class KnownEvent:
    event_id: int
    people: dict[str, int]
    meetings: dict[str, int]
    tokens: dict[tuple[str, SurveyWave], str]


def build_roundtable(
    session: Session, now: datetime, **overrides: Any
) -> tuple[int, dict[str, int], dict[str, int]]:
    """The event, its participants, requests and meetings (with seats for the active ones)."""
    definition: dict[str, Any] = {"slug": "rueda-resultados", "tables": 4, "usd_rates": USD_RATES}
    definition.update(overrides)
    event = make_event(session, now, **definition)
    assert event.id is not None
    people: dict[str, int] = {}
    for name, fields in PEOPLE.items():
        participant = make_participant(session, event, now, f"{name.lower()}@example.org", **fields)
        assert participant.id is not None
        people[name] = participant.id
    withdrawn = session.get(Participant, people["S5"])
    assert withdrawn is not None
    withdrawn.status = ParticipantStatus.WITHDRAWN
    session.add(withdrawn)
    slots = {s.code: s.id or 0 for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    tables = {
        t.code: t.id or 0 for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))
    }
    for requester, target, origin, answer in REQUESTS:
        session.add(
            MeetingRequest(
                event_id=event.id,
                requester_id=people[requester],
                target_id=people[target],
                priority=RequestPriority.NICE,
                origin=origin,
                status=answer,
                created_at=now,
            )
        )
    meetings: dict[str, int] = {}
    for name, (host, visitor, slot, table, status) in MEETINGS.items():
        meeting = Meeting(
            event_id=event.id,
            participant_a_id=people[host],
            participant_b_id=people[visitor],
            slot_id=slots[slot],
            table_id=tables[table],
            status=status,
            created_at=now,
            updated_at=now,
        )
        session.add(meeting)
        session.flush()
        assert meeting.id is not None
        meetings[name] = meeting.id
        if status in (MeetingStatus.SCHEDULED, MeetingStatus.CHECKED_IN, MeetingStatus.HELD):
            for person in (host, visitor):
                session.add(
                    MeetingSeat(meeting_id=meeting.id, participant_id=people[person], slot_id=meeting.slot_id)
                )
    session.flush()
    return event.id, people, meetings


def build_known_event(engine: Engine, now: datetime) -> KnownEvent:
    with transaction(engine) as session:
        event_id, people, meetings = build_roundtable(session, now)
    tokens: dict[tuple[str, SurveyWave], str] = {}
    name_of = {v: k for k, v in people.items()}
    with transaction(engine) as session:
        for link in create_invitations(session, event_id, SurveyWave.POST_EVENT, now=SURVEY_AT):
            tokens[(name_of[link.participant_id], link.wave)] = link.token
    m = meetings

    def answer(who: str, **kwargs: Any) -> None:
        with transaction(engine) as session:
            submit_answers(
                session, tokens[(who, SurveyWave.POST_EVENT)], now=SURVEY_AT + timedelta(days=1), **kwargs
            )

    answer(
        "B1",
        meetings=[
            MeetingAnswer(
                m["M1"], True, interest=5, expected_immediate_cents=1_000_000, expected_3m_cents=2_000_000
            ),
            # The event's EUR rate (1.10) wins over the stated 1.05: 5,000 EUR = US$ 5,500.
            MeetingAnswer(
                m["M2"], True, interest=4, currency="EUR", usd_rate=1.05, expected_immediate_cents=500_000
            ),
        ],
        participant=ParticipantAnswer(satisfaction=5, recommend=10),
    )
    answer(
        "S1",
        meetings=[
            MeetingAnswer(
                m["M1"], True, interest=4, expected_immediate_cents=800_000, expected_3m_cents=3_000_000
            ),
            MeetingAnswer(m["M3"], False, comments="The buyer was not at the table."),
        ],
        participant=ParticipantAnswer(satisfaction=4, recommend=9),
    )
    # COP is not configured by the event: the stated rate converts (4,000 COP per US$).
    answer(
        "S2",
        meetings=[
            MeetingAnswer(
                m["M2"],
                True,
                interest=3,
                currency="COP",
                usd_rate=0.00025,
                expected_immediate_cents=2_160_000_000,
                expected_12m_cents=4_160_000_000,
                next_steps="Send samples",
            )
        ],
    )
    answer(
        "B2",
        meetings=[
            MeetingAnswer(m["M3"], True, interest=4, expected_6m_cents=200_000),
            MeetingAnswer(m["M4"], False),
            MeetingAnswer(m["M5"], True, interest=2, expected_immediate_cents=100_000),
        ],
        participant=ParticipantAnswer(satisfaction=3, recommend=6),
    )
    answer(
        "S3",
        meetings=[MeetingAnswer(m["M4"], False)],
        participant=ParticipantAnswer(satisfaction=2, recommend=3),
    )

    with transaction(engine) as session:
        for wave, at in ((SurveyWave.FOLLOWUP_3M, FOLLOWUP_3M_AT), (SurveyWave.FOLLOWUP_6M, FOLLOWUP_6M_AT)):
            for link in create_invitations(session, event_id, wave, now=at):
                tokens[(name_of[link.participant_id], link.wave)] = link.token
    with transaction(engine) as session:
        submit_answers(
            session,
            tokens[("S1", SurveyWave.FOLLOWUP_3M)],
            followup=[
                FollowupLine("090111", actual_closed_cents=500_000, actual_exported_cents=400_000),
                FollowupLine("0901", currency="EUR", actual_closed_cents=100_000),
            ],
            now=FOLLOWUP_3M_AT + timedelta(days=2),
        )
        submit_answers(
            session,
            tokens[("B1", SurveyWave.FOLLOWUP_3M)],
            followup=[FollowupLine("090111", actual_closed_cents=300_000)],
            now=FOLLOWUP_3M_AT + timedelta(days=2),
        )
    return KnownEvent(event_id, people, meetings, tokens)
