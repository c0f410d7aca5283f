"""Every lifecycle flow as a deployment, with the event triggers that chain the lifecycle.

- registration closed  -> compute-matches
- requests closed      -> build-schedule
- meeting cancelled or missed (no-show) -> refill-from-waitlist
- schedule published   -> publish-agendas
- event ended          -> send-surveys at once, send-followups 3, 6 and 12 months later (`schedule_after`)
A trigger fires about 15 s after its event (the runner polls every 10 s). Triggered parameters come
from the event's payload, which carries ids and slugs only, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from flows.mission import (
    open_applications_flow,
    preparation_checklist_flow,
    select_delegation_flow,
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
from flows.surveys import send_followups_flow, send_survey_reminders_flow, send_surveys_flow
from services.survey_mail import FOLLOWUP_DELAY

DEPLOYMENT_NAME = "rueda"
SLUG_FROM_EVENT = {"event_slug": "{{ event.payload.event_slug }}"}
MEETING_FROM_EVENT = {**SLUG_FROM_EVENT, "meeting_id": "{{ event.payload.meeting_id }}"}


@dataclass(frozen=True)
class Trigger:
    """The domain events that start a flow, the parameters taken from the event, and the delay."""

    events: frozenset[str]
    parameters: dict[str, Any]
    after: timedelta = timedelta(0)


# flow -> what starts it
TRIGGERED_BY: dict[str, list[Trigger]] = {
    "compute-matches": [Trigger(frozenset({"rueda.registration.closed"}), SLUG_FROM_EVENT)],
    "build-schedule": [Trigger(frozenset({"rueda.requests.closed"}), SLUG_FROM_EVENT)],
    "refill-from-waitlist": [
        Trigger(frozenset({"rueda.meeting.cancelled", "rueda.meeting.missed"}), MEETING_FROM_EVENT)
    ],
    "publish-agendas": [Trigger(frozenset({"rueda.schedule.published"}), SLUG_FROM_EVENT)],
    "send-surveys": [Trigger(frozenset({"rueda.event.ended"}), SLUG_FROM_EVENT)],
    "send-followups": [
        Trigger(frozenset({"rueda.event.ended"}), {**SLUG_FROM_EVENT, "months": months}, after=delay)
        for months, delay in sorted(FOLLOWUP_DELAY.items())
    ],
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
    send_surveys_flow,
    send_followups_flow,
    build_report_flow,
    open_applications_flow,
    select_delegation_flow,
    preparation_checklist_flow,
]


def build_deployments() -> list[RunnerDeployment]:
    deployments = []
    for flow in FLOWS:
        triggers = [
            DeploymentEventTrigger(
                name=f"{' or '.join(sorted(t.events))} -> {flow.name}"
                + (f" after {t.after.days} days" if t.after else ""),
                expect=set(t.events),
                parameters={"params": t.parameters},
                schedule_after=t.after,
            )
            for t in TRIGGERED_BY.get(flow.name, [])
        ]
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
    deployments.append(
        send_survey_reminders_flow.to_deployment(
            name=DEPLOYMENT_NAME,
            cron="0 15 * * *",  # 10:00 in Bogotá: a reminder read at the start of the working day
            tags=["rueda", "notifications"],
            description=send_survey_reminders_flow.description,
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
            ),
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
    )
    return deployments
