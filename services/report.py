"""The outcome report of an event: the figures organizers are judged by, computed before anything
is drawn.

The problem: an organizer publishes one number ("US$281M in expected business") and nobody can say
what it counts. Here every figure has one written definition (docs/report.md), the honest figure
(conservative) and the generous one (declared) are kept apart, and disagreements between the two
sides of a meeting are listed instead of averaged away.

Shape: `load_report_input` reads the rows once into plain frozen data (`ReportInput`);
`compute_report` is a pure function of that data and returns `OutcomeReport`; the renderers
(services.report_render, services.report_charts) only format it. `build_report` does load + compute.

Invariants:
- Money is integer US$ cents throughout; conversion happens once per answer (services.surveys:
  the event's configured rate, else the respondent's stated rate), rounded half up to the cent.
- Conservative <= declared, horizon by horizon, by construction: conservative takes the lower of
  the two sides on meetings both confirmed; declared takes the higher side on every meeting at least
  one side says took place.
- Breakdown rows of one dimension add up to the totals, except inclusion groups, which overlap.

Cost: one query per table for the event, then linear passes: computing a macrorrueda of 2,300
participants and 12,000 meetings takes about half a second.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import pycountry
from sqlmodel import Session, col, select

from models import (
    ApplicationDecision,
    ChecklistCompletion,
    ChecklistItem,
    Event,
    EventKind,
    EventTable,
    Meeting,
    MeetingRequest,
    MeetingStatus,
    MissionApplication,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    RequestStatus,
    SurveyInvitation,
    SurveyResponse,
    SurveyResponseKind,
    SurveyWave,
    TimeSlot,
    TradeDirection,
    TradeLine,
)
from services.errors import NotFoundError
from services.surveys import (
    MAX_AMOUNT_CENTS,
    AmountTolerance,
    Disagreement,
    MeetingSides,
    RateSource,
    build_meeting_sides,
    exclusion_reason,
    find_disagreements,
    to_usd_cents,
    usd_rate_for,
)

INCLUSION_GROUPS = ("women_led", "peasant", "indigenous", "conflict_victim")
INCLUSION_LABELS = {
    "women_led": "Women-led",
    "peasant": "Peasant",
    "indigenous": "Indigenous",
    "conflict_victim": "Conflict victim",
    "none": "None of these",
}
HORIZON_LABELS = {"immediate": "Immediate", "3m": "3 months", "6m": "6 months", "12m": "12 months"}
WAVE_LABELS = {
    SurveyWave.POST_EVENT: "Post-event",
    SurveyWave.FOLLOWUP_3M: "Follow-up 3 months",
    SurveyWave.FOLLOWUP_6M: "Follow-up 6 months",
    SurveyWave.FOLLOWUP_12M: "Follow-up 12 months",
}
# A follow-up asks what was closed since the event, to date; it is compared with the expectations
# up to its horizon, cumulated (the 6-month wave against immediate + 3 + 6 months).
FOLLOWUP_HORIZONS = {SurveyWave.FOLLOWUP_3M: 2, SurveyWave.FOLLOWUP_6M: 3, SurveyWave.FOLLOWUP_12M: 4}
UNKNOWN = "unknown"
_AGENDA_STATUSES = (
    MeetingStatus.SCHEDULED,
    MeetingStatus.CHECKED_IN,
    MeetingStatus.HELD,
    MeetingStatus.NO_SHOW,
)
_ACTIVE_PARTICIPANTS = (ParticipantStatus.REGISTERED, ParticipantStatus.CONFIRMED)

CONSERVATIVE_METHOD = (
    "Conservative: only meetings that both sides confirmed took place in the post-event survey; for "
    "each such meeting and horizon, the lower of the two sides' expected amounts (an empty amount "
    "counts as zero)."
)
DECLARED_METHOD = (
    "Declared: every meeting that at least one side says took place; for each meeting and horizon, the "
    "higher of the amounts declared by the sides that say it took place. Each meeting counts once, never "
    "the sum of both sides."
)
CURRENCY_METHOD = (
    "Amounts are converted to US$ at the event's configured rate for the currency; a currency the event "
    "does not configure converts at the rate the respondent stated. Rounded half up to the cent. An "
    "answer with no usable rate, or with an amount that is not whole cents up to US$ 100 billion, counts "
    "as if it had no amounts and is listed under the excluded answers."
)


@dataclass(frozen=True, slots=True)
class ParticipantFacts:
    id: int
    organization: str
    role: ParticipantRole
    status: ParticipantStatus
    country: str
    region: str | None
    sector: str | None
    hs_chapter: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SlotFacts:
    id: int
    code: str
    ordinal: int
    day_index: int


@dataclass(frozen=True, slots=True)
class RequestFacts:
    requester_id: int
    target_id: int
    status: RequestStatus


@dataclass(frozen=True, slots=True)
class MeetingFacts:
    id: int
    host_id: int
    visitor_id: int
    slot_id: int
    table_code: str
    status: MeetingStatus


@dataclass(frozen=True, slots=True)
class InvitationFacts:
    id: int
    participant_id: int
    wave: SurveyWave
    is_complete: bool
    has_answers: bool


@dataclass(frozen=True, slots=True)
class RatingFacts:
    participant_id: int
    satisfaction: int | None
    recommend: int | None


@dataclass(frozen=True, slots=True)
class AmountFacts:
    """The currency side of one answer with amounts: what conversion it needs."""

    currency: str
    stated_rate: float | None
    original_cents: int


@dataclass(frozen=True, slots=True)
class ExcludedAnswer:
    """A stored answer whose amounts the US$ figures leave out, and why (`exclusion_reason`)."""

    response_id: int
    participant_id: int
    organization: str
    wave: SurveyWave
    kind: SurveyResponseKind
    meeting_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class FollowupFacts:
    participant_id: int
    wave: SurveyWave
    hs_code: str
    closed_usd_cents: int
    exported_usd_cents: int


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    decision: ApplicationDecision
    is_eligible: bool | None
    participant_id: int | None
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChecklistItemFacts:
    id: int
    code: str
    title: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CompletionFacts:
    item_id: int
    participant_id: int
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class ReportInput:
    """Everything the report needs, loaded once. Plain data: no session, no lazy loading."""

    event_id: int
    slug: str
    name: str
    kind: EventKind
    starts_on: date
    ends_on: date
    min_meetings: int
    usd_rates: Mapping[str, float]
    mission: Mapping[str, Any] | None
    participants: tuple[ParticipantFacts, ...]
    slots: tuple[SlotFacts, ...]
    requests: tuple[RequestFacts, ...]
    meetings: tuple[MeetingFacts, ...]
    meeting_sides: tuple[MeetingSides, ...]
    invitations: tuple[InvitationFacts, ...]
    ratings: tuple[RatingFacts, ...]
    amounts: tuple[AmountFacts, ...]
    followups: tuple[FollowupFacts, ...]
    applications: tuple[ApplicationFacts, ...]
    checklist_items: tuple[ChecklistItemFacts, ...]
    completions: tuple[CompletionFacts, ...]
    excluded: tuple[ExcludedAnswer, ...] = ()


@dataclass(frozen=True, slots=True)
class FunnelStage:
    key: str
    label: str
    unit: str
    count: int


@dataclass(frozen=True, slots=True)
class Funnel:
    stages: tuple[FunnelStage, ...]
    held: int
    no_show: int
    cancelled: int
    no_show_rate: float | None


@dataclass(frozen=True, slots=True)
class AgendaQuality:
    participants: int
    min_meetings_rule: int
    meetings_min: int
    meetings_median: float
    meetings_max: int
    breaks_min: int
    breaks_median: float
    breaks_max: int
    breaks_total: int
    with_breaks: int
    below_minimum: int
    meetings_histogram: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class WaveResponse:
    wave: SurveyWave
    label: str
    invited: int
    responded: int
    completed: int
    response_rate: float | None


@dataclass(frozen=True, slots=True)
class MeetingFeedback:
    meetings: int
    with_any_answer: int
    with_both_answers: int
    any_rate: float | None
    both_rate: float | None


@dataclass(frozen=True, slots=True)
class Satisfaction:
    respondents: int
    satisfaction_mean: float | None
    nps_respondents: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None


@dataclass(frozen=True, slots=True)
class HorizonAmounts:
    """US$ cents by horizon: immediate, 3, 6 and 12 months."""

    immediate: int
    m3: int
    m6: int
    m12: int

    @property
    def total(self) -> int:
        return self.immediate + self.m3 + self.m6 + self.m12

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.immediate, self.m3, self.m6, self.m12)

    def cumulative(self, horizons: int) -> int:
        return sum(self.as_tuple()[:horizons])


@dataclass(frozen=True, slots=True)
class ExpectedBusiness:
    conservative: HorizonAmounts
    declared: HorizonAmounts
    conservative_meetings: int
    declared_meetings: int
    conservative_method: str
    declared_method: str
    currency_method: str


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    key: str
    label: str
    meetings: int
    held: int
    confirmed: int
    conservative_usd_cents: int
    declared_usd_cents: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    dimension: str
    title: str
    heading: str
    note: str
    rows: tuple[BreakdownRow, ...]


@dataclass(frozen=True, slots=True)
class CurrencyRow:
    currency: str
    rate: Decimal | None
    source: RateSource
    answers: int
    original_cents: int
    usd_cents: int | None


@dataclass(frozen=True, slots=True)
class ProductRow:
    hs_code: str
    closed_usd_cents: int
    exported_usd_cents: int


@dataclass(frozen=True, slots=True)
class FollowupWave:
    wave: SurveyWave
    label: str
    invited: int
    completed: int
    response_rate: float | None
    closed_usd_cents: int
    exported_usd_cents: int
    expected_by_respondents_usd_cents: int
    closed_vs_expected: float | None
    conservative_to_horizon_usd_cents: int
    declared_to_horizon_usd_cents: int
    products: tuple[ProductRow, ...]


@dataclass(frozen=True, slots=True)
class MeetingRow:
    meeting_id: int
    slot: str
    table: str
    host: str
    visitor: str
    status: MeetingStatus
    host_took_place: bool | None
    visitor_took_place: bool | None
    host_expected_usd_cents: tuple[int, int, int, int] | None
    visitor_expected_usd_cents: tuple[int, int, int, int] | None
    is_confirmed_by_both: bool
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupSelection:
    group: str
    label: str
    applied: int
    selected: int
    quota: int | None
    is_quota_met: bool | None


@dataclass(frozen=True, slots=True)
class DelegationSelection:
    capacity: int | None
    applications: int
    eligible: int
    selected: int
    waitlisted: int
    rejected: int
    pending: int
    groups: tuple[GroupSelection, ...]


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    code: str
    title: str
    due_at: datetime
    delegates: int
    completed: int
    on_time: int
    completion_rate: float | None


@dataclass(frozen=True, slots=True)
class MissionOutcome:
    selection: DelegationSelection
    delegates: int
    checklist: tuple[ChecklistRow, ...]
    checklist_completion_rate: float | None
    checklist_on_time_rate: float | None


@dataclass(frozen=True, slots=True)
class OutcomeReport:
    event_id: int
    slug: str
    name: str
    kind: EventKind
    starts_on: date
    ends_on: date
    generated_at: datetime
    tolerance: AmountTolerance
    funnel: Funnel
    agenda: AgendaQuality
    responses: tuple[WaveResponse, ...]
    feedback: MeetingFeedback
    satisfaction: Satisfaction
    expected: ExpectedBusiness
    breakdowns: tuple[Breakdown, ...]
    currencies: tuple[CurrencyRow, ...]
    followups: tuple[FollowupWave, ...]
    disagreements: tuple[Disagreement, ...]
    meetings: tuple[MeetingRow, ...]
    mission: MissionOutcome | None
    excluded: tuple[ExcludedAnswer, ...] = ()


def build_report(
    session: Session, event_id: int, *, now: datetime, tolerance: AmountTolerance | None = None
) -> OutcomeReport:
    """Load the event's rows and compute its report. `now` is only printed as the generation time."""
    return compute_report(load_report_input(session, event_id), now=now, tolerance=tolerance)


