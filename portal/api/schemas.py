"""The JSON API's response models: what integrations see, documented in the OpenAPI schema with an
example each. Built from the read models of services.dashboard (`from_attributes`)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models import (
    EventKind,
    EventStatus,
    MeetingStatus,
    MemberRole,
    ParticipantRole,
    ParticipantStatus,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    SurveyResponseKind,
    SurveyWave,
)
from models.text import MULTI_LINE_PATTERN, MULTILINE, CheckedText


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in words safe to show a user.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "no event with slug 'rueda-x'"}]})


class ProblemOut(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query`, `path` or `header`, then the field.")
    msg: str
    type: str = Field(description="Pydantic's error type, e.g. `int_parsing`, `missing`.")


class ValidationErrorOut(BaseModel):
    detail: list[ProblemOut] = Field(description="The first 20 problems; the input is never repeated.")
    count: int = Field(description="How many problems there were in all.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "loc": ["query", "limit"],
                            "msg": "Input should be greater than or equal to 1",
                            "type": "greater_than_equal",
                        }
                    ],
                    "count": 1,
                }
            ]
        }
    )


class EventOut(_Out):
    slug: str
    name: str
    kind: EventKind
    status: EventStatus
    timezone: str = Field(description="IANA time zone of the venue.")
    starts_on: date
    ends_on: date
    role: MemberRole = Field(description="The token owner's role in this event.")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "slug": "macrorrueda-2027",
                    "name": "Macrorrueda 2027",
                    "kind": "roundtable",
                    "status": "published",
                    "timezone": "America/Bogota",
                    "starts_on": "2027-05-19",
                    "ends_on": "2027-05-20",
                    "role": "organizer",
                }
            ]
        },
    )


class ParticipantOut(_Out):
    id: int
    full_name: str
    email: str
    job_title: str | None
    phone: str | None
    organization: str
    country: str = Field(description="ISO 3166-1 alpha-2 of the organization.")
    role: ParticipantRole
    status: ParticipantStatus
    language: str
    timezone: str
    table: str | None = Field(description="The table the participant hosts, if any.")
    created_at: datetime

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "full_name": "Ana Gómez",
                    "email": "ana@cafeandino.co",
                    "job_title": "Export manager",
                    "phone": None,
                    "organization": "Café Andino SAS",
                    "country": "CO",
                    "role": "seller",
                    "status": "registered",
                    "language": "es",
                    "timezone": "America/Bogota",
                    "table": None,
                    "created_at": "2027-04-01T15:00:00Z",
                }
            ]
        },
    )


class RequestOut(_Out):
    id: int
    requester_id: int
    target_id: int
    priority: RequestPriority
    origin: RequestOrigin
    status: RequestStatus
    score: float | None
    note: str | None
    created_at: datetime
    responded_at: datetime | None

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 40,
                    "requester_id": 12,
                    "target_id": 7,
                    "priority": "must",
                    "origin": "participant",
                    "status": "accepted",
                    "score": 0.82,
                    "note": "We export specialty coffee to the US.",
                    "created_at": "2027-04-02T10:00:00Z",
                    "responded_at": "2027-04-03T09:12:00Z",
                }
            ]
        },
    )


class RequestCreate(CheckedText):
    """A meeting the organizer wants: `requested` (the target answers in the portal) or `accepted`
    (arranged with both sides)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"requester_id": 12, "target_id": 7, "priority": "must", "status": "accepted", "note": None}
            ]
        },
    )

    requester_id: int = Field(ge=1, le=2**31 - 1)
    target_id: int = Field(ge=1, le=2**31 - 1)
    priority: RequestPriority = RequestPriority.NICE
    status: Literal["requested", "accepted"] = "requested"
    note: Annotated[str | None, MULTILINE] = Field(
        default=None, max_length=500, json_schema_extra={"pattern": MULTI_LINE_PATTERN}
    )


class MeetingOut(_Out):
    id: int
    request_id: int | None
    slot: str = Field(description="Slot code, e.g. d1s01 (day 1, slot 1).")
    starts_at: datetime
    ends_at: datetime
    table: str
    host_id: int = Field(description="Participant hosting the meeting at the table.")
    visitor_id: int
    status: MeetingStatus
    version: int = Field(description="Grows with every change of the meeting.")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 301,
                    "request_id": 40,
                    "slot": "d1s01",
                    "starts_at": "2027-05-19T13:00:00Z",
                    "ends_at": "2027-05-19T13:30:00Z",
                    "table": "T1",
                    "host_id": 7,
                    "visitor_id": 12,
                    "status": "scheduled",
                    "version": 1,
                }
            ]
        },
    )


