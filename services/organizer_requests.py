"""Meeting requests added by an organizer (from the API): a pair the organizer wants to meet.

Rules:
- Both participants belong to the event and are active (registered or confirmed); never one
  participant with themself.
- The event's request policy does not apply: the organizer may pair anyone (origin `organizer`).
- One request per pair, as for participants: a pair that already has a request, in either
  direction, is a conflict (the existing one is the one to change).
- The request is `requested` (the target answers it in the portal) or, when the organizer arranged
  it with both sides, `accepted` at once. Either way only while the schedule can still take it:
  once requests are closed, late meetings go through `add-late-registration`.
Cost: three indexed queries and one insert.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from models import (
    Event,
    EventStatus,
    MeetingRequest,
    Participant,
    ParticipantStatus,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
)
from services.errors import ConflictError, DomainError, NotFoundError
from services.lifecycle import is_past

NOTE_LIMIT = 500
_ACTIVE = (ParticipantStatus.REGISTERED, ParticipantStatus.CONFIRMED)


def add_organizer_request(
    session: Session,
    event: Event,
    *,
    requester_id: int,
    target_id: int,
    priority: RequestPriority,
    status: RequestStatus,
    note: str | None,
    now: datetime,
) -> MeetingRequest:
    if status not in (RequestStatus.REQUESTED, RequestStatus.ACCEPTED):
        raise DomainError("status: an organizer request starts as requested or accepted")
    assert event.id is not None
    if requester_id == target_id:
        raise DomainError("target_id: a participant cannot meet themself")
    if is_past(event, EventStatus.REQUESTS_CLOSED):
        raise ConflictError(
            f"requests of event {event.slug!r} are closed; add late meetings with add-late-registration"
        )
    for field, participant_id in (("requester_id", requester_id), ("target_id", target_id)):
        person = session.get(Participant, participant_id)
        if person is None or person.event_id != event.id:
            raise NotFoundError(f"{field}: no participant {participant_id} in this event")
        if person.status not in _ACTIVE:
            raise ConflictError(f"{field}: participant {participant_id} is {person.status.value}")
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_LIMIT:
        raise DomainError(f"note: at most {NOTE_LIMIT} characters")
    existing = session.exec(
        select(MeetingRequest.id).where(
            MeetingRequest.event_id == event.id,
            or_(
                (col(MeetingRequest.requester_id) == requester_id)
                & (col(MeetingRequest.target_id) == target_id),
                (col(MeetingRequest.requester_id) == target_id)
                & (col(MeetingRequest.target_id) == requester_id),
            ),
        )
    ).first()
    if existing is not None:
        raise ConflictError(f"request {existing} already pairs these participants")
    request = MeetingRequest(
        event_id=event.id,
        requester_id=requester_id,
        target_id=target_id,
        priority=priority,
        origin=RequestOrigin.ORGANIZER,
        status=status,
        note=text,
        created_at=now,
        responded_at=now if status is RequestStatus.ACCEPTED else None,
    )
    session.add(request)
    session.flush()
    return request
