"""Post-event and follow-up surveys: secret links, answers, reminders, and the reconciliation of the
two sides of a meeting.

The problem: outcome figures are only as good as the answers behind them, and response rates are
the known weak spot (45% of meetings at one 2023 rueda). So one link answers all of a participant's
meetings, answers can be corrected until the survey closes, non-respondents are chased within a cap,
and when the two sides of a meeting disagree the meeting is flagged for staff, never averaged.

Invariants:
- One invitation per (participant, wave), held by the database. The link token is random (256
  bits); only its SHA-256 is stored, so the plain token exists only in the value returned to the
  caller, who puts it in the email. Issuing a reminder rotates the token: the newest email's link
  works, older links stop working (there is one `token_hash` per invitation).
- A link opens until `closes_at = (sent_at or created_at) + window`; a completed survey can still be
  corrected while it is open. Re-submitting an answer updates it in place: a meeting answer is keyed
  by (invitation, meeting), the participant answer by invitation (partial unique indexes back both),
  and a follow-up's product lines are replaced as a whole.
- Who is invited: the post-event wave goes to every registered or confirmed participant with at
  least one meeting that was not cancelled (a no-show is asked too: their word is what reconciliation
  compares); follow-ups go to those with at least one active meeting (scheduled, checked in, held).
- Amounts are integers in minor units (cents) of the answer's currency. A non-US$ answer states its
  rate unless the event configures one for that currency; conversions use the event's configured
  rate when there is one, else the stated rate (`usd_rate_for`).
- A post-event invitation is complete when every meeting it covers has an answer and the
  participant answer (satisfaction, NPS) is in; a follow-up is complete when submitted, even with no
  product lines (nothing closed is an answer).

Cost: every function is a handful of indexed queries, linear in the participant's meetings or in the
event's invitations.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from sqlmodel import Session, col, delete, or_, select

from models import (
    Event,
    EventTable,
    Meeting,
    MeetingStatus,
    Organization,
    Participant,
    ParticipantStatus,
    SurveyInvitation,
    SurveyResponse,
    SurveyResponseKind,
    SurveyWave,
    TimeSlot,
)
from models.schemas import MAX_USD_RATE
from models.text import TextError, clean_text
from services.domain_events import record_fact
from services.errors import DomainError, NotFoundError

HORIZONS = ("immediate", "3m", "6m", "12m")
DEFAULT_WINDOW = timedelta(days=30)
# Far above any real deal (US$ 100 billion), far below BIGINT: catches a pasted phone number.
MAX_AMOUNT_CENTS = 10**13

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_HS = re.compile(r"^\d{2}(\d{2}){0,2}$")
_SURVEYED_STATUSES = (
    MeetingStatus.SCHEDULED,
    MeetingStatus.CHECKED_IN,
    MeetingStatus.HELD,
    MeetingStatus.NO_SHOW,
)
_ACTIVE_STATUSES = (MeetingStatus.SCHEDULED, MeetingStatus.CHECKED_IN, MeetingStatus.HELD)
_INVITED_PARTICIPANT_STATUSES = (ParticipantStatus.REGISTERED, ParticipantStatus.CONFIRMED)


class SurveyClosedError(DomainError):
    """The link is valid but its survey has closed."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid answer: the field as the form names it (`meetings[12].interest`) and why."""

    field: str
    message: str


class SurveyAnswerError(DomainError):
    """Answers that fail validation. Nothing was saved."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A freshly issued survey link and what its email needs (notifications.catalog: `survey.invited`,
    `survey.reminder`, the follow-up kinds). `token` is the only copy of the secret: put it in the
    email's URL and do not store it.

    `meetings` is how many meetings the link covers (post-event: not cancelled; follow-ups: active).
    `reported_usd_cents` is, for follow-ups only, the business the participant expected in the
    post-event survey (their own answers on meetings they say took place, all horizons, US$ cents),
    or None when they declared none."""

    participant_id: int
    invitation_id: int
    wave: SurveyWave
    token: str
    closes_at: datetime
    meetings: int
    reported_usd_cents: int | None


@dataclass(frozen=True, slots=True)
class MeetingAnswer:
    """One side's answer about one meeting. Amounts in minor units of `currency`."""

    meeting_id: int
    took_place: bool
    interest: int | None = None
    next_steps: str | None = None
    currency: str = "USD"
    usd_rate: float | None = None
    expected_immediate_cents: int | None = None
    expected_3m_cents: int | None = None
    expected_6m_cents: int | None = None
    expected_12m_cents: int | None = None
    comments: str | None = None

    def expected(self) -> tuple[int | None, int | None, int | None, int | None]:
        return (
            self.expected_immediate_cents,
            self.expected_3m_cents,
            self.expected_6m_cents,
            self.expected_12m_cents,
        )


