"""Meeting requests as participants see them in the portal: ask for a meeting (must or nice to meet,
with a note), answer the requests made to you, list both sides.

Rules:
- A participant asks another active participant of the same event, never themself, and only as
  the event's request policy allows (`engine.matching.preferences.may_request`).
- One request per pair: asking someone who already asked you is refused with a pointer to answer
  theirs instead (the unique key holds one row per direction; this holds one per pair).
- Requests can be made and answered while requests are open: from registration until the
  requests deadline (`requests_close_at`) and until the organizer closes requests. After the
  deadline an unanswered request counts as expired at once, by rule, even before
  `services.lifecycle.close_requests` writes that status.
- Answering a request that is not yours is "not found": nobody learns that it exists.
Cost: a few indexed queries per call; listing is linear in the participant's requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from engine.matching import RequestPolicy, Role
from engine.matching.preferences import may_request
from models import (
    Event,
    EventStatus,
    MeetingRequest,
    Organization,
    Participant,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    TradeLine,
)
from notifications.catalog import Counterpart, RequestInfo, RequestsReceived
from notifications.outbox import build_key, queue_message
from services.agendas import event_info, recipient_for
from services.errors import ConflictError, DomainError, NotFoundError
from services.lifecycle import is_past
from services.matching import respond_to_request
from services.portal_accounts import ACTIVE_STATUSES, get_active_participant

NOTE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class RequestView:
    request_id: int
    is_incoming: bool
    counterpart_id: int
    counterpart_name: str
    counterpart_organization: str
    counterpart_country: str
    priority: RequestPriority
    origin: RequestOrigin
    status: RequestStatus  # effective: an unanswered request past the deadline is expired
    note: str | None
    explanation: str | None
    created_at: datetime
    can_answer: bool


def are_requests_open(event: Event, now: datetime) -> bool:
    if is_past(event, EventStatus.REQUESTS_CLOSED) or event.status is EventStatus.DRAFT:
        return False
    return event.requests_close_at is None or now < event.requests_close_at


def effective_status(request: MeetingRequest, event: Event, now: datetime) -> RequestStatus:
    if request.status is RequestStatus.REQUESTED and not are_requests_open(event, now):
        return RequestStatus.EXPIRED
    return request.status


def request_meeting(
    session: Session,
    participant_id: int,
    target_id: int,
    *,
    priority: RequestPriority,
    note: str | None,
    now: datetime,
    portal_url: str | None = None,
) -> MeetingRequest:
    """`participant_id` asks `target_id` for a meeting. With `portal_url`, the target is emailed
    (`requests.received`, in the target's language and time zone) with a link to answer it."""
    me = get_active_participant(session, participant_id)
    event = session.get(Event, me.event_id)
    assert event is not None and event.id is not None
    target = session.get(Participant, target_id)
    if target is None or target.event_id != me.event_id or target.status not in ACTIVE_STATUSES:
        raise NotFoundError("no such participant at this event")
    if target.id == me.id:
        raise DomainError("you cannot ask yourself for a meeting")
    if not are_requests_open(event, now):
        raise DomainError("requests for this event are closed")
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_LIMIT:
        raise DomainError(f"the note is too long: at most {NOTE_LIMIT} characters")
    existing = session.exec(
        select(MeetingRequest).where(
            MeetingRequest.event_id == event.id,
            or_(
                (col(MeetingRequest.requester_id) == me.id) & (col(MeetingRequest.target_id) == target.id),
                (col(MeetingRequest.requester_id) == target.id) & (col(MeetingRequest.target_id) == me.id),
            ),
        )
    ).first()
    if existing is not None:
        if existing.requester_id == me.id and existing.origin is RequestOrigin.PARTICIPANT:
            raise ConflictError("you already asked this participant for a meeting")
        raise ConflictError("there is already a request between you two: answer it in your requests")
    if not may_request(
        Role(me.role.value), Role(target.role.value), RequestPolicy(event.request_policy.value)
    ):
        raise DomainError("the rules of this event do not let you ask this participant for a meeting")
    request = MeetingRequest(
        event_id=event.id,
        requester_id=participant_id,
        target_id=target_id,
        priority=priority,
        origin=RequestOrigin.PARTICIPANT,
        status=RequestStatus.REQUESTED,
        note=text,
        created_at=now,
    )
    session.add(request)
    session.flush()
    if portal_url is not None:
        _tell_target(session, event, me, target, request, portal_url=portal_url, now=now)
    return request


def _tell_target(
    session: Session,
    event: Event,
    me: Participant,
    target: Participant,
    request: MeetingRequest,
    *,
    portal_url: str,
    now: datetime,
) -> None:
    assert request.id is not None and target.id is not None and event.id is not None
    org = session.get(Organization, me.organization_id)
    assert org is not None
    products = tuple(
        line.description
        for line in session.exec(select(TradeLine).where(TradeLine.participant_id == me.id))
        if line.description
    )[:3]
    answer_at = f"{portal_url.rstrip('/')}/me/requests#request-{request.id}"
    respond_by = event.requests_close_at
    queue_message(
        session,
        kind="requests.received",
        context=RequestsReceived(
            event=event_info(event),
            recipient=recipient_for(event, target.full_name, target.timezone),
            # Answering changes data, so it takes a signed-in POST: both links open the request.
            requests=(
                RequestInfo(
                    counterpart=Counterpart(
                        name=me.full_name, organization=org.legal_name, country=org.country, products=products
                    ),
                    note=request.note,
                    accept_url=answer_at,
                    decline_url=answer_at,
                ),
            ),
            respond_by=respond_by,
            portal_url=f"{portal_url.rstrip('/')}/me/requests",
        ),
        recipient_email=target.email,
        language=target.language,
        idempotency_key=build_key("requests.received", target.id, f"request-{request.id}"),
        due_at=now,
        not_after=respond_by if respond_by is not None and respond_by > now else None,
        now=now,
        event_id=event.id,
        participant_id=target.id,
    )


def answer_request(
    session: Session, participant_id: int, request_id: int, *, accept: bool, now: datetime
) -> MeetingRequest:
    me = get_active_participant(session, participant_id)
    request = session.get(MeetingRequest, request_id)
    if request is None or request.target_id != me.id:
        raise NotFoundError("no such request among yours")
    event = session.get(Event, request.event_id)
    assert event is not None
    if effective_status(request, event, now) is RequestStatus.EXPIRED:
        raise DomainError("the deadline to answer this request has passed")
    return respond_to_request(session, request, participant_id, accept=accept, now=now)


def list_requests(session: Session, participant_id: int, *, now: datetime) -> list[RequestView]:
    """Every request made to or by the participant, incoming first, newest first."""
    me = get_active_participant(session, participant_id)
    event = session.get(Event, me.event_id)
    assert event is not None
    requests = session.exec(
        select(MeetingRequest).where(
            MeetingRequest.event_id == me.event_id,
            or_(MeetingRequest.requester_id == me.id, MeetingRequest.target_id == me.id),
        )
    ).all()
    others = {r.target_id if r.requester_id == me.id else r.requester_id for r in requests}
    people = {p.id: p for p in session.exec(select(Participant).where(col(Participant.id).in_(others)))}
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({p.organization_id for p in people.values()}))
        )
    }
    views = []
    for r in requests:
        assert r.id is not None
        is_incoming = r.target_id == me.id
        other = people[r.requester_id if is_incoming else r.target_id]
        status = effective_status(r, event, now)
        views.append(
            RequestView(
                request_id=r.id,
                is_incoming=is_incoming,
                counterpart_id=r.requester_id if is_incoming else r.target_id,
                counterpart_name=other.full_name,
                counterpart_organization=orgs[other.organization_id].legal_name,
                counterpart_country=orgs[other.organization_id].country,
                priority=r.priority,
                origin=r.origin,
                status=status,
                note=r.note,
                explanation=r.explanation,
                created_at=r.created_at,
                can_answer=is_incoming and status is RequestStatus.REQUESTED,
            )
        )
    views.sort(key=lambda v: (not v.is_incoming, -v.created_at.timestamp(), v.request_id))
    return views
