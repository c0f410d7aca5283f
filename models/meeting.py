"""Meeting requests, organizer pair rules, meetings with their seats, and the waiting list.

Integrity that the database holds, not the code:
- one request per (requester, target) in an event, never to oneself;
- an active meeting (scheduled, checked in or held) owns its (slot, table): partial unique index;
- a participant sits in at most one active meeting per slot: `meeting_seat` has one row per
  participant of an active meeting, unique on (participant, slot). Its (meeting, slot) foreign key
  cascades updates, so moving a meeting moves its seats, and the unique index catches a double
  booking at commit whatever code path made it. Services delete the seats when a meeting stops being
  active (cancelled or no-show), which frees the participants' time for the waiting list.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import ACTIVE_MEETING_STATUSES, enum_column, fk_column, utc_column
from models.enums import (
    MeetingStatus,
    PairRuleKind,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    WaitlistStatus,
)

_ACTIVE = "status IN ({})".format(", ".join(f"'{s}'" for s in ACTIVE_MEETING_STATUSES))


def _same_event_fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["event_id", column], [f"{target}.event_id", f"{target}.id"], ondelete="CASCADE"
    )


class MeetingRequest(SQLModel, table=True):
    __tablename__ = "meeting_request"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "requester_id", "target_id"),
        sa.CheckConstraint("requester_id <> target_id", name="not_self"),
        sa.CheckConstraint("score IS NULL OR score >= 0", name="score"),
        _same_event_fk("requester_id", "participant"),
        _same_event_fk("target_id", "participant"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    requester_id: int = Field(index=True)
    target_id: int = Field(index=True)
    priority: RequestPriority = Field(sa_column=enum_column(RequestPriority))
    origin: RequestOrigin = Field(sa_column=enum_column(RequestOrigin))
    status: RequestStatus = Field(default=RequestStatus.REQUESTED, sa_column=enum_column(RequestStatus))
    score: float | None = None
    explanation: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=500, description="The requester's message.")
    created_at: datetime = Field(sa_column=utc_column())
    responded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PairRule(SQLModel, table=True):
    """Organizer rules and do-not-meet wishes: a pair that must meet, or must never meet."""

    __tablename__ = "pair_rule"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "first_id", "second_id"),
        # Stored with the smaller id first, so (a, b) and (b, a) are one row.
        sa.CheckConstraint("first_id < second_id", name="ordered"),
        _same_event_fk("first_id", "participant"),
        _same_event_fk("second_id", "participant"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    first_id: int
    second_id: int
    kind: PairRuleKind = Field(sa_column=enum_column(PairRuleKind))
    origin: RequestOrigin = Field(sa_column=enum_column(RequestOrigin))
    created_at: datetime = Field(sa_column=utc_column())


class Meeting(SQLModel, table=True):
    """A placed meeting. `version` grows on every change (calendar SEQUENCE, message keys)."""

    __tablename__ = "meeting"
    __table_args__ = (
        sa.UniqueConstraint("id", "slot_id"),
        sa.CheckConstraint("participant_a_id <> participant_b_id", name="two_people"),
        sa.CheckConstraint("version >= 1", name="version"),
        sa.CheckConstraint("priority >= 0", name="priority"),
        _same_event_fk("slot_id", "time_slot"),
        _same_event_fk("table_id", "event_table"),
        _same_event_fk("participant_a_id", "participant"),
        _same_event_fk("participant_b_id", "participant"),
        sa.Index(
            "uq_meeting_active_slot_table",
            "slot_id",
            "table_id",
            unique=True,
            sqlite_where=sa.text(_ACTIVE),
            postgresql_where=sa.text(_ACTIVE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    request_id: int | None = Field(
        default=None, sa_column=fk_column("meeting_request.id", nullable=True, ondelete="SET NULL")
    )
    # Participant A hosts (the buyer at her table); B visits.
    participant_a_id: int = Field(index=True)
    participant_b_id: int = Field(index=True)
    slot_id: int = Field(index=True)
    table_id: int = Field(index=True)
    status: MeetingStatus = Field(default=MeetingStatus.SCHEDULED, sa_column=enum_column(MeetingStatus))
    priority: int = 1
    version: int = 1
    status_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class MeetingSeat(SQLModel, table=True):
    """One row per participant of an active meeting; the database's guard against double booking."""

    __tablename__ = "meeting_seat"
    __table_args__ = (
        sa.UniqueConstraint("participant_id", "slot_id"),
        sa.ForeignKeyConstraint(
            ["meeting_id", "slot_id"],
            ["meeting.id", "meeting.slot_id"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )

    meeting_id: int = Field(primary_key=True)
    participant_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True)
    )
    slot_id: int = Field(index=True)


class WaitlistEntry(SQLModel, table=True):
    """An accepted request that found no place, ready to fill a freed slot."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (sa.UniqueConstraint("request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    request_id: int = Field(sa_column=fk_column("meeting_request.id"))
    status: WaitlistStatus = Field(default=WaitlistStatus.WAITING, sa_column=enum_column(WaitlistStatus))
    rank_score: float = 0.0
    reason: str | None = Field(default=None, max_length=64, description="Why it was not placed.")
    created_at: datetime = Field(sa_column=utc_column())
    offered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
