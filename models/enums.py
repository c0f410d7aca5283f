"""Every state and kind in the data model, as `StrEnum`s stored by value."""

from enum import StrEnum


class EventKind(StrEnum):
    ROUNDTABLE = "roundtable"
    MISSION = "mission"


class EventStatus(StrEnum):
    DRAFT = "draft"
    REGISTRATION_OPEN = "registration_open"
    REGISTRATION_CLOSED = "registration_closed"
    REQUESTS_OPEN = "requests_open"
    REQUESTS_CLOSED = "requests_closed"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ENDED = "ended"
    ARCHIVED = "archived"


class RequestPolicy(StrEnum):
    """Who may ask whom for a meeting."""

    SELLERS_TO_BUYERS = "sellers_to_buyers"
    BUYERS_TO_SELLERS = "buyers_to_sellers"
    BOTH_WAYS = "both_ways"
    ANYONE = "anyone"


class ParticipantRole(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    BOTH = "both"


class EventFormat(StrEnum):
    """Where meetings happen: at a venue (times in the venue's zone), online (times in each
    participant's zone), or both (the venue's zone, as people at the venue need it)."""

    IN_PERSON = "in_person"
    VIRTUAL = "virtual"
    HYBRID = "hybrid"


class ParticipantStatus(StrEnum):
    REGISTERED = "registered"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class CompanySize(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class TradeDirection(StrEnum):
    OFFER = "offer"
    DEMAND = "demand"


class RequestPriority(StrEnum):
    MUST = "must"
    NICE = "nice"


class RequestOrigin(StrEnum):
    PARTICIPANT = "participant"
    SUGGESTED = "suggested"
    ORGANIZER = "organizer"


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class PairRuleKind(StrEnum):
    FORCED = "forced"
    FORBIDDEN = "forbidden"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    PLACED = "placed"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class SurveyWave(StrEnum):
    POST_EVENT = "post_event"
    FOLLOWUP_3M = "followup_3m"
    FOLLOWUP_6M = "followup_6m"
    FOLLOWUP_12M = "followup_12m"


class SurveyResponseKind(StrEnum):
    MEETING = "meeting"
    PARTICIPANT = "participant"
    FOLLOWUP = "followup"


class ApplicationDecision(StrEnum):
    PENDING = "pending"
    SELECTED = "selected"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"


class MemberRole(StrEnum):
    ORGANIZER = "organizer"
    STAFF = "staff"
