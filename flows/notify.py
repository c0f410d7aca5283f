"""Agendas by email: queue every agenda and its reminders, then deliver what is due now.

Queuing is the business transaction; delivery is I/O after commit, in a retrying task. The reminder
clock of `rueda up` sends the rest when it falls due, so a failed delivery here loses nothing."""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from config import get_settings
from flows.common import EventRef, emit_facts, engine, run_for_event, utc_now
from notifications.dispatcher import dispatch_due
from services.agendas import publish_agendas


@task(name="deliver-due-mail", retries=3, retry_delay_seconds=[5, 30, 120])
def deliver_due_mail() -> str:
    """Send every due outbox row over SMTP (claims are atomic: safe beside the reminder clock)."""
    settings = get_settings()
    return dispatch_due(engine(), settings.smtp, calendar_domain=settings.portal.uid_domain).summary()


def agenda_url() -> str:
    settings = get_settings()
    base = settings.portal.public_url
    return f"{base.rstrip('/')}/agenda"


@flow(name="publish-agendas", flow_run_name="publish-agendas {params.event_slug}")
def publish_agendas_flow(params: EventRef) -> str:
    """Email each participant the agenda with calendar entries; queue the reminders."""
    lead = timedelta(minutes=get_settings().defaults.first_meeting_reminder_minutes)
    result = run_for_event(
        params.event_slug,
        lambda s, e: publish_agendas(s, e, now=utc_now(), agenda_url=agenda_url(), first_meeting_lead=lead),
    )
    emit_facts()
    delivery = deliver_due_mail()
    summary = f"{result.headline()}; delivery: {delivery}"
    create_markdown_artifact(key=f"agendas-{params.event_slug}", markdown=f"## Agendas\n\n{summary}\n")
    get_run_logger().info(summary)
    return summary


@flow(name="send-organizer-digests", flow_run_name="send-organizer-digests")
def send_organizer_digests_flow() -> str:
    """Once a day: every running event's organizers get the email state and the permanent failures."""
    from sqlmodel import select

    from flows.common import session_scope
    from models import Event, EventStatus
    from services.digest import queue_organizer_digest

    running = [s for s in EventStatus if s not in (EventStatus.DRAFT, EventStatus.ARCHIVED)]
    with session_scope() as session:
        slugs = list(session.exec(select(Event.slug).where(Event.status.in_(running))))  # type: ignore[attr-defined]
    settings = get_settings()
    dashboard = f"{settings.portal.public_url}/organizer"
    queued = sum(
        run_for_event(
            slug, lambda s, e: queue_organizer_digest(s, e, now=utc_now(), dashboard_url=dashboard)
        ).queued
        for slug in slugs
    )
    delivery = deliver_due_mail()
    summary = f"{queued} digests queued for {len(slugs)} events; delivery: {delivery}"
    get_run_logger().info(summary)
    return summary
