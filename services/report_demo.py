"""Simulated meeting outcomes and survey answers for a demo event, so that `rueda demo` can end with
an outcome report worth looking at. It invents answers: never run it on a real event.

Deterministic for a `seed` (every draw comes from `random.Random` seeded here, per meeting or per
participant, so the two sides of one meeting talk about the same deal). What it writes:
- the day's outcome of each meeting still scheduled or checked in: held, or a no-show with
  probability `no_show_rate`, whose seats are deleted as the on-site services do;
- post-event invitations for every eligible participant and, for a share `response_rate` of them,
  answers submitted through `services.surveys.submit_answers`, so every validation rule applies.
  Both sides of a deal declare amounts near the same figure, split over the four horizons; a few
  answers disagree on purpose (one side says it did not happen, or doubles the amount) so the
  reconciliation has something to flag; Colombians often answer in COP and Europeans in EUR;
- the 3-month follow-up for about half of the post-event respondents, with product lines for the
  HS codes they trade.
Cost: a few queries per participant; about two seconds for 300 participants on SQLite.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, delete, select

from models import (
    Event,
    Meeting,
    MeetingSeat,
    MeetingStatus,
    Organization,
    Participant,
    SurveyWave,
    TradeLine,
)
from services.errors import NotFoundError
from services.surveys import (
    FollowupLine,
    MeetingAnswer,
    ParticipantAnswer,
    create_invitations,
    submit_answers,
)

_EURO_COUNTRIES = {"DE", "ES", "FR", "IT", "NL", "BE", "PT", "AT", "IE", "FI"}
# Used only when the event configures no rate for the currency: the respondent then states one.
_FALLBACK_RATES = {"COP": Decimal("0.00025"), "EUR": Decimal("1.08")}
_HORIZON_SHARES = (0.15, 0.2, 0.3, 0.35)


@dataclass(frozen=True, slots=True)
class SimulatedOutcome:
    held: int
    no_show: int
    invited: int
    respondents: int
    followup_respondents: int


def simulate_survey_answers(
    session: Session,
    event_id: int,
    *,
    seed: int,
    now: datetime,
    response_rate: float = 0.7,
    no_show_rate: float = 0.15,
) -> SimulatedOutcome:
    """Record outcomes, invite, and answer for a demo event. `now` is the survey's sending time;
    the follow-up is answered 91 days later."""
    held, no_show = simulate_meeting_outcomes(
        session, event_id, seed=seed, now=now, no_show_rate=no_show_rate
    )
    links = create_invitations(session, event_id, SurveyWave.POST_EVENT, now=now)
    tokens = {link.participant_id: link.token for link in links}
    respondents, expected_by = answer_post_event_surveys(
        session, event_id, tokens, seed=seed, now=now, response_rate=response_rate
    )
    followup_at = now + timedelta(days=91)
    followups = {
        link.participant_id: link.token
        for link in create_invitations(session, event_id, SurveyWave.FOLLOWUP_3M, now=followup_at)
    }
    answered = answer_followups(session, event_id, followups, expected_by, seed=seed, now=followup_at)
    return SimulatedOutcome(held, no_show, len(links), len(respondents), answered)


def simulate_meeting_outcomes(
    session: Session, event_id: int, *, seed: int, now: datetime, no_show_rate: float = 0.15
) -> tuple[int, int]:
    """The day's outcome of every meeting still scheduled or checked in: (held, no-shows)."""
    if session.get(Event, event_id) is None:
        raise NotFoundError(f"no event with id {event_id}")
    return _record_outcomes(session, event_id, seed=seed, now=now, no_show_rate=no_show_rate)


