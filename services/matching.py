"""Computing suggested meetings for an event: database rows in, `engine.matching` in the middle,
meeting requests out.

Each selected pair becomes a `MeetingRequest`: an existing request between the two (either
direction) gets the score and explanation; otherwise a new one with origin `suggested`, from the
supplier to the demander, waits for the target's answer. Participants' own requests count as
preferences (must / nice), do-not-meet wishes and organizer rules come from `pair_rule`.
Idempotent: once the event's requests are open, running it again changes nothing.
Cost: one load of the participants and their lines; the engine scores 2,400 participants in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.matching import (
    MatchProfile,
    OrganizerRules,
    Preference,
    PreferenceKind,
    RequestPolicy,
    Role,
    Shortfall,
    Weights,
    compute_matches,
)
from models import (
    ApplicationDecision,
    Event,
    EventKind,
    EventStatus,
    MeetingRequest,
    MissionApplication,
    Organization,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantStatus,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    TimeSlot,
    TradeDirection,
    TradeLine,
    Unavailability,
)
from services.errors import DomainError
from services.lifecycle import advance, is_past

ACTIVE_PARTICIPANTS = (ParticipantStatus.REGISTERED, ParticipantStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class MatchSummary:
    event_id: int
    event_slug: str
    changed: bool
    participants: int
    suggested: int
    annotated: int
    shortfalls: tuple[Shortfall, ...]
    total_utility: float
    top: tuple[tuple[int, int, float, str], ...]  # (supplier id, demander id, score, explanation)


def load_profiles(session: Session, event: Event) -> list[MatchProfile]:
    """The engine's view of every active participant of `event`."""
    people = list(
        session.exec(
            select(Participant)
            .where(Participant.event_id == event.id, col(Participant.status).in_(ACTIVE_PARTICIPANTS))
            .order_by(col(Participant.id))
        )
    )
    if event.kind is EventKind.MISSION:
        # A trade mission's applicants meet buyers only once selected (services.missions).
        not_selected = set(
            session.exec(
                select(MissionApplication.participant_id).where(
                    MissionApplication.event_id == event.id,
                    MissionApplication.decision != ApplicationDecision.SELECTED,
                )
            )
        )
        people = [p for p in people if p.id not in not_selected]
    ids = [p.id for p in people]
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({p.organization_id for p in people}))
        )
    }
    lines: dict[tuple[int, TradeDirection], list[TradeLine]] = defaultdict(list)
    for line in session.exec(select(TradeLine).where(col(TradeLine.participant_id).in_(ids))):
        lines[(line.participant_id, line.direction)].append(line)
    slot_count = session.exec(
        select(func.count()).select_from(TimeSlot).where(TimeSlot.event_id == event.id)
    ).one()
    unavailable = dict(
        session.exec(
            select(Unavailability.participant_id, func.count())
            .where(col(Unavailability.participant_id).in_(ids))
            .group_by(col(Unavailability.participant_id))
        ).all()
    )
    profiles = []
    for p in people:
        assert p.id is not None
        offers, demands = lines[(p.id, TradeDirection.OFFER)], lines[(p.id, TradeDirection.DEMAND)]
        org = orgs[p.organization_id]
        profiles.append(
            MatchProfile(
                id=str(p.id),
                role=Role(p.role.value),
                country=org.country,
                languages=tuple(p.spoken_languages),
                offered_hs=tuple(c for line in offers for c in line.hs_codes),
                demanded_hs=tuple(c for line in demands for c in line.hs_codes),
                offered_sectors=tuple(org.sector_codes) if offers else (),
                demanded_sectors=tuple(org.sector_codes) if demands else (),
                target_markets=tuple(m for line in offers for m in line.target_markets),
                certifications_held=tuple(c for line in offers for c in line.certifications),
                certifications_required=tuple(c for line in demands for c in line.certifications),
                offer_text=" ".join(line.description for line in offers),
                demand_text=" ".join(line.description for line in demands),
                max_meetings=p.max_meetings if p.max_meetings is not None else event.max_meetings,
                free_slots=max(0, slot_count - unavailable.get(p.id, 0)),
            )
        )
    return profiles


def event_weights(event: Event) -> Weights:
    """The event's weights: defaults overridden by `rules.weights`, minimum from the event."""
    known = {f.name for f in fields(Weights)}
    given = dict((event.rules or {}).get("weights", {}))
    unknown = sorted(set(given) - known)
    if unknown:
        raise DomainError(f"event {event.slug!r}: unknown matching weights {unknown}; known: {sorted(known)}")
    return Weights(**{**given, "min_meetings": event.min_meetings})


