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
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from config import get_settings
from models import DomainEvent, DomainEventEmission, Event
from services.db import open_database, run_in_transaction
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


def pending_facts(session: Session, limit: int = 500) -> list[DomainEvent]:
    emitted = select(DomainEventEmission.domain_event_id)
    return list(
        session.exec(
            select(DomainEvent)
            .where(col(DomainEvent.id).not_in(emitted))
            .order_by(col(DomainEvent.occurred_at), col(DomainEvent.name))
            .limit(limit)
        )
    )


@task(name="emit-facts", retries=3, retry_delay_seconds=[2, 10, 30])
def emit_facts() -> int:
    """Emit every committed fact not yet emitted, as `rueda.<resource>.<verb-past>` Prefect events.

    The emission row is written after the emit: a crash in between re-emits the same id, which the
    server deduplicates. Do not reverse the order, or a crash would lose the event. Two flows may
    emit the same fact at once (reconcile beside any flow): the second emission row is ignored, not
    an error, since the server already deduplicates the event itself."""
    count = 0
    with session_scope() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        for fact in pending_facts(session):
            emit_event(
                event=fact.name,
                resource={"prefect.resource.id": fact.resource_id, "prefect.resource.name": fact.resource_id},
                payload=dict(fact.payload),
                id=fact.id,
                occurred=fact.occurred_at,
            )
            table = DomainEventEmission.__table__  # type: ignore[attr-defined]
            statement = insert(table).values(domain_event_id=fact.id, emitted_at=utc_now())
            session.execute(statement.on_conflict_do_nothing(index_elements=["domain_event_id"]))
            count += 1
        session.commit()
    return count
