"""A lost event must not lose work. Every few minutes this flow emits the facts that were never
emitted, and runs, directly, the follow-up of any step whose triggered flow never ran: matching
after registration closed, the schedule after requests closed, the agendas after the schedule was
published. It waits a grace period after the fact was emitted, so that it does not race the
triggered run; the services are idempotent, so a late race is harmless anyway."""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger
from sqlalchemy import func
from sqlmodel import col, select

from config import get_settings
from flows.common import emit_facts, run_for_event, session_scope, utc_now
from flows.notify import agenda_url, deliver_due_mail
from models import DomainEvent, DomainEventEmission, Event, EventStatus, Notification
from services.agendas import publish_agendas
from services.errors import DomainError
from services.matching import compute_event_matches
from services.scheduling import build_schedule

GRACE = timedelta(minutes=5)
# status the event is left in -> the fact that should have started its follow-up
WAITING_ON = {
    EventStatus.REGISTRATION_CLOSED: "rueda.registration.closed",
    EventStatus.REQUESTS_CLOSED: "rueda.requests.closed",
    EventStatus.PUBLISHED: "rueda.schedule.published",
}


@flow(name="reconcile-events", flow_run_name="reconcile-events")
def reconcile_events_flow() -> str:
    """Emit pending facts; finish any step whose event-triggered follow-up never ran."""
    emitted = emit_facts()
    cutoff = utc_now() - GRACE
    with session_scope() as session:
        stale = session.exec(
            select(Event.slug, Event.status, DomainEvent.name)
            .join(DomainEvent, col(DomainEvent.event_id) == col(Event.id))
            .join(DomainEventEmission, col(DomainEventEmission.domain_event_id) == col(DomainEvent.id))
            .where(col(Event.status).in_(list(WAITING_ON)))
            .where(col(DomainEventEmission.emitted_at) < cutoff)
            .where(col(DomainEvent.name).in_(list(WAITING_ON.values())))
        ).all()
        # Only the fact of the step the event is waiting on counts, emitted longer ago than the grace.
        candidates = {slug: status for slug, status, name in stale if WAITING_ON[status] == name}
        published_without_agendas = {
            slug
            for slug, status in candidates.items()
            if status is EventStatus.PUBLISHED
            and session.exec(
                select(func.count())
                .select_from(Notification)
                .join(Event, col(Event.id) == col(Notification.event_id))
                .where(Event.slug == slug, Notification.kind == "agenda.published")
            ).one()
            == 0
        }
    settings = get_settings()
    lead = timedelta(minutes=settings.defaults.first_meeting_reminder_minutes)
    done, failed = [], []
    for slug, status in sorted(candidates.items()):
        try:
            if status is EventStatus.REGISTRATION_CLOSED:
                run_for_event(slug, lambda s, e: compute_event_matches(s, e, now=utc_now()))
                done.append(f"{slug}: matches computed")
            elif status is EventStatus.REQUESTS_CLOSED:
                run_for_event(
                    slug,
                    lambda s, e: build_schedule(
                        s,
                        e,
                        now=utc_now(),
                        time_limit=settings.scheduler.time_limit_seconds,
                        seed=settings.scheduler.seed,
                    ),
                )
                done.append(f"{slug}: schedule built")
            elif slug in published_without_agendas:
                run_for_event(
                    slug,
                    lambda s, e: publish_agendas(
                        s, e, now=utc_now(), agenda_url=agenda_url(), first_meeting_lead=lead
                    ),
                )
                done.append(f"{slug}: agendas queued")
        except DomainError as error:
            # One event's problem must not stop the others: say it and carry on.
            failed.append(f"{slug}: {error}")
    if done:
        emitted += emit_facts()
        deliver_due_mail()
    summary = f"{emitted} facts emitted; " + ("; ".join(done) if done else "no step left behind")
    if failed:
        summary += "; could not finish: " + "; ".join(failed)
    get_run_logger().info(summary)
    return summary
