"""Sending the surveys: the post-event invitation right after the event, the follow-ups at 3, 6 and
12 months, and the reminders that chase non-respondents, each as an outbox email with the
participant's secret link.

`services.surveys` owns invitations and tokens; this module turns what it issues into messages in
the same transaction, so an invitation never exists without its email (and the other way round).

Idempotent: invitations are one per participant and wave (a second run invites only newcomers),
reminders respect the cap and the spacing (a second run at once reminds nobody), and every email
has an idempotency key: `survey.invited:p42:event-7:post_event:v1`, the reminder's version being the
reminder's number.
Cost: a handful of indexed queries per wave and one insert per email.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models import DomainEvent, Event, EventStatus, Participant, SurveyInvitation, SurveyWave
from notifications.catalog import FollowupInvited, Money, SurveyInvited, SurveyReminder
from notifications.outbox import build_key, queue_message
from services.agendas import event_info, recipient_for
from services.errors import DomainError
from services.lifecycle import is_past
from services.surveys import DEFAULT_WINDOW, create_invitations, issue_reminders, new_token

FOLLOWUP_WAVES: dict[int, SurveyWave] = {
    3: SurveyWave.FOLLOWUP_3M,
    6: SurveyWave.FOLLOWUP_6M,
    12: SurveyWave.FOLLOWUP_12M,
}
# A follow-up is due this long after the event ended (the deployment triggers wait as long).
FOLLOWUP_DELAY: dict[int, timedelta] = {
    3: timedelta(days=91),
    6: timedelta(days=182),
    12: timedelta(days=365),
}


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """How non-respondents are chased: at most `max_reminders` emails, `spacing` apart, while the
    survey is open (`window` after the invitation)."""

    max_reminders: int = 2
    spacing: timedelta = timedelta(days=4)
    window: timedelta = DEFAULT_WINDOW

    def __post_init__(self) -> None:
        if self.max_reminders < 0 or self.max_reminders > 10:
            raise DomainError("max_reminders: between 0 and 10")
        if self.spacing < timedelta(hours=1):
            raise DomainError("reminder spacing: at least one hour")
        if self.window < timedelta(days=1):
            raise DomainError("survey window: at least one day")


@dataclass(frozen=True, slots=True)
class SurveySendSummary:
    event_slug: str
    wave: SurveyWave
    invited: int
    reminded: int
    open_invitations: int
    completed: int

    def headline(self) -> str:
        rate = f"{self.completed / self.open_invitations:.0%}" if self.open_invitations else "n/a"
        if not self.invited and not self.reminded:
            return (
                f"{self.event_slug} {self.wave.value}: nothing new to send "
                f"({self.completed} of {self.open_invitations} answered, {rate})"
            )
        return (
            f"{self.event_slug} {self.wave.value}: {self.invited} invited, {self.reminded} reminded "
            f"({self.completed} of {self.open_invitations} answered, {rate})"
        )


def survey_url(base_url: str, token: str) -> str:
    """The one link that answers all of a participant's meetings (or a follow-up)."""
    return f"{base_url.rstrip('/')}/survey?t={token}"


def send_surveys(
    session: Session,
    event: Event,
    *,
    now: datetime,
    base_url: str,
    policy: ReminderPolicy = ReminderPolicy(),
    token_factory: Callable[[], str] = new_token,
) -> SurveySendSummary:
    """The post-event survey: invite everyone with a meeting, and remind the due non-respondents."""
    if not is_past(event, EventStatus.ENDED):
        raise DomainError(
            f"event {event.slug!r} has not ended (status {event.status.value}); end it first (end-event)"
        )
    return _send_wave(
        session, event, SurveyWave.POST_EVENT, now=now, base_url=base_url, policy=policy, tokens=token_factory
    )


def send_followups(
    session: Session,
    event: Event,
    months: int,
    *,
    now: datetime,
    base_url: str,
    policy: ReminderPolicy = ReminderPolicy(),
    token_factory: Callable[[], str] = new_token,
) -> SurveySendSummary:
    """The follow-up at `months` (3, 6 or 12): business actually closed and exported, by product."""
    if months not in FOLLOWUP_WAVES:
        raise DomainError(f"months: follow-ups are at 3, 6 or 12 months, not {months}")
    if not is_past(event, EventStatus.ENDED):
        raise DomainError(f"event {event.slug!r} has not ended (status {event.status.value})")
    return _send_wave(
        session,
        event,
        FOLLOWUP_WAVES[months],
        now=now,
        base_url=base_url,
        policy=policy,
        tokens=token_factory,
    )


