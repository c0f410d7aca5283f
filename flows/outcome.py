"""After the event: the outcome report, as a flow with its artifacts."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact

from config import get_settings
from flows.common import EventRef, run_for_event, utc_now
from services.report import build_report
from services.report_render import render_report_markdown, write_report_files


@flow(name="build-report", flow_run_name="build-report {params.event_slug}")
def build_report_flow(params: EventRef) -> str:
    """Funnel, agenda quality, response rates, expected business (conservative and declared),
    breakdowns and follow-ups: HTML with charts, a one-page PDF, Excel and CSV."""
    report = run_for_event(params.event_slug, lambda s, e: build_report(s, e.id or 0, now=utc_now()))
    folder = get_settings().data_dir / "reports" / params.event_slug
    files = write_report_files(report, folder)
    create_markdown_artifact(key=f"report-{params.event_slug}", markdown=render_report_markdown(report))
    create_link_artifact(
        key=f"report-html-{params.event_slug}",
        link=files.html.as_uri(),
        link_text="report.html",
        description="The full report (open on the machine that ran the flow).",
    )
    summary = f"report of {params.event_slug} written to {folder}"
    get_run_logger().info(summary)
    return summary