def compute_event_matches(session: Session, event: Event, *, now: datetime) -> MatchSummary:
    assert event.id is not None
    if not is_past(event, EventStatus.REGISTRATION_CLOSED):
        raise DomainError(
            f"close registration of {event.slug!r} before matching (status {event.status.value})"
        )
    if is_past(event, EventStatus.REQUESTS_OPEN):
        return MatchSummary(event.id, event.slug, False, 0, 0, 0, (), 0.0, ())
    profiles = load_profiles(session, event)
    requests = list(session.exec(select(MeetingRequest).where(MeetingRequest.event_id == event.id)))
    rules = list(session.exec(select(PairRule).where(PairRule.event_id == event.id)))
    preferences = [
        Preference(str(r.requester_id), str(r.target_id), PreferenceKind(r.priority.value))
        for r in requests
        if r.origin is RequestOrigin.PARTICIPANT
        and r.status in (RequestStatus.REQUESTED, RequestStatus.ACCEPTED)
    ]
    preferences += [
        Preference(str(r.first_id), str(r.second_id), PreferenceKind.DO_NOT_MEET)
        for r in rules
        if r.kind is PairRuleKind.FORBIDDEN and r.origin is RequestOrigin.PARTICIPANT
    ]
    organizer = OrganizerRules(
        forced_pairs=tuple(
            (str(r.first_id), str(r.second_id)) for r in rules if r.kind is PairRuleKind.FORCED
        ),
        forbidden_pairs=tuple(
            (str(r.first_id), str(r.second_id))
            for r in rules
            if r.kind is PairRuleKind.FORBIDDEN and r.origin is not RequestOrigin.PARTICIPANT
        ),
        request_policy=RequestPolicy(event.request_policy.value),
    )
    result = compute_matches(profiles, preferences, organizer, event_weights(event))
    by_pair = {frozenset((r.requester_id, r.target_id)): r for r in requests}
    suggested = annotated = 0
    for meeting in result.meetings:
        supplier, demander = int(meeting.supplier_id), int(meeting.demander_id)
        existing = by_pair.get(frozenset((supplier, demander)))
        if existing is not None:
            existing.score, existing.explanation = _stored_score(meeting.score), meeting.explanation[:500]
            if meeting.is_forced:
                # The organizer required this pair: nobody's answer (or silence) may drop it.
                existing.status, existing.origin = RequestStatus.ACCEPTED, RequestOrigin.ORGANIZER
                existing.priority, existing.responded_at = RequestPriority.MUST, now
            session.add(existing)
            annotated += 1
            continue
        origin = RequestOrigin.ORGANIZER if meeting.is_forced else RequestOrigin.SUGGESTED
        session.add(
            MeetingRequest(
                event_id=event.id,
                requester_id=supplier,
                target_id=demander,
                priority=RequestPriority.MUST if meeting.is_forced else RequestPriority.NICE,
                origin=origin,
                # An organizer's forced pair needs nobody's acceptance.
                status=RequestStatus.ACCEPTED if meeting.is_forced else RequestStatus.REQUESTED,
                score=_stored_score(meeting.score),
                explanation=meeting.explanation[:500],
                created_at=now,
                responded_at=now if meeting.is_forced else None,
            )
        )
        suggested += 1
    advance(
        session,
        event,
        EventStatus.REQUESTS_OPEN,
        "rueda.matches.computed",
        now=now,
        payload={"suggested": suggested, "annotated": annotated, "shortfalls": len(result.shortfalls)},
    )
    top = sorted(result.meetings, key=lambda m: -m.score)[:25]
    return MatchSummary(
        event.id,
        event.slug,
        True,
        len(profiles),
        suggested,
        annotated,
        result.shortfalls,
        result.total_utility,
        tuple((int(m.supplier_id), int(m.demander_id), round(m.score, 3), m.explanation) for m in top),
    )


def respond_to_request(
    session: Session, request: MeetingRequest, participant_id: int, *, accept: bool, now: datetime
) -> MeetingRequest:
    """The target of a request accepts or declines it, before requests close."""
    if request.target_id != participant_id:
        raise DomainError("only the participant asked can answer this request")
    if request.status is not RequestStatus.REQUESTED:
        if request.status is (RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED):
            return request
        raise DomainError(f"this request is already {request.status.value}")
    request.status = RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED
    request.responded_at = now
    session.add(request)
    return request


def _stored_score(score: float) -> float:
    """The engine's utility can be negative (a pair someone must meet despite, say, no common
    language: the penalty is in the explanation); the stored score is a quality from 0 up."""
    return max(0.0, round(score, 4))