def answer_post_event_surveys(
    session: Session,
    event_id: int,
    tokens: Mapping[int, str],
    *,
    seed: int,
    now: datetime,
    response_rate: float = 0.7,
) -> tuple[list[int], dict[int, int]]:
    """A share `response_rate` of the participants answer through their link (participant id ->
    token, e.g. read from the emails). Returns who answered and what each expects, in US$ cents."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id {event_id}")
    rates = {code: Decimal(str(rate)) for code, rate in (event.usd_rates or {}).items()}
    meetings = session.exec(
        select(Meeting).where(
            Meeting.event_id == event_id,
            col(Meeting.status).in_((MeetingStatus.HELD, MeetingStatus.NO_SHOW)),
        )
    ).all()
    by_participant: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        by_participant[meeting.participant_a_id].append(meeting)
        by_participant[meeting.participant_b_id].append(meeting)
    country = dict(
        session.exec(
            select(Participant.id, Organization.country)
            .join(Organization, col(Organization.id) == col(Participant.organization_id))
            .where(Participant.event_id == event_id)
        ).all()
    )
    respondents: list[int] = []
    expected_by: dict[int, int] = defaultdict(int)
    for participant_id, token in sorted(tokens.items()):
        person = random.Random(f"{seed}:person:{participant_id}")
        if person.random() >= response_rate:
            continue
        currency = _currency(person, country.get(participant_id, ""))
        answers = []
        for meeting in sorted(by_participant[participant_id], key=lambda m: m.id or 0):
            answer, usd_cents = _meeting_answer(meeting, participant_id, seed, currency, rates)
            answers.append(answer)
            expected_by[participant_id] += usd_cents
        submit_answers(
            session,
            token,
            meetings=answers,
            participant=ParticipantAnswer(
                satisfaction=person.choices((2, 3, 4, 5), weights=(1, 3, 6, 4))[0],
                recommend=person.choices(range(3, 11), weights=(1, 1, 2, 3, 5, 6, 5, 4))[0],
            ),
            now=now + timedelta(hours=person.randint(2, 96)),
        )
        respondents.append(participant_id)
    return respondents, dict(expected_by)


def answer_followups(
    session: Session,
    event_id: int,
    tokens: Mapping[int, str],
    expected_by: Mapping[int, int],
    *,
    seed: int,
    now: datetime,
) -> int:
    """About half of the post-event respondents (the keys of `expected_by`) answer the follow-up
    through their link, with product lines for the HS codes they trade. Returns how many did."""
    hs_codes: dict[int, list[str]] = defaultdict(list)
    for line in session.exec(
        select(TradeLine)
        .join(Participant, col(Participant.id) == col(TradeLine.participant_id))
        .where(Participant.event_id == event_id)
    ):
        hs_codes[line.participant_id] += line.hs_codes
    followup_at = now
    followup_respondents = 0
    for participant_id in sorted(expected_by):
        person = random.Random(f"{seed}:followup:{participant_id}")
        token = tokens.get(participant_id)
        if token is None or person.random() >= 0.5:
            continue
        lines = []
        codes = hs_codes[participant_id][:2]
        for code in codes:
            closed = int(expected_by[participant_id] * person.uniform(0.0, 0.5) / len(codes))
            if closed:
                exported = int(closed * person.uniform(0.5, 1.0))
                lines.append(FollowupLine(code, actual_closed_cents=closed, actual_exported_cents=exported))
        submit_answers(
            session, token, followup=lines, now=followup_at + timedelta(days=person.randint(1, 20))
        )
        followup_respondents += 1
    return followup_respondents


def _record_outcomes(
    session: Session, event_id: int, *, seed: int, now: datetime, no_show_rate: float
) -> tuple[int, int]:
    held = no_show = 0
    pending = session.exec(
        select(Meeting).where(
            Meeting.event_id == event_id,
            col(Meeting.status).in_((MeetingStatus.SCHEDULED, MeetingStatus.CHECKED_IN)),
        )
    ).all()
    for meeting in pending:
        if random.Random(f"{seed}:outcome:{meeting.id}").random() < no_show_rate:
            meeting.status = MeetingStatus.NO_SHOW
            session.execute(delete(MeetingSeat).where(col(MeetingSeat.meeting_id) == meeting.id))
            no_show += 1
        else:
            meeting.status = MeetingStatus.HELD
            held += 1
        meeting.version += 1
        meeting.updated_at = now
        session.add(meeting)
    session.flush()
    return held, no_show


def _currency(person: random.Random, country: str) -> str:
    if country == "CO" and person.random() < 0.4:
        return "COP"
    if country in _EURO_COUNTRIES and person.random() < 0.6:
        return "EUR"
    return "USD"


def _meeting_answer(
    meeting: Meeting, participant_id: int, seed: int, currency: str, rates: dict[str, Decimal]
) -> tuple[MeetingAnswer, int]:
    """One side's answer and its expected total in US$ cents. The deal is drawn per meeting, so
    both sides start from the same figure; the noise is drawn per side."""
    assert meeting.id is not None
    deal = random.Random(f"{seed}:deal:{meeting.id}")
    side = random.Random(f"{seed}:side:{meeting.id}:{participant_id}")
    took_place = meeting.status is MeetingStatus.HELD
    if side.random() < 0.03:
        took_place = not took_place
    if not took_place:
        return MeetingAnswer(meeting.id, False), 0
    has_business = deal.random() < 0.55
    size_usd_cents = int(deal.lognormvariate(mu=9.6, sigma=1.1) * 100) if has_business else 0
    noise = side.lognormvariate(0, 0.12) * (2.0 if side.random() < 0.06 else 1.0)
    usd = [int(size_usd_cents * share * noise) for share in _HORIZON_SHARES]
    rate = rates.get(currency) or _FALLBACK_RATES.get(currency) or Decimal(1)
    local = [int(Decimal(cents) / rate) if cents else None for cents in usd]
    return (
        MeetingAnswer(
            meeting.id,
            True,
            interest=side.choices((1, 2, 3, 4, 5), weights=(1, 2, 4, 5, 3))[0],
            next_steps=side.choice(("Send samples", "Quote by email", "Visit the plant", None)),
            currency=currency,
            usd_rate=None if currency == "USD" or currency in rates else float(rate),
            expected_immediate_cents=local[0],
            expected_3m_cents=local[1],
            expected_6m_cents=local[2],
            expected_12m_cents=local[3],
        ),
        sum(usd),
    )
