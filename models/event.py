"""Events, their time slots and tables, and organizer-written texts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, fk_column, json_column, utc_column
from models.enums import EventFormat, EventKind, EventStatus, RequestPolicy


class EventBase(SQLModel):
    slug: str = Field(max_length=64, description="Short unique name used in URLs and commands.")
    name: str = Field(max_length=200)
    timezone: str = Field(max_length=64, description="IANA time zone of the venue.")
    default_language: str = Field(max_length=2)
    venue_name: str | None = Field(default=None, max_length=200)
    venue_address: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2, description="ISO 3166-1 alpha-2.")
    starts_on: date
    ends_on: date
    slot_minutes: int
    min_meetings: int
    max_meetings: int


class Event(EventBase, table=True):
    __tablename__ = "event"
    __table_args__ = (
        sa.UniqueConstraint("slug"),
        sa.CheckConstraint("slot_minutes > 0 AND slot_minutes <= 240", name="slot_minutes"),
        sa.CheckConstraint("min_meetings >= 0 AND min_meetings <= max_meetings", name="meeting_bounds"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates"),
        sa.CheckConstraint(
            "registration_closes_at IS NULL OR registration_opens_at IS NULL "
            "OR registration_closes_at > registration_opens_at",
            name="registration_window",
        ),
        sa.CheckConstraint("length(default_language) = 2", name="default_language"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: EventKind = Field(sa_column=enum_column(EventKind))
    # In person and hybrid: every time is shown in the venue's zone; virtual: in each participant's.
    format: EventFormat = Field(
        default=EventFormat.IN_PERSON, sa_column=enum_column(EventFormat, server_default="in_person")
    )
    status: EventStatus = Field(default=EventStatus.DRAFT, sa_column=enum_column(EventStatus))
    languages: list[str] = Field(default_factory=list, sa_column=json_column())
    registration_opens_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    registration_closes_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    requests_close_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    request_policy: RequestPolicy = Field(
        default=RequestPolicy.SELLERS_TO_BUYERS, sa_column=enum_column(RequestPolicy)
    )
    # The slot plan as defined by the organizer (days, sessions, breaks); TimeSlot rows are built from it.
    slot_plan: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # Matching weights and other rules (see models.schemas.RulesDefinition).
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # Conversion rates to US$ used by reports: {"EUR": 1.08} means 1 EUR = 1.08 USD.
    usd_rates: dict[str, float] = Field(default_factory=dict, sa_column=json_column())
    # Trade missions only: destination, capacity, quotas, checklist (see models.schemas.MissionDefinition).
    mission: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class TimeSlot(SQLModel, table=True):
    """One meeting period. `code` is the public id used in files (`d1s01`)."""

    __tablename__ = "time_slot"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "code"),
        sa.UniqueConstraint("event_id", "ordinal"),
        sa.UniqueConstraint("event_id", "id"),
        sa.CheckConstraint("ends_at > starts_at", name="times"),
        sa.CheckConstraint("ordinal >= 0 AND day_index >= 0", name="ordinal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    code: str = Field(max_length=16)
    ordinal: int
    day_index: int
    day_on: date
    session: str = Field(max_length=32)
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column())


class EventTable(SQLModel, table=True):
    """A numbered or named place where one meeting happens per slot."""

    __tablename__ = "event_table"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "code"),
        sa.UniqueConstraint("event_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    code: str = Field(max_length=32)
    label: str | None = Field(default=None, max_length=100)
    is_active: bool = Field(default=True, description="False while the table is out of service.")


class EventText(SQLModel, table=True):
    """Organizer-written text shown in one kind of email, per language. Data, never a template."""

    __tablename__ = "event_text"
    __table_args__ = (sa.UniqueConstraint("event_id", "notification_kind", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    notification_kind: str = Field(max_length=64)
    language: str = Field(max_length=2)
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
