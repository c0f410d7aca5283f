"""One small factory per table, with no surprising defaults. Each returns a flushed row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import Event, Participant, ParticipantRole
from models.schemas import EventDefinition, ParticipantImport
from services.events import create_event
from services.participants import register_participant


def event_definition(**overrides: Any) -> EventDefinition:
    data: dict[str, Any] = {
        "slug": "rueda-test",
        "name": "Rueda de prueba",
        "timezone": "America/Bogota",
        "languages": ["es", "en"],
        "schedule": {
            "slot_minutes": 30,
            "days": [
                {"date": "2027-05-19", "sessions": [{"name": "am", "start": "08:00", "end": "10:00"}]},
                {"date": "2027-05-20", "sessions": [{"name": "am", "start": "08:00", "end": "09:00"}]},
            ],
        },
        "tables": 3,
    }
    data.update(overrides)
    return EventDefinition.model_validate(data)


def make_event(session: Session, now: datetime, **overrides: Any) -> Event:
    return create_event(session, event_definition(**overrides), now=now)


def make_participant(
    session: Session, event: Event, now: datetime, email: str, **overrides: Any
) -> Participant:
    data: dict[str, Any] = {
        "email": email,
        "full_name": "Ana Gómez",
        "organization": "Café Andino SAS",
        "role": ParticipantRole.SELLER,
        "country": "CO",
        "consent": True,
    }
    data.update(overrides)
    return register_participant(session, event, ParticipantImport.model_validate(data), now=now)
