"""The portal served for real: uvicorn on a free loopback port, in a thread of the test process, on
a migrated database (SQLite copy by default), sending mail to a real aiosmtpd sink when asked."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session

from config import Settings
from models import Event
from portal.app import create_app
from services.db import make_engine, run_in_transaction
from services.events import create_event
from tests.factories import event_definition

SECRET = "test-secret-key-for-the-portal-0123456789"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Portal:
    url: str
    engine: Engine
    settings: Settings
    app: Any = None  # the ASGI application being served

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)


def portal_settings(data_dir: Path, port: int, **portal: Any) -> Settings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "secret_key": SECRET,
        "login_attempts_per_window": 1000,
        "registrations_per_window": 1000,
    }
    values.update(portal)
    return Settings(
        data_dir=data_dir,
        portal=values,
        smtp={"host": "127.0.0.1", "port": free_port(), "security": "none"},
        defaults={"language": "en"},
    )


def serve(settings: Settings, engine: Engine) -> Iterator[Portal]:
    app = create_app(settings, engine)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=settings.portal.port,
        log_level="warning",
        access_log=False,
        lifespan="on",  # as in production: it sets the number of threads (portal.threads)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.02)
    try:
        yield Portal(f"http://127.0.0.1:{settings.portal.port}", engine, settings, app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    path = tmp_path / "rueda.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def make_portal(tmp_path: Path) -> Iterator[Callable[..., Portal]]:
    stack: list[Iterator[Portal]] = []

    def start(engine: Engine, **portal: Any) -> Portal:
        settings = portal_settings(tmp_path / "data", free_port(), **portal)
        running = serve(settings, engine)
        stack.append(running)
        return next(running)

    yield start
    for running in reversed(stack):
        next(running, None)


@pytest.fixture
def portal(sqlite_engine: Engine, make_portal: Callable[..., Portal]) -> Portal:
    return make_portal(sqlite_engine)


OPEN_AT = datetime(2026, 1, 1, tzinfo=UTC)


def open_event(engine: Engine, slug: str = "rueda-test", **overrides: Any) -> int:
    """An event taking registrations now (its window opened in 2026 and never closes)."""
    definition = event_definition(slug=slug, registration_opens="2026-01-01T00:00:00", **overrides)

    def work(session: Session) -> int:
        event = create_event(session, definition, now=OPEN_AT)
        assert event.id is not None
        return event.id

    return run_in_transaction(engine, work)


def get_event(engine: Engine, event_id: int) -> Event:
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        return event


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def registration_form(email: str, **overrides: str) -> dict[str, str]:
    form = {
        "full_name": "Ana Gómez",
        "email": email,
        "organization": "Café Andino SAS",
        "country": "CO",
        "role": "seller",
        "language": "en",
        "timezone": "America/Bogota",
        "offer_hs": "0901",
        "offer_description": "Specialty green coffee",
        "consent": "yes",
    }
    form.update(overrides)
    return form


def register(client: httpx.Client, slug: str, form: dict[str, str]) -> httpx.Response:
    page = client.get(f"/e/{slug}/register")
    assert page.status_code == 200
    return client.post(f"/e/{slug}/register", data={**form, "csrf_token": csrf_of(page.text)})


def later(minutes: int) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)
