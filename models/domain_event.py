"""Domain facts, append-only. The database is the truth; Prefect events are emitted after commit.

Rows are never updated or deleted: a trigger created by the migrations refuses both. Whether a fact
was emitted to Prefect is recorded beside it, in `domain_event_emission`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import fk_column, json_column, utc_column


class DomainEvent(SQLModel, table=True):
    __tablename__ = "domain_event"
    __table_args__ = (
        # rueda.<resource>.<verb-past>, lower case, dotted.
        sa.CheckConstraint("name LIKE 'rueda.%.%'", name="dotted_name"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100, index=True)
    event_id: int | None = Field(
        default=None, sa_column=fk_column("event.id", nullable=True, ondelete="RESTRICT")
    )
    resource_id: str = Field(max_length=100, description="e.g. rueda.event.12, rueda.meeting.345")
    # Ids and plain values only, never personal data: events travel to Prefect.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    occurred_at: datetime = Field(sa_column=utc_column(index=True))


class DomainEventEmission(SQLModel, table=True):
    __tablename__ = "domain_event_emission"

    domain_event_id: uuid.UUID = Field(foreign_key="domain_event.id", primary_key=True)
    emitted_at: datetime = Field(sa_column=utc_column())
