"""The lifecycle services glued to the engine: close registration, match, answer, close requests,
schedule. A small event whose optimum is obvious, and every step proven idempotent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel, select

from models import (
    DomainEvent,
    EventStatus,
    Meeting,
    MeetingRequest,
    MeetingSeat,
    Participant,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    WaitlistEntry,
)
from services.db import transaction
from services.errors import DomainError
from services.events import get_event_by_slug
from services.lifecycle import close_registration, close_requests, end_event
from services.matching import compute_event_matches, respond_to_request
from services.scheduling import build_schedule
from tests.factories import make_event, make_participant

pytestmark = pytest.mark.integration

COFFEE_BUYER = {
    "role": "buyer",
    "demand_hs": ["090111"],
    "demand_description": "specialty green coffee beans",
    "spoken_languages": ["en", "es"],
}
COFFEE_SELLER = {
    "role": "seller",
    "offer_hs": ["090111"],
    "offer_description": "specialty green coffee beans",
    "target_markets": ["US", "DE"],
    "spoken_languages": ["es", "en"],
}


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            t.name: [tuple(r) for r in connection.execute(text(f'SELECT * FROM "{t.name}" ORDER BY 1'))]
            for t in SQLModel.metadata.sorted_tables
        }


def _event(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        event = make_event(
            session, now, rules={"min_meetings": 1, "max_meetings": 2}, tables=["T1", "T2", "T3"]
        )
        make_participant(session, event, now, "ann@buyer.us", country="US", host_table="T1", **COFFEE_BUYER)
        make_participant(session, event, now, "bert@buyer.de", country="DE", host_table="T2", **COFFEE_BUYER)
        make_participant(session, event, now, "carla@cafe.co", organization="Café Uno", **COFFEE_SELLER)
        make_participant(session, event, now, "dario@cafe.co", organization="Café Dos", **COFFEE_SELLER)


def test_lifecycle_from_registration_to_schedule(engine: Engine, now: datetime) -> None:
    _event(engine, now)
    with (
        pytest.raises(DomainError, match="close registration of 'rueda-test' before matching"),
        transaction(engine) as s,
    ):
        compute_event_matches(s, get_event_by_slug(s, "rueda-test"), now=now)
    with transaction(engine) as session:
        assert close_registration(session, get_event_by_slug(session, "rueda-test"), now=now).changed is True
    with transaction(engine) as session:
        summary = compute_event_matches(session, get_event_by_slug(session, "rueda-test"), now=now)
    assert (summary.participants, summary.suggested, summary.annotated, summary.shortfalls) == (4, 4, 0, ())
    with transaction(engine) as session:
        emails = {p.id: p.email for p in session.exec(select(Participant))}
        requests = session.exec(select(MeetingRequest).order_by(MeetingRequest.id)).all()  # type: ignore[arg-type]
        pairs = sorted((emails[r.requester_id], emails[r.target_id]) for r in requests)
        assert pairs == [
            ("carla@cafe.co", "ann@buyer.us"),
            ("carla@cafe.co", "bert@buyer.de"),
            ("dario@cafe.co", "ann@buyer.us"),
            ("dario@cafe.co", "bert@buyer.de"),
        ]
        assert {(r.origin, r.status) for r in requests} == {
            (RequestOrigin.SUGGESTED, RequestStatus.REQUESTED)
        }
        assert all(r.explanation and "HS 090111" in r.explanation for r in requests)
        # Ann accepts both; Bert declines Dario and leaves Carla unanswered.
        by_pair = {(emails[r.requester_id], emails[r.target_id]): r for r in requests}
        for pair, accept in (
            (("carla@cafe.co", "ann@buyer.us"), True),
            (("dario@cafe.co", "ann@buyer.us"), True),
            (("dario@cafe.co", "bert@buyer.de"), False),
        ):
            request = by_pair[pair]
            respond_to_request(session, request, request.target_id, accept=accept, now=now)
        with pytest.raises(DomainError, match="only the participant asked can answer"):
            respond_to_request(session, request, request.requester_id, accept=True, now=now)
    with transaction(engine) as session:
        result = close_requests(session, get_event_by_slug(session, "rueda-test"), now=now)
    assert result.detail == "requests closed; 1 unanswered expired"
    with transaction(engine) as session:
        schedule = build_schedule(
            session, get_event_by_slug(session, "rueda-test"), now=now, time_limit=2, seed=0
        )
        assert schedule.stats is not None
        assert (
            schedule.stats.placed,
            schedule.stats.unplaced,
            schedule.stats.breaks,
            schedule.waitlisted,
        ) == (2, 0, 0, 0)
        assert schedule.headline().startswith(
            "2 of 2 meetings placed, upper bound 2; 0.00 breaks per participant"
        )
        meetings = session.exec(select(Meeting)).all()
        ann = next(pid for pid, email in emails.items() if email == "ann@buyer.us")
        # Both of Ann's meetings are hosted at her table, in two different slots.
        assert [m.participant_a_id for m in meetings] == [ann, ann]
        assert len({m.slot_id for m in meetings}) == 2
        assert len(session.exec(select(MeetingSeat)).all()) == 4
        assert session.exec(select(WaitlistEntry)).all() == []
        event = get_event_by_slug(session, "rueda-test")
        assert event.status is EventStatus.PUBLISHED
        facts = sorted(session.exec(select(DomainEvent.name)).all())
    assert facts == ["rueda.event.created", "rueda.matches.computed"] + [
        "rueda.participant.registered"
    ] * 4 + [
        "rueda.registration.closed",
        "rueda.requests.closed",
        "rueda.schedule.built",
        "rueda.schedule.published",
    ]


def test_every_step_twice_changes_nothing(engine: Engine, now: datetime) -> None:
    _event(engine, now)
    steps = [
        lambda s, e: close_registration(s, e, now=now),
        lambda s, e: compute_event_matches(s, e, now=now),
        lambda s, e: close_requests(s, e, now=now),
        lambda s, e: build_schedule(s, e, now=now, time_limit=2, seed=0),
        lambda s, e: end_event(s, e, now=now),
    ]
    for step in steps:
        with transaction(engine) as session:
            step(session, get_event_by_slug(session, "rueda-test"))
        before = _snapshot(engine)
        with transaction(engine) as session:
            again = step(session, get_event_by_slug(session, "rueda-test"))
        assert again.changed is False
        assert _snapshot(engine) == before


def test_a_must_meet_request_without_a_common_language_is_scored_zero_not_refused(
    engine: Engine, now: datetime
) -> None:
    # The engine's utility for this pair is negative (no common language); the database holds
    # scores from 0 up, so the stored score is 0 and the penalty stays in the explanation.
    with transaction(engine) as session:
        event = make_event(session, now, tables=["T1"])
        buyer = make_participant(
            session,
            event,
            now,
            "ann@buyer.us",
            country="US",
            host_table="T1",
            **{**COFFEE_BUYER, "spoken_languages": ["en"]},
        )
        seller = make_participant(
            session,
            event,
            now,
            "carla@cafe.co",
            organization="Café Uno",
            **{
                **COFFEE_SELLER,
                "offer_hs": ["6109"],
                "offer_description": "camisetas",
                "spoken_languages": ["es"],
            },
        )
        session.add(
            MeetingRequest(
                event_id=event.id,
                requester_id=seller.id,
                target_id=buyer.id,
                priority=RequestPriority.MUST,
                origin=RequestOrigin.PARTICIPANT,
                status=RequestStatus.REQUESTED,
                created_at=now,
            )
        )
        close_registration(session, event, now=now)
    with transaction(engine) as session:
        summary = compute_event_matches(session, get_event_by_slug(session, "rueda-test"), now=now)
        request = session.exec(select(MeetingRequest)).one()
    assert (summary.suggested, summary.annotated) == (0, 1)
    assert request.score == 0.0
    assert request.explanation is not None and "language" in request.explanation
