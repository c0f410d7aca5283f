"""The catalog of notification kinds: for each kind, its template folder, its audience, its context
type and whether it carries calendar entries.

Problem: a message is queued in a business transaction and rendered later, maybe days later, by
another process. So the context is validated when it is queued, never when it is sent: a bad context
must fail the service's transaction, not a reminder at 07:30 on the day of the event.

Invariants:
- every context is a frozen, slotted dataclass of plain values (no ORM object, so templates cannot
  walk relationships and fire hidden queries);
- every datetime in a context is aware; templates convert it to the recipient's time zone;
- `context_to_json` and `context_from_json` round-trip exactly (the outbox stores the JSON form);
- the organizer's own text is not part of any context: the dispatcher reads it at send time from
  `event_text`, so an organizer can still edit it while a reminder waits in the outbox.

Cost: validating a context is one pydantic pass over a few dozen fields (tens of microseconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeAlias, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

LANGUAGES: tuple[str, ...] = ("es", "en", "pt")


class NotificationContextError(ValueError):
    """A context that does not fit its kind. Raised at queue time, inside the business transaction."""


class Audience(StrEnum):
    PARTICIPANT = "participant"
    ORGANIZER = "organizer"


class Calendar(StrEnum):
    """Which calendar file a kind attaches."""

    NONE = "none"
    AGENDA = "agenda"  # every listed meeting, METHOD:REQUEST
    CHANGES = "changes"  # changed meetings: REQUEST for new and moved ones, CANCEL for cancelled ones
    CANCEL = "cancel"  # the one cancelled meeting, METHOD:CANCEL


class ChangeKind(StrEnum):
    ADDED = "added"
    MOVED = "moved"
    CANCELLED = "cancelled"


def _require_aware(*values: datetime | None) -> None:
    for value in values:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: contexts take aware datetimes")


@dataclass(frozen=True, slots=True)
class EventInfo:
    name: str
    timezone: str
    venue_name: str | None
    venue_address: str | None
    city: str | None
    starts_on: date
    ends_on: date

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.timezone!r} is not an IANA time zone") from None


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    # The zone every time in the message is shown in: the venue's for an in-person or hybrid event,
    # the recipient's own for a virtual one (services.agendas.recipient_for decides).
    timezone: str
    # The recipient's own zone when it differs from `timezone`: the footer then says how far apart.
    own_timezone: str | None = None

    def __post_init__(self) -> None:
        for zone in (self.timezone, self.own_timezone):
            if zone is None:
                continue
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{zone!r} is not an IANA time zone") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units (cents) and an ISO 4217 currency."""

    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Counterpart:
    """The other side of a meeting or request. `email` and `phone` are set only when that person
    consented to share them; the service decides, templates show whatever is present."""

    name: str
    organization: str
    country: str  # ISO 3166-1 alpha-2
    products: tuple[str, ...]
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class MeetingInfo:
    meeting_id: int
    version: int  # grows on every change: the calendar SEQUENCE
    starts_at: datetime
    ends_at: datetime
    table: str
    counterpart: Counterpart

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, self.ends_at)
        if self.ends_at <= self.starts_at:
            raise ValueError("a meeting ends after it starts")
        if self.version < 1:
            raise ValueError("meeting versions start at 1")


@dataclass(frozen=True, slots=True)
class MeetingChange:
    change: ChangeKind
    meeting: MeetingInfo
    previous_starts_at: datetime | None = None
    previous_table: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.previous_starts_at)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    counterpart: Counterpart
    note: str | None
    accept_url: str
    decline_url: str


@dataclass(frozen=True, slots=True)
class SuggestedMatch:
    counterpart: Counterpart
    reason: str  # the matcher's explanation, already in the recipient's language
    accept_url: str
    decline_url: str


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    title: str
    due_at: datetime
    is_done: bool

    def __post_init__(self) -> None:
        _require_aware(self.due_at)


@dataclass(frozen=True, slots=True)
class FailedMessage:
    recipient_email: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class RegistrationConfirmed:
    event: EventInfo
    recipient: Recipient
    organization: str
    portal_url: str
    requests_close_at: datetime | None

    def __post_init__(self) -> None:
        _require_aware(self.requests_close_at)