@dataclass(frozen=True, slots=True)
class ParticipantAnswer:
    satisfaction: int | None = None
    recommend: int | None = None
    comments: str | None = None


@dataclass(frozen=True, slots=True)
class FollowupLine:
    """Business actually closed and exported since the event, to date, for one product."""

    hs_code: str
    currency: str = "USD"
    usd_rate: float | None = None
    actual_closed_cents: int | None = None
    actual_exported_cents: int | None = None
    comments: str | None = None


@dataclass(frozen=True, slots=True)
class MeetingToRate:
    meeting_id: int
    counterpart_id: int
    counterpart_name: str
    counterpart_organization: str
    slot_starts_at: datetime
    table_code: str
    answer: MeetingAnswer | None


@dataclass(frozen=True, slots=True)
class SurveyView:
    """What the survey page needs, loaded by token."""

    invitation_id: int
    event_id: int
    participant_id: int
    wave: SurveyWave
    closes_at: datetime
    is_complete: bool
    meetings: tuple[MeetingToRate, ...]
    participant_answer: ParticipantAnswer | None
    followup_lines: tuple[FollowupLine, ...]


@dataclass(frozen=True, slots=True)
class SubmitResult:
    invitation_id: int
    meetings_saved: int
    followup_lines_saved: int
    is_complete: bool
    is_newly_complete: bool


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def closes_at(invitation: SurveyInvitation, window: timedelta) -> datetime:
    return (invitation.sent_at or invitation.created_at) + window


def create_invitations(
    session: Session,
    event_id: int,
    wave: SurveyWave,
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    token_factory: Callable[[], str] = new_token,
) -> list[IssuedLink]:
    """Invite every eligible participant not yet invited to `wave`; returns the new links.

    Running it again invites only newcomers (e.g. a meeting added late), never twice: the old
    tokens cannot be returned again because they are not stored. `sent_at` is set to `now`, the
    moment the caller queues the emails in the same transaction."""
    _get_event(session, event_id)
    statuses = _SURVEYED_STATUSES if wave is SurveyWave.POST_EVENT else _ACTIVE_STATUSES
    rows = session.exec(
        select(Meeting.participant_a_id, Meeting.participant_b_id).where(
            Meeting.event_id == event_id, col(Meeting.status).in_(statuses)
        )
    ).all()
    meeting_count = Counter(p for row in rows for p in row)
    with_meetings = set(meeting_count)
    eligible = session.exec(
        select(Participant.id)
        .where(
            Participant.event_id == event_id,
            col(Participant.status).in_(_INVITED_PARTICIPANT_STATUSES),
            col(Participant.id).in_(with_meetings),
        )
        .order_by(col(Participant.id))
    ).all()
    invited = set(
        session.exec(
            select(SurveyInvitation.participant_id).where(
                SurveyInvitation.event_id == event_id, SurveyInvitation.wave == wave
            )
        ).all()
    )
    issued: list[tuple[SurveyInvitation, str]] = []
    for participant_id in eligible:
        if participant_id is None or participant_id in invited:
            continue
        token = token_factory()
        invitation = SurveyInvitation(
            event_id=event_id,
            participant_id=participant_id,
            wave=wave,
            token_hash=hash_token(token),
            created_at=now,
            sent_at=now,
        )
        session.add(invitation)
        issued.append((invitation, token))
    session.flush()
    if issued:
        record_fact(
            session,
            "rueda.survey.invited",
            resource=f"rueda.event.{event_id}",
            event_id=event_id,
            now=now,
            payload={"wave": wave.value, "invitations": len(issued)},
        )
    reported = _reported_business(session, event_id) if wave is not SurveyWave.POST_EVENT else {}
    return [
        _link(invitation, token, window, meeting_count[invitation.participant_id], reported)
        for invitation, token in issued
    ]


