"""The catalog of an event's participants, as one participant sees it: who else is there, what they
offer and seek, filtered by role, country, sector, HS chapter and language, with the matcher's
suggestions for this participant first (best score first) and their explanation.

Privacy: the catalog shows names, organizations, countries, cities, products and languages, never
email addresses or phone numbers (participants exchange contacts in the meeting itself), and only
participants of the viewer's own event who are registered or confirmed.
Cost: three queries over the event's participants, their organizations and trade lines, plus the
viewer's requests; then filtering in memory (2,400 participants: a few milliseconds).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
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
class CatalogEntry:
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
    is_suggested: bool
    score: float | None
    explanation: str | None
    request_status: RequestStatus | None  # of the request between the viewer and this participant
    can_request: bool


@dataclass(frozen=True, slots=True)
class Catalog:
    entries: tuple[CatalogEntry, ...]
    total: int  # before filtering
    countries: tuple[str, ...] = field(default=())
    languages: tuple[str, ...] = field(default=())
    sectors: tuple[str, ...] = field(default=())
    hs_chapters: tuple[str, ...] = field(default=())


def load_catalog(session: Session, participant_id: int, filters: CatalogFilters, *, now: datetime) -> Catalog:
    me = get_active_participant(session, participant_id)
    event = session.get(Event, me.event_id)
    assert event is not None
    # Columns, not ORM objects: this reads the whole event on every page (2,400 participants and
    # their trade lines), and building entities cost two thirds of the time.
    people = [
        p
        for p in session.execute(
            sa.select(
                col(Participant.id),
                col(Participant.full_name),
                col(Participant.job_title),
                col(Participant.role),
                col(Participant.spoken_languages),
                col(Participant.organization_id),
            )
            .where(col(Participant.event_id) == me.event_id, col(Participant.status).in_(ACTIVE_STATUSES))
            .order_by(col(Participant.full_name), col(Participant.id))
        )
        if p.id != me.id
    ]
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
                    sa.select(col(Participant.organization_id)).where(
                        col(Participant.event_id) == me.event_id
                    )
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
        .where(col(Participant.event_id) == me.event_id)
        .order_by(col(TradeLine.id))
    ):
        lines[(line.participant_id, line.direction)].append(line)
    between: dict[int, MeetingRequest] = {}
    for row in session.exec(
        select(MeetingRequest).where(
            MeetingRequest.event_id == me.event_id,
            or_(MeetingRequest.requester_id == me.id, MeetingRequest.target_id == me.id),
        )
    ):
        other = row.target_id if row.requester_id == me.id else row.requester_id
        between[other] = row
    policy = RequestPolicy(event.request_policy.value)
    is_open = are_requests_open(event, now)
    entries: list[CatalogEntry] = []
    for p in people:
        assert p.id is not None
        org = orgs[p.organization_id]
        offers, demands = lines[(p.id, TradeDirection.OFFER)], lines[(p.id, TradeDirection.DEMAND)]
        request = between.get(p.id)
        is_suggested = request is not None and request.origin is RequestOrigin.SUGGESTED
        entries.append(
            CatalogEntry(
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
                is_suggested=is_suggested,
                score=request.score if request is not None else None,
                explanation=request.explanation if request is not None else None,
                request_status=None if request is None else effective_status(request, event, now),
                can_request=is_open
                and request is None
                and may_request(Role(me.role.value), Role(p.role.value), policy),
            )
        )
    matching = [e for e in entries if _matches(e, filters)]
    matching.sort(key=lambda e: (not e.is_suggested, -(e.score or 0.0) if e.is_suggested else 0.0))
    return Catalog(
        entries=tuple(matching),
        total=len(entries),
        countries=tuple(sorted({e.country for e in entries})),
        languages=tuple(sorted({code for e in entries for code in e.languages})),
        sectors=tuple(sorted({code for e in entries for code in e.sectors})),
        hs_chapters=tuple(sorted({code[:2] for e in entries for code in e.offer_hs + e.demand_hs})),
    )


def _matches(entry: CatalogEntry, filters: CatalogFilters) -> bool:
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
