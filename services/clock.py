"""Converting organizer-local wall times to UTC. Pure: no clock is read here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def local_to_utc(value: datetime, timezone: str) -> datetime:
    """A naive datetime is wall time in `timezone`; an aware one keeps its offset. Returns UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC)


def combine_local(day: date, at: time, timezone: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)