def get_survey(
    session: Session, token: str, *, now: datetime, window: timedelta = DEFAULT_WINDOW
) -> SurveyView:
    """The survey behind a link. Unknown (or replaced) tokens and closed surveys raise."""
    invitation = _open_invitation(session, token, now=now, window=window)
    assert invitation.id is not None
    responses = session.exec(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
    ).all()
    by_meeting = {r.meeting_id: r for r in responses if r.kind is SurveyResponseKind.MEETING and r.meeting_id}
    participant_row = next((r for r in responses if r.kind is SurveyResponseKind.PARTICIPANT), None)
    meetings: list[MeetingToRate] = []
    if invitation.wave is SurveyWave.POST_EVENT:
        for meeting, slot, table in _surveyed_meetings(session, invitation):
            assert meeting.id is not None
            other_id = (
                meeting.participant_b_id
                if meeting.participant_a_id == invitation.participant_id
                else meeting.participant_a_id
            )
            other = session.get(Participant, other_id)
            assert other is not None
            organization = session.get(Organization, other.organization_id)
            answer = by_meeting.get(meeting.id)
            meetings.append(
                MeetingToRate(
                    meeting_id=meeting.id,
                    counterpart_id=other_id,
                    counterpart_name=other.full_name,
                    counterpart_organization=organization.legal_name if organization else "",
                    slot_starts_at=slot.starts_at,
                    table_code=table.code,
                    answer=None if answer is None else _meeting_answer(answer),
                )
            )
    return SurveyView(
        invitation_id=invitation.id,
        event_id=invitation.event_id,
        participant_id=invitation.participant_id,
        wave=invitation.wave,
        closes_at=closes_at(invitation, window),
        is_complete=invitation.completed_at is not None,
        meetings=tuple(meetings),
        participant_answer=None
        if participant_row is None
        else ParticipantAnswer(
            satisfaction=participant_row.satisfaction,
            recommend=participant_row.recommend,
            comments=participant_row.comments,
        ),
        followup_lines=tuple(
            FollowupLine(
                hs_code=r.hs_code or "",
                currency=r.currency,
                usd_rate=r.usd_rate,
                actual_closed_cents=r.actual_closed_cents,
                actual_exported_cents=r.actual_exported_cents,
                comments=r.comments,
            )
            for r in sorted(responses, key=lambda r: r.id or 0)
            if r.kind is SurveyResponseKind.FOLLOWUP
        ),
    )