def load_report_input(session: Session, event_id: int) -> ReportInput:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id {event_id}")
    rates = dict(event.usd_rates or {})
    people = session.exec(
        select(Participant).where(Participant.event_id == event_id).order_by(col(Participant.id))
    ).all()
    organizations = {
        o.id: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({p.organization_id for p in people}))
        )
    }
    first_offer: dict[int, str] = {}
    for line in session.exec(
        select(TradeLine)
        .join(Participant, col(Participant.id) == col(TradeLine.participant_id))
        .where(Participant.event_id == event_id, TradeLine.direction == TradeDirection.OFFER)
        .order_by(col(TradeLine.id))
    ):
        if line.hs_codes:
            first_offer.setdefault(line.participant_id, line.hs_codes[0])
    participants = tuple(
        _participant_facts(p, organizations[p.organization_id], first_offer.get(p.id or 0)) for p in people
    )
    slots = tuple(
        SlotFacts(id=s.id or 0, code=s.code, ordinal=s.ordinal, day_index=s.day_index)
        for s in session.exec(
            select(TimeSlot).where(TimeSlot.event_id == event_id).order_by(col(TimeSlot.ordinal))
        )
    )
    table_code = {
        t.id: t.code for t in session.exec(select(EventTable).where(EventTable.event_id == event_id))
    }
    requests = tuple(
        RequestFacts(r.requester_id, r.target_id, r.status)
        for r in session.exec(select(MeetingRequest).where(MeetingRequest.event_id == event_id))
    )
    meeting_rows = session.exec(
        select(Meeting).where(Meeting.event_id == event_id).order_by(col(Meeting.id))
    ).all()
    meetings = tuple(
        MeetingFacts(
            id=m.id or 0,
            host_id=m.participant_a_id,
            visitor_id=m.participant_b_id,
            slot_id=m.slot_id,
            table_code=table_code.get(m.table_id, ""),
            status=m.status,
        )
        for m in meeting_rows
    )
    invitation_rows = session.exec(
        select(SurveyInvitation)
        .where(SurveyInvitation.event_id == event_id)
        .order_by(col(SurveyInvitation.id))
    ).all()
    by_invitation = {i.id: i for i in invitation_rows}
    responses = session.exec(
        select(SurveyResponse)
        .join(SurveyInvitation, col(SurveyInvitation.id) == col(SurveyResponse.invitation_id))
        .where(SurveyInvitation.event_id == event_id)
        .order_by(col(SurveyResponse.id))
    ).all()
    answered = {r.invitation_id for r in responses}
    invitations = tuple(
        InvitationFacts(
            id=i.id or 0,
            participant_id=i.participant_id,
            wave=i.wave,
            is_complete=i.completed_at is not None,
            has_answers=i.id in answered,
        )
        for i in invitation_rows
    )
    meeting_answers: list[tuple[SurveyResponse, int]] = []
    ratings: list[RatingFacts] = []
    followups: list[FollowupFacts] = []
    amounts: list[AmountFacts] = []
    excluded: list[ExcludedAnswer] = []
    organization_of = {p.id: p.organization for p in participants}
    for r in responses:
        invitation = by_invitation[r.invitation_id]
        reason = exclusion_reason(r, rates)
        if reason is not None:
            excluded.append(
                ExcludedAnswer(
                    response_id=r.id or 0,
                    participant_id=invitation.participant_id,
                    organization=organization_of.get(invitation.participant_id, ""),
                    wave=invitation.wave,
                    kind=r.kind,
                    meeting_id=r.meeting_id,
                    reason=reason,
                )
            )
        if r.kind is SurveyResponseKind.MEETING and invitation.wave is SurveyWave.POST_EVENT:
            meeting_answers.append((r, invitation.participant_id))
        elif r.kind is SurveyResponseKind.PARTICIPANT:
            ratings.append(RatingFacts(invitation.participant_id, r.satisfaction, r.recommend))
        elif r.kind is SurveyResponseKind.FOLLOWUP:
            rate, _ = usd_rate_for(r.currency, r.usd_rate, rates)
            if reason is not None:
                rate = None  # counts as no amounts, as a meeting answer excluded does
            followups.append(
                FollowupFacts(
                    participant_id=invitation.participant_id,
                    wave=invitation.wave,
                    hs_code=r.hs_code or UNKNOWN,
                    closed_usd_cents=_convert(r.actual_closed_cents, rate),
                    exported_usd_cents=_convert(r.actual_exported_cents, rate),
                )
            )
        values = (
            r.expected_immediate_cents,
            r.expected_3m_cents,
            r.expected_6m_cents,
            r.expected_12m_cents,
            r.actual_closed_cents,
            r.actual_exported_cents,
        )
        # An amount that is not whole cents (1e30, infinity) has no place in the currency table; a
        # good amount without a rate stays there, as "no rate: not converted".
        if not all(a is None or (type(a) is int and 0 <= a <= MAX_AMOUNT_CENTS) for a in values):
            continue
        original = sum(a or 0 for a in values)
        if original:
            amounts.append(AmountFacts(r.currency, r.usd_rate, original))
    applications: list[ApplicationFacts] = []
    items: list[ChecklistItemFacts] = []
    completions: list[CompletionFacts] = []
    if event.kind is EventKind.MISSION:
        application_rows = session.exec(
            select(MissionApplication).where(MissionApplication.event_id == event_id)
        ).all()
        applicants = {
            o.id: o
            for o in session.exec(
                select(Organization).where(
                    col(Organization.id).in_({a.organization_id for a in application_rows})
                )
            )
        }
        applications = [
            ApplicationFacts(
                a.decision, a.is_eligible, a.participant_id, _groups(applicants[a.organization_id])
            )
            for a in application_rows
        ]
        item_rows = session.exec(
            select(ChecklistItem)
            .where(ChecklistItem.event_id == event_id)
            .order_by(col(ChecklistItem.due_at))
        ).all()
        items = [ChecklistItemFacts(i.id or 0, i.code, i.title, i.due_at) for i in item_rows]
        completions = [
            CompletionFacts(c.item_id, c.participant_id, c.completed_at)
            for c in session.exec(
                select(ChecklistCompletion).where(
                    col(ChecklistCompletion.item_id).in_([i.id for i in item_rows])
                )
            )
        ]
    sides = build_meeting_sides(
        [m for m in meeting_rows if m.status is not MeetingStatus.CANCELLED], meeting_answers, rates
    )
    return ReportInput(
        event_id=event_id,
        slug=event.slug,
        name=event.name,
        kind=event.kind,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        min_meetings=event.min_meetings,
        usd_rates=rates,
        mission=event.mission,
        participants=participants,
        slots=slots,
        requests=requests,
        meetings=meetings,
        meeting_sides=tuple(sides),
        invitations=invitations,
        ratings=tuple(ratings),
        amounts=tuple(amounts),
        followups=tuple(followups),
        applications=tuple(applications),
        checklist_items=tuple(items),
        completions=tuple(completions),
        excluded=tuple(excluded),
    )


