"""Fixed-window rate limits kept in the database, so that every portal process (and every machine
behind a load balancer) counts against the same budget.

A hit is one `INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits`: atomic on
PostgreSQL (row lock on the counter) and on SQLite (one writer at a time), so concurrent requests
never lose a count. The client key (an address, an email) is hashed before it is stored: the table
holds no personal data. Past windows are deleted as new hits arrive, a bounded batch at a time; the rows to delete are
taken with SKIP LOCKED so that two processes cleaning up never wait for (or deadlock on) each other.

The caller commits the hit in its own short transaction, before doing the work it guards, so a
refused or failing request still counts.
Cost: two statements per hit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models import RateLimitCounter


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `limit` hits per `window` for one scope and client key."""

    scope: str
    limit: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class RateDecision:
    is_allowed: bool
    hits: int
    retry_after_seconds: int


def client_key(scope: str, identifier: str) -> str:
    digest = hashlib.sha256(f"{scope}\x00{identifier.strip().lower()}".encode()).hexdigest()
    return f"{scope}:{digest[:40]}"


def hit_rate_limit(session: Session, rule: RateLimit, identifier: str, *, now: datetime) -> RateDecision:
    """Count one hit of `identifier` against `rule`; allowed while the window's count is within it."""
    seconds = max(1, int(rule.window.total_seconds()))
    window_index = int(now.timestamp()) // seconds
    window_ends_at = datetime.fromtimestamp((window_index + 1) * seconds, tz=now.tzinfo)
    key = f"{client_key(rule.scope, identifier)}:{window_index}"
    table = RateLimitCounter.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(key=key, window_ends_at=window_ends_at, hits=1)
        .on_conflict_do_update(index_elements=["key"], set_={"hits": table.c.hits + 1})
        .returning(table.c.hits)
    )
    hits = int(session.execute(statement).scalar_one())
    _delete_expired(session, now)
    retry_after = max(1, ceil((window_ends_at - now).total_seconds()))
    return RateDecision(is_allowed=hits <= rule.limit, hits=hits, retry_after_seconds=retry_after)


def _delete_expired(session: Session, now: datetime) -> None:
    expired = session.execute(
        sa.select(col(RateLimitCounter.key))
        .where(col(RateLimitCounter.window_ends_at) < now)
        .limit(200)
        .with_for_update(skip_locked=True)
    ).scalars()
    keys = list(expired)
    if keys:
        session.execute(sa.delete(RateLimitCounter).where(col(RateLimitCounter.key).in_(keys)))