class SurveyResponseOut(_Out):
    id: int
    participant_id: int
    wave: SurveyWave
    kind: SurveyResponseKind
    meeting_id: int | None
    took_place: bool | None
    interest: int | None = Field(description="1-5.")
    currency: str = Field(description="ISO 4217 code of the amounts.")
    usd_rate: float | None = Field(description="Rate to US$ stated by the respondent, if any.")
    expected_immediate_cents: int | None = Field(description="Minor units of `currency`.")
    expected_3m_cents: int | None
    expected_6m_cents: int | None
    expected_12m_cents: int | None
    satisfaction: int | None = Field(description="1-5.")
    recommend: int | None = Field(description="0-10 (Net Promoter Score).")
    hs_code: str | None
    actual_closed_cents: int | None
    actual_exported_cents: int | None
    next_steps: str | None
    comments: str | None
    submitted_at: datetime

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "participant_id": 7,
                    "wave": "post_event",
                    "kind": "meeting",
                    "meeting_id": 301,
                    "took_place": True,
                    "interest": 5,
                    "currency": "USD",
                    "usd_rate": None,
                    "expected_immediate_cents": 1000000,
                    "expected_3m_cents": 2000000,
                    "expected_6m_cents": None,
                    "expected_12m_cents": None,
                    "satisfaction": None,
                    "recommend": None,
                    "hs_code": None,
                    "actual_closed_cents": None,
                    "actual_exported_cents": None,
                    "next_steps": "Samples in June",
                    "comments": None,
                    "submitted_at": "2027-05-22T12:00:00Z",
                }
            ]
        },
    )

    # A row stored before the survey checked its numbers may hold infinity or NaN (which JSON cannot
    # carry) or, on SQLite, a float in an integer column (1e30): such a number is shown as null,
    # and the outcome report lists the answer among those excluded from its US$ figures.
    @field_validator(
        "expected_immediate_cents",
        "expected_3m_cents",
        "expected_6m_cents",
        "expected_12m_cents",
        "actual_closed_cents",
        "actual_exported_cents",
        mode="before",
    )
    @classmethod
    def _stored_cents(cls, value: object) -> object:
        return None if isinstance(value, float) else value

    @field_validator("usd_rate", mode="before")
    @classmethod
    def _stored_rate(cls, value: object) -> object:
        return None if isinstance(value, float) and not math.isfinite(value) else value


class DisagreementOut(_Out):
    meeting_id: int
    kind: str = Field(description="took_place, amount or status.")
    detail: str
    horizons: list[str] = Field(description="For kind amount: the horizons whose amounts differ.")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "meeting_id": 301,
                    "kind": "amount",
                    "detail": "expected amounts differ beyond the tolerance at 3m",
                    "horizons": ["3m"],
                }
            ]
        },
    )


class RegistrationsOut(_Out):
    total: int
    by_status: dict[str, int]
    by_role: dict[str, int]


class RequestFiguresOut(_Out):
    total: int
    by_status: dict[str, int]
    acceptance_rate: float | None = Field(
        description="Accepted over decided (accepted + declined + expired); null before any decision."
    )


class MeetingFiguresOut(_Out):
    total: int
    by_status: dict[str, int]
    seats: int = Field(description="Slots × active tables.")
    empty_seats: int = Field(description="Seats without an active meeting.")


class EmailFiguresOut(_Out):
    by_status: dict[str, int]
    failed: int


class SummaryOut(_Out):
    slug: str
    registrations: RegistrationsOut
    requests: RequestFiguresOut
    meetings: MeetingFiguresOut
    waiting: int = Field(description="Accepted requests waiting for a freed seat.")
    emails: EmailFiguresOut


class _PageOut(BaseModel):
    total: int = Field(description="Rows matching the filters, all pages together.")
    limit: int
    offset: int


class ParticipantPage(_PageOut):
    items: list[ParticipantOut]


class RequestPage(_PageOut):
    items: list[RequestOut]


class MeetingPage(_PageOut):
    items: list[MeetingOut]


class SurveyResponsePage(_PageOut):
    items: list[SurveyResponseOut]
