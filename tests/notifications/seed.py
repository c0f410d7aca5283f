"""Seeding helpers shared by the notification tests: an event with participants, and outbox rows
built from the sample contexts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from notifications import outbox
from notifications.samples import sample_contexts
from tests.factories import make_event, make_participant


@dataclass(frozen=True)
class Seeded:
    event_id: int
    participant_ids: list[int]


def seed_people(engine: Engine, now: datetime, count: int = 3) -> Seeded:
    with Session(engine) as session:
        event = make_event(session, now)
        people = [make_participant(session, event, now, f"p{i}@example.org") for i in range(count)]
        session.commit()
        assert event.id is not None
        return Seeded(event.id, [p.id for p in people if p.id is not None])


def queue_sample(
    session: Session,
    seeded: Seeded,
    *,
    kind: str,
    index: int,
    due_at: datetime,
    now: datetime,
    not_after: datetime | None = None,
    language: str = "es",
    email: str | None = None,
) -> str:
    """Queue the sample context of `kind` for participant `index`; returns the idempotency key."""
    person = seeded.participant_ids[index % len(seeded.participant_ids)]
    key = outbox.build_key(kind, person, f"test-{index}")
    queued = outbox.queue_message(
        session,
        kind=kind,
        context=sample_contexts()[kind],
        recipient_email=email or f"p{index % len(seeded.participant_ids)}@example.org",
        language=language,
        idempotency_key=key,
        due_at=due_at,
        now=now,
        not_after=not_after,
        event_id=seeded.event_id,
        participant_id=person,
    )
    assert queued
    return key
