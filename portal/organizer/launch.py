"""Lifecycle buttons: start a Prefect deployment for one event and link to its run.

The portal does not import `flows/` (the layers forbid it): deployment names and parameters are
written here, matching `flows/deployments.py` (`<flow name>/rueda`) and the flows' parameter
models (`params.event_slug`). Parameters carry the event slug only, never personal data: Prefect
shows them in its UI and keeps them in its database. `run_deployment(..., timeout=0)` returns as
soon as the run is created; the run itself executes on the `rueda up` runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config import Settings
from models import EventStatus

DEPLOYMENT = "rueda"

# Button -> flow, in lifecycle order; each takes `params: EventRef` (or a model extending it with
# defaults), so `{"params": {"event_slug": ...}}` is a complete parameter set.
STEPS: dict[str, str] = {
    "close-registration": "close-registration",
    "compute-matches": "compute-matches",
    "close-requests": "close-requests",
    "build-schedule": "build-schedule",
    "publish-agendas": "publish-agendas",
    "end-event": "end-event",
    "build-report": "build-report",
}


# The event statuses in which each step does something (the services' own guards): the dashboard
# shows a button only then, and the route refuses it otherwise (409), so a stray click never
# starts a run that can only fail or do nothing.
STEP_STATUSES: dict[str, tuple[EventStatus, ...]] = {
    "close-registration": (EventStatus.DRAFT, EventStatus.REGISTRATION_OPEN),
    "compute-matches": (EventStatus.REGISTRATION_CLOSED,),
    "close-requests": (EventStatus.REQUESTS_OPEN,),
    "build-schedule": (EventStatus.REQUESTS_CLOSED, EventStatus.SCHEDULED),  # scheduled: publishes
    "publish-agendas": (EventStatus.PUBLISHED,),
    "end-event": (EventStatus.SCHEDULED, EventStatus.PUBLISHED),
    "build-report": (EventStatus.ENDED, EventStatus.ARCHIVED),
}


def steps_for(status: EventStatus) -> list[str]:
    """The lifecycle buttons that make sense for an event in `status`, in lifecycle order."""
    return [step for step in STEPS if status in STEP_STATUSES[step]]


class LaunchError(Exception):
    """The run could not be created: Prefect did not answer, or the deployment is not served."""


@dataclass(frozen=True, slots=True)
class Launch:
    deployment: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LaunchedRun:
    flow_run_id: str
    name: str
    url: str


def build_launch(step: str, event_slug: str) -> Launch:
    """The deployment and parameters for a lifecycle button. Unknown steps raise KeyError."""
    flow = STEPS[step]
    return Launch(deployment=f"{flow}/{DEPLOYMENT}", parameters={"params": {"event_slug": event_slug}})


def prefect_api_url(settings: Settings) -> str:
    configured = settings.prefect.api_url
    if configured:
        return configured.rstrip("/")
    return f"http://{settings.prefect.server_host}:{settings.prefect.server_port}/api"


def flow_run_url(settings: Settings, flow_run_id: str) -> str:
    """The run's page in the Prefect UI, served next to its API (`.../api` -> `...`)."""
    ui = prefect_api_url(settings).removesuffix("/api")
    return f"{ui}/runs/flow-run/{flow_run_id}"


def launch(settings: Settings, step: str, event_slug: str) -> LaunchedRun:
    """Create a run of the step's deployment on the configured Prefect server."""
    # Imported here: Prefect's client is heavy, and only this button needs it.
    import httpx
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.exceptions import PrefectException
    from prefect.settings import PREFECT_API_URL, temporary_settings

    plan = build_launch(step, event_slug)
    try:
        with temporary_settings({PREFECT_API_URL: prefect_api_url(settings)}):
            run = run_deployment(name=plan.deployment, parameters=plan.parameters, timeout=0)
    except (PrefectException, httpx.HTTPError, OSError) as error:
        raise LaunchError(f"{plan.deployment}: {type(error).__name__}: {error}") from error
    # Called from a worker thread (a sync route), run_deployment runs to completion and returns the run.
    if not isinstance(run, FlowRun):
        raise LaunchError(f"{plan.deployment}: unexpected answer {type(run).__name__}")
    run_id = str(run.id)
    return LaunchedRun(run_id, str(run.name), flow_run_url(settings, run_id))
