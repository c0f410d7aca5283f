"""A lost event must not lose work. Every few minutes this flow emits the facts that were never
emitted, and runs, directly, the follow-up of any step whose triggered flow never ran. The services
are idempotent, so racing a late trigger is harmless."""

from __future__ import annotations

from prefect import flow, get_run_logger
from sqlmodel import select

from config import get_settings
from flows.common import emit_facts, run_for_event, session_scope, utc_now
from models import Event, EventStatus
from services.matching import compute_event_matches
from services.scheduling import build_schedule


@flow(name="reconcile-events", flow_run_name="reconcile-events")
def reconcile_events_flow() -> str:
    """Emit pending facts; finish any step whose event-triggered follow-up never ran."""
    emitted = emit_facts()
    with session_scope() as session:
        waiting = {
            e.slug: e.status
            for e in session.exec(
                select(Event).where(
                    Event.status.in_([EventStatus.REGISTRATION_CLOSED, EventStatus.REQUESTS_CLOSED])
                )  # type: ignore[attr-defined]
            )
        }
    done = []
    settings = get_settings()
    for slug, status in sorted(waiting.items()):
        if status is EventStatus.REGISTRATION_CLOSED:
            run_for_event(slug, lambda s, e: compute_event_matches(s, e, now=utc_now()))
            done.append(f"{slug}: matches computed")
        else:
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
    if done:
        emitted += emit_facts()
    summary = f"{emitted} facts emitted; " + ("; ".join(done) if done else "no step left behind")
    get_run_logger().info(summary)
    return summary
