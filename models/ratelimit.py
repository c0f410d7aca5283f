"""Fixed-window request counters shared by every portal process (login, registration, magic links).

One row per (scope, hashed client key, window). The key is a SHA-256, never the address or the
email itself, so the table holds no personal data. Rows of past windows are deleted as new ones
are counted."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_column


class RateLimitCounter(SQLModel, table=True):
    __tablename__ = "rate_limit_counter"
    __table_args__ = (sa.CheckConstraint("hits >= 0", name="hits"),)

    key: str = Field(primary_key=True, max_length=128, description="scope:sha256(client):window")
    window_ends_at: datetime = Field(sa_column=utc_column(index=True))
    hits: int = 0