@dataclass(frozen=True, slots=True)
class LoginRequested:
    """A participant's sign-in link (the portal's magic link): single use, expires at `expires_at`."""

    event: EventInfo
    recipient: Recipient
    login_url: str
    expires_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.expires_at)


@dataclass(frozen=True, slots=True)
class RequestsReceived:
    event: EventInfo
    recipient: Recipient
    requests: tuple[RequestInfo, ...]
    respond_by: datetime | None
    portal_url: str

    def __post_init__(self) -> None:
        _require_aware(self.respond_by)
        if not self.requests:
            raise ValueError("requests.received needs at least one request")


@dataclass(frozen=True, slots=True)
class MatchesSuggested:
    event: EventInfo
    recipient: Recipient
    matches: tuple[SuggestedMatch, ...]
    respond_by: datetime | None
    portal_url: str

    def __post_init__(self) -> None:
        _require_aware(self.respond_by)
        if not self.matches:
            raise ValueError("matches.suggested needs at least one match")


@dataclass(frozen=True, slots=True)
class AgendaPublished:
    event: EventInfo
    recipient: Recipient
    meetings: tuple[MeetingInfo, ...]
    agenda_url: str


@dataclass(frozen=True, slots=True)
class AgendaChanged:
    event: EventInfo
    recipient: Recipient
    changes: tuple[MeetingChange, ...]
    agenda_url: str

    def __post_init__(self) -> None:
        if not self.changes:
            raise ValueError("agenda.changed needs at least one change")


@dataclass(frozen=True, slots=True)
class MeetingCancelled:
    event: EventInfo
    recipient: Recipient
    meeting: MeetingInfo
    reason: str | None
    agenda_url: str


@dataclass(frozen=True, slots=True)
class WaitlistOffered:
    event: EventInfo
    recipient: Recipient
    meeting: MeetingInfo
    accept_url: str
    respond_by: datetime

    def __post_init__(self) -> None:
        _require_aware(self.respond_by)


@dataclass(frozen=True, slots=True)
class DayBeforeReminder:
    event: EventInfo
    recipient: Recipient
    day_on: date
    meetings: tuple[MeetingInfo, ...]
    agenda_url: str

    def __post_init__(self) -> None:
        if not self.meetings:
            raise ValueError("reminder.day-before needs at least one meeting")


@dataclass(frozen=True, slots=True)
class FirstMeetingReminder:
    event: EventInfo
    recipient: Recipient
    meeting: MeetingInfo
    minutes_before: int
    agenda_url: str

    def __post_init__(self) -> None:
        if self.minutes_before < 1:
            raise ValueError("minutes_before must be positive")


@dataclass(frozen=True, slots=True)
class SurveyInvited:
    event: EventInfo
    recipient: Recipient
    survey_url: str
    closes_at: datetime | None
    meetings_held: int

    def __post_init__(self) -> None:
        _require_aware(self.closes_at)


@dataclass(frozen=True, slots=True)
class SurveyReminder:
    event: EventInfo
    recipient: Recipient
    survey_url: str
    closes_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.closes_at)


@dataclass(frozen=True, slots=True)
class FollowupInvited:
    event: EventInfo
    recipient: Recipient
    months: int
    survey_url: str
    reported_business: Money | None

    def __post_init__(self) -> None:
        if self.months not in (3, 6, 12):
            raise ValueError("follow-ups happen at 3, 6 or 12 months")


@dataclass(frozen=True, slots=True)
class MissionDeadlineApproaching:
    event: EventInfo
    recipient: Recipient
    items: tuple[ChecklistEntry, ...]
    checklist_url: str

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("mission.deadline-approaching needs at least one item")


@dataclass(frozen=True, slots=True)
class ErasureDecided:
    """The answer to a participant's request to delete their data: carried out, or refused with the
    organizer's recorded legal reason. `recipient.name` is empty: the message is sent after the name
    is gone, and the outbox forgets the address once it is sent (`outbox.forget_erased_recipients`)."""

    event: EventInfo
    recipient: Recipient
    completed: bool
    reason: str | None
    requested_at: datetime
    decided_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.requested_at, self.decided_at)
        if not self.completed and not (self.reason or "").strip():
            raise ValueError("a refused erasure states its legal reason")


