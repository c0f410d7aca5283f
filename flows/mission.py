"""Trade missions as flows: the call for applications, the selection of the delegation with its
reasons, and the preparation checklist with deadline reminders. The B2B agenda at the destination
then runs through the same lifecycle flows as a rueda."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import Field
from sqlmodel import Session

from config import get_settings
from flows.common import EventRef, emit_facts, run_for_event, utc_now
from flows.notify import deliver_due_mail
from models import Event
from services.files import read_sheet
from services.missions import (
    import_applications,
    open_applications,
    queue_checklist_reminders,
    select_mission_delegation,
)


class ApplicationsParams(EventRef):
    file_path: str | None = Field(
        default=None,
        description="Optional .csv or .xlsx of applications: the participant columns plus the questionnaire.",
    )


@flow(name="open-applications", flow_run_name="open-applications {params.event_slug}")
def open_applications_flow(params: ApplicationsParams) -> str:
    """Open the mission's call for applications and, given a file, take its applications."""
    sheet = (
        read_sheet(Path(params.file_path), max_rows=get_settings().imports.max_rows)
        if params.file_path
        else None
    )
    source = Path(params.file_path).name if params.file_path else ""

    def work(session: Session, event: Event) -> str:
        opened = open_applications(session, event, now=utc_now())
        if sheet is None:
            return opened.detail
        result = import_applications(session, event, sheet, source=source, now=utc_now())
        return (
            f"{opened.detail}; applications: {result.created} new, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )

    summary = run_for_event(params.event_slug, work)
    emit_facts()
    create_markdown_artifact(
        key=f"applications-{params.event_slug}", markdown=f"## Applications\n\n{summary}\n"
    )
    get_run_logger().info("%s: %s", params.event_slug, summary)
    return summary


@flow(name="select-delegation", flow_run_name="select-delegation {params.event_slug}")
def select_delegation_flow(params: EventRef) -> str:
    """Score eligibility and export readiness, then select under the capacity and the inclusion
    quotas; every decision is stored with its reasons."""
    result = run_for_event(params.event_slug, lambda s, e: select_mission_delegation(s, e, now=utc_now()))
    emit_facts()
    summary = result.headline()
    quota_rows = "\n".join(
        f"| {group} | {result.quota_filled[group]} | {n} | {result.unmet_quotas.get(group, 'met')} |"
        for group, n in sorted(result.quotas.items())
    )
    create_markdown_artifact(
        key=f"delegation-{params.event_slug}",
        markdown=(
            f"## Delegation of {params.event_slug}\n\n{summary}\n\n"
            f"| quota | filled | asked | state |\n|---|---|---|---|\n{quota_rows}\n"
        ),
    )
    create_table_artifact(
        key=f"delegation-decisions-{params.event_slug}",
        table=result.rows,
        description="Every application, its decision, readiness score, rank and reasons.",
    )
    get_run_logger().info(summary)
    return summary


@flow(name="preparation-checklist", flow_run_name="preparation-checklist {params.event_slug}")
def preparation_checklist_flow(params: EventRef) -> str:
    """Queue the deadline reminders (7 days and 1 day before) for every selected delegate and open
    task, and show who has done what."""
    url = f"{get_settings().portal.public_url}/checklist"
    result = run_for_event(
        params.event_slug, lambda s, e: queue_checklist_reminders(s, e, now=utc_now(), checklist_url=url)
    )
    emit_facts()
    delivery = deliver_due_mail()
    summary = f"{result.headline()}; delivery: {delivery}"
    create_table_artifact(
        key=f"checklist-{params.event_slug}",
        table=result.per_item,
        description="Each preparation task: deadline, delegates done, overdue.",
    )
    get_run_logger().info(summary)
    return summary