def submit_answers(
    session: Session,
    token: str,
    *,
    meetings: Sequence[MeetingAnswer] = (),
    participant: ParticipantAnswer | None = None,
    followup: Sequence[FollowupLine] | None = None,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> SubmitResult:
    """Validate and save answers given through a link; all or nothing.

    Post-event links take `meetings` (any subset of the participant's meetings; the rest can come
    later) and `participant`. Follow-up links take `followup`, the complete list of product lines,
    which replaces any earlier list."""
    invitation = _open_invitation(session, token, now=now, window=window, lock=True)
    assert invitation.id is not None
    event = _get_event(session, invitation.event_id)
    rates = event.usd_rates or {}
    errors: list[FieldError] = []
    if invitation.wave is SurveyWave.POST_EVENT:
        if followup is not None:
            errors.append(FieldError("followup", "this survey asks about meetings, not follow-up business"))
        surveyed = {m.id for m, _, _ in _surveyed_meetings(session, invitation)}
        seen: set[int] = set()
        for answer in meetings:
            prefix = f"meetings[{answer.meeting_id}]"
            if answer.meeting_id not in surveyed:
                errors.append(FieldError(prefix, "not one of your meetings at this event"))
            elif answer.meeting_id in seen:
                errors.append(FieldError(prefix, "answered twice in one submission"))
            seen.add(answer.meeting_id)
            errors += validate_meeting_answer(answer, rates, prefix=prefix)
        if participant is not None:
            errors += validate_participant_answer(participant)
    else:
        if meetings or participant is not None:
            errors.append(FieldError("meetings", "a follow-up asks about business closed, not meetings"))
        for number, line in enumerate(followup or ()):
            errors += validate_followup_line(line, rates, prefix=f"followup[{number}]")
    if errors:
        raise SurveyAnswerError(errors)

    existing = {
        r.meeting_id: r
        for r in session.exec(
            select(SurveyResponse).where(
                SurveyResponse.invitation_id == invitation.id,
                SurveyResponse.kind == SurveyResponseKind.MEETING,
            )
        )
    }
    for answer in meetings:
        row = existing.get(answer.meeting_id) or SurveyResponse(
            invitation_id=invitation.id,
            kind=SurveyResponseKind.MEETING,
            meeting_id=answer.meeting_id,
            submitted_at=now,
        )
        _fill_meeting_row(row, answer, now)
        session.add(row)
    if participant is not None:
        row = session.exec(
            select(SurveyResponse).where(
                SurveyResponse.invitation_id == invitation.id,
                SurveyResponse.kind == SurveyResponseKind.PARTICIPANT,
            )
        ).first() or SurveyResponse(
            invitation_id=invitation.id, kind=SurveyResponseKind.PARTICIPANT, submitted_at=now
        )
        row.satisfaction, row.recommend = participant.satisfaction, participant.recommend
        row.comments = _clean(participant.comments)
        row.submitted_at = now
        session.add(row)
    if followup is not None:
        session.execute(
            delete(SurveyResponse).where(
                col(SurveyResponse.invitation_id) == invitation.id,
                col(SurveyResponse.kind) == SurveyResponseKind.FOLLOWUP,
            )
        )
        for line in followup:
            session.add(
                SurveyResponse(
                    invitation_id=invitation.id,
                    kind=SurveyResponseKind.FOLLOWUP,
                    hs_code=_hs(line.hs_code),
                    currency=line.currency,
                    usd_rate=line.usd_rate,
                    actual_closed_cents=line.actual_closed_cents,
                    actual_exported_cents=line.actual_exported_cents,
                    comments=_clean(line.comments),
                    submitted_at=now,
                )
            )
    session.flush()

    is_complete = _is_complete(session, invitation) if followup is None else True
    is_newly_complete = is_complete and invitation.completed_at is None
    if is_newly_complete:
        invitation.completed_at = now
        session.add(invitation)
        record_fact(
            session,
            "rueda.survey.completed",
            resource=f"rueda.survey_invitation.{invitation.id}",
            event_id=invitation.event_id,
            now=now,
            payload={"wave": invitation.wave.value, "participant_id": invitation.participant_id},
            dedupe_key=f"survey-completed:{invitation.id}",
        )
        session.flush()
    return SubmitResult(
        invitation_id=invitation.id,
        meetings_saved=len(meetings),
        followup_lines_saved=len(followup or ()),
        is_complete=is_complete,
        is_newly_complete=is_newly_complete,
    )


def validate_meeting_answer(
    answer: MeetingAnswer, event_rates: Mapping[str, float], *, prefix: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(answer.took_place, bool):
        errors.append(FieldError(f"{prefix}.took_place", "answer yes or no"))
    if answer.interest is not None and not _int_between(answer.interest, 1, 5):
        errors.append(FieldError(f"{prefix}.interest", "give a whole number from 1 to 5"))
    if answer.next_steps is not None and len(answer.next_steps.strip()) > 500:
        errors.append(FieldError(f"{prefix}.next_steps", "keep it under 500 characters"))
    errors += _text_errors(answer.next_steps, f"{prefix}.next_steps")
    errors += _text_errors(answer.comments, f"{prefix}.comments")
    amounts = dict(zip(HORIZONS, answer.expected(), strict=True))
    for horizon, cents in amounts.items():
        errors += _amount_errors(cents, f"{prefix}.expected_{horizon}_cents")
    if answer.took_place is False:
        # A meeting that did not happen has no interest or business; silently dropping what was
        # typed would hide a form bug or a mis-click, so say which field to clear.
        given = ["interest"] if answer.interest is not None else []
        given += [f"expected_{h}_cents" for h, c in amounts.items() if c is not None]
        errors += [
            FieldError(f"{prefix}.{name}", "leave empty: the meeting did not take place") for name in given
        ]
    errors += _currency_errors(answer.currency, answer.usd_rate, event_rates, prefix)
    return errors


def validate_participant_answer(answer: ParticipantAnswer) -> list[FieldError]:
    errors: list[FieldError] = []
    if answer.satisfaction is not None and not _int_between(answer.satisfaction, 1, 5):
        errors.append(FieldError("participant.satisfaction", "give a whole number from 1 to 5"))
    if answer.recommend is not None and not _int_between(answer.recommend, 0, 10):
        errors.append(FieldError("participant.recommend", "give a whole number from 0 to 10"))
    if answer.satisfaction is None and answer.recommend is None:
        errors.append(FieldError("participant.satisfaction", "rate your satisfaction (1 to 5)"))
    errors += _text_errors(answer.comments, "participant.comments")
    return errors


def validate_followup_line(
    line: FollowupLine, event_rates: Mapping[str, float], *, prefix: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not _HS.match(_hs(line.hs_code)):
        errors.append(FieldError(f"{prefix}.hs_code", "give the product's HS code (2, 4 or 6 digits)"))
    errors += _amount_errors(line.actual_closed_cents, f"{prefix}.actual_closed_cents")
    errors += _amount_errors(line.actual_exported_cents, f"{prefix}.actual_exported_cents")
    if line.actual_closed_cents is None and line.actual_exported_cents is None:
        errors.append(FieldError(f"{prefix}.actual_closed_cents", "give the amount closed or exported"))
    errors += _currency_errors(line.currency, line.usd_rate, event_rates, prefix)
    errors += _text_errors(line.comments, f"{prefix}.comments")
    return errors


def _text_errors(text: str | None, field: str) -> list[FieldError]:
    """Free text goes through the one validator of every door (models/text.py)."""
    try:
        clean_text(text or "", multiline=True)
    except TextError:
        return [FieldError(field, "remove control characters and direction marks")]
    return []


def issue_reminders(
    session: Session,
    event_id: int,
    wave: SurveyWave,
    *,
    now: datetime,
    max_reminders: int,
    spacing: timedelta,
    window: timedelta = DEFAULT_WINDOW,
    token_factory: Callable[[], str] = new_token,
) -> list[IssuedLink]:
    """Chase the non-respondents of `wave` that are due; returns their new links to email.

    Each returned invitation counts one more reminder and gets a new token (see the module
    docstring). Running it twice at the same `now` reminds nobody twice: spacing holds."""
    invitations = session.exec(
        select(SurveyInvitation)
        .where(
            SurveyInvitation.event_id == event_id,
            SurveyInvitation.wave == wave,
            col(SurveyInvitation.completed_at).is_(None),
        )
        .order_by(col(SurveyInvitation.id))
    ).all()
    due = select_due_reminders(
        invitations, now=now, max_reminders=max_reminders, spacing=spacing, window=window
    )
    links: list[IssuedLink] = []
    if not due:
        return links
    statuses = _SURVEYED_STATUSES if wave is SurveyWave.POST_EVENT else _ACTIVE_STATUSES
    meeting_count = Counter(
        p
        for row in session.exec(
            select(Meeting.participant_a_id, Meeting.participant_b_id).where(
                Meeting.event_id == event_id, col(Meeting.status).in_(statuses)
            )
        )
        for p in row
    )
    reported = _reported_business(session, event_id) if wave is not SurveyWave.POST_EVENT else {}
    for invitation in due:
        token = token_factory()
        invitation.token_hash = hash_token(token)
        invitation.reminders_sent += 1
        invitation.last_reminded_at = now
        session.add(invitation)
        links.append(_link(invitation, token, window, meeting_count[invitation.participant_id], reported))
    session.flush()
    return links


def select_due_reminders(
    invitations: Iterable[SurveyInvitation],
    *,
    now: datetime,
    max_reminders: int,
    spacing: timedelta,
    window: timedelta,
) -> list[SurveyInvitation]:
    """Pure: incomplete, sent, under the cap, `spacing` since the last email, and still open."""
    if max_reminders < 0 or spacing < timedelta(0):
        raise DomainError("reminders: the cap and the spacing cannot be negative")
    due = []
    for invitation in invitations:
        if invitation.completed_at is not None or invitation.sent_at is None:
            continue
        if invitation.reminders_sent >= max_reminders:
            continue
        last_email_at = invitation.last_reminded_at or invitation.sent_at
        if now - last_email_at < spacing or now >= closes_at(invitation, window):
            continue
        due.append(invitation)
    return due


class RateSource(StrEnum):
    USD = "usd"
    EVENT = "event"
    STATED = "stated"
    MISSING = "missing"


def usd_rate_for(
    currency: str, stated_rate: float | None, event_rates: Mapping[str, float]
) -> tuple[Decimal | None, RateSource]:
    """The rate that converts `currency` to US$: 1 for US$, else the event's configured rate, else
    the respondent's stated rate. The event's rate wins so that one currency converts at one rate
    across the whole report; the stated rate only fills a currency the organizer did not configure."""
    if currency == "USD":
        return Decimal(1), RateSource.USD
    # A rate stored before the bounds were checked (inf, NaN, 1e30) counts as missing: the report
    # leaves that answer out of the US$ totals, as any answer without a rate, instead of failing.
    if currency in event_rates and _usable_rate(event_rates[currency]):
        return Decimal(str(event_rates[currency])), RateSource.EVENT
    if stated_rate is not None and _usable_rate(stated_rate):
        return Decimal(str(stated_rate)), RateSource.STATED
    return None, RateSource.MISSING


AMOUNT_FIELDS = (
    "expected_immediate_cents",
    "expected_3m_cents",
    "expected_6m_cents",
    "expected_12m_cents",
    "actual_closed_cents",
    "actual_exported_cents",
)


def exclusion_reason(row: SurveyResponse, event_rates: Mapping[str, float]) -> str | None:
    """Why the report must leave this stored answer's amounts out of its US$ figures, or None.

    The doors check every amount and rate, but a row stored before they did (or written by hand)
    may hold an amount that is not whole cents from 0 to MAX_AMOUNT_CENTS (1e30, infinity: SQLite
    keeps them as floats; NaN becomes NULL there) or a non-US$ amount with no usable rate (inf,
    NaN, 1e30, none). Such an answer counts as if it had no amounts, and the report names it.
    An answer without amounts is never excluded: it adds nothing to exclude."""
    amounts = {name: getattr(row, name) for name in AMOUNT_FIELDS}
    if all(value is None or value == 0 for value in amounts.values()):
        return None
    reasons = [
        f"{name} stored as {_stored(value)}: not whole cents from 0 to 10^13"
        for name, value in amounts.items()
        if value is not None and not _int_between(value, 0, MAX_AMOUNT_CENTS)
    ]
    rate, _ = usd_rate_for(row.currency, row.usd_rate, event_rates)
    if rate is None:
        if row.usd_rate is None:
            reasons.append(f"no rate to US$ for {row.currency}")
        else:
            reasons.append(f"no usable rate to US$ for {row.currency}: stated {_stored(row.usd_rate)}")
    return "; ".join(reasons) or None


def _stored(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)[:40]


def to_usd_cents(cents: int, rate: Decimal) -> int:
    """Minor units of a currency to US$ cents, rounded half up to the cent."""
    with localcontext(prec=60):  # an old row's 10^20 cents x 10^6 must not overflow 28 digits
        return int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class SideAnswer:
    """One side's meeting answer, converted to US$ cents (a missing amount is 0)."""

    participant_id: int
    took_place: bool | None
    interest: int | None
    expected_usd_cents: tuple[int, int, int, int]
    currency: str
    rate_source: RateSource
    # Why the amounts count as zero (`exclusion_reason`): the report lists these answers.
    excluded: str | None = None


@dataclass(frozen=True, slots=True)
class MeetingSides:
    """A meeting with the answers of its host (participant A) and its visitor (participant B)."""

    meeting_id: int
    status: MeetingStatus
    host: SideAnswer | None
    visitor: SideAnswer | None

    @property
    def is_confirmed_by_both(self) -> bool:
        return (
            self.host is not None
            and self.visitor is not None
            and self.host.took_place is True
            and self.visitor.took_place is True
        )

    @property
    def is_declared_held(self) -> bool:
        return any(side is not None and side.took_place is True for side in (self.host, self.visitor))


@dataclass(frozen=True, slots=True)
class AmountTolerance:
    """Two amounts agree when they differ by at most max(absolute, relative x the larger)."""

    relative: float = 0.25
    absolute_cents: int = 100_00

    def agrees(self, first: int, second: int) -> bool:
        allowed = max(Decimal(self.absolute_cents), Decimal(str(self.relative)) * max(first, second))
        return abs(first - second) <= allowed


class DisagreementKind(StrEnum):
    TOOK_PLACE = "took_place"
    AMOUNT = "amount"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A meeting staff should look at. `horizons` names the amounts that differ (kind amount)."""

    meeting_id: int
    kind: DisagreementKind
    detail: str
    horizons: tuple[str, ...] = ()


def side_answer(participant_id: int, row: SurveyResponse, event_rates: Mapping[str, float]) -> SideAnswer:
    rate, source = usd_rate_for(row.currency, row.usd_rate, event_rates)
    excluded = exclusion_reason(row, event_rates)
    amounts = (
        row.expected_immediate_cents,
        row.expected_3m_cents,
        row.expected_6m_cents,
        row.expected_12m_cents,
    )
    converted = tuple(
        0 if a is None or rate is None or excluded is not None else to_usd_cents(a, rate) for a in amounts
    )
    return SideAnswer(
        participant_id=participant_id,
        took_place=row.took_place,
        interest=row.interest,
        expected_usd_cents=(converted[0], converted[1], converted[2], converted[3]),
        currency=row.currency,
        rate_source=source,
        excluded=excluded,
    )


def find_disagreements(meetings: Iterable[MeetingSides], tolerance: AmountTolerance) -> list[Disagreement]:
    """Pure. Flags, per meeting, in this order:
    - took_place: one side says it took place, the other says it did not;
    - amount: both say it took place and an expected amount of some horizon differs by more than
      the tolerance (a missing amount is 0, so 'nothing' against 'US$ 50,000' is flagged);
    - status: both sides agree and contradict the recorded status: both say it took place on a
      no-show, or both say it did not on a checked-in or held meeting. A meeting still `scheduled`
      (nobody recorded the day) contradicts nothing.
    Nothing is averaged or corrected here: the report counts a disputed meeting by its rules."""
    flags: list[Disagreement] = []
    for m in meetings:
        if m.host is None or m.visitor is None or m.host.took_place is None or m.visitor.took_place is None:
            continue
        host_says, visitor_says = m.host.took_place, m.visitor.took_place
        if host_says != visitor_says:
            detail = "host says {}, visitor says {}".format(
                "it took place" if host_says else "it did not take place",
                "it took place" if visitor_says else "it did not take place",
            )
            flags.append(Disagreement(m.meeting_id, DisagreementKind.TOOK_PLACE, detail))
            continue
        if host_says:
            differing = tuple(
                h
                for h, a, b in zip(
                    HORIZONS, m.host.expected_usd_cents, m.visitor.expected_usd_cents, strict=True
                )
                if not tolerance.agrees(a, b)
            )
            if differing:
                detail = "; ".join(
                    f"{h}: host US$ {_dollars(a)}, visitor US$ {_dollars(b)}"
                    for h, a, b in zip(
                        HORIZONS, m.host.expected_usd_cents, m.visitor.expected_usd_cents, strict=True
                    )
                    if h in differing
                )
                # A side whose stored amounts could not be used counts as zero: say so.
                for name, side in (("host", m.host), ("visitor", m.visitor)):
                    if side.excluded is not None:
                        detail += f" ({name}'s amounts excluded: {side.excluded})"
                flags.append(Disagreement(m.meeting_id, DisagreementKind.AMOUNT, detail, differing))
        said_held = host_says
        recorded_held = m.status in _ACTIVE_STATUSES
        if said_held != recorded_held and m.status is not MeetingStatus.SCHEDULED:
            word = "took place" if said_held else "did not take place"
            flags.append(
                Disagreement(
                    m.meeting_id, DisagreementKind.STATUS, f"both sides say it {word}; recorded as {m.status}"
                )
            )
    return flags


def load_meeting_sides(session: Session, event_id: int) -> list[MeetingSides]:
    """Every meeting of the event that was not cancelled, with both sides' post-event answers."""
    event = _get_event(session, event_id)
    meetings = session.exec(
        select(Meeting)
        .where(Meeting.event_id == event_id, Meeting.status != MeetingStatus.CANCELLED)
        .order_by(col(Meeting.id))
    ).all()
    answers = session.exec(
        select(SurveyResponse, SurveyInvitation.participant_id)
        .join(SurveyInvitation, col(SurveyInvitation.id) == col(SurveyResponse.invitation_id))
        .where(
            SurveyInvitation.event_id == event_id,
            SurveyInvitation.wave == SurveyWave.POST_EVENT,
            SurveyResponse.kind == SurveyResponseKind.MEETING,
        )
    ).all()
    return build_meeting_sides(meetings, answers, event.usd_rates or {})


def build_meeting_sides(
    meetings: Iterable[Meeting],
    answers: Iterable[tuple[SurveyResponse, int]],
    event_rates: Mapping[str, float],
) -> list[MeetingSides]:
    by_key = {(row.meeting_id, participant_id): row for row, participant_id in answers}
    result = []
    for meeting in meetings:
        assert meeting.id is not None
        host = by_key.get((meeting.id, meeting.participant_a_id))
        visitor = by_key.get((meeting.id, meeting.participant_b_id))
        result.append(
            MeetingSides(
                meeting_id=meeting.id,
                status=meeting.status,
                host=None if host is None else side_answer(meeting.participant_a_id, host, event_rates),
                visitor=None
                if visitor is None
                else side_answer(meeting.participant_b_id, visitor, event_rates),
            )
        )
    return result


def list_disagreements(
    session: Session, event_id: int, *, tolerance: AmountTolerance | None = None
) -> list[Disagreement]:
    """The meetings staff should look at, for the portal's review page."""
    return find_disagreements(load_meeting_sides(session, event_id), tolerance or AmountTolerance())


def _get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id {event_id}")
    return event


def _open_invitation(
    session: Session, token: str, *, now: datetime, window: timedelta, lock: bool = False
) -> SurveyInvitation:
    query = select(SurveyInvitation).where(SurveyInvitation.token_hash == hash_token(token.strip()))
    if lock:
        # Two submissions through one link (a double click) must not both delete and re-insert the
        # follow-up lines: the row lock serialises them on PostgreSQL (SQLite's BEGIN IMMEDIATE
        # already does). Meeting and participant answers are also guarded by unique indexes.
        query = query.with_for_update()
    invitation = session.exec(query).first()
    if invitation is None:
        raise NotFoundError("this survey link is not valid; use the link in your most recent survey email")
    if now >= closes_at(invitation, window):
        raise SurveyClosedError("this survey has closed; thank you for your time")
    return invitation


def _surveyed_meetings(
    session: Session, invitation: SurveyInvitation
) -> list[tuple[Meeting, TimeSlot, EventTable]]:
    rows = session.exec(
        select(Meeting, TimeSlot, EventTable)
        .join(TimeSlot, col(TimeSlot.id) == col(Meeting.slot_id))
        .join(EventTable, col(EventTable.id) == col(Meeting.table_id))
        .where(
            Meeting.event_id == invitation.event_id,
            col(Meeting.status).in_(_SURVEYED_STATUSES),
            or_(
                Meeting.participant_a_id == invitation.participant_id,
                Meeting.participant_b_id == invitation.participant_id,
            ),
        )
        .order_by(col(TimeSlot.ordinal))
    ).all()
    return [(m, s, t) for m, s, t in rows]


def _is_complete(session: Session, invitation: SurveyInvitation) -> bool:
    answered = set(
        session.exec(
            select(SurveyResponse.meeting_id).where(
                SurveyResponse.invitation_id == invitation.id,
                SurveyResponse.kind == SurveyResponseKind.MEETING,
            )
        ).all()
    )
    has_participant_answer = (
        session.exec(
            select(SurveyResponse.id).where(
                SurveyResponse.invitation_id == invitation.id,
                SurveyResponse.kind == SurveyResponseKind.PARTICIPANT,
            )
        ).first()
        is not None
    )
    meetings = {m.id for m, _, _ in _surveyed_meetings(session, invitation)}
    return has_participant_answer and meetings <= answered


def _fill_meeting_row(row: SurveyResponse, answer: MeetingAnswer, now: datetime) -> None:
    row.took_place = answer.took_place
    row.interest = answer.interest
    row.next_steps = _clean(answer.next_steps)
    row.currency = answer.currency
    row.usd_rate = answer.usd_rate if answer.currency != "USD" else None
    row.expected_immediate_cents = answer.expected_immediate_cents
    row.expected_3m_cents = answer.expected_3m_cents
    row.expected_6m_cents = answer.expected_6m_cents
    row.expected_12m_cents = answer.expected_12m_cents
    row.comments = _clean(answer.comments)
    row.submitted_at = now


def _meeting_answer(row: SurveyResponse) -> MeetingAnswer:
    assert row.meeting_id is not None and row.took_place is not None
    return MeetingAnswer(
        meeting_id=row.meeting_id,
        took_place=row.took_place,
        interest=row.interest,
        next_steps=row.next_steps,
        currency=row.currency,
        usd_rate=row.usd_rate,
        expected_immediate_cents=row.expected_immediate_cents,
        expected_3m_cents=row.expected_3m_cents,
        expected_6m_cents=row.expected_6m_cents,
        expected_12m_cents=row.expected_12m_cents,
        comments=row.comments,
    )


def _amount_errors(cents: int | None, field: str) -> list[FieldError]:
    if cents is None:
        return []
    if isinstance(cents, bool) or not isinstance(cents, int):
        return [FieldError(field, "give the amount in whole cents")]
    if cents < 0:
        return [FieldError(field, "cannot be negative")]
    if cents > MAX_AMOUNT_CENTS:
        return [FieldError(field, "is implausibly large; check the number of digits")]
    return []


def _currency_errors(
    currency: str, usd_rate: float | None, event_rates: Mapping[str, float], prefix: str
) -> list[FieldError]:
    if not _CURRENCY.match(currency):
        return [FieldError(f"{prefix}.currency", "give an ISO 4217 code such as USD, EUR or COP")]
    if usd_rate is not None and not _usable_rate(usd_rate):
        return [FieldError(f"{prefix}.usd_rate", "give a positive rate: how many US$ one unit is worth")]
    if currency == "USD":
        return []
    if usd_rate is None and currency not in event_rates:
        return [FieldError(f"{prefix}.usd_rate", f"state how many US$ one {currency} is worth")]
    return []


def _usable_rate(rate: object) -> bool:
    """A finite rate in (0, MAX_USD_RATE]: "inf", "1e30" and NaN are not rates."""
    return (
        isinstance(rate, int | float)
        and not isinstance(rate, bool)
        and math.isfinite(rate)
        and 0 < rate <= MAX_USD_RATE
    )


def _int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _hs(code: str) -> str:
    return code.strip().replace(".", "").replace(" ", "")


def _dollars(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def _reported_business(session: Session, event_id: int) -> dict[int, int]:
    """Each participant's own expected business from the post-event survey, in US$ cents."""
    reported: Counter[int] = Counter()
    for meeting in load_meeting_sides(session, event_id):
        for side in (meeting.host, meeting.visitor):
            if side is not None and side.took_place is True:
                reported[side.participant_id] += sum(side.expected_usd_cents)
    return dict(reported)


def _link(
    invitation: SurveyInvitation, token: str, window: timedelta, meetings: int, reported: Mapping[int, int]
) -> IssuedLink:
    assert invitation.id is not None
    return IssuedLink(
        participant_id=invitation.participant_id,
        invitation_id=invitation.id,
        wave=invitation.wave,
        token=token,
        closes_at=closes_at(invitation, window),
        meetings=meetings,
        reported_usd_cents=reported.get(invitation.participant_id) or None,
    )
