"""The outbox: every email is a row here before it is a message on the wire (ARCHITECTURE.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, fk_column, json_column, utc_column
from models.enums import NotificationStatus


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("message_id"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.CheckConstraint("not_after IS NULL OR not_after >= due_at", name="window"),
        sa.Index("ix_notification_status_due_at", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int | None = Field(default=None, sa_column=fk_column("event.id", nullable=True))
    kind: str = Field(max_length=64, description="Dotted kind from the catalog, e.g. agenda.published.")
    # Recipient: a participant, or a bare address (organizer digests).
    participant_id: int | None = Field(default=None, sa_column=fk_column("participant.id", nullable=True))
    recipient_email: str = Field(max_length=254)
    language: str = Field(max_length=2)
    # The validated context of the kind, as JSON; rendering reads only this.
    context: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # kind + recipient + entity + version: queuing the same message twice is a no-op.
    idempotency_key: str = Field(max_length=200)
    message_id: str = Field(max_length=200, description="Deterministic Message-ID header.")
    due_at: datetime = Field(sa_column=utc_column())
    not_after: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    status: NotificationStatus = Field(
        default=NotificationStatus.PENDING, sa_column=enum_column(NotificationStatus)
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=1000)
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    claimed_by: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
