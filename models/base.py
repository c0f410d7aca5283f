"""Shared column types and helpers for the tables.

- `UTCDateTime` stores aware datetimes as UTC on every backend and hands back aware UTC datetimes,
  also from SQLite, which has no time zones. A naive datetime is refused at bind time: a naive value
  is a bug (services take `now` as an aware UTC datetime).
- `enum_column` stores a `StrEnum` as its value in a VARCHAR with a CHECK constraint, the same DDL on
  SQLite and PostgreSQL (no native PostgreSQL ENUM types, which migrations handle badly).
- The metadata carries a naming convention so that constraint names are stable in migrations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Statuses in which a meeting occupies its slot, its table and both participants' time.
ACTIVE_MEETING_STATUSES = ("scheduled", "checked_in", "held")


class UTCDateTime(TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(
    enum_cls: type[StrEnum], *, nullable: bool = False, index: bool = False, **kw: Any
) -> sa.Column[Any]:
    """A VARCHAR column restricted by a CHECK constraint to the enum's values."""
    return sa.Column(
        sa.Enum(
            enum_cls,
            native_enum=False,
            create_constraint=True,
            length=max(len(m.value) for m in enum_cls),
            values_callable=lambda cls: [m.value for m in cls],
            validate_strings=True,
            name=enum_cls.__name__.lower(),
        ),
        nullable=nullable,
        index=index,
        **kw,
    )


def json_column(*, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(sa.JSON(), nullable=nullable)


def utc_column(*, nullable: bool = False, index: bool = False) -> sa.Column[Any]:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


def fk_column(
    target: str, *, nullable: bool = False, ondelete: str = "CASCADE", index: bool = True
) -> sa.Column[Any]:
    return sa.Column(sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)
