"""Survey invitations (one per participant and wave) and their answers.

Amounts are integers in minor units of `currency` (cents): exact on every backend. `usd_rate` is
the stated rate to US$ when the answer was not in US$.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import enum_column, fk_column, utc_column
from models.enums import SurveyResponseKind, SurveyWave

_AMOUNTS = (
    "expected_immediate_cents",
    "expected_3m_cents",
    "expected_6m_cents",
    "expected_12m_cents",
    "actual_closed_cents",
    "actual_exported_cents",
)


class SurveyInvitation(SQLModel, table=True):
    __tablename__ = "survey_invitation"
    __table_args__ = (
        sa.UniqueConstraint("participant_id", "wave"),
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint("reminders_sent >= 0", name="reminders"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=fk_column("event.id"))
    participant_id: int = Field(sa_column=fk_column("participant.id"))
    wave: SurveyWave = Field(sa_column=enum_column(SurveyWave))
    token_hash: str = Field(
        max_length=128, description="SHA-256 of the link token; the token is never stored."
    )
    created_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminders_sent: int = 0
    last_reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SurveyResponse(SQLModel, table=True):
    """One answer: about one meeting, about the whole event, or a follow-up line of actual business."""

    __tablename__ = "survey_response"
    __table_args__ = (
        sa.CheckConstraint("interest IS NULL OR (interest BETWEEN 1 AND 5)", name="interest"),
        sa.CheckConstraint("satisfaction IS NULL OR (satisfaction BETWEEN 1 AND 5)", name="satisfaction"),
        sa.CheckConstraint("recommend IS NULL OR (recommend BETWEEN 0 AND 10)", name="recommend"),
        sa.CheckConstraint("usd_rate IS NULL OR usd_rate > 0", name="usd_rate"),
        sa.CheckConstraint("kind <> 'meeting' OR meeting_id IS NOT NULL", name="meeting_answer"),
        sa.CheckConstraint(" AND ".join(f"({a} IS NULL OR {a} >= 0)" for a in _AMOUNTS), name="amounts"),
        sa.Index(
            "uq_survey_response_meeting",
            "invitation_id",
            "meeting_id",
            unique=True,
            sqlite_where=sa.text("kind = 'meeting'"),
            postgresql_where=sa.text("kind = 'meeting'"),
        ),
        sa.Index(
            "uq_survey_response_participant",
            "invitation_id",
            unique=True,
            sqlite_where=sa.text("kind = 'participant'"),
            postgresql_where=sa.text("kind = 'participant'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(sa_column=fk_column("survey_invitation.id"))
    kind: SurveyResponseKind = Field(sa_column=enum_column(SurveyResponseKind))
    meeting_id: int | None = Field(default=None, sa_column=fk_column("meeting.id", nullable=True))
    took_place: bool | None = None
    interest: int | None = None
    next_steps: str | None = Field(default=None, max_length=500)
    currency: str = Field(default="USD", max_length=3)
    usd_rate: float | None = None
    expected_immediate_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    expected_3m_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    expected_6m_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    expected_12m_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    satisfaction: int | None = None
    recommend: int | None = Field(default=None, description="0-10, for the Net Promoter Score.")
    hs_code: str | None = Field(default=None, max_length=6, description="Follow-ups: the product.")
    actual_closed_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    actual_exported_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    comments: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    submitted_at: datetime = Field(sa_column=utc_column())
