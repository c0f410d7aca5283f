"""Every lifecycle flow as a deployment, with the event triggers that chain the lifecycle.

- registration closed  -> compute-matches
- requests closed      -> build-schedule
- schedule published   -> publish-agendas (once notifications land)
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
from flows.reconcile import reconcile_events_flow

DEPLOYMENT_NAME = "rueda"
SLUG_FROM_EVENT = {"event_slug": "{{ event.payload.event_slug }}"}

# flow -> the domain event that starts it
TRIGGERED_BY: dict[str, str] = {
    "compute-matches": "rueda.registration.closed",
    "build-schedule": "rueda.requests.closed",
}

FLOWS: list[Flow[Any, Any]] = [
    create_event_flow,
    import_participants_flow,
    close_registration_flow,
    compute_matches_flow,
    close_requests_flow,
    build_schedule_flow,
    end_event_flow,
]


def build_deployments() -> list[RunnerDeployment]:
    deployments = []
    for flow in FLOWS:
        triggers = []
        if flow.name in TRIGGERED_BY:
            triggers.append(
                DeploymentEventTrigger(
                    name=f"{TRIGGERED_BY[flow.name]} -> {flow.name}",
                    expect={TRIGGERED_BY[flow.name]},
                    parameters={"params": SLUG_FROM_EVENT},
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
    return deployments
