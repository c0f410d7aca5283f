"""The lifecycle steps as Prefect flows. Each is thin: typed parameters, one service call in one
transaction, facts emitted after commit, artifacts an operator wants, a one-line summary.

Every flow is idempotent: the services refuse to do a step twice (they return `changed=False`),
so a retried or re-triggered run changes nothing the second time.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from pydantic import Field

from config import get_settings
from flows.common import EventRef, emit_facts, engine, run_for_event, utc_now
from models.schemas import EventDefinition
from services.db import run_in_transaction
from services.errors import NotFoundError
from services.events import create_event, get_event_by_slug, update_event
from services.files import read_sheet
from services.lifecycle import close_registration, close_requests, end_event
from services.matching import compute_event_matches
from services.participants import import_participants
from services.scheduling import build_schedule


class ImportParams(EventRef):
    file_path: str = Field(description="A .csv or .xlsx file on the machine that runs the flow.")
    clear_missing: bool = Field(
        default=False,
        description="Columns absent from the file clear those fields of existing participants "
        "(default: they are left as they are).",
    )


class ScheduleParams(EventRef):
    time_limit_seconds: float = Field(default=10.0, ge=1, le=600, description="Solver time limit.")
    seed: int = Field(default=0, ge=0, description="Same seed, same schedule.")
    publish: bool = Field(default=True, description="Publish right away (sends the agendas).")


def _key(name: str, slug: str) -> str:
    return f"{name}-{slug}"


@flow(name="create-event", flow_run_name="create-event {definition.slug}")
def create_event_flow(definition: EventDefinition) -> str:
    """Create the event from its definition, or update it when the slug exists."""

    def upsert(session: object) -> str:
        from sqlmodel import Session

        assert isinstance(session, Session)
        try:
            get_event_by_slug(session, definition.slug)
        except NotFoundError:
            return f"created {create_event(session, definition, now=utc_now()).slug}"
        return f"updated {update_event(session, definition, now=utc_now()).slug}"

    summary = run_in_transaction(engine(), upsert)
    emit_facts()
    get_run_logger().info("event %s", summary)
    return summary


@flow(name="import-participants", flow_run_name="import-participants {params.event_slug}")
def import_participants_flow(params: ImportParams) -> str:
    """Import participants from a spreadsheet: all rows or none, updating by email."""
    path = Path(params.file_path)
    sheet = read_sheet(path, max_rows=get_settings().imports.max_rows)
    result = run_for_event(
        params.event_slug,
        lambda s, e: import_participants(
            s, e, sheet, source=path.name, now=utc_now(), clear_missing=params.clear_missing
        ),
    )
    emit_facts()
    summary = f"{result.total} participants imported into {params.event_slug}: {result.summary}"
    create_markdown_artifact(key=_key("import", params.event_slug), markdown=f"## Import\n\n{summary}\n")
    get_run_logger().info(summary)
    return summary


@flow(name="close-registration", flow_run_name="close-registration {params.event_slug}")
def close_registration_flow(params: EventRef) -> str:
    """Close registration; matching follows by itself (event rueda.registration.closed)."""
    result = run_for_event(params.event_slug, lambda s, e: close_registration(s, e, now=utc_now()))
    emit_facts()
    get_run_logger().info("%s: %s", params.event_slug, result.detail)
    return result.detail


@flow(name="compute-matches", flow_run_name="compute-matches {params.event_slug}")
def compute_matches_flow(params: EventRef) -> str:
    """Score every buyer-seller pair, select the meetings, and suggest them as requests."""
    result = run_for_event(params.event_slug, lambda s, e: compute_event_matches(s, e, now=utc_now()))
    emit_facts()
    if not result.changed:
        summary = f"{params.event_slug}: matches already computed; nothing to do"
    else:
        summary = (
            f"{result.suggested:,} meetings suggested for {result.participants:,} participants "
            f"({result.annotated:,} participant requests scored); {len(result.shortfalls)} below the minimum"
        )
        create_markdown_artifact(
            key=_key("matches", params.event_slug), markdown=f"## Matching\n\n{summary}\n"
        )
        create_table_artifact(
            key=_key("top-matches", params.event_slug),
            table=[{"seller": a, "buyer": b, "score": score, "why": why} for a, b, score, why in result.top],
            description="The 25 best-scored suggestions (participant ids).",
        )
        if result.shortfalls:
            create_table_artifact(
                key=_key("shortfalls", params.event_slug),
                table=[
                    {
                        "participant": s.participant_id,
                        "meetings": s.meetings,
                        "minimum": s.minimum,
                        "why": s.reason.value,
                    }
                    for s in result.shortfalls
                ],
                description="Participants who could not reach the event's minimum, and why.",
            )
    get_run_logger().info(summary)
    return summary


@flow(name="close-requests", flow_run_name="close-requests {params.event_slug}")
def close_requests_flow(params: EventRef) -> str:
    """Expire unanswered requests and close the round; scheduling follows (rueda.requests.closed)."""
    result = run_for_event(params.event_slug, lambda s, e: close_requests(s, e, now=utc_now()))
    emit_facts()
    get_run_logger().info("%s: %s", params.event_slug, result.detail)
    return result.detail


@flow(name="build-schedule", flow_run_name="build-schedule {params.event_slug}")
def build_schedule_flow(params: ScheduleParams) -> str:
    """Place every accepted request into a slot and a table, with the fewest breaks."""
    progress = create_progress_artifact(
        progress=0.0,
        key=_key("schedule-progress", params.event_slug),
        description="Loading, solving and writing the schedule",
    )
    result = run_for_event(
        params.event_slug,
        lambda s, e: build_schedule(
            s,
            e,
            now=utc_now(),
            time_limit=params.time_limit_seconds,
            seed=params.seed,
            publish=params.publish,
        ),
    )
    update_progress_artifact(progress, 90.0)
    emit_facts()
    update_progress_artifact(progress, 100.0)
    summary = result.headline()
    if result.stats is not None:
        s = result.stats
        create_markdown_artifact(
            key=_key("schedule", params.event_slug),
            markdown=(
                f"## Schedule of {params.event_slug}\n\n{summary}\n\n"
                f"| figure | value |\n|---|---|\n| participants | {result.participants:,} |\n"
                f"| accepted requests | {result.requested:,} |\n| placed | {s.placed:,} |\n"
                f"| upper bound on placed | {s.upper_bound_placed:,} |\n| breaks in all | {s.breaks:,} |\n"
                f"| lower bound on breaks | {s.lower_bound_breaks:,} |\n| worst-off participant's breaks | {s.max_breaks} |\n"
                f"| waiting list | {result.waitlisted:,} |\n| published | {'yes' if result.published else 'no'} |\n"
            ),
        )
    get_run_logger().info(summary)
    return summary


@flow(name="end-event", flow_run_name="end-event {params.event_slug}")
def end_event_flow(params: EventRef) -> str:
    """Mark held the meetings that took place (services.onsite.settle_meetings), then the event
    ended; surveys and follow-ups follow (rueda.event.ended)."""
    result = run_for_event(params.event_slug, lambda s, e: end_event(s, e, now=utc_now()))
    emit_facts()
    get_run_logger().info("%s: %s", params.event_slug, result.detail)
    return result.detail