def compute_report(
    data: ReportInput, *, now: datetime, tolerance: AmountTolerance | None = None
) -> OutcomeReport:
    """Pure: the whole report from loaded rows."""
    tolerance = tolerance or AmountTolerance()
    disagreements = tuple(find_disagreements(data.meeting_sides, tolerance))
    return OutcomeReport(
        event_id=data.event_id,
        slug=data.slug,
        name=data.name,
        kind=data.kind,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        generated_at=now,
        tolerance=tolerance,
        funnel=compute_funnel(data),
        agenda=compute_agenda_quality(data),
        responses=compute_responses(data),
        feedback=compute_feedback(data),
        satisfaction=compute_satisfaction(data.ratings),
        expected=compute_expected(data.meeting_sides),
        breakdowns=compute_breakdowns(data),
        currencies=compute_currencies(data.amounts, data.usd_rates),
        followups=compute_followups(data),
        disagreements=disagreements,
        meetings=compute_meeting_rows(data, disagreements),
        mission=compute_mission(data) if data.kind is EventKind.MISSION else None,
        excluded=data.excluded,
    )


def compute_funnel(data: ReportInput) -> Funnel:
    matched = {p for r in data.requests for p in (r.requester_id, r.target_id)}
    matched |= {p for m in data.meetings for p in (m.host_id, m.visitor_id)}
    statuses = Counter(m.status for m in data.meetings)
    held, no_show = statuses[MeetingStatus.HELD], statuses[MeetingStatus.NO_SHOW]
    stages = (
        FunnelStage("registered", "Registered", "participants", len(data.participants)),
        FunnelStage("matched", "Matched", "participants", len(matched)),
        FunnelStage("requested", "Requested", "meeting requests", len(data.requests)),
        FunnelStage(
            "accepted",
            "Accepted",
            "meeting requests",
            sum(1 for r in data.requests if r.status is RequestStatus.ACCEPTED),
        ),
        FunnelStage("scheduled", "Scheduled", "meetings", len(data.meetings)),
        FunnelStage("held", "Held", "meetings", held),
    )
    return Funnel(
        stages=stages,
        held=held,
        no_show=no_show,
        cancelled=statuses[MeetingStatus.CANCELLED],
        no_show_rate=_ratio(no_show, held + no_show),
    )


