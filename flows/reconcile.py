"""A lost event must not lose work. Every few minutes this flow emits the facts that were never
emitted, and runs, directly, the follow-up of any step whose triggered flow never ran: matching
after registration closed, the schedule after requests closed, the agendas after the schedule was
published, the surveys after the event ended, and each follow-up once its 3, 6 or 12 months have
passed. It waits a grace period after the fact was emitted, so that it does not race the
triggered run; the services are idempotent, so a late race is harmless anyway."""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger

from config import get_settings
from flows.common import emit_facts, run_for_event, session_scope, utc_now
from flows.notify import agenda_url, deliver_due_mail
from models import EventStatus
from services.agendas import publish_agendas
from services.errors import DomainError
from services.lifecycle import stalled_events
from services.matching import compute_event_matches
from services.scheduling import build_schedule
from services.survey_mail import due_followups, send_followups, send_surveys

GRACE = timedelta(minutes=5)


@flow(name="reconcile-events", flow_run_name="reconcile-events")
def reconcile_events_flow() -> str:
    """Emit pending facts; finish any step whose event-triggered follow-up never ran."""
    emitted = emit_facts()
    with session_scope() as session:
        candidates = stalled_events(session, emitted_before=utc_now() - GRACE)
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
            elif status is EventStatus.ENDED:
                run_for_event(
                    slug, lambda s, e: send_surveys(s, e, now=utc_now(), base_url=settings.portal.public_url)
                )
                done.append(f"{slug}: surveys sent")
            else:
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
    with session_scope() as session:
        followups = due_followups(session, now=utc_now())
    for slug, months in followups:
        try:
            run_for_event(
                slug,
                lambda s, e, months=months: send_followups(  # type: ignore[misc]
                    s, e, months, now=utc_now(), base_url=settings.portal.public_url
                ),
            )
            done.append(f"{slug}: {months}-month follow-up sent")
        except DomainError as error:
            failed.append(f"{slug}: {error}")
    if done:
        emitted += emit_facts()
        deliver_due_mail()
    summary = f"{emitted} facts emitted; " + ("; ".join(done) if done else "no step left behind")
    if failed:
        summary += "; could not finish: " + "; ".join(failed)
    get_run_logger().info(summary)
    return summary
