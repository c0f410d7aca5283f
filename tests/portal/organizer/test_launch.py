"""Lifecycle buttons: the deployment names and parameters the portal builds (it may not import
`flows/`) must be exactly what the served deployments accept, and carry no personal data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from flows.deployments import DEPLOYMENT_NAME, FLOWS
from models import Event, EventStatus
from portal.organizer.launch import STEPS, build_launch, flow_run_url, steps_for
from services.db import transaction
from tests.portal.api.seed import PASSWORD, Seeded, TestClient, build_app, portal_settings, seed


@pytest.mark.unit
@pytest.mark.parametrize("step", sorted(STEPS))
def test_launch_parameters_fit_the_served_deployment(step: str) -> None:
    plan = build_launch(step, "macrorrueda-2027")
    flows = {flow.name: flow for flow in FLOWS}
    flow_name, deployment = plan.deployment.split("/")
    assert (flow_name in flows, deployment) == (True, DEPLOYMENT_NAME)
    # The flow accepts them as they are (defaults fill the rest) ...
    validated = flows[flow_name].validate_parameters(plan.parameters)
    assert validated["params"].event_slug == "macrorrueda-2027"
    # ... and they hold the slug and nothing else: no names, no emails.
    assert plan.parameters == {"params": {"event_slug": "macrorrueda-2027"}}


@pytest.mark.unit
def test_flow_run_link_points_at_the_prefect_ui(tmp_path: Path) -> None:
    settings = portal_settings(tmp_path, "sqlite://")
    assert flow_run_url(settings, "0b9d") == "http://127.0.0.1:9/runs/flow-run/0b9d"
    default = settings.model_copy(update={"prefect": settings.prefect.model_copy(update={"api_url": None})})
    assert flow_run_url(default, "0b9d") == "http://127.0.0.1:4200/runs/flow-run/0b9d"


@pytest.fixture
def client(engine: Engine, db_url: str, tmp_path: Path, now: datetime) -> Iterator[tuple[TestClient, Seeded]]:
    seeded = seed(engine, now)
    with TestClient(build_app(portal_settings(tmp_path, db_url), engine), follow_redirects=False) as client:
        yield client, seeded


@pytest.mark.integration
def test_launch_without_a_prefect_server_says_so(client: tuple[TestClient, Seeded], engine: Engine) -> None:
    web, _ = client
    page = web.get("/organizer/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = web.post(
        "/organizer/login", data={"email": "ana@organizer.org", "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 303
    token = web.get("/organizer/").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    # A step that does not apply to the event's status is refused before Prefect is asked.
    refused = web.post(
        "/organizer/events/rueda-resultados/launch/build-schedule",
        data={"csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 409
    assert "This step does not apply to the event now (status draft)." in refused.text
    with transaction(engine) as session:
        event = session.exec(select(Event).where(Event.slug == "rueda-resultados")).one()
        event.status = EventStatus.REQUESTS_CLOSED
        session.add(event)
    # The settings point Prefect at a closed port (127.0.0.1:9).
    response = web.post(
        "/organizer/events/rueda-resultados/launch/build-schedule",
        data={"csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 503
    assert "Not started: build-schedule" in response.text
    unknown = web.post("/organizer/events/rueda-resultados/launch/drop-tables", data={"csrf_token": token})
    assert unknown.status_code == 404


@pytest.mark.integration
@pytest.mark.slow
def test_launch_creates_the_run_on_a_real_prefect_server(tmp_path: Path) -> None:
    """On Prefect's test server with the build-schedule deployment registered (not served, so the
    run stays scheduled): the button's call creates exactly the run the deployment expects."""
    import asyncio
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from flows.lifecycle import build_schedule_flow
    from portal.organizer.launch import launch

    with prefect_test_harness(server_startup_timeout=120):
        api_url = PREFECT_API_URL.value()
        deployment_id = build_schedule_flow.to_deployment(name=DEPLOYMENT_NAME).apply()
        base = portal_settings(tmp_path, "sqlite://")
        settings = base.model_copy(update={"prefect": base.prefect.model_copy(update={"api_url": api_url})})
        run = launch(settings, "build-schedule", "macrorrueda-2027")

        async def read() -> tuple[object, dict[str, object], str]:
            async with get_client() as client:
                flow_run = await client.read_flow_run(uuid.UUID(run.flow_run_id))
                return flow_run.deployment_id, flow_run.parameters, flow_run.state_type.value

        deployment, parameters, state = asyncio.run(read())
    assert (deployment, parameters, state) == (
        deployment_id,
        {"params": {"event_slug": "macrorrueda-2027"}},
        "SCHEDULED",
    )
    assert run.url == f"{api_url.removesuffix('/api')}/runs/flow-run/{run.flow_run_id}"


@pytest.mark.unit
def test_each_status_shows_only_the_steps_that_apply() -> None:
    assert {status.value: steps_for(status) for status in EventStatus} == {
        "draft": ["close-registration"],
        "registration_open": ["close-registration"],
        "registration_closed": ["compute-matches"],
        "requests_open": ["close-requests"],
        "requests_closed": ["build-schedule"],
        "scheduled": ["build-schedule", "end-event"],
        "published": ["publish-agendas", "end-event"],
        "ended": ["build-report"],
        "archived": ["build-report"],
    }
