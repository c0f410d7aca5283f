"""Every lifecycle flow as a deployment, with the event triggers that chain the lifecycle.

- registration closed  -> compute-matches
- requests closed      -> build-schedule
- meeting cancelled or missed (no-show) -> refill-from-waitlist
- schedule published   -> publish-agendas
A trigger fires about 15 s after its event (the runner polls every 10 s). Triggered parameters come
from the event's payload, which carries ids and slugs only, never personal data.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.events import DeploymentEventTrigger

from flows.lifecycle import (
    build_schedule_flow,
    close_registration_flow,
    close_requests_flow,
    compute_matches_flow,
    create_event_flow,
    end_event_flow,
    import_participants_flow,
)
from flows.notify import publish_agendas_flow, send_organizer_digests_flow
from flows.onsite import (
    add_late_registration_flow,
    handle_cancellation_flow,
    mark_no_show_flow,
    refill_from_waitlist_flow,
)
from flows.outcome import build_report_flow
from flows.reconcile import reconcile_events_flow

DEPLOYMENT_NAME = "rueda"
SLUG_FROM_EVENT = {"event_slug": "{{ event.payload.event_slug }}"}
MEETING_FROM_EVENT = {**SLUG_FROM_EVENT, "meeting_id": "{{ event.payload.meeting_id }}"}

# flow -> the domain events that start it, and the parameters taken from the event
TRIGGERED_BY: dict[str, tuple[set[str], dict[str, str]]] = {
    "compute-matches": ({"rueda.registration.closed"}, SLUG_FROM_EVENT),
    "build-schedule": ({"rueda.requests.closed"}, SLUG_FROM_EVENT),
    "refill-from-waitlist": ({"rueda.meeting.cancelled", "rueda.meeting.missed"}, MEETING_FROM_EVENT),
    "publish-agendas": ({"rueda.schedule.published"}, SLUG_FROM_EVENT),
}

FLOWS: list[Flow[Any, Any]] = [
    create_event_flow,
    import_participants_flow,
    close_registration_flow,
    compute_matches_flow,
    close_requests_flow,
    build_schedule_flow,
    publish_agendas_flow,
    handle_cancellation_flow,
    mark_no_show_flow,
    refill_from_waitlist_flow,
    add_late_registration_flow,
    end_event_flow,
    build_report_flow,
]


def build_deployments() -> list[RunnerDeployment]:
    deployments = []
    for flow in FLOWS:
        triggers = []
        if flow.name in TRIGGERED_BY:
            events, parameters = TRIGGERED_BY[flow.name]
            triggers.append(
                DeploymentEventTrigger(
                    name=f"{' or '.join(sorted(events))} -> {flow.name}",
                    expect=events,
                    parameters={"params": parameters},
                )
            )
        deployments.append(
            flow.to_deployment(
                name=DEPLOYMENT_NAME,
                triggers=triggers,
                tags=["rueda", "lifecycle"],
                description=flow.description,
                # One run of a step at a time; a second waits its turn (each step is idempotent).
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
                ),
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    deployments.append(
        reconcile_events_flow.to_deployment(
            name=DEPLOYMENT_NAME,
            interval=timedelta(minutes=5),
            tags=["rueda", "maintenance"],
            description=reconcile_events_flow.description,
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
            ),
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
    )
    deployments.append(
        send_organizer_digests_flow.to_deployment(
            name=DEPLOYMENT_NAME,
            cron="0 12 * * *",  # 07:00 in Bogotá, Lima and Quito; organizers read it with breakfast
            tags=["rueda", "notifications"],
            description=send_organizer_digests_flow.description,
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
            ),
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
    )
    return deployments
