"""`rueda report --event SLUG [--out DIR]`: the outcome report of an event, as files.

Writes report.html (self-contained, with charts), summary.pdf (one page), report.xlsx and csv/*.csv.
Reading only: the transaction commits nothing. Definitions of every figure: docs/report.md.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import console, database, handle_errors, utc_now
from services.db import transaction
from services.events import get_event_by_slug
from services.report import build_report
from services.report_charts import format_rate, format_usd
from services.report_render import write_report_files
from services.surveys import AmountTolerance


@handle_errors
def report_command(
    event: str = typer.Option(..., "--event", "-e", help="The event's slug."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder for the report files (default: ./report-SLUG)."
    ),
    tolerance: float = typer.Option(
        0.25,
        "--tolerance",
        min=0.0,
        max=10.0,
        help="Relative difference between the two sides' amounts above which a meeting is flagged.",
    ),
) -> None:
    """Build the outcome report: funnel, agenda quality, response rates, expected business
    (conservative and declared), breakdowns, follow-ups and, for missions, the delegation."""
    folder = out or Path(f"report-{event}")
    with database() as engine, transaction(engine) as session:
        found = get_event_by_slug(session, event)
        assert found.id is not None
        report = build_report(session, found.id, now=utc_now(), tolerance=AmountTolerance(relative=tolerance))
    files = write_report_files(report, folder)
    console.print(
        f"report for [bold]{event}[/bold]: expected business {format_usd(report.expected.conservative.total)} "
        f"conservative, {format_usd(report.expected.declared.total)} declared; post-event response rate "
        f"{format_rate(report.responses[0].response_rate)}; {len(report.disagreements)} disagreements flagged"
    )
    console.print(
        f"  wrote {files.html}, {files.pdf}, {files.xlsx} and {len(files.csv)} CSV files in {folder / 'csv'}"
    )
