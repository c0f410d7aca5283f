"""Steps shared by the portal tests: sign in through a real emailed link (read from the outbox row
the portal queued), and drive an event from requests to a published schedule with the services."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import Notification, Participant
from services.db import run_in_transaction
from services.events import get_event_by_slug
from services.lifecycle import close_registration, close_requests
from services.matching import compute_event_matches
from services.scheduling import build_schedule
from tests.portal.conftest import csrf_of


def latest_link(engine: Engine, email: str) -> str:
    """The sign-in URL of the newest message queued to `email` (registration or login)."""
    with Session(engine) as session:
        row = session.exec(
            select(Notification)
            .where(Notification.recipient_email == email)
            .order_by(col(Notification.id).desc())
        ).first()
        assert row is not None, f"no message queued to {email}"
        context = row.context
    return str(context.get("login_url") or context["portal_url"])


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def sign_in(client: httpx.Client, link: str) -> httpx.Response:
    path = urlsplit(link).path + "?" + urlsplit(link).query
    page = client.get(path)
    assert page.status_code == 200
    return client.post("/login", data={"t": token_of(link), "csrf_token": csrf_of(page.text)})


def participant_id(engine: Engine, email: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(Participant.id).where(Participant.email == email)).first()
        assert found is not None
        return found


def post_form(client: httpx.Client, page_path: str, action: str, data: dict[str, str]) -> httpx.Response:
    """POST `data` to `action` with the CSRF token of the page at `page_path`."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text[:500]
    return client.post(action, data={**data, "csrf_token": csrf_of(page.text)})


def schedule_event(engine: Engine, slug: str, now: datetime | None = None) -> None:
    """Close registration and requests, then build and publish the schedule (services)."""
    now = now or datetime.now(UTC)
    run_in_transaction(engine, lambda s: close_registration(s, get_event_by_slug(s, slug), now=now))
    run_in_transaction(engine, lambda s: compute_event_matches(s, get_event_by_slug(s, slug), now=now))
    run_in_transaction(engine, lambda s: close_requests(s, get_event_by_slug(s, slug), now=now))
    run_in_transaction(
        engine,
        lambda s: build_schedule(s, get_event_by_slug(s, slug), now=now, time_limit=5, seed=0, publish=True),
    )
