"""The organizer digest: once a day, each organizer and staff member of an event gets the state of
its email (sent, pending, skipped) with every permanent failure since the last digest and the
reason, so that a bounced agenda is noticed the same day.

Idempotent per event, recipient and day: running it twice a day queues nothing new.
Cost: two aggregate queries and one insert per recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (
    ACTIVE_MEETING_STATUSES,
    Event,
    EventMembership,
    Meeting,
    NotificationStatus,
    User,
)
from notifications.catalog import OrganizerDigest, Recipient
from notifications.outbox import build_key, count_by_status, list_failures, queue_message
from services.agendas import event_info


@dataclass(frozen=True, slots=True)
class DigestSummary:
    event_slug: str
    recipients: int
    queued: int
    failures: int


def queue_organizer_digest(
    session: Session,
    event: Event,
    *,
    now: datetime,
    dashboard_url: str,
    period: timedelta = timedelta(days=1),
) -> DigestSummary:
    """Queue today's digest (in the event's time zone) to every organizer and staff member."""
    assert event.id is not None
    day = now.astimezone(ZoneInfo(event.timezone)).date()
    counts = count_by_status(session, event_id=event.id)
    failures = list_failures(session, event_id=event.id, since=now - period)
    scheduled = session.exec(
        select(func.count())
        .select_from(Meeting)
        .where(Meeting.event_id == event.id, col(Meeting.status).in_(ACTIVE_MEETING_STATUSES))
    ).one()
    members = session.exec(
        select(User, EventMembership)
        .join(EventMembership, col(EventMembership.user_id) == col(User.id))
        .where(EventMembership.event_id == event.id, User.is_active == True)  # noqa: E712 (SQL, not Python)
        .order_by(col(User.id))
    ).all()
    queued = 0
    for user, _membership in members:
        context = OrganizerDigest(
            event=event_info(event),
            recipient=Recipient(name=user.full_name, timezone=event.timezone),
            day_on=day,
            sent=counts[NotificationStatus.SENT],
            pending=counts[NotificationStatus.PENDING],
            skipped=counts[NotificationStatus.SKIPPED],
            failures=failures,
            meetings_scheduled=int(scheduled),
            expected_business=None,
            dashboard_url=dashboard_url,
        )
        if queue_message(
            session,
            kind="organizer.digest",
            context=context,
            recipient_email=user.email,
            language=event.default_language,
            idempotency_key=build_key("organizer.digest", user.email, f"event-{event.id}", day.isoformat()),
            due_at=now,
            now=now,
            event_id=event.id,
        ):
            queued += 1
    return DigestSummary(event.slug, len(members), queued, len(failures))
