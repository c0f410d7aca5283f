"""The organizer digest lists the permanent email failures, once per recipient and day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from models import EventMembership, MemberRole, Notification, NotificationStatus, User
from services.db import transaction
from services.digest import queue_organizer_digest
from services.events import get_event_by_slug
from tests.factories import make_event, make_participant

pytestmark = pytest.mark.integration


def test_digest_lists_failures_once_a_day(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        event = make_event(session, now)
        person = make_participant(session, event, now, "ana@cafe.co")
        for n, (email, status, error) in enumerate(
            [
                ("org@camara.co", None, None),
                ("ana@cafe.co", NotificationStatus.FAILED, "550 5.1.1 mailbox unavailable"),
                ("ana@cafe.co", NotificationStatus.SENT, None),
            ]
        ):
            if status is None:
                user = User(email=email, full_name="Olga Organizadora", password_hash="x", created_at=now)
                session.add(user)
                session.flush()
                session.add(EventMembership(user_id=user.id, event_id=event.id, role=MemberRole.ORGANIZER))
                continue
            session.add(
                Notification(
                    event_id=event.id,
                    kind="agenda.published",
                    participant_id=person.id,
                    recipient_email=email,
                    language="es",
                    context={},
                    idempotency_key=f"k{n}",
                    message_id=f"<m{n}@x>",
                    due_at=now,
                    status=status,
                    last_error=error,
                    claimed_at=now - timedelta(hours=2),
                    created_at=now,
                )
            )
    later = now + timedelta(hours=1)
    with transaction(engine) as session:
        first = queue_organizer_digest(
            session, get_event_by_slug(session, "rueda-test"), now=later, dashboard_url="http://x/o"
        )
        second = queue_organizer_digest(
            session, get_event_by_slug(session, "rueda-test"), now=later, dashboard_url="http://x/o"
        )
    assert (first.recipients, first.queued, first.failures, second.queued) == (1, 1, 1, 0)
    with transaction(engine) as session:
        digest = session.exec(select(Notification).where(Notification.kind == "organizer.digest")).one()
    assert digest.recipient_email == "org@camara.co"
    assert digest.context["failures"] == [
        {
            "recipient_email": "ana@cafe.co",
            "kind": "agenda.published",
            "reason": "550 5.1.1 mailbox unavailable",
        }
    ]
    assert (digest.context["sent"], digest.context["pending"], digest.context["skipped"]) == (1, 0, 0)
