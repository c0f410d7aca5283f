"""What every flow shares: the database, the clock, and emitting domain facts to Prefect.

A flow does five things (STYLE.md): take plain values, open a session, call one service, commit,
and hand I/O (emitting events, sending mail) to a retrying task, then log a one-line summary.
Domain facts are emitted only after the commit that wrote them, with the row id as the Prefect
event id, so a repeat emit is deduplicated by the server and a lost one is re-sent by
`reconcile-events`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

from prefect import task
from prefect.events import emit_event
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session

from config import get_settings
from models import DomainEvent, Event
from services.db import open_database, run_in_transaction
from services.domain_events import emit_pending, event_fields
from services.events import get_event_by_slug

T = TypeVar("T")


class EventRef(BaseModel):
    """Which event a flow works on."""

    event_slug: str = Field(
        description="The event's slug, as in `rueda event list`.",
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$",
        examples=["macrorrueda-demo"],
    )


def utc_now() -> datetime:
    """The flows' only clock."""
    return datetime.now(UTC)


@cache
def engine() -> Engine:
    """One engine per flow-run process, on a database at the code's schema revision."""
    settings = get_settings()
    return open_database(settings.database_url, pool_size=settings.database.pool_size)


@contextmanager
def session_scope() -> Iterator[Session]:
    with Session(engine(), expire_on_commit=False) as session:
        yield session


def run_for_event(slug: str, work: Callable[[Session, Event], T]) -> T:
    """Load the event by slug and run `work` in one transaction (retried on a lost race)."""
    return run_in_transaction(engine(), lambda session: work(session, get_event_by_slug(session, slug)))


@task(name="emit-facts", retries=3, retry_delay_seconds=[2, 10, 30])
def emit_facts() -> int:
    """Emit every committed fact not yet emitted, as `rueda.<resource>.<verb-past>` Prefect events
    (services.domain_events.emit_pending: emit first, then record the emission)."""
    with session_scope() as session:
        return emit_pending(session, emit_to_prefect, now=utc_now())


def emit_to_prefect(fact: DomainEvent) -> None:
    emit_event(**event_fields(fact))
