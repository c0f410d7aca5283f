"""The report's outputs (HTML, tables, CSV, Excel, PDF), the `rueda report` command, and the
trade-mission section."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from cli.report_cmd import report_command
from models import ApplicationDecision, ChecklistCompletion, ChecklistItem, MissionApplication, Participant
from services.db import transaction
from services.report import (
    ChecklistRow,
    DelegationSelection,
    GroupSelection,
    MissionOutcome,
    OutcomeReport,
    build_report,
)
from services.report_render import (
    ReportFiles,
    render_report_html,
    render_report_markdown,
    render_summary_pdf,
    report_tables,
    write_report_files,
)
from tests.factories import make_event
from tests.surveys.known_event import KnownEvent, build_roundtable

Known = tuple[KnownEvent, OutcomeReport]


@pytest.mark.unit
def test_html_report_is_self_contained_and_shows_both_figures(known_files: ReportFiles) -> None:
    html = known_files.html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert (
        html.count('src="data:image/svg+xml;base64,') == 10
    )  # expected, 5 breakdowns, funnel, agenda, responses, follow-ups
    for text in (
        "US$ 33,400",
        "US$ 58,900",
        "20.0%",
        "80.0%",
        "Meetings counted: 2.",
        "Meetings counted: 4.",
        "rate stated by the respondent",
        "held vs not held",
        "3m: host US$ 20,000.00, visitor US$ 30,000.00",
        "Café Andino SAS",
        "United States (US)",
        "09 coffee, tea and spices",
        "Women-led",
    ):
        assert text in html, text
    assert "Trade mission" not in html


@pytest.mark.unit
def test_tables_carry_every_section(known: Known) -> None:
    event, report = known
    tables = {t.name: t for t in report_tables(report)}
    assert list(tables) == [
        "summary",
        "funnel",
        "agenda_quality",
        "meetings_per_participant",
        "responses",
        "satisfaction",
        "expected_business",
        "by_buyer_country",
        "by_sector",
        "by_hs_chapter",
        "by_region",
        "by_inclusion_group",
        "currencies",
        "followups",
        "followup_products",
        "disagreements",
        "meetings",
    ]
    assert [[str(v) for v in row] for row in tables["expected_business"].rows] == [
        ["immediate", "13400.00", "16500.00"],
        ["3m", "20000.00", "30000.00"],
        ["6m", "0.00", "2000.00"],
        ["12m", "0.00", "10400.00"],
        ["total", "33400.00", "58900.00"],
        ["meetings_counted", "2", "4"],
    ]
    assert tables["funnel"].rows == [
        ["registered", "participants", 7],
        ["matched", "participants", 6],
        ["requested", "meeting requests", 8],
        ["accepted", "meeting requests", 6],
        ["scheduled", "meetings", 6],
        ["held", "meetings", 4],
    ]
    assert [r[:3] for r in tables["disagreements"].rows] == [
        [event.meetings["M1"], "amount", "3m"],
        [event.meetings["M2"], "amount", "12m"],
        [event.meetings["M3"], "took_place", ""],
    ]
    assert len(tables["meetings"].rows) == 6
    assert (
        dict((r[0], r[1]) for r in tables["summary"].rows)["Conservative expected business"] == "US$ 33,400"
    )


@pytest.mark.unit
def test_markdown_summary_for_the_prefect_artifact(known: Known) -> None:
    markdown = render_report_markdown(known[1])
    assert markdown.startswith("# Rueda de prueba: outcome\n\n| figure | value |\n|---|---|\n")
    for line in (
        "| Conservative expected business | US$ 33,400 |",
        "| Declared expected business | US$ 58,900 |",
        "| No-show rate | 20.0% |",
        "| Disagreements flagged for staff | 3 |",
        "| Immediate | US$ 13,400 | US$ 16,500 |",
        "| 12 months | US$ 0 | US$ 10,400 |",
        "| **Total** | US$ 33,400 | US$ 58,900 |",
    ):
        assert line in markdown.splitlines(), line
    assert known[1].expected.conservative_method in markdown


@pytest.mark.unit
def test_files_are_written_and_read_back(known: Known, known_files: ReportFiles) -> None:
    _, report = known
    files = known_files
    with (files.html.parent / "csv" / "by_buyer_country.csv").open(
        encoding="utf-8-sig", newline=""
    ) as handle:
        assert list(csv.reader(handle)) == [
            ["key", "label", "meetings", "held", "confirmed_by_both", "conservative_usd", "declared_usd"],
            ["US", "United States (US)", "2", "2", "2", "33400.00", "55900.00"],
            ["DE", "Germany (DE)", "3", "2", "0", "0.00", "3000.00"],
        ]
    assert len(files.csv) == 17
    workbook = load_workbook(files.xlsx, read_only=True)
    assert workbook.sheetnames[:3] == ["summary", "funnel", "agenda_quality"]
    rows = list(workbook["expected_business"].iter_rows(values_only=True))
    assert rows[5] == ("total", 33400.0, 58900.0)
    workbook.close()
    pdf = files.pdf.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    assert render_summary_pdf(report) == pdf  # no timestamps inside: same report, same bytes


@pytest.mark.integration
def test_report_command_writes_the_files(
    known_db: tuple[str, KnownEvent], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("RUEDA_DATA_DIR", "RUEDA_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUEDA_DATABASE__URL", known_db[0])
    monkeypatch.setenv("COLUMNS", "200")
    app = typer.Typer()
    app.command()(report_command)
    result = CliRunner().invoke(app, ["--event", "rueda-resultados"])
    assert result.exit_code == 0, result.output
    assert "US$ 33,400 conservative, US$ 58,900 declared" in result.output
    assert "post-event response rate 80.0%; 3 disagreements flagged" in result.output
    assert sorted(p.name for p in (tmp_path / "report-rueda-resultados").iterdir()) == [
        "csv",
        "report.html",
        "report.xlsx",
        "summary.pdf",
    ]
    missing = CliRunner().invoke(app, ["--event", "nope", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 1
    assert "no event with slug 'nope'" in missing.output


MISSION = {
    "destination_country": "US",
    "capacity": 2,
    "quotas": {"women_led": 1, "indigenous": 2},
    "checklist": [
        {"code": "passport", "title": "Passport and visa", "due": "2027-05-01T12:00:00"},
        {"code": "samples", "title": "Samples shipped", "due": "2027-05-10T12:00:00"},
    ],
}


@pytest.mark.integration
def test_mission_report_adds_selection_and_checklist(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        event_id, people, _ = build_roundtable(
            session, now, slug="mision-usa", kind="mission", mission=MISSION
        )
        orgs = {
            name: session.exec(
                select(Participant.organization_id).where(Participant.id == people[name])
            ).one()
            for name in ("S1", "S2", "S3", "S4")
        }
        for name, eligible, decision, delegate in (
            ("S1", True, ApplicationDecision.SELECTED, True),
            ("S2", True, ApplicationDecision.SELECTED, True),
            ("S3", True, ApplicationDecision.WAITLISTED, True),
            ("S4", False, ApplicationDecision.REJECTED, False),
        ):
            session.add(
                MissionApplication(
                    event_id=event_id,
                    organization_id=orgs[name],
                    participant_id=people[name] if delegate else None,
                    is_eligible=eligible,
                    decision=decision,
                    submitted_at=now,
                )
            )
        items = {
            i.code: i
            for i in session.exec(
                select(ChecklistItem)
                .where(ChecklistItem.event_id == event_id)
                .order_by(col(ChecklistItem.due_at))
            )
        }
        passport_due = items["passport"].due_at
        assert passport_due == datetime(2027, 5, 1, 17, tzinfo=UTC)  # noon in Bogotá
        for code, name, at in (
            ("passport", "S1", passport_due.replace(day=1, hour=9)),
            ("passport", "S2", passport_due.replace(day=2)),  # late
            ("samples", "S1", passport_due.replace(day=9)),
            ("passport", "S3", passport_due.replace(day=1, hour=9)),  # waitlisted: not a delegate
        ):
            session.add(
                ChecklistCompletion(item_id=items[code].id or 0, participant_id=people[name], completed_at=at)
            )
        session.flush()
        report = build_report(session, event_id, now=now)
    assert report.mission == MissionOutcome(
        selection=DelegationSelection(
            capacity=2,
            applications=4,
            eligible=3,
            selected=2,
            waitlisted=1,
            rejected=1,
            pending=0,
            groups=(
                GroupSelection("women_led", "Women-led", applied=1, selected=1, quota=1, is_quota_met=True),
                GroupSelection("peasant", "Peasant", applied=1, selected=1, quota=None, is_quota_met=None),
                GroupSelection(
                    "indigenous", "Indigenous", applied=1, selected=1, quota=2, is_quota_met=False
                ),
                GroupSelection(
                    "conflict_victim", "Conflict victim", applied=0, selected=0, quota=None, is_quota_met=None
                ),
            ),
        ),
        delegates=2,
        checklist=(
            ChecklistRow("passport", "Passport and visa", passport_due, 2, 2, 1, 1.0),
            ChecklistRow("samples", "Samples shipped", items["samples"].due_at, 2, 1, 1, 0.5),
        ),
        checklist_completion_rate=0.75,
        checklist_on_time_rate=0.5,
    )
    # The rest of the report is the roundtable's: the same meetings, no answers yet.
    assert [s.count for s in report.funnel.stages] == [7, 6, 8, 6, 6, 4]
    assert report.expected.declared.total == 0
    if engine.dialect.name == "sqlite":  # rendering does not touch the database: once is enough
        html = render_report_html(report)
        assert "Trade mission: delegation and preparation" in html
        assert "Passport and visa" in html
    assert [t.name for t in report_tables(report)][-3:] == [
        "mission_selection",
        "mission_groups",
        "mission_checklist",
    ]


@pytest.mark.integration
def test_report_of_an_event_with_no_data_renders_every_output(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        event = make_event(session, now)
        assert event.id is not None
        report = build_report(session, event.id, now=now)
    assert [s.count for s in report.funnel.stages] == [0, 0, 0, 0, 0, 0]
    assert (report.funnel.no_show_rate, report.agenda.meetings_median, report.satisfaction.nps) == (
        None,
        0.0,
        None,
    )
    assert report.expected.declared.total == 0
    assert report.breakdowns[0].rows == ()
    files = write_report_files(report, tmp_path)
    assert "No disagreements." in files.html.read_text(encoding="utf-8")
    assert files.pdf.read_bytes().startswith(b"%PDF")


def test_the_same_report_renders_to_the_same_bytes(
    known: Known, known_files: ReportFiles, tmp_path: Path
) -> None:
    # A restored backup must give the same report: no dates, no random SVG ids.
    again = write_report_files(known[1], tmp_path)
    assert again.html.read_bytes() == known_files.html.read_bytes()
