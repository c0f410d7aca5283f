"""The catalog of an event's participants, as one participant sees it: who else is there, what they
offer and seek, filtered by role, country, sector, HS chapter and language, with the matcher's
suggestions for this participant first (best score first) and their explanation, one page at a time.

Privacy: the catalog shows names, organizations, countries, cities, products and languages, never
email addresses or phone numbers (participants exchange contacts in the meeting itself), and only
participants of the viewer's own event who are registered or confirmed.

Cost: the event-wide part (the `Directory`: every active participant with organization and trade
lines) is three queries over the whole event, about 100 ms at 2,400 participants, most of it
decoding JSON columns. It is the same for every viewer, so the portal keeps it in a
`DirectoryCache` for a few seconds (`portal.catalog_cache_seconds`); what is the viewer's own (the
requests between the viewer and each entry, what the viewer may still ask for) is read on every
page, and entries are built for the page shown only.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from engine.matching import RequestPolicy, Role
from engine.matching.preferences import may_request
from models import (
    Event,
    MeetingRequest,
    Organization,
    Participant,
    ParticipantRole,
    RequestOrigin,
    RequestStatus,
    TradeDirection,
    TradeLine,
)
from services.meeting_requests import are_requests_open, effective_status
from services.portal_accounts import ACTIVE_STATUSES, get_active_participant


@dataclass(frozen=True, slots=True)
class CatalogFilters:
    role: ParticipantRole | None = None
    country: str | None = None  # ISO alpha-2
    sector: str | None = None  # ISIC code
    hs_chapter: str | None = None  # two digits
    language: str | None = None  # ISO 639-1


@dataclass(frozen=True, slots=True)
class Listing:
    """What every participant of the event sees about one participant."""

    participant_id: int
    name: str
    job_title: str | None
    organization: str
    country: str
    city: str | None
    role: ParticipantRole
    sectors: tuple[str, ...]
    languages: tuple[str, ...]
    offer_hs: tuple[str, ...]
    offer_text: str
    demand_hs: tuple[str, ...]
    demand_text: str

    def facets(self) -> dict[str, set[str]]:
        """The filter values this listing contributes (one each per kind)."""
        return {
            "countries": {self.country},
            "languages": set(self.languages),
            "sectors": set(self.sectors),
            "hs_chapters": {code[:2] for code in self.offer_hs + self.demand_hs},
        }


@dataclass(frozen=True, slots=True)
class CatalogEntry(Listing):
    """A listing as one viewer sees it: with the request between them."""

    is_suggested: bool
    score: float | None
    explanation: str | None
    request_status: RequestStatus | None  # of the request between the viewer and this participant
    can_request: bool


@dataclass(frozen=True)
class Directory:
    """The event-wide part of the catalog: active participants by name (then id), and how many
    listings carry each filter value (so a viewer's own values can be left out of the choices)."""

    event_id: int
    listings: tuple[Listing, ...]
    facet_counts: dict[str, Counter[str]]


@dataclass(frozen=True, slots=True)
class Catalog:
    entries: tuple[CatalogEntry, ...]  # the page asked for
    total: int  # everyone the viewer may see, before filtering
    matching: int = 0  # after filtering, on every page
    page: int = 1
    pages: int = 1
    countries: tuple[str, ...] = field(default=())
    languages: tuple[str, ...] = field(default=())
    sectors: tuple[str, ...] = field(default=())
    hs_chapters: tuple[str, ...] = field(default=())


def load_directory(session: Session, event_id: int) -> Directory:
    # Columns, not ORM objects: this reads the whole event (2,400 participants and their trade
    # lines), and building entities cost two thirds of the time.
    people = session.execute(
        sa.select(
            col(Participant.id),
            col(Participant.full_name),
            col(Participant.job_title),
            col(Participant.role),
            col(Participant.spoken_languages),
            col(Participant.organization_id),
        )
        .where(col(Participant.event_id) == event_id, col(Participant.status).in_(ACTIVE_STATUSES))
        .order_by(col(Participant.full_name), col(Participant.id))
    ).all()
    orgs = {
        o.id: o
        for o in session.execute(
            sa.select(
                col(Organization.id),
                col(Organization.legal_name),
                col(Organization.country),
                col(Organization.city),
                col(Organization.sector_codes),
            )
            # IN, not JOIN ... DISTINCT: PostgreSQL has no equality on json columns.
            .where(
                col(Organization.id).in_(
                    sa.select(col(Participant.organization_id)).where(col(Participant.event_id) == event_id)
                )
            )
        )
    }
    lines: dict[tuple[int, TradeDirection], list[Any]] = defaultdict(list)
    for line in session.execute(
        sa.select(
            col(TradeLine.participant_id),
            col(TradeLine.direction),
            col(TradeLine.hs_codes),
            col(TradeLine.description),
        )
        .join(Participant, col(Participant.id) == col(TradeLine.participant_id))
        .where(col(Participant.event_id) == event_id)
        .order_by(col(TradeLine.id))
    ):
        lines[(line.participant_id, line.direction)].append(line)
    listings: list[Listing] = []
    facet_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for p in people:
        org = orgs[p.organization_id]
        offers, demands = lines[(p.id, TradeDirection.OFFER)], lines[(p.id, TradeDirection.DEMAND)]
        listing = Listing(
            participant_id=p.id,
            name=p.full_name,
            job_title=p.job_title,
            organization=org.legal_name,
            country=org.country,
            city=org.city,
            role=p.role,
            sectors=tuple(org.sector_codes),
            languages=tuple(p.spoken_languages),
            offer_hs=tuple(dict.fromkeys(c for line in offers for c in line.hs_codes)),
            offer_text=" ".join(line.description for line in offers if line.description),
            demand_hs=tuple(dict.fromkeys(c for line in demands for c in line.hs_codes)),
            demand_text=" ".join(line.description for line in demands if line.description),
        )
        listings.append(listing)
        for kind, values in listing.facets().items():
            facet_counts[kind].update(values)
    return Directory(event_id=event_id, listings=tuple(listings), facet_counts=dict(facet_counts))


class DirectoryCache:
    """Directories kept for `seconds` after they are read, for the `size` events seen last.

    A page may show another participant's change up to `seconds` late; the viewer's own requests
    are never cached. When a directory is due, one thread reads it again while the others go on
    with the copy they have (a burst of pages does not read the event a hundred times). With
    `seconds=0` every call reads the database. Safe to share between threads."""

    def __init__(
        self, seconds: float, *, size: int = 32, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds, self.size, self.clock = seconds, size, clock
        self._entries: OrderedDict[int, tuple[float, Directory]] = OrderedDict()
        self._loading: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times a directory was read from the database

    def get(self, session: Session, event_id: int) -> Directory:
        if self.seconds <= 0:
            self.loads += 1
            return load_directory(session, event_id)
        with self._lock:
            cached = self._entries.get(event_id)
            if cached is not None and self.clock() - cached[0] < self.seconds:
                self._entries.move_to_end(event_id)
                return cached[1]
            loading = self._loading.setdefault(event_id, threading.Lock())
        # Someone else is reading it: go on with the copy there is, or wait for theirs.
        if not loading.acquire(blocking=cached is None):
            assert cached is not None
            return cached[1]
        try:
            with self._lock:
                fresh = self._entries.get(event_id)
                if fresh is not None and fresh is not cached and self.clock() - fresh[0] < self.seconds:
                    return fresh[1]
            read_at = self.clock()
            directory = load_directory(session, event_id)
            with self._lock:
                self.loads += 1
                self._entries[event_id] = (read_at, directory)
                self._entries.move_to_end(event_id)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            return directory
        finally:
            loading.release()


def load_catalog(
    session: Session,
    participant_id: int,
    filters: CatalogFilters,
    *,
    now: datetime,
    page: int = 1,
    page_size: int | None = None,
    directories: DirectoryCache | None = None,
) -> Catalog:
    """The catalog as `participant_id` sees it: page `page` of `page_size` entries (all of them
    when `page_size` is None; a page past the end shows the last one)."""
    me = get_active_participant(session, participant_id)
    event = session.get(Event, me.event_id)
    assert event is not None and me.id is not None
    directory = (
        directories.get(session, me.event_id)
        if directories is not None
        else load_directory(session, me.event_id)
    )
    between: dict[int, MeetingRequest] = {}
    for row in session.exec(
        select(MeetingRequest).where(
            MeetingRequest.event_id == me.event_id,
            or_(MeetingRequest.requester_id == me.id, MeetingRequest.target_id == me.id),
        )
    ):
        other = row.target_id if row.requester_id == me.id else row.requester_id
        between[other] = row
    others = [listing for listing in directory.listings if listing.participant_id != me.id]
    matching = [listing for listing in others if _matches(listing, filters)]
    suggested = {
        other: request.score or 0.0
        for other, request in between.items()
        if request.origin is RequestOrigin.SUGGESTED
    }
    # Suggestions first, best score first (ties by name); then everyone else by name.
    ordered = sorted(
        (listing for listing in matching if listing.participant_id in suggested),
        key=lambda listing: -suggested[listing.participant_id],
    ) + [listing for listing in matching if listing.participant_id not in suggested]
    size = page_size or max(1, len(ordered))
    pages = max(1, -(-len(ordered) // size))
    page = min(max(1, page), pages)
    shown = ordered[(page - 1) * size : page * size]
    policy = RequestPolicy(event.request_policy.value)
    is_open = are_requests_open(event, now)
    my_role = Role(me.role.value)

    def entry(listing: Listing) -> CatalogEntry:
        request = between.get(listing.participant_id)
        return CatalogEntry(
            **{f.name: getattr(listing, f.name) for f in fields(Listing)},
            is_suggested=listing.participant_id in suggested,
            score=request.score if request is not None else None,
            explanation=request.explanation if request is not None else None,
            request_status=None if request is None else effective_status(request, event, now),
            can_request=is_open
            and request is None
            and may_request(my_role, Role(listing.role.value), policy),
        )

    mine = next((listing for listing in directory.listings if listing.participant_id == me.id), None)
    own_facets = mine.facets() if mine is not None else {}

    def choices(kind: str) -> tuple[str, ...]:
        counts = directory.facet_counts.get(kind, Counter())
        own = own_facets.get(kind, set())
        return tuple(sorted(value for value, count in counts.items() if count - (value in own) > 0))

    return Catalog(
        entries=tuple(entry(listing) for listing in shown),
        total=len(others),
        matching=len(matching),
        page=page,
        pages=pages,
        countries=choices("countries"),
        languages=choices("languages"),
        sectors=choices("sectors"),
        hs_chapters=choices("hs_chapters"),
    )


def _matches(entry: Listing, filters: CatalogFilters) -> bool:
    if filters.role is not None and entry.role not in (filters.role, ParticipantRole.BOTH):
        return False
    if filters.country and entry.country != filters.country:
        return False
    if filters.sector and filters.sector not in entry.sectors:
        return False
    if filters.language and filters.language not in entry.languages:
        return False
    if filters.hs_chapter:
        codes = entry.offer_hs + entry.demand_hs
        if not any(code.startswith(filters.hs_chapter) for code in codes):
            return False
    return True