def compute_agenda_quality(data: ReportInput) -> AgendaQuality:
    active = [p.id for p in data.participants if p.status in _ACTIVE_PARTICIPANTS]
    slot_of = {s.id: s for s in data.slots}
    day_slots: dict[int, list[int]] = defaultdict(list)
    for s in sorted(data.slots, key=lambda s: s.ordinal):
        day_slots[s.day_index].append(s.ordinal)
    busy: dict[int, set[int]] = defaultdict(set)
    for m in data.meetings:
        if m.status in _AGENDA_STATUSES:
            busy[m.host_id].add(m.slot_id)
            busy[m.visitor_id].add(m.slot_id)
    counts = [len(busy[p]) for p in active]
    breaks = [count_breaks({slot_of[s].ordinal for s in busy[p]}, day_slots) for p in active]
    histogram = Counter(counts)
    return AgendaQuality(
        participants=len(active),
        min_meetings_rule=data.min_meetings,
        meetings_min=min(counts, default=0),
        meetings_median=float(statistics.median(counts)) if counts else 0.0,
        meetings_max=max(counts, default=0),
        breaks_min=min(breaks, default=0),
        breaks_median=float(statistics.median(breaks)) if breaks else 0.0,
        breaks_max=max(breaks, default=0),
        breaks_total=sum(breaks),
        with_breaks=sum(1 for b in breaks if b > 0),
        below_minimum=sum(1 for c in counts if c < data.min_meetings),
        meetings_histogram=tuple(sorted(histogram.items())),
    )


