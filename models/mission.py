"""Trade missions: applications to join a delegation, and the preparation checklist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, fk_column, json_column, utc_column
from models.enums import ApplicationDecision


class MissionApplication(SQLModel, table=True):
    __tablename__ = "mission_application"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "organization_id"),
        sa.CheckConstraint("readiness_score IS NULL OR readiness_score >= 0", name="score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    organization_id: int = Field(sa_column=fk_column("organization.id", ondelete="RESTRICT"))
    participant_id: int | None = Field(default=None, sa_column=fk_column("participant.id", nullable=True))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    is_eligible: bool | None = None
    readiness_score: float | None = None
    decision: ApplicationDecision = Field(
        default=ApplicationDecision.PENDING, sa_column=enum_column(ApplicationDecision)
    )
    decision_reasons: list[str] = Field(default_factory=list, sa_column=json_column())
    submitted_at: datetime = Field(sa_column=utc_column())
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ChecklistItem(SQLModel, table=True):
    __tablename__ = "checklist_item"
    __table_args__ = (sa.UniqueConstraint("event_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    code: str = Field(max_length=40)
    title: str = Field(max_length=200)
    due_at: datetime = Field(sa_column=utc_column())


class ChecklistCompletion(SQLModel, table=True):
    __tablename__ = "checklist_completion"
    __table_args__ = (sa.UniqueConstraint("item_id", "participant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=fk_column("checklist_item.id"))
    participant_id: int = Field(sa_column=fk_column("participant.id"))
    completed_at: datetime = Field(sa_column=utc_column())
