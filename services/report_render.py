"""Rendering an `OutcomeReport`: a self-contained HTML page, CSV and Excel tables, and a one-page PDF
summary. Nothing here computes a figure; it only formats what services.report computed, so the
HTML, the spreadsheets and the PDF cannot disagree.

- HTML: one Jinja2 template (services/report_templates/report.html), autoescaped, StrictUndefined;
  CSS inline and charts as SVG data URIs, so the file opens anywhere with no network.
- Tables: `report_tables` is the single list behind the CSV files (one per table) and the Excel
  workbook (one sheet per table). Money is US$ with two decimals, rates are fractions (0.8 = 80%).
- PDF: an A4 page drawn with matplotlib's PDF canvas (no extra dependency): the key figures, the
  funnel and expected business by horizon.
Files are written to a temporary name and renamed, so a reader never sees half a file.

Cost: the HTML with its charts renders in well under a second; the workbook is linear in meetings.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from matplotlib.figure import Figure

from services.files import neutralise_cell, write_table
from services.report import HORIZON_LABELS, WAVE_LABELS, ExcludedAnswer, OutcomeReport
from services.report_charts import (
    chart_breakdown,
    chart_checklist,
    chart_expected,
    chart_followups,
    chart_funnel,
    chart_meetings_histogram,
    chart_responses,
    draw_expected,
    draw_funnel,
    format_rate,
    format_usd,
    new_figure,
    short_usd,
    svg_data_uri,
)

TEMPLATES = Path(__file__).resolve().parent / "report_templates"


@dataclass(frozen=True, slots=True)
class ReportTable:
    name: str
    headings: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    html: Path
    pdf: Path
    xlsx: Path
    csv: tuple[Path, ...]


def render_report_html(report: OutcomeReport) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(usd=format_usd, short_usd=short_usd, rate=format_rate, number=_number)
    charts = {
        "funnel": svg_data_uri(chart_funnel(report)),
        "expected": svg_data_uri(chart_expected(report)),
        "meetings": svg_data_uri(chart_meetings_histogram(report)),
        "responses": svg_data_uri(chart_responses(report)),
        "followups": svg_data_uri(chart_followups(report)),
        "breakdowns": {b.dimension: svg_data_uri(chart_breakdown(b)) for b in report.breakdowns},
        "checklist": svg_data_uri(chart_checklist(report.mission))
        if report.mission is not None and report.mission.checklist
        else None,
    }
    template = environment.get_template("report.html")
    return template.render(report=report, charts=charts, horizons=HORIZON_LABELS, wave_labels=WAVE_LABELS)


def render_summary_pdf(report: OutcomeReport) -> bytes:
    """One A4 page: title, key figures, the funnel, expected business and the method."""
    buffer = io.BytesIO()
    summary_figure(report).savefig(buffer, format="pdf", metadata={"CreationDate": None})
    return buffer.getvalue()


def summary_figure(report: OutcomeReport) -> Figure:
    """The summary page as a figure (A4 portrait), for the PDF or a PNG preview."""
    figure = new_figure((8.27, 11.69), layout=None)
    figure.text(0.07, 0.965, report.name, fontsize=18, weight="bold", va="top")
    figure.text(
        0.07,
        0.935,
        f"{report.slug} · {report.starts_on.isoformat()} to {report.ends_on.isoformat()} · "
        f"outcome summary generated {report.generated_at:%Y-%m-%d %H:%M} UTC",
        fontsize=9,
        color="#444444",
        va="top",
    )
    figures = _key_figures(report)
    per_column = (len(figures) + 1) // 2
    for index, (label, value) in enumerate(figures):
        column, row = divmod(index, per_column)
        x, y = 0.07 + 0.45 * column, 0.895 - 0.026 * row
        figure.text(x, y, label, fontsize=9, color="#444444", va="top")
        figure.text(x + 0.41, y, value, fontsize=9.5, weight="bold", va="top", ha="right")
    draw_funnel(figure.add_axes((0.22, 0.445, 0.72, 0.255)), report)
    draw_expected(figure.add_axes((0.15, 0.18, 0.79, 0.2)), report)
    method = f"{report.expected.conservative_method} {report.expected.declared_method} {report.expected.currency_method}"
    figure.text(0.07, 0.075, _wrap(method, 125), fontsize=7, color="#444444", va="top")
    return figure


def render_report_markdown(report: OutcomeReport) -> str:
    """The key figures, expected business by horizon and the method, as Markdown: the body of the
    `build-report` flow's Prefect artifact (the UI renders Markdown, not the HTML page)."""
    lines = [f"# {report.name}: outcome", "", "| figure | value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in _key_figures(report)]
    lines += ["", "| horizon | conservative | declared |", "|---|---|---|"]
    expected = report.expected
    for label, low, high in zip(
        [*HORIZON_LABELS.values(), "**Total**"],
        [*expected.conservative.as_tuple(), expected.conservative.total],
        [*expected.declared.as_tuple(), expected.declared.total],
        strict=True,
    ):
        lines.append(f"| {label} | {format_usd(low)} | {format_usd(high)} |")
    lines += [
        "",
        expected.conservative_method,
        "",
        expected.declared_method,
        "",
        expected.currency_method,
        "",
        f"**Answers excluded from the US$ figures: {len(report.excluded)}**",
        "",
    ]
    lines += [f"- {excluded_line(x)}" for x in report.excluded]
    return "\n".join([*lines, ""] if report.excluded else lines)


def excluded_line(x: ExcludedAnswer) -> str:
    """One excluded answer in words: who, which wave and answer, and why."""
    answer = f"meeting {x.meeting_id}" if x.meeting_id is not None else x.kind.value
    return f"{x.organization} (participant {x.participant_id}), {WAVE_LABELS[x.wave]}, {answer}: {x.reason}"


def report_tables(report: OutcomeReport) -> list[ReportTable]:
    """Every table of the report, for CSV files and Excel sheets."""
    tables = [
        ReportTable("summary", ["figure", "value"], [[k, v] for k, v in _key_figures(report)]),
        ReportTable(
            "funnel", ["stage", "unit", "count"], [[s.key, s.unit, s.count] for s in report.funnel.stages]
        ),
        ReportTable(
            "agenda_quality",
            ["measure", "value"],
            [
                ["participants", report.agenda.participants],
                ["min_meetings_rule", report.agenda.min_meetings_rule],
                ["meetings_min", report.agenda.meetings_min],
                ["meetings_median", report.agenda.meetings_median],
                ["meetings_max", report.agenda.meetings_max],
                ["below_minimum", report.agenda.below_minimum],
                ["breaks_min", report.agenda.breaks_min],
                ["breaks_median", report.agenda.breaks_median],
                ["breaks_max", report.agenda.breaks_max],
                ["breaks_total", report.agenda.breaks_total],
                ["participants_with_breaks", report.agenda.with_breaks],
                ["no_show_meetings", report.funnel.no_show],
                ["cancelled_meetings", report.funnel.cancelled],
                ["no_show_rate", report.funnel.no_show_rate],
            ],
        ),
        ReportTable(
            "meetings_per_participant",
            ["meetings", "participants"],
            [[m, n] for m, n in report.agenda.meetings_histogram],
        ),
        ReportTable(
            "responses",
            ["wave", "invited", "responded", "completed", "response_rate"],
            [[r.wave.value, r.invited, r.responded, r.completed, r.response_rate] for r in report.responses]
            + [
                [
                    "meeting_feedback_any_side",
                    report.feedback.meetings,
                    report.feedback.with_any_answer,
                    report.feedback.with_any_answer,
                    report.feedback.any_rate,
                ],
                [
                    "meeting_feedback_both_sides",
                    report.feedback.meetings,
                    report.feedback.with_both_answers,
                    report.feedback.with_both_answers,
                    report.feedback.both_rate,
                ],
            ],
        ),
        ReportTable(
            "satisfaction",
            ["measure", "value"],
            [
                ["respondents", report.satisfaction.respondents],
                ["satisfaction_mean", report.satisfaction.satisfaction_mean],
                ["nps_respondents", report.satisfaction.nps_respondents],
                ["promoters", report.satisfaction.promoters],
                ["passives", report.satisfaction.passives],
                ["detractors", report.satisfaction.detractors],
                ["nps", report.satisfaction.nps],
            ],
        ),
        ReportTable(
            "expected_business",
            ["horizon", "conservative_usd", "declared_usd"],
            [
                [h, _usd(c), _usd(d)]
                for h, c, d in zip(
                    [*HORIZON_LABELS, "total"],
                    [*report.expected.conservative.as_tuple(), report.expected.conservative.total],
                    [*report.expected.declared.as_tuple(), report.expected.declared.total],
                    strict=True,
                )
            ]
            + [
                ["meetings_counted", report.expected.conservative_meetings, report.expected.declared_meetings]
            ],
        ),
    ]
    for breakdown in report.breakdowns:
        tables.append(
            ReportTable(
                f"by_{breakdown.dimension}",
                ["key", "label", "meetings", "held", "confirmed_by_both", "conservative_usd", "declared_usd"],
                [
                    [
                        r.key,
                        r.label,
                        r.meetings,
                        r.held,
                        r.confirmed,
                        _usd(r.conservative_usd_cents),
                        _usd(r.declared_usd_cents),
                    ]
                    for r in breakdown.rows
                ],
            )
        )
    tables += [
        ReportTable(
            "currencies",
            ["currency", "rate_to_usd", "rate_source", "answers", "original_amount", "usd"],
            [
                [
                    c.currency,
                    c.rate,
                    c.source.value,
                    c.answers,
                    _usd(c.original_cents),
                    None if c.usd_cents is None else _usd(c.usd_cents),
                ]
                for c in report.currencies
            ],
        ),
        ReportTable(
            "followups",
            [
                "wave",
                "invited",
                "completed",
                "response_rate",
                "closed_usd",
                "exported_usd",
                "expected_by_respondents_usd",
                "closed_vs_expected",
                "conservative_to_horizon_usd",
                "declared_to_horizon_usd",
            ],
            [
                [
                    w.wave.value,
                    w.invited,
                    w.completed,
                    w.response_rate,
                    _usd(w.closed_usd_cents),
                    _usd(w.exported_usd_cents),
                    _usd(w.expected_by_respondents_usd_cents),
                    w.closed_vs_expected,
                    _usd(w.conservative_to_horizon_usd_cents),
                    _usd(w.declared_to_horizon_usd_cents),
                ]
                for w in report.followups
            ],
        ),
        ReportTable(
            "followup_products",
            ["wave", "hs_code", "closed_usd", "exported_usd"],
            [
                [w.wave.value, p.hs_code, _usd(p.closed_usd_cents), _usd(p.exported_usd_cents)]
                for w in report.followups
                for p in w.products
            ],
        ),
        ReportTable(
            "disagreements",
            ["meeting_id", "kind", "horizons", "detail"],
            [[d.meeting_id, d.kind.value, ";".join(d.horizons), d.detail] for d in report.disagreements],
        ),
        ReportTable(
            "meetings",
            [
                "meeting_id",
                "slot",
                "table",
                "host",
                "visitor",
                "status",
                "host_took_place",
                "visitor_took_place",
                *(f"host_{h}_usd" for h in HORIZON_LABELS),
                *(f"visitor_{h}_usd" for h in HORIZON_LABELS),
                "confirmed_by_both",
                "flags",
            ],
            [
                [
                    m.meeting_id,
                    m.slot,
                    m.table,
                    m.host,
                    m.visitor,
                    m.status.value,
                    _yes_no(m.host_took_place),
                    _yes_no(m.visitor_took_place),
                    *_amounts(m.host_expected_usd_cents),
                    *_amounts(m.visitor_expected_usd_cents),
                    _yes_no(m.is_confirmed_by_both),
                    ";".join(m.flags),
                ]
                for m in report.meetings
            ],
        ),
    ]
    if report.mission is not None:
        selection = report.mission.selection
        tables += [
            ReportTable(
                "mission_selection",
                ["measure", "value"],
                [
                    ["capacity", selection.capacity],
                    ["applications", selection.applications],
                    ["eligible", selection.eligible],
                    ["selected", selection.selected],
                    ["waitlisted", selection.waitlisted],
                    ["rejected", selection.rejected],
                    ["pending", selection.pending],
                    ["delegates", report.mission.delegates],
                    ["checklist_completion_rate", report.mission.checklist_completion_rate],
                    ["checklist_on_time_rate", report.mission.checklist_on_time_rate],
                ],
            ),
            ReportTable(
                "mission_groups",
                ["group", "applied", "selected", "quota", "quota_met"],
                [
                    [g.group, g.applied, g.selected, g.quota, _yes_no(g.is_quota_met)]
                    for g in selection.groups
                ],
            ),
            ReportTable(
                "mission_checklist",
                ["code", "title", "due_at", "delegates", "completed", "on_time", "completion_rate"],
                [
                    [
                        c.code,
                        c.title,
                        c.due_at.isoformat(),
                        c.delegates,
                        c.completed,
                        c.on_time,
                        c.completion_rate,
                    ]
                    for c in report.mission.checklist
                ],
            ),
        ]
    return tables


def write_report_files(report: OutcomeReport, folder: Path) -> ReportFiles:
    """Write report.html, summary.pdf, report.xlsx and csv/<table>.csv into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    html = _write(folder / "report.html", render_report_html(report).encode("utf-8"))
    pdf = _write(folder / "summary.pdf", render_summary_pdf(report))
    tables = report_tables(report)
    csv_files = []
    for table in tables:
        path = folder / "csv" / f"{table.name}.csv"
        write_table(path, table.headings, [[_plain(v) for v in row] for row in table.rows])
        csv_files.append(path)
    xlsx = _write(folder / "report.xlsx", _workbook(tables))
    return ReportFiles(html=html, pdf=pdf, xlsx=xlsx, csv=tuple(csv_files))


def _workbook(tables: list[ReportTable]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(title=table.name[:31])
        sheet.append(table.headings)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_excel(v) for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.value = neutralise_cell(cell.value)
                    cell.data_type = "s"
        for index, heading in enumerate(table.headings, start=1):
            width = max([len(heading), *(len(str(r[index - 1])) for r in table.rows)], default=8)
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(width + 2, 60)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _key_figures(report: OutcomeReport) -> list[tuple[str, str]]:
    post_event = report.responses[0]
    stages = {s.key: s.count for s in report.funnel.stages}
    return [
        ("Conservative expected business", format_usd(report.expected.conservative.total)),
        ("Declared expected business", format_usd(report.expected.declared.total)),
        ("Registered participants", f"{stages['registered']:,}"),
        ("Meetings scheduled", f"{stages['scheduled']:,}"),
        ("Meetings held", f"{stages['held']:,}"),
        ("No-show rate", format_rate(report.funnel.no_show_rate)),
        ("Post-event response rate", format_rate(post_event.response_rate)),
        ("Meetings answered by both sides", format_rate(report.feedback.both_rate)),
        ("Median meetings per participant", f"{report.agenda.meetings_median:g}"),
        (
            f"Below the minimum of {report.agenda.min_meetings_rule} meetings",
            f"{report.agenda.below_minimum:,}",
        ),
        ("Net Promoter Score", "—" if report.satisfaction.nps is None else f"{report.satisfaction.nps:+g}"),
        ("Disagreements flagged for staff", f"{len(report.disagreements):,}"),
        ("Answers excluded from the US$ figures", f"{len(report.excluded):,}"),
    ]


def _usd(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _amounts(values: tuple[int, int, int, int] | None) -> list[Decimal | None]:
    return [None] * 4 if values is None else [_usd(v) for v in values]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _number(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")


def _plain(value: Any) -> Any:
    return "" if value is None else value


def _excel(value: Any) -> Any:
    # Excel has only binary floats; two-decimal dollars and stated rates survive the conversion.
    return float(value) if isinstance(value, Decimal) else value


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return "\n".join([*lines, current])


def _write(path: Path, data: bytes) -> Path:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
    return path
