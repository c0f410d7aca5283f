"""The reconcile flow's question: which events wait for a follow-up that never ran?"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import DomainEvent, DomainEventEmission, Event
from services.db import transaction
from services.domain_events import record_fact
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


def test_emit_pending_emits_each_fact_once_in_order_and_records_it(engine: Engine, now: datetime) -> None:
    from services.domain_events import emit_pending, event_fields

    with transaction(engine) as session:
        event = make_event(session, now)
        record_fact(
            session,
            "rueda.meeting.missed",
            resource="rueda.meeting.7",
            event_id=event.id,
            now=now + timedelta(seconds=1),
            payload={"event_slug": "rueda-test", "meeting_id": 7},
        )
    emitted: list[dict[str, object]] = []
    with Session(engine) as session:
        assert emit_pending(session, lambda fact: emitted.append(event_fields(fact)), now=now) == 2
    assert [(e["event"], e["payload"]) for e in emitted] == [
        ("rueda.event.created", {}),
        ("rueda.meeting.missed", {"event_slug": "rueda-test", "meeting_id": 7}),
    ]
    assert emitted[1]["resource"] == {
        "prefect.resource.id": "rueda.meeting.7",
        "prefect.resource.name": "rueda.meeting.7",
    }
    with Session(engine) as session:
        assert emit_pending(session, lambda fact: emitted.append(event_fields(fact)), now=now) == 0
        ids = set(session.exec(select(DomainEventEmission.domain_event_id)).all())
        facts = set(session.exec(select(DomainEvent.id)).all())
    assert len(emitted) == 2 and ids == facts == {e["id"] for e in emitted}
