"""Recording domain facts. A fact is a `DomainEvent` row in the same transaction as the change it
describes; emitting it to Prefect happens after commit, elsewhere (ARCHITECTURE.md, Events)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models import DomainEvent, DomainEventEmission

# Namespace for deterministic event ids: the same fact recorded twice gets the same id.
_NAMESPACE = uuid.UUID("6f1d8c1e-52a0-4d44-9a55-3c0b8f0e7a11")


def record_fact(
    session: Session,
    name: str,
    *,
    resource: str,
    event_id: int | None,
    now: datetime,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> DomainEvent:
    """Add a fact named `rueda.<resource>.<verb-past>` about `resource` (e.g. `rueda.event.12`).

    With `dedupe_key`, the row id is derived from it, so recording the same fact twice fails on the
    primary key instead of producing a second, different event.
    """
    if not name.startswith("rueda.") or name.count(".") < 2:
        raise ValueError(f"domain event names are rueda.<resource>.<verb-past>, got {name!r}")
    fact = DomainEvent(
        id=uuid.uuid5(_NAMESPACE, f"{name}:{dedupe_key}") if dedupe_key else uuid.uuid4(),
        name=name,
        event_id=event_id,
        resource_id=resource,
        payload=payload or {},
        occurred_at=now,
    )
    session.add(fact)
    return fact


def pending_facts(session: Session, limit: int = 500) -> list[DomainEvent]:
    """Committed facts never emitted, oldest first."""
    emitted = select(DomainEventEmission.domain_event_id)
    return list(
        session.exec(
            select(DomainEvent)
            .where(col(DomainEvent.id).not_in(emitted))
            .order_by(col(DomainEvent.occurred_at), col(DomainEvent.name))
            .limit(limit)
        )
    )


def emit_pending(session: Session, emit: Callable[[DomainEvent], None], *, now: datetime) -> int:
    """Emit every committed fact not yet emitted with `emit` (the entry point's Prefect emitter),
    recording each emission after its emit, and commit; returns how many.

    The emission row is written after the emit: a crash in between re-emits the same id, which the
    Prefect server deduplicates. Do not reverse the order, or a crash would lose the event. Two
    emitters may race on one fact (reconcile beside any flow, or the portal): the second emission
    row is ignored, not an error."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = DomainEventEmission.__table__  # type: ignore[attr-defined]
    count = 0
    for fact in pending_facts(session):
        emit(fact)
        statement = insert(table).values(domain_event_id=fact.id, emitted_at=now)
        session.execute(statement.on_conflict_do_nothing(index_elements=["domain_event_id"]))
        count += 1
    session.commit()
    return count


def event_fields(fact: DomainEvent) -> dict[str, Any]:
    """The keyword arguments of `prefect.events.emit_event` for one fact: its name, the resource,
    the payload (ids and slugs only) and the row's id as the deterministic event id."""
    return {
        "event": fact.name,
        "resource": {"prefect.resource.id": fact.resource_id, "prefect.resource.name": fact.resource_id},
        "payload": dict(fact.payload),
        "id": fact.id,
        "occurred": fact.occurred_at,
    }