def remind_open_surveys(
    session: Session,
    event: Event,
    *,
    now: datetime,
    base_url: str,
    policy: ReminderPolicy = ReminderPolicy(),
    token_factory: Callable[[], str] = new_token,
) -> list[SurveySendSummary]:
    """Reminders only, for every wave that has invitations: what the daily reminder run does."""
    assert event.id is not None
    waves = sorted(
        set(session.exec(select(SurveyInvitation.wave).where(SurveyInvitation.event_id == event.id)))
    )
    return [
        _send_wave(
            session,
            event,
            SurveyWave(wave),
            now=now,
            base_url=base_url,
            policy=policy,
            tokens=token_factory,
            invite=False,
        )
        for wave in waves
    ]


def due_followups(session: Session, *, now: datetime) -> list[tuple[str, int]]:
    """(slug, months) of every ended event whose follow-up is due and was never sent: what the
    reconciliation runs when a scheduled follow-up run was lost."""
    ended = session.exec(
        select(Event.id, Event.slug, DomainEvent.occurred_at)
        .join(DomainEvent, col(DomainEvent.event_id) == col(Event.id))
        .where(DomainEvent.name == "rueda.event.ended", Event.status == EventStatus.ENDED)
    ).all()
    sent = set(session.exec(select(SurveyInvitation.event_id, SurveyInvitation.wave).distinct()).all())
    due = []
    for event_id, slug, ended_at in ended:
        for months, wave in FOLLOWUP_WAVES.items():
            if now >= ended_at + FOLLOWUP_DELAY[months] and (event_id, wave) not in sent:
                due.append((slug, months))
    return sorted(due)


def _send_wave(
    session: Session,
    event: Event,
    wave: SurveyWave,
    *,
    now: datetime,
    base_url: str,
    policy: ReminderPolicy,
    tokens: Callable[[], str],
    invite: bool = True,
) -> SurveySendSummary:
    assert event.id is not None
    invited = (
        create_invitations(session, event.id, wave, now=now, window=policy.window, token_factory=tokens)
        if invite
        else []
    )
    reminded = issue_reminders(
        session,
        event.id,
        wave,
        now=now,
        max_reminders=policy.max_reminders,
        spacing=policy.spacing,
        window=policy.window,
        token_factory=tokens,
    )
    people = _people(session, [link.participant_id for link in (*invited, *reminded)])
    info = event_info(event)
    for link in invited:
        person = people[link.participant_id]
        url = survey_url(base_url, link.token)
        recipient = recipient_for(event, person.full_name, person.timezone)
        if wave is SurveyWave.POST_EVENT:
            kind = "survey.invited"
            context: SurveyInvited | FollowupInvited = SurveyInvited(
                event=info,
                recipient=recipient,
                survey_url=url,
                closes_at=link.closes_at,
                meetings_held=link.meetings,
            )
        else:
            kind = "followup.invited"
            context = FollowupInvited(
                event=info,
                recipient=recipient,
                months=_months(wave),
                survey_url=url,
                reported_business=Money(link.reported_usd_cents, "USD") if link.reported_usd_cents else None,
            )
        queue_message(
            session,
            kind=kind,
            context=context,
            recipient_email=person.email,
            language=person.language,
            idempotency_key=build_key(kind, link.participant_id, f"event-{event.id}:{wave.value}"),
            due_at=now,
            not_after=link.closes_at,
            now=now,
            event_id=event.id,
            participant_id=link.participant_id,
        )
    for link in reminded:
        person = people[link.participant_id]
        number = session.exec(
            select(SurveyInvitation.reminders_sent).where(SurveyInvitation.id == link.invitation_id)
        ).one()
        queue_message(
            session,
            kind="survey.reminder",
            context=SurveyReminder(
                event=info,
                recipient=recipient_for(event, person.full_name, person.timezone),
                survey_url=survey_url(base_url, link.token),
                closes_at=link.closes_at,
            ),
            recipient_email=person.email,
            language=person.language,
            idempotency_key=build_key(
                "survey.reminder", link.participant_id, f"event-{event.id}:{wave.value}", number
            ),
            due_at=now,
            not_after=link.closes_at,
            now=now,
            event_id=event.id,
            participant_id=link.participant_id,
        )
    open_count, completed = _response_counts(session, event.id, wave)
    return SurveySendSummary(event.slug, wave, len(invited), len(reminded), open_count, completed)


def _people(session: Session, ids: Sequence[int]) -> dict[int, Participant]:
    if not ids:
        return {}
    rows = session.exec(select(Participant).where(col(Participant.id).in_(set(ids))))
    return {p.id: p for p in rows if p.id is not None}


def _response_counts(session: Session, event_id: int, wave: SurveyWave) -> tuple[int, int]:
    rows = session.exec(
        select(SurveyInvitation.completed_at).where(
            SurveyInvitation.event_id == event_id, SurveyInvitation.wave == wave
        )
    ).all()
    return len(rows), sum(1 for completed_at in rows if completed_at is not None)


def _months(wave: SurveyWave) -> int:
    return next(months for months, w in FOLLOWUP_WAVES.items() if w is wave)
