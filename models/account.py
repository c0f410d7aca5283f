"""Organizer and staff accounts, their roles per event, API tokens, and participants' magic links.
Secrets are stored hashed: passwords with argon2, tokens with SHA-256."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, fk_column, utc_column
from models.enums import MemberRole


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        sa.UniqueConstraint("email"),
        sa.CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    full_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    is_active: bool = True
    created_at: datetime = Field(sa_column=utc_column())
    # Portal sessions started before this are over (signing out ends them on every device).
    sessions_valid_after: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class EventMembership(SQLModel, table=True):
    __tablename__ = "event_membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=fk_column("app_user.id"))
    event_id: int = Field(sa_column=fk_column("event.id"))
    role: MemberRole = Field(sa_column=enum_column(MemberRole))


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    __table_args__ = (sa.UniqueConstraint("token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=fk_column("app_user.id"))
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Limited to one event (None: every event of its user), and valid until (None: until revoked).
    event_id: int | None = Field(default=None, sa_column=fk_column("event.id", nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class LoginToken(SQLModel, table=True):
    """A participant's emailed magic link: signed, expiring, single use, hashed at rest."""

    __tablename__ = "login_token"
    __table_args__ = (sa.UniqueConstraint("token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(sa_column=fk_column("participant.id"))
    token_hash: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
