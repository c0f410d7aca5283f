"""An organizer starts `build-schedule` from the Prefect UI's typed Run form, in headless
Chromium, and sees the run complete. Screenshots go to docs/images/ with RUEDA_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cli.data_cmd import write_demo_files
from cli.stack import Stack
from models import EventStatus, MeetingRequest, RequestStatus
from models.schemas import EventDefinition
from services.db import make_engine, run_in_transaction
from services.events import create_event, get_event_by_slug
from services.files import parse_model, read_mapping_file, read_sheet
from services.lifecycle import close_registration, close_requests
from services.matching import compute_event_matches, respond_to_request
from services.participants import import_participants
from tests.conftest import NOW
from tests.flows.conftest import deployments_ready, wait
from tests.screenshots import screenshot_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DOCS_IMAGES = screenshot_dir()
SLUG = "ui-rueda"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]


def _ready_for_scheduling(folder: Path) -> None:
    """An event with accepted requests, waiting for its schedule (services, no Prefect)."""
    engine = make_engine(os.environ["RUEDA_DATABASE__URL"])
    event_file, people_file = write_demo_files(
        folder,
        participants=30,
        seed=11,
        with_errors=False,
        file_format="csv",
        start_on=date(2027, 5, 19),
        slug=SLUG,
    )
    definition = parse_model(EventDefinition, read_mapping_file(event_file), "event")
    sheet = read_sheet(people_file)
    run_in_transaction(engine, lambda s: create_event(s, definition, now=NOW))
    run_in_transaction(
        engine, lambda s: import_participants(s, get_event_by_slug(s, SLUG), sheet, source="p", now=NOW)
    )
    for step in (close_registration, compute_event_matches):
        run_in_transaction(engine, lambda s, step=step: step(s, get_event_by_slug(s, SLUG), now=NOW))

    def accept_all(session: Session) -> None:
        for request in session.exec(
            select(MeetingRequest).where(MeetingRequest.status == RequestStatus.REQUESTED)
        ):
            respond_to_request(session, request, request.target_id, accept=True, now=NOW)

    run_in_transaction(engine, accept_all)
    run_in_transaction(engine, lambda s: close_requests(s, get_event_by_slug(s, SLUG), now=NOW))
    engine.dispose()


def _api(path: str) -> object:
    with urllib.request.urlopen(f"{os.environ['PREFECT_API_URL']}{path}", timeout=10) as response:
        return json.load(response)


def _latest_run(deployment_id: str) -> dict[str, object] | None:
    request = urllib.request.Request(
        f"{os.environ['PREFECT_API_URL']}/flow_runs/filter",
        data=json.dumps(
            {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_DESC", "limit": 1}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        runs = json.load(response)
    return runs[0] if runs else None


def test_build_schedule_from_the_run_form(stack: Stack, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _ready_for_scheduling(tmp_path)
    deployments_ready(stack)
    deployment = _api("/deployments/name/build-schedule/rueda")
    assert isinstance(deployment, dict)
    ui = os.environ["PREFECT_API_URL"].removesuffix("/api")
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{ui}/deployments/deployment/{deployment['id']}/run", wait_until="networkidle")
        form = page.locator("body")
        # The flow's Pydantic parameter model, rendered as a titled section with help texts and defaults.
        for text in (
            "params",
            "Event Slug",
            "The event's slug, as in",
            "Time Limit Seconds (Optional)",
            "Solver time limit.",
            "Seed (Optional)",
            "Publish (Optional)",
        ):
            assert form.get_by_text(text, exact=False).first.is_visible(), text
        assert page.locator("input[type=number]").nth(0).input_value() == "10"
        assert page.locator("input[type=number]").nth(1).input_value() == "0"
        page.locator("textarea").first.fill(SLUG)
        page.screenshot(path=str(DOCS_IMAGES / "prefect-run-form.png"))
        assert _latest_run(str(deployment["id"])) is None
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url("**/deployments/deployment/**", timeout=30_000)
        wait(lambda: _latest_run(str(deployment["id"])) is not None, stack, 30, "the run to be created")
        created = _latest_run(str(deployment["id"]))
        assert created is not None
        run_id = str(created["id"])

        def completed() -> bool:
            try:
                run = _api(f"/flow_runs/{run_id}")
            except TimeoutError:
                # One slow answer of a loaded API server (CI on two cores) is not the run's state:
                # ask again until the overall deadline below.
                return False
            assert isinstance(run, dict)
            assert run["state_type"] not in ("FAILED", "CRASHED", "CANCELLED"), run["state_name"]
            return bool(run["state_type"] == "COMPLETED")

        wait(completed, stack, 180, "the build-schedule run started from the UI")
        page.goto(f"{ui}/runs/flow-run/{run_id}", wait_until="networkidle")
        page.get_by_text("Completed").first.wait_for(timeout=30_000)
        page.screenshot(path=str(DOCS_IMAGES / "prefect-run-completed.png"))
        browser.close()
    run = _api(f"/flow_runs/{run_id}")
    assert isinstance(run, dict)
    assert run["name"] == f"build-schedule {SLUG}"
    assert run["parameters"] == {
        "params": {"event_slug": SLUG, "time_limit_seconds": 10, "seed": 0, "publish": True}
    }
    engine = make_engine(os.environ["RUEDA_DATABASE__URL"])
    with Session(engine) as session:
        assert get_event_by_slug(session, SLUG).status is EventStatus.PUBLISHED
    engine.dispose()