def count_breaks(busy_ordinals: set[int], day_slots: Mapping[int, Sequence[int]]) -> int:
    """Maximal runs of idle slots strictly between the first and last meeting of each day
    (SCHEDULE_FORMAT.md). `day_slots` lists each day's slot ordinals in time order."""
    total = 0
    for ordinals in day_slots.values():
        marks = [o in busy_ordinals for o in ordinals]
        if sum(marks) < 2:
            continue
        first = marks.index(True)
        last = len(marks) - 1 - marks[::-1].index(True)
        inside = marks[first : last + 1]
        total += sum(1 for i in range(1, len(inside)) if not inside[i] and inside[i - 1])
    return total


def compute_responses(data: ReportInput) -> tuple[WaveResponse, ...]:
    result = []
    for wave in SurveyWave:
        rows = [i for i in data.invitations if i.wave is wave]
        completed = sum(1 for i in rows if i.is_complete)
        result.append(
            WaveResponse(
                wave=wave,
                label=WAVE_LABELS[wave],
                invited=len(rows),
                responded=sum(1 for i in rows if i.has_answers or i.is_complete),
                completed=completed,
                response_rate=_ratio(completed, len(rows)),
            )
        )
    return tuple(result)


def compute_feedback(data: ReportInput) -> MeetingFeedback:
    sides = data.meeting_sides
    with_any = sum(1 for m in sides if m.host is not None or m.visitor is not None)
    with_both = sum(1 for m in sides if m.host is not None and m.visitor is not None)
    return MeetingFeedback(
        meetings=len(sides),
        with_any_answer=with_any,
        with_both_answers=with_both,
        any_rate=_ratio(with_any, len(sides)),
        both_rate=_ratio(with_both, len(sides)),
    )


