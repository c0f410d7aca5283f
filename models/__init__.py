"""SQLModel tables and API schemas: fields, constraints and enums, no behaviour.

Importing this package registers every table on `SQLModel.metadata` (Alembic reads it from here).
"""

from models.account import ApiToken, EventMembership, LoginToken, User
from models.base import ACTIVE_MEETING_STATUSES, UTCDateTime
from models.domain_event import DomainEvent, DomainEventEmission
from models.enums import (
    ApplicationDecision,
    CompanySize,
    EventFormat,
    EventKind,
    EventStatus,
    MeetingStatus,
    MemberRole,
    NotificationStatus,
    PairRuleKind,
    ParticipantRole,
    ParticipantStatus,
    RequestOrigin,
    RequestPolicy,
    RequestPriority,
    RequestStatus,
    SurveyResponseKind,
    SurveyWave,
    TradeDirection,
    WaitlistStatus,
)
from models.event import Event, EventTable, EventText, TimeSlot
from models.meeting import Meeting, MeetingRequest, MeetingSeat, PairRule, WaitlistEntry
from models.mission import ChecklistCompletion, ChecklistItem, MissionApplication
from models.notification import Notification
from models.participant import Organization, Participant, TradeLine, Unavailability
from models.ratelimit import RateLimitCounter
from models.survey import SurveyInvitation, SurveyResponse

__all__ = [
    "ACTIVE_MEETING_STATUSES",
    "ApiToken",
    "ApplicationDecision",
    "ChecklistCompletion",
    "ChecklistItem",
    "CompanySize",
    "DomainEvent",
    "DomainEventEmission",
    "Event",
    "EventFormat",
    "EventKind",
    "EventMembership",
    "EventStatus",
    "EventTable",
    "EventText",
    "LoginToken",
    "Meeting",
    "MeetingRequest",
    "MeetingSeat",
    "MeetingStatus",
    "MemberRole",
    "MissionApplication",
    "Notification",
    "NotificationStatus",
    "Organization",
    "PairRule",
    "PairRuleKind",
    "Participant",
    "ParticipantRole",
    "ParticipantStatus",
    "RateLimitCounter",
    "RequestOrigin",
    "RequestPolicy",
    "RequestPriority",
    "RequestStatus",
    "SurveyInvitation",
    "SurveyResponse",
    "SurveyResponseKind",
    "SurveyWave",
    "TimeSlot",
    "TradeDirection",
    "TradeLine",
    "UTCDateTime",
    "Unavailability",
    "User",
    "WaitlistEntry",
    "WaitlistStatus",
]
