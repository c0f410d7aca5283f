"""The event's lifecycle steps that are state changes: closing registration, closing requests,
ending the event. Each records its domain fact once; a repeat is a no-op that says so.

Statuses only move forward (models.enums.EventStatus order). A step asked for when the event is
already past it changes nothing and returns `changed=False`, which keeps every flow idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from models import (
    DomainEvent,
    DomainEventEmission,
    Event,
    EventStatus,
    MeetingRequest,
    Notification,
    RequestStatus,
    SurveyInvitation,
    SurveyWave,
)
from notifications.outbox import skip_reminders_of_ended_event
from services.domain_events import record_fact
from services.errors import DomainError

ORDER = list(EventStatus)


@dataclass(frozen=True, slots=True)
class StepResult:
    event_id: int
    event_slug: str
    changed: bool
    status: EventStatus
    detail: str


def is_past(event: Event, status: EventStatus) -> bool:
    return ORDER.index(event.status) >= ORDER.index(status)


def advance(
    session: Session,
    event: Event,
    status: EventStatus,
    fact: str,
    *,
    now: datetime,
    payload: dict[str, object] | None = None,
) -> bool:
    """Move `event` to `status` and record `fact`, unless it is already there or beyond."""
    if is_past(event, status):
        return False
    assert event.id is not None
    event.status = status
    event.updated_at = now
    session.add(event)
    record_fact(
        session,
        fact,
        resource=f"rueda.event.{event.id}",
        event_id=event.id,
        now=now,
        payload={"event_id": event.id, "event_slug": event.slug, **(payload or {})},
        dedupe_key=f"event:{event.id}",
    )
    return True


def close_registration(session: Session, event: Event, *, now: datetime) -> StepResult:
    assert event.id is not None
    if event.status is EventStatus.ARCHIVED:
        raise DomainError(f"event {event.slug!r} is archived")
    changed = advance(session, event, EventStatus.REGISTRATION_CLOSED, "rueda.registration.closed", now=now)
    detail = "registration closed" if changed else f"already {event.status.value}; nothing to do"
    return StepResult(event.id, event.slug, changed, event.status, detail)


def close_requests(session: Session, event: Event, *, now: datetime) -> StepResult:
    """Requests nobody answered expire; the accepted ones go to scheduling."""
    assert event.id is not None
    if not is_past(event, EventStatus.REQUESTS_OPEN):
        raise DomainError(f"event {event.slug!r} has no open requests yet (status {event.status.value})")
    if is_past(event, EventStatus.REQUESTS_CLOSED):
        return StepResult(
            event.id, event.slug, False, event.status, f"already {event.status.value}; nothing to do"
        )
    expired = session.execute(
        update(MeetingRequest)
        .where(
            col(MeetingRequest.event_id) == event.id, col(MeetingRequest.status) == RequestStatus.REQUESTED
        )
        .values(status=RequestStatus.EXPIRED, responded_at=now)
    )
    count = int(getattr(expired, "rowcount", 0) or 0)
    advance(
        session,
        event,
        EventStatus.REQUESTS_CLOSED,
        "rueda.requests.closed",
        now=now,
        payload={"expired": count},
    )
    return StepResult(
        event.id, event.slug, True, event.status, f"requests closed; {count} unanswered expired"
    )


def end_event(session: Session, event: Event, *, now: datetime) -> StepResult:
    assert event.id is not None
    if not is_past(event, EventStatus.SCHEDULED):
        raise DomainError(f"event {event.slug!r} has no schedule yet (status {event.status.value})")
    # The day is over: every meeting that took place (checked in, or both sides arrived in time)
    # is held before the event ends, whatever slot it was in (services.onsite.settle_meetings).
    from services.onsite import settle_meetings  # services.onsite imports this module

    held = settle_meetings(session, event, now=now, event_over=True)
    changed = advance(session, event, EventStatus.ENDED, "rueda.event.ended", now=now)
    detail = "event ended" if changed else f"already {event.status.value}; nothing to do"
    if held:
        detail += f"; {len(held)} meetings held"
    skipped = skip_reminders_of_ended_event(session, event.id)
    if skipped:
        detail += f"; {skipped} reminders that never went out are skipped"
    return StepResult(event.id, event.slug, changed, event.status, detail)


# The status an event is left in -> the fact whose triggered follow-up moves it on.
WAITING_ON = {
    EventStatus.REGISTRATION_CLOSED: "rueda.registration.closed",
    EventStatus.REQUESTS_CLOSED: "rueda.requests.closed",
    EventStatus.PUBLISHED: "rueda.schedule.published",
    EventStatus.ENDED: "rueda.event.ended",
}


def stalled_events(session: Session, *, emitted_before: datetime) -> dict[str, EventStatus]:
    """Events whose follow-up never ran: the fact they wait on was emitted before `emitted_before`
    and they are still in that status (published: no agenda was ever queued; ended: no survey was
    ever sent). Slug -> status."""
    rows = session.exec(
        select(Event.slug, Event.status, DomainEvent.name)
        .join(DomainEvent, col(DomainEvent.event_id) == col(Event.id))
        .join(DomainEventEmission, col(DomainEventEmission.domain_event_id) == col(DomainEvent.id))
        .where(col(Event.status).in_(list(WAITING_ON)))
        .where(col(DomainEventEmission.emitted_at) < emitted_before)
        .where(col(DomainEvent.name).in_(list(WAITING_ON.values())))
    ).all()
    stalled = {
        slug: EventStatus(status) for slug, status, name in rows if WAITING_ON[EventStatus(status)] == name
    }
    with_agendas = set(
        session.exec(
            select(Event.slug)
            .join(Notification, col(Notification.event_id) == col(Event.id))
            .where(Notification.kind == "agenda.published")
            .distinct()
        )
    )
    surveyed = set(
        session.exec(
            select(Event.slug)
            .join(SurveyInvitation, col(SurveyInvitation.event_id) == col(Event.id))
            .where(SurveyInvitation.wave == SurveyWave.POST_EVENT)
            .distinct()
        )
    )
    done = {EventStatus.PUBLISHED: with_agendas, EventStatus.ENDED: surveyed}
    return {slug: status for slug, status in stalled.items() if slug not in done.get(status, set())}
