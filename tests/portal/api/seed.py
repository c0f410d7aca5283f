"""Two events and three organizer accounts for the API and organizer-page tests.

- Event A is the known survey event (tests/surveys/known_event.py, slug `rueda-resultados`): 7
  participants, 8 requests (6 accepted, 1 declined, 1 expired), 6 meetings (4 held, 1 no-show, 1
  cancelled), post-event answers with 3 disagreements.
- Event B (`otra-rueda`) has one participant of its own.
- Ana is organizer of A, Sam is staff of A, Olga is organizer of B; each has one API token.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.exceptions import StarletteDeprecationWarning

from config import Settings, get_settings
from models import MemberRole
from portal.app import create_app
from services.accounts import create_user, grant_role, issue_token
from services.db import transaction
from services.events import get_event_by_slug
from tests.factories import make_event, make_participant
from tests.surveys.known_event import build_known_event

with warnings.catch_warnings():
    # Starlette 1.x prefers `httpx2` for its test client; `httpx` works the same for these tests.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = ["TestClient"]

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-key-for-the-portal-0123456789"


@dataclass(frozen=True, slots=True)
class Seeded:
    event_a: int
    event_b: int
    people: dict[str, int]
    meetings: dict[str, int]
    participant_b: int
    tokens: dict[str, str]
    user_ids: dict[str, int]


def seed(engine: Engine, now: datetime) -> Seeded:
    known = build_known_event(engine, now)
    with transaction(engine) as session:
        event_b = make_event(session, now, slug="otra-rueda", name="Otra rueda")
        other = make_participant(session, event_b, now, "zoe@otra.co", full_name="Zoe Otra")
        event_a = get_event_by_slug(session, "rueda-resultados")
        tokens: dict[str, str] = {}
        user_ids: dict[str, int] = {}
        for key, name, event, role in (
            ("ana", "Ana Organizadora", event_a, MemberRole.ORGANIZER),
            ("sam", "Sam Staff", event_a, MemberRole.STAFF),
            ("olga", "Olga Otra", event_b, MemberRole.ORGANIZER),
        ):
            user = create_user(
                session, email=f"{key}@organizer.org", full_name=name, password=PASSWORD, now=now
            )
            grant_role(session, user, event, role)
            tokens[key] = issue_token(session, user, name="tests", now=now).token
            assert user.id is not None
            user_ids[key] = user.id
        assert event_b.id is not None and other.id is not None
    return Seeded(known.event_id, event_b.id, known.people, known.meetings, other.id, tokens, user_ids)


def portal_settings(tmp_path: Path, db_url: str) -> Settings:
    return get_settings(
        data_dir=tmp_path / "data",
        database={"url": db_url},
        portal={"secret_key": SECRET},
        prefect={"api_url": "http://127.0.0.1:9/api"},
    )


def build_app(settings: Settings, engine: Engine) -> FastAPI:
    """The whole portal application, as `python -m portal` serves it."""
    return create_app(settings, engine)