@dataclass(frozen=True, slots=True)
class OrganizerDigest:
    event: EventInfo
    recipient: Recipient
    day_on: date
    sent: int
    pending: int
    skipped: int
    failures: tuple[FailedMessage, ...]
    meetings_scheduled: int
    expected_business: Money | None
    dashboard_url: str


Context: TypeAlias = (
    RegistrationConfirmed
    | LoginRequested
    | RequestsReceived
    | MatchesSuggested
    | AgendaPublished
    | AgendaChanged
    | MeetingCancelled
    | WaitlistOffered
    | DayBeforeReminder
    | FirstMeetingReminder
    | SurveyInvited
    | SurveyReminder
    | FollowupInvited
    | MissionDeadlineApproaching
    | ErasureDecided
    | OrganizerDigest
)


@dataclass(frozen=True, slots=True)
class Kind:
    key: str  # dotted, resource first, verb in the past tense
    context_type: type[Any]
    audience: Audience
    calendar: Calendar = Calendar.NONE

    @property
    def template_dir(self) -> str:
        return self.key


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("registration.confirmed", RegistrationConfirmed, Audience.PARTICIPANT),
        Kind("login.requested", LoginRequested, Audience.PARTICIPANT),
        Kind("requests.received", RequestsReceived, Audience.PARTICIPANT),
        Kind("matches.suggested", MatchesSuggested, Audience.PARTICIPANT),
        Kind("agenda.published", AgendaPublished, Audience.PARTICIPANT, Calendar.AGENDA),
        Kind("agenda.changed", AgendaChanged, Audience.PARTICIPANT, Calendar.CHANGES),
        Kind("meeting.cancelled", MeetingCancelled, Audience.PARTICIPANT, Calendar.CANCEL),
        Kind("waitlist.offered", WaitlistOffered, Audience.PARTICIPANT),
        Kind("reminder.day-before", DayBeforeReminder, Audience.PARTICIPANT),
        Kind("reminder.first-meeting", FirstMeetingReminder, Audience.PARTICIPANT),
        Kind("survey.invited", SurveyInvited, Audience.PARTICIPANT),
        Kind("survey.reminder", SurveyReminder, Audience.PARTICIPANT),
        Kind("followup.invited", FollowupInvited, Audience.PARTICIPANT),
        Kind("mission.deadline-approaching", MissionDeadlineApproaching, Audience.PARTICIPANT),
        Kind("privacy.erasure-decided", ErasureDecided, Audience.PARTICIPANT),
        Kind("organizer.digest", OrganizerDigest, Audience.ORGANIZER),
    )
}


def get_kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise NotificationContextError(f"unknown notification kind {key!r}") from None


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(context_type: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(context_type)
    if adapter is None:
        adapter = _ADAPTERS[context_type] = TypeAdapter(context_type)
    return adapter


def validate_context(kind_key: str, context: object) -> Context:
    """The context checked against its kind: right type, and every field valid (re-validated from
    its JSON form, which is what the dispatcher will read)."""
    kind = get_kind(kind_key)
    if not isinstance(context, kind.context_type):
        raise NotificationContextError(
            f"{kind_key} takes a {kind.context_type.__name__}, not a {type(context).__name__}"
        )
    try:
        restored = _adapter(kind.context_type).validate_python(context_to_json(context))
    except (ValidationError, ValueError) as error:
        raise NotificationContextError(f"invalid {kind_key} context: {error}") from None
    if restored != context:
        raise NotificationContextError(f"{kind_key} context does not survive its JSON form")
    return cast(Context, context)


def context_to_json(context: object) -> dict[str, Any]:
    data: dict[str, Any] = _adapter(type(context)).dump_python(context, mode="json")
    return data


def context_from_json(kind_key: str, data: Mapping[str, Any]) -> Context:
    kind = get_kind(kind_key)
    try:
        value: Context = _adapter(kind.context_type).validate_python(dict(data))
    except (ValidationError, ValueError) as error:
        raise NotificationContextError(f"stored {kind_key} context is invalid: {error}") from None
    return value
