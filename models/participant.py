"""Organizations, their delegates at an event (participants), what they offer and seek, and when
they cannot meet."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, fk_column, json_column, utc_column
from models.enums import CompanySize, ParticipantRole, ParticipantStatus, TradeDirection


class OrganizationBase(SQLModel):
    legal_name: str = Field(max_length=200)
    tax_id: str | None = Field(default=None, max_length=40, description="NIT, CNPJ, VAT number...")
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2.")
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100, description="Department or state.")
    website: str | None = Field(default=None, max_length=200)
    is_women_led: bool = False
    is_peasant: bool = False
    is_indigenous: bool = False
    is_conflict_victim: bool = False


class Organization(OrganizationBase, table=True):
    __tablename__ = "organization"
    # Two rows with the same tax id in one country are the same company. NULL tax ids never collide.
    __table_args__ = (
        sa.UniqueConstraint("country", "tax_id"),
        sa.CheckConstraint("length(country) = 2", name="country"),
    )

    id: int | None = Field(default=None, primary_key=True)
    size: CompanySize | None = Field(default=None, sa_column=enum_column(CompanySize, nullable=True))
    sector_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class ParticipantBase(SQLModel):
    full_name: str = Field(max_length=200)
    email: str = Field(max_length=254, description="Stored lower-case; unique per event.")
    job_title: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    language: str = Field(max_length=2, description="Language for emails and pages (es, en, pt).")
    timezone: str = Field(max_length=64, description="IANA time zone for the agenda.")
    max_meetings: int | None = Field(default=None, description="Overrides the event maximum.")


class Participant(ParticipantBase, table=True):
    """One delegate of an organization at one event."""

    __tablename__ = "participant"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "email"),
        sa.UniqueConstraint("event_id", "id"),
        # A table is hosted by at most one participant.
        sa.UniqueConstraint("table_id"),
        # The host table belongs to the same event.
        sa.ForeignKeyConstraint(
            ["event_id", "table_id"],
            ["event_table.event_id", "event_table.id"],
            name="fk_participant_host_table",
        ),
        sa.CheckConstraint("email = lower(email)", name="email_lower"),
        sa.CheckConstraint("max_meetings IS NULL OR max_meetings >= 0", name="max_meetings"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    organization_id: int = Field(sa_column=fk_column("organization.id", ondelete="RESTRICT"))
    role: ParticipantRole = Field(sa_column=enum_column(ParticipantRole))
    status: ParticipantStatus = Field(
        default=ParticipantStatus.REGISTERED, sa_column=enum_column(ParticipantStatus)
    )
    spoken_languages: list[str] = Field(default_factory=list, sa_column=json_column())
    table_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True, index=True))
    consent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    consent_source: str | None = Field(default=None, max_length=40, description="portal, import, ...")
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    # Portal sessions started before this are over (signing out ends them on every device).
    sessions_valid_after: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # When the check-in desk saw them arrive (services.onsite.arrive); None: not (yet) arrived.
    arrived_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class TradeLine(SQLModel, table=True):
    """What a participant offers or seeks: products (HS codes), sectors, markets, certifications."""

    __tablename__ = "trade_line"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(sa_column=fk_column("participant.id"))
    direction: TradeDirection = Field(sa_column=enum_column(TradeDirection))
    hs_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    sector_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    # Offers: markets the seller targets (ISO alpha-2). Demands: unused.
    target_markets: list[str] = Field(default_factory=list, sa_column=json_column())
    # Offers: certifications held. Demands: certifications required of the counterpart.
    certifications: list[str] = Field(default_factory=list, sa_column=json_column())
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))


class Unavailability(SQLModel, table=True):
    """A slot in which a participant cannot meet (arriving late, leaving early, a talk to give)."""

    __tablename__ = "unavailability"
    __table_args__ = (sa.UniqueConstraint("participant_id", "slot_id"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(sa_column=fk_column("participant.id"))
    slot_id: int = Field(sa_column=fk_column("time_slot.id"))
    reason: str | None = Field(default=None, max_length=200)
