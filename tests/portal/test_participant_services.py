"""The participant services behind the portal, on SQLite and PostgreSQL: requests and their
deadline, the catalog's filters and suggestions, profile changes, the personal-data export and the
deletion request, and the shared rate-limit counter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import (
    DomainEvent,
    MeetingRequest,
    ParticipantRole,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    TradeDirection,
)
from models.portal import ProfileUpdate
from services.db import run_in_transaction
from services.errors import ConflictError, DomainError, NotFoundError
from services.hs_codes import search_chapters
from services.meeting_requests import answer_request, list_requests, request_meeting
from services.participant_catalog import CatalogFilters, load_catalog
from services.participant_profile import change_hs_code, load_profile, update_profile
from services.privacy import export_personal_data, request_erasure
from services.ratelimit import RateLimit, hit_rate_limit
from tests.factories import make_event, make_participant

pytestmark = pytest.mark.integration
NOW = datetime(2027, 4, 1, 15, 0, tzinfo=UTC)


def _people(engine: Engine, **event: object) -> tuple[int, int, int]:
    """A seller (coffee), a buyer in Germany (coffee) and a buyer in the US (textiles)."""

    def work(session: Session) -> tuple[int, int, int]:
        ev = make_event(session, NOW, registration_opens="2027-01-01T00:00:00", **event)
        seller = make_participant(
            session, ev, NOW, "ana@andino.example", offer_hs="0901", spoken_languages="es,en"
        )
        buyer = make_participant(
            session,
            ev,
            NOW,
            "hans@rhein.example",
            full_name="Hans Müller",
            organization="Rheinkaffee GmbH",
            role=ParticipantRole.BUYER,
            country="DE",
            demand_hs="090111",
            spoken_languages="de,en",
        )
        other = make_participant(
            session,
            ev,
            NOW,
            "joe@tex.example",
            full_name="Joe Tex",
            organization="Tex Inc",
            role=ParticipantRole.BUYER,
            country="US",
            demand_hs="52",
            sectors="1311",
        )
        assert seller.id and buyer.id and other.id
        return seller.id, buyer.id, other.id

    return run_in_transaction(engine, work)


def test_request_then_answer_before_the_deadline(engine: Engine) -> None:
    seller, buyer, other = _people(engine, requests_close="2027-05-10T18:00:00")
    with Session(engine) as session:
        request = request_meeting(
            session, seller, buyer, priority=RequestPriority.MUST, note=" Hola ", now=NOW
        )
        assert (request.origin, request.status, request.note) == (
            RequestOrigin.PARTICIPANT,
            RequestStatus.REQUESTED,
            "Hola",
        )
        with pytest.raises(ConflictError, match="already asked"):
            request_meeting(session, seller, buyer, priority=RequestPriority.NICE, note=None, now=NOW)
        with pytest.raises(ConflictError, match="answer it in your requests"):
            request_meeting(session, buyer, seller, priority=RequestPriority.NICE, note=None, now=NOW)
        with pytest.raises(DomainError, match="rules of this event"):
            request_meeting(session, buyer, other, priority=RequestPriority.NICE, note=None, now=NOW)
        assert request.id is not None
        with pytest.raises(NotFoundError):
            answer_request(session, seller, request.id, accept=True, now=NOW)  # not the target
        answered = answer_request(session, buyer, request.id, accept=True, now=NOW)
        assert (answered.status, answered.responded_at) == (RequestStatus.ACCEPTED, NOW)
        views = list_requests(session, buyer, now=NOW)
        assert [(v.is_incoming, v.counterpart_name, v.status, v.can_answer) for v in views] == [
            (True, "Ana Gómez", RequestStatus.ACCEPTED, False)
        ]


def test_request_expires_by_rule_after_the_deadline(engine: Engine) -> None:
    seller, buyer, other = _people(engine, requests_close="2027-05-10T18:00:00")
    deadline = datetime(2027, 5, 10, 23, 0, tzinfo=UTC)  # 18:00 in Bogotá
    with Session(engine) as session:
        request = request_meeting(session, seller, buyer, priority=RequestPriority.NICE, note=None, now=NOW)
        assert request.id is not None
        before = list_requests(session, buyer, now=deadline - timedelta(seconds=1))
        after = list_requests(session, buyer, now=deadline)
        assert [(v.status, v.can_answer) for v in before] == [(RequestStatus.REQUESTED, True)]
        assert [(v.status, v.can_answer) for v in after] == [(RequestStatus.EXPIRED, False)]
        with pytest.raises(DomainError, match="deadline to answer"):
            answer_request(session, buyer, request.id, accept=True, now=deadline)
        with pytest.raises(DomainError, match="requests for this event are closed"):
            request_meeting(session, seller, other, priority=RequestPriority.NICE, note=None, now=deadline)
        stored = session.get(MeetingRequest, request.id)
        assert stored is not None and stored.status is RequestStatus.REQUESTED


def test_catalog_filters_and_suggestions_first(engine: Engine) -> None:
    seller, buyer, _ = _people(engine)

    def suggest(session: Session) -> None:
        session.add(
            MeetingRequest(
                event_id=1,
                requester_id=seller,
                target_id=buyer,
                priority=RequestPriority.NICE,
                origin=RequestOrigin.SUGGESTED,
                score=0.82,
                explanation="both trade HS 0901 coffee",
                created_at=NOW,
            )
        )

    run_in_transaction(engine, suggest)
    with Session(engine) as session:
        everyone = load_catalog(session, seller, CatalogFilters(), now=NOW)
        assert [(e.name, e.is_suggested, e.explanation) for e in everyone.entries] == [
            ("Hans Müller", True, "both trade HS 0901 coffee"),
            ("Joe Tex", False, None),
        ]
        assert (everyone.total, everyone.countries, everyone.sectors) == (2, ("DE", "US"), ("1311",))
        cases = {
            CatalogFilters(country="US"): ["Joe Tex"],
            CatalogFilters(hs_chapter="09"): ["Hans Müller"],
            CatalogFilters(language="de"): ["Hans Müller"],
            CatalogFilters(sector="1311"): ["Joe Tex"],
            CatalogFilters(role=ParticipantRole.SELLER): [],
        }
        for filters, names in cases.items():
            assert [e.name for e in load_catalog(session, seller, filters, now=NOW).entries] == names, filters
        from_buyer = load_catalog(session, buyer, CatalogFilters(), now=NOW)
        assert [(e.name, e.can_request) for e in from_buyer.entries] == [
            ("Ana Gómez", False),
            ("Joe Tex", False),
        ]


def test_profile_update_and_hs_picker(engine: Engine) -> None:
    seller, _, _ = _people(engine)
    with Session(engine) as session:
        update = ProfileUpdate(
            full_name="Ana María Gómez",
            language="pt",
            timezone="America/Sao_Paulo",
            spoken_languages=["es", "pt"],
            offer_hs="0901, 18.01",
            offer_description="Café",
            unavailable=["d1s01"],
        )
        update_profile(session, seller, update, now=NOW)
        view = change_hs_code(session, seller, TradeDirection.DEMAND, "0801", add=True, now=NOW)
        assert (view.participant.full_name, view.participant.language, view.participant.timezone) == (
            "Ana María Gómez",
            "pt",
            "America/Sao_Paulo",
        )
        assert (view.offer_hs, view.offer_description, view.demand_hs) == (
            ("0901", "1801"),
            "Café",
            ("0801",),
        )
        assert [s.code for s in view.slots if s.is_unavailable] == ["d1s01"]
        view = change_hs_code(session, seller, TradeDirection.OFFER, "0901", add=False, now=NOW)
        assert load_profile(session, seller).offer_hs == ("1801",)
    assert [(c.code, c.name) for c in search_chapters("cafe", "es")] == [
        ("09", "Café, té, yerba mate y especias")
    ]
    assert [c.code for c in search_chapters("52", "en")] == ["52"]
    assert [c.name for c in search_chapters("cotton", "pt")] == ["Algodão"]


def test_export_and_erasure_request(engine: Engine) -> None:
    seller, buyer, _ = _people(engine)
    with Session(engine) as session:
        request_meeting(session, seller, buyer, priority=RequestPriority.MUST, note="Hola", now=NOW)
        data = export_personal_data(session, seller, now=NOW)
        assert sorted(data) == [
            "emails",
            "erasure_requested_at",
            "event",
            "exported_at",
            "format",
            "meetings",
            "organization",
            "participant",
            "requests",
            "surveys",
            "trade_lines",
            "unavailable_slots",
        ]
        assert (data["participant"]["email"], data["participant"]["consent_source"]) == (
            "ana@andino.example",
            "portal",
        )
        assert data["requests"] == [
            {
                "direction": "sent",
                "counterpart": {"name": "Hans Müller", "organization": "Rheinkaffee GmbH"},
                "priority": "must",
                "origin": "participant",
                "status": "requested",
                "note": "Hola",
                "created_at": NOW.isoformat(),
                "responded_at": None,
            }
        ]
        assert "hans@rhein.example" not in str(data)
        assert request_erasure(session, seller, now=NOW) is True
        assert request_erasure(session, seller, now=NOW) is False
        session.commit()
        facts = session.exec(
            select(DomainEvent.name, DomainEvent.payload).where(DomainEvent.name == "rueda.erasure.requested")
        ).all()
        assert facts == [("rueda.erasure.requested", {"participant_id": seller})]
        assert export_personal_data(session, seller, now=NOW)["erasure_requested_at"] == NOW.isoformat()


def test_rate_limit_counts_in_fixed_windows(engine: Engine) -> None:
    rule = RateLimit("login", 2, timedelta(minutes=15))
    start = datetime(2027, 4, 1, 15, 0, tzinfo=UTC)
    decisions = [
        run_in_transaction(engine, lambda s, at=at: hit_rate_limit(s, rule, "10.0.0.1", now=at))
        for at in (
            start,
            start + timedelta(minutes=1),
            start + timedelta(minutes=14),
            start + timedelta(minutes=15),
        )
    ]
    assert [(d.is_allowed, d.hits, d.retry_after_seconds) for d in decisions] == [
        (True, 1, 900),
        (True, 2, 840),
        (False, 3, 60),
        (True, 1, 900),
    ]
    other = run_in_transaction(engine, lambda s: hit_rate_limit(s, rule, "10.0.0.2", now=start))
    assert (other.is_allowed, other.hits) == (True, 1)
    from models import RateLimitCounter

    with Session(engine) as session:
        keys = session.exec(select(RateLimitCounter.key)).all()
    assert all("10.0.0" not in key for key in keys)
