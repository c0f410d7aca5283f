"""After the event: the post-event survey right away, the follow-ups at 3, 6 and 12 months, and the
daily reminders to non-respondents. Each run queues its emails in one transaction and delivers them
after commit; running it twice sends nothing twice (services.survey_mail)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel, Field

from config import get_settings
from flows.common import EventRef, emit_facts, run_for_event, session_scope, utc_now
from flows.notify import deliver_due_mail
from services.survey_mail import (
    ReminderPolicy,
    SurveySendSummary,
    remind_open_surveys,
    send_followups,
    send_surveys,
)


class ReminderParams(BaseModel):
    max_reminders: int = Field(default=2, ge=0, le=10, description="Reminders per non-respondent, at most.")
    reminder_spacing_days: float = Field(default=4, ge=0.05, le=60, description="Days between emails.")
    window_days: int = Field(default=30, ge=1, le=365, description="Days a survey link stays open.")

    def policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            max_reminders=self.max_reminders,
            spacing=timedelta(days=self.reminder_spacing_days),
            window=timedelta(days=self.window_days),
        )


class SurveyParams(EventRef, ReminderParams):
    """Which event, and how its non-respondents are chased."""


class FollowupParams(SurveyParams):
    months: Literal[3, 6, 12] = Field(description="The follow-up wave: 3, 6 or 12 months after the event.")


def _report(slug: str, summaries: list[SurveySendSummary], delivery: str) -> str:
    rows = "\n".join(
        f"| {s.wave.value} | {s.invited} | {s.reminded} | {s.completed} of {s.open_invitations} |"
        for s in summaries
    )
    create_markdown_artifact(
        key=f"surveys-{slug}",
        markdown=(
            f"## Surveys of {slug}\n\n| wave | invited now | reminded now | answered |\n|---|---|---|---|\n"
            f"{rows}\n\nDelivery: {delivery}\n"
        ),
    )
    return "; ".join(s.headline() for s in summaries) + f"; delivery: {delivery}"


@flow(name="send-surveys", flow_run_name="send-surveys {params.event_slug}")
def send_surveys_flow(params: SurveyParams) -> str:
    """Invite every participant with a meeting to rate each meeting and the event (one link for all),
    and remind those who have not answered."""
    base_url = get_settings().portal.public_url
    result = run_for_event(
        params.event_slug,
        lambda s, e: send_surveys(s, e, now=utc_now(), base_url=base_url, policy=params.policy()),
    )
    emit_facts()
    summary = _report(params.event_slug, [result], deliver_due_mail())
    get_run_logger().info(summary)
    return summary


@flow(name="send-followups", flow_run_name="send-followups {params.event_slug} {params.months}m")
def send_followups_flow(params: FollowupParams) -> str:
    """Ask, 3, 6 or 12 months on, what business was actually closed and exported, by product."""
    base_url = get_settings().portal.public_url
    result = run_for_event(
        params.event_slug,
        lambda s, e: send_followups(
            s, e, params.months, now=utc_now(), base_url=base_url, policy=params.policy()
        ),
    )
    emit_facts()
    summary = _report(params.event_slug, [result], deliver_due_mail())
    get_run_logger().info(summary)
    return summary


@flow(name="send-survey-reminders", flow_run_name="send-survey-reminders")
def send_survey_reminders_flow(params: ReminderParams | None = None) -> str:
    """Once a day: remind the non-respondents of every open survey, within the cap and spacing."""
    from sqlmodel import select

    from models import Event, EventStatus

    params = params or ReminderParams()
    base_url = get_settings().portal.public_url
    with session_scope() as session:
        slugs = list(session.exec(select(Event.slug).where(Event.status == EventStatus.ENDED)))
    reminded = 0
    for slug in sorted(slugs):
        summaries = run_for_event(
            slug,
            lambda s, e: remind_open_surveys(s, e, now=utc_now(), base_url=base_url, policy=params.policy()),
        )
        reminded += sum(s.reminded for s in summaries)
    delivery = deliver_due_mail()
    summary = f"{reminded} reminders queued for {len(slugs)} ended events; delivery: {delivery}"
    get_run_logger().info(summary)
    return summary