def compute_satisfaction(ratings: Iterable[RatingFacts]) -> Satisfaction:
    rated = [r.satisfaction for r in ratings if r.satisfaction is not None]
    scores = [r.recommend for r in ratings if r.recommend is not None]
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return Satisfaction(
        respondents=len(rated),
        satisfaction_mean=round(statistics.fmean(rated), 2) if rated else None,
        nps_respondents=len(scores),
        promoters=promoters,
        passives=len(scores) - promoters - detractors,
        detractors=detractors,
        nps=round(100 * (promoters - detractors) / len(scores), 1) if scores else None,
    )


def conservative_amounts(m: MeetingSides) -> tuple[int, int, int, int] | None:
    """The lower side per horizon, for a meeting both sides confirmed; None otherwise."""
    if not m.is_confirmed_by_both:
        return None
    assert m.host is not None and m.visitor is not None
    a, b = m.host.expected_usd_cents, m.visitor.expected_usd_cents
    return (min(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def declared_amounts(m: MeetingSides) -> tuple[int, int, int, int] | None:
    """The higher side per horizon among the sides saying it took place; None if none says so."""
    said = [s.expected_usd_cents for s in (m.host, m.visitor) if s is not None and s.took_place is True]
    if not said:
        return None
    return (
        max(s[0] for s in said),
        max(s[1] for s in said),
        max(s[2] for s in said),
        max(s[3] for s in said),
    )


def compute_expected(sides: Iterable[MeetingSides]) -> ExpectedBusiness:
    conservative = [c for m in sides if (c := conservative_amounts(m)) is not None]
    declared = [d for m in sides if (d := declared_amounts(m)) is not None]
    return ExpectedBusiness(
        conservative=_sum_horizons(conservative),
        declared=_sum_horizons(declared),
        conservative_meetings=len(conservative),
        declared_meetings=len(declared),
        conservative_method=CONSERVATIVE_METHOD,
        declared_method=DECLARED_METHOD,
        currency_method=CURRENCY_METHOD,
    )


def buyer_and_seller(
    meeting: MeetingFacts, people: Mapping[int, ParticipantFacts]
) -> tuple[ParticipantFacts, ParticipantFacts]:
    """The buyer is the side whose role is buyer when exactly one side is; otherwise the host
    (participant A, who sits at her table as buyers do). The seller is the other side."""
    host, visitor = people[meeting.host_id], people[meeting.visitor_id]
    if visitor.role is ParticipantRole.BUYER and host.role is not ParticipantRole.BUYER:
        return visitor, host
    return host, visitor


def compute_breakdowns(data: ReportInput) -> tuple[Breakdown, ...]:
    people = {p.id: p for p in data.participants}
    sides = {m.meeting_id: m for m in data.meeting_sides}
    meetings = [m for m in data.meetings if m.status is not MeetingStatus.CANCELLED]

    def single(
        key_of: Callable[[ParticipantFacts, ParticipantFacts], str | None],
    ) -> Callable[[MeetingFacts], list[str]]:
        def keys(m: MeetingFacts) -> list[str]:
            buyer, seller = buyer_and_seller(m, people)
            return [key_of(buyer, seller) or UNKNOWN]

        return keys

    def groups(m: MeetingFacts) -> list[str]:
        _, seller = buyer_and_seller(m, people)
        return list(seller.groups) or ["none"]

    specs: list[tuple[str, str, str, Callable[[MeetingFacts], list[str]], Callable[[str], str]]] = [
        (
            "buyer_country",
            "Buyer country",
            "The buyer's country.",
            single(lambda b, s: b.country),
            _country,
        ),
        (
            "sector",
            "Sector (ISIC)",
            "The seller's first ISIC sector code.",
            single(lambda b, s: s.sector),
            lambda k: k,
        ),
        (
            "hs_chapter",
            "HS chapter",
            "The chapter (2 digits) of the seller's first offered HS code.",
            single(lambda b, s: s.hs_chapter),
            _hs_chapter,
        ),
        (
            "region",
            "Region",
            "The seller's department, state or province.",
            single(lambda b, s: s.region),
            lambda k: k,
        ),
        (
            "inclusion_group",
            "Inclusion group",
            "The seller's organization. Groups overlap (a firm can be women-led and peasant), "
            "so these rows do not add up to the total.",
            groups,
            lambda k: INCLUSION_LABELS.get(k, k),
        ),
    ]
    result = []
    for dimension, heading, note, keys_of, label_of in specs:
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        if dimension == "inclusion_group":
            for group in (*INCLUSION_GROUPS, "none"):
                tally[group]
        for m in meetings:
            both = sides.get(m.id)
            conservative = conservative_amounts(both) if both else None
            declared = declared_amounts(both) if both else None
            for key in keys_of(m):
                row = tally[key]
                row[0] += 1
                row[1] += m.status is MeetingStatus.HELD
                row[2] += conservative is not None
                row[3] += sum(conservative or ())
                row[4] += sum(declared or ())
        rows = [BreakdownRow(key, label_of(key), v[0], v[1], v[2], v[3], v[4]) for key, v in tally.items()]
        if dimension != "inclusion_group":
            rows.sort(key=lambda r: (-r.declared_usd_cents, -r.meetings, r.key))
        # "By buyer country", but "By HS chapter": lower-case the heading unless it opens with an acronym.
        title = "By " + (heading if heading[:2].isupper() else heading[0].lower() + heading[1:])
        result.append(Breakdown(dimension, title, heading, note, tuple(rows)))
    return tuple(result)


def compute_currencies(amounts: Iterable[AmountFacts], rates: Mapping[str, float]) -> tuple[CurrencyRow, ...]:
    groups: dict[tuple[str, Decimal | None, RateSource], list[int]] = defaultdict(list)
    for a in amounts:
        rate, source = usd_rate_for(a.currency, a.stated_rate, rates)
        groups[(a.currency, rate, source)].append(a.original_cents)
    rows = [
        CurrencyRow(
            currency=currency,
            rate=rate,
            source=source,
            answers=len(values),
            original_cents=sum(values),
            usd_cents=None if rate is None else sum(to_usd_cents(v, rate) for v in values),
        )
        for (currency, rate, source), values in groups.items()
    ]
    return tuple(sorted(rows, key=lambda r: (r.currency != "USD", r.currency, r.source, r.rate or 0)))


def compute_followups(data: ReportInput) -> tuple[FollowupWave, ...]:
    expected = compute_expected(data.meeting_sides)
    own_expected: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for m in data.meeting_sides:
        for side in (m.host, m.visitor):
            if side is not None and side.took_place is True:
                for i, cents in enumerate(side.expected_usd_cents):
                    own_expected[side.participant_id][i] += cents
    result = []
    for wave, horizons in FOLLOWUP_HORIZONS.items():
        invited = [i for i in data.invitations if i.wave is wave]
        respondents = {i.participant_id for i in invited if i.is_complete}
        lines = [f for f in data.followups if f.wave is wave]
        products: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for f in lines:
            products[f.hs_code][0] += f.closed_usd_cents
            products[f.hs_code][1] += f.exported_usd_cents
        closed = sum(f.closed_usd_cents for f in lines)
        by_respondents = sum(sum(own_expected[p][:horizons]) for p in respondents)
        result.append(
            FollowupWave(
                wave=wave,
                label=WAVE_LABELS[wave],
                invited=len(invited),
                completed=len(respondents),
                response_rate=_ratio(len(respondents), len(invited)),
                closed_usd_cents=closed,
                exported_usd_cents=sum(f.exported_usd_cents for f in lines),
                expected_by_respondents_usd_cents=by_respondents,
                closed_vs_expected=_ratio(closed, by_respondents),
                conservative_to_horizon_usd_cents=expected.conservative.cumulative(horizons),
                declared_to_horizon_usd_cents=expected.declared.cumulative(horizons),
                products=tuple(
                    ProductRow(code, v[0], v[1])
                    for code, v in sorted(products.items(), key=lambda kv: (-kv[1][0], kv[0]))
                ),
            )
        )
    return tuple(result)


def compute_meeting_rows(data: ReportInput, disagreements: Iterable[Disagreement]) -> tuple[MeetingRow, ...]:
    people = {p.id: p for p in data.participants}
    slot_code = {s.id: s.code for s in data.slots}
    sides = {m.meeting_id: m for m in data.meeting_sides}
    flags: dict[int, list[str]] = defaultdict(list)
    for d in disagreements:
        flags[d.meeting_id].append(d.kind.value)
    rows = []
    for m in data.meetings:
        both = sides.get(m.id)
        host = both.host if both else None
        visitor = both.visitor if both else None
        rows.append(
            MeetingRow(
                meeting_id=m.id,
                slot=slot_code.get(m.slot_id, ""),
                table=m.table_code,
                host=people[m.host_id].organization,
                visitor=people[m.visitor_id].organization,
                status=m.status,
                host_took_place=host.took_place if host else None,
                visitor_took_place=visitor.took_place if visitor else None,
                host_expected_usd_cents=host.expected_usd_cents if host else None,
                visitor_expected_usd_cents=visitor.expected_usd_cents if visitor else None,
                is_confirmed_by_both=bool(both and both.is_confirmed_by_both),
                flags=tuple(flags[m.id]),
            )
        )
    return tuple(rows)


def compute_mission(data: ReportInput) -> MissionOutcome:
    mission = data.mission or {}
    quotas: Mapping[str, int] = mission.get("quotas") or {}
    apps = data.applications
    decisions = Counter(a.decision for a in apps)
    selected = [a for a in apps if a.decision is ApplicationDecision.SELECTED]
    groups = []
    for group in INCLUSION_GROUPS:
        chosen = sum(1 for a in selected if group in a.groups)
        quota = quotas.get(group)
        groups.append(
            GroupSelection(
                group=group,
                label=INCLUSION_LABELS[group],
                applied=sum(1 for a in apps if group in a.groups),
                selected=chosen,
                quota=quota,
                is_quota_met=None if quota is None else chosen >= quota,
            )
        )
    delegates = {a.participant_id for a in selected if a.participant_id is not None}
    done: dict[int, dict[int, datetime]] = defaultdict(dict)
    for c in data.completions:
        if c.participant_id in delegates:
            done[c.item_id][c.participant_id] = c.completed_at
    checklist = []
    for item in data.checklist_items:
        finished = done[item.id]
        checklist.append(
            ChecklistRow(
                code=item.code,
                title=item.title,
                due_at=item.due_at,
                delegates=len(delegates),
                completed=len(finished),
                on_time=sum(1 for at in finished.values() if at <= item.due_at),
                completion_rate=_ratio(len(finished), len(delegates)),
            )
        )
    required = len(delegates) * len(checklist)
    capacity = mission.get("capacity")
    return MissionOutcome(
        selection=DelegationSelection(
            capacity=capacity if isinstance(capacity, int) else None,
            applications=len(apps),
            eligible=sum(1 for a in apps if a.is_eligible is True),
            selected=decisions[ApplicationDecision.SELECTED],
            waitlisted=decisions[ApplicationDecision.WAITLISTED],
            rejected=decisions[ApplicationDecision.REJECTED],
            pending=decisions[ApplicationDecision.PENDING],
            groups=tuple(groups),
        ),
        delegates=len(delegates),
        checklist=tuple(checklist),
        checklist_completion_rate=_ratio(sum(r.completed for r in checklist), required),
        checklist_on_time_rate=_ratio(sum(r.on_time for r in checklist), required),
    )


def _participant_facts(p: Participant, org: Organization, first_hs: str | None) -> ParticipantFacts:
    assert p.id is not None
    return ParticipantFacts(
        id=p.id,
        organization=org.legal_name,
        role=p.role,
        status=p.status,
        country=org.country,
        region=org.region,
        sector=org.sector_codes[0] if org.sector_codes else None,
        hs_chapter=first_hs[:2] if first_hs else None,
        groups=_groups(org),
    )


def _country(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code != UNKNOWN else None
    return code if country is None else f"{getattr(country, 'common_name', country.name)} ({code})"


def _hs_chapter(chapter: str) -> str:
    title = _hs_chapter_titles().get(chapter)
    return chapter if title is None else f"{chapter} {title}"


@cache
def _hs_chapter_titles() -> dict[str, str]:
    # The matching engine ships the HS 2022 chapter titles; reuse them rather than keep a copy.
    data = json.loads(resources.files("engine.matching").joinpath("hs_names.json").read_text("utf-8"))
    return dict(data["chapters"])


def _groups(org: Organization) -> tuple[str, ...]:
    flags = (org.is_women_led, org.is_peasant, org.is_indigenous, org.is_conflict_victim)
    return tuple(g for g, on in zip(INCLUSION_GROUPS, flags, strict=True) if on)


def _convert(cents: int | None, rate: Decimal | None) -> int:
    return 0 if cents is None or rate is None else to_usd_cents(cents, rate)


def _sum_horizons(rows: Sequence[tuple[int, int, int, int]]) -> HorizonAmounts:
    return HorizonAmounts(
        immediate=sum(r[0] for r in rows),
        m3=sum(r[1] for r in rows),
        m6=sum(r[2] for r in rows),
        m12=sum(r[3] for r in rows),
    )


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
