"""The reconcile flow's question: which events wait for a follow-up that never ran?"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from models import DomainEvent, DomainEventEmission, Event
from services.db import transaction
from services.events import get_event_by_slug
from services.lifecycle import close_registration, stalled_events
from tests.factories import make_event

pytestmark = pytest.mark.integration


def test_only_a_step_emitted_longer_ago_than_the_grace_is_stalled(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        make_event(session, now)
        make_event(session, now, slug="otra-rueda")
    with transaction(engine) as session:
        for slug in ("rueda-test", "otra-rueda"):
            close_registration(session, get_event_by_slug(session, slug), now=now)
    with transaction(engine) as session:
        for fact in session.exec(select(DomainEvent).where(DomainEvent.name == "rueda.registration.closed")):
            event = session.get_one(Event, fact.event_id)
            # One fact went out an hour ago, the other a minute ago.
            minutes = 60 if event.slug == "rueda-test" else 1
            session.add(
                DomainEventEmission(domain_event_id=fact.id, emitted_at=now - timedelta(minutes=minutes))
            )
    with transaction(engine) as session:
        stalled = stalled_events(session, emitted_before=now - timedelta(minutes=5))
    assert {slug: status.value for slug, status in stalled.items()} == {"rueda-test": "registration_closed"}
