"""The participant services behind the portal, on SQLite and PostgreSQL: requests and their
deadline, the catalog's filters and suggestions, profile changes, the personal-data export and the
deletion request, and the shared rate-limit counter."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import (
    DomainEvent,
    Event,
    MeetingRequest,
    Participant,
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
from services.participant_catalog import CatalogFilters, DirectoryCache, load_catalog
from services.participant_profile import change_hs_code, load_profile, update_profile
from services.portal_accounts import session_is_current
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


def test_catalog_pages_in_the_service(engine: Engine) -> None:
    seller, buyer, other = _people(engine)

    def more_buyers(session: Session) -> None:
        event = session.get(Event, 1)
        assert event is not None
        for n in range(5):
            make_participant(
                session,
                event,
                NOW,
                f"b{n}@buyer.example",
                full_name=f"Buyer {n}",
                organization=f"Buyer {n} GmbH",
                country="FR",
                role=ParticipantRole.BUYER,
            )

    run_in_transaction(engine, more_buyers)
    with Session(engine) as session:
        pages = [
            load_catalog(session, seller, CatalogFilters(), now=NOW, page=n, page_size=3)
            for n in (1, 2, 3, 9)
        ]
    assert [[e.name for e in p.entries] for p in pages] == [
        ["Buyer 0", "Buyer 1", "Buyer 2"],
        ["Buyer 3", "Buyer 4", "Hans Müller"],
        ["Joe Tex"],
        ["Joe Tex"],  # past the end: the last page
    ]
    assert [(p.page, p.pages, p.matching, p.total) for p in pages] == [
        (1, 3, 7, 7),
        (2, 3, 7, 7),
        (3, 3, 7, 7),
        (3, 3, 7, 7),
    ]
    with Session(engine) as session:
        french = load_catalog(session, seller, CatalogFilters(country="FR"), now=NOW, page=2, page_size=3)
    assert ([e.name for e in french.entries], french.matching, french.total, french.pages) == (
        ["Buyer 3", "Buyer 4"],
        5,
        7,
        2,
    )
    # The filter choices leave out what only the viewer has: Joe Tex alone is in the US.
    with Session(engine) as session:
        seen_by_joe = load_catalog(session, other, CatalogFilters(), now=NOW)
        seen_by_hans = load_catalog(session, buyer, CatalogFilters(), now=NOW)
    assert seen_by_joe.countries == ("CO", "DE", "FR")
    assert seen_by_hans.countries == ("CO", "FR", "US")


def test_directory_cache_reuses_for_its_seconds_then_reads_again(engine: Engine) -> None:
    seller, buyer, _ = _people(engine)
    clock = [100.0]
    cache = DirectoryCache(10, clock=lambda: clock[0])

    def names() -> list[str]:
        with Session(engine) as session:
            return [
                e.name
                for e in load_catalog(session, seller, CatalogFilters(), now=NOW, directories=cache).entries
            ]

    def rename(session: Session) -> None:
        hans = session.get(Participant, buyer)
        assert hans is not None
        hans.full_name = "Hans Meier"

    assert names() == ["Hans Müller", "Joe Tex"]
    run_in_transaction(engine, rename)
    clock[0] = 109.9
    assert names() == ["Hans Müller", "Joe Tex"]  # still the copy read at 100
    assert cache.loads == 1
    clock[0] = 110.0
    assert names() == ["Hans Meier", "Joe Tex"]
    assert cache.loads == 2
    uncached = DirectoryCache(0)
    with Session(engine) as session:
        for _ in range(3):
            load_catalog(session, seller, CatalogFilters(), now=NOW, directories=uncached)
    assert uncached.loads == 3


def test_directory_cache_keeps_the_last_events_seen(engine: Engine) -> None:
    def events(session: Session) -> list[int]:
        made = [
            make_event(session, NOW, slug=f"rueda-{n}", registration_opens="2027-01-01T00:00:00")
            for n in range(3)
        ]
        session.flush()
        return [e.id for e in made if e.id is not None]

    ids = run_in_transaction(engine, events)
    cache = DirectoryCache(60, size=2, clock=lambda: 0.0)
    with Session(engine) as session:
        for event_id in (ids[0], ids[1], ids[0], ids[2], ids[0], ids[1]):
            cache.get(session, event_id)
    # ids[1] was evicted by ids[2] (ids[0] had been used since), then read again.
    assert cache.loads == 4


def test_directory_cache_serves_the_old_copy_while_one_thread_reads(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.participant_catalog as catalog_module

    _people(engine)
    clock = [0.0]
    cache = DirectoryCache(10, clock=lambda: clock[0])
    with Session(engine) as session:
        old = cache.get(session, 1)
    reading, release = threading.Event(), threading.Event()
    real_load = catalog_module.load_directory

    def slow_load(session: Session, event_id: int) -> object:
        reading.set()
        assert release.wait(30)
        return real_load(session, event_id)

    monkeypatch.setattr(catalog_module, "load_directory", slow_load)
    clock[0] = 11.0
    fresh: list[object] = []

    def reader() -> None:
        with Session(engine) as session:
            fresh.append(cache.get(session, 1))

    thread = threading.Thread(target=reader)
    thread.start()
    assert reading.wait(30)
    with Session(engine) as session:
        assert cache.get(session, 1) is old  # not blocked behind the reader
    release.set()
    thread.join(30)
    assert fresh[0] is not old and cache.loads == 2
    with Session(engine) as session:
        assert cache.get(session, 1) is fresh[0]


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


def test_a_session_is_current_only_if_it_began_after_the_last_sign_out() -> None:
    signed_out = NOW
    assert session_is_current(None, None) and session_is_current(None, NOW)  # never signed out
    assert not session_is_current(signed_out, None)  # a session older than the record of its start
    assert not session_is_current(signed_out, NOW - timedelta(hours=1))
    assert not session_is_current(signed_out, NOW)
    assert session_is_current(signed_out, NOW + timedelta(microseconds=1))
