"""Recording domain facts. A fact is a `DomainEvent` row in the same transaction as the change it
describes; emitting it to Prefect happens after commit, elsewhere (ARCHITECTURE.md, Events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import DomainEvent

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
