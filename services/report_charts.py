"""Charts of the outcome report, drawn from an `OutcomeReport` with matplotlib.

Figures are built with the object API (`matplotlib.figure.Figure`), never pyplot: pyplot keeps a
global registry of open figures that leaks memory in a long-running worker and warns past 20
figures (warnings are errors in the tests). A `Figure` with no pyplot manager is freed with its last
reference, so there is nothing to close. Figures sit on the Agg canvas (`new_figure`) and are saved
as SVG or PDF: no display, no GUI backend, whatever `MPLBACKEND` says. Every chart has a title,
labelled axes and its values written on the bars, so it reads in print and in a screenshot.

Cost: drawing is a few milliseconds; saving one chart as SVG (20-60 kB) takes about 0.3 s, most of
it the constrained layout.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Callable, Sequence
from typing import Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from services.report import HORIZON_LABELS, Breakdown, MissionOutcome, OutcomeReport

CONSERVATIVE_COLOR = "#1b5e73"
DECLARED_COLOR = "#8cc0d6"
ACCENT_COLOR = "#d9822b"
NEUTRAL_COLOR = "#5b6770"
_FONT = 11


def format_usd(cents: int) -> str:
    """Whole dollars with thousands separators: US$ 13,400."""
    return f"US$ {round(cents / 100):,}"


def short_usd(cents: int) -> str:
    """Compact dollars for chart labels: US$ 950, US$ 13.4k, US$ 281.0M, US$ 1.2B."""
    dollars = cents / 100
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(dollars) >= size:
            return f"US$ {dollars / size:,.1f}{suffix}"
    return f"US$ {dollars:,.0f}"


def format_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def to_svg(figure: Figure) -> str:
    buffer = io.StringIO()
    # No date in the metadata and a fixed salt for the element ids: the same report renders to the
    # same bytes (matplotlib otherwise draws the ids at random).
    with matplotlib.rc_context({"svg.hashsalt": "rueda-report"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def svg_data_uri(figure: Figure) -> str:
    """An `<img src>` value. An image keeps each SVG's element ids to itself, which inlining several
    matplotlib SVGs into one page does not (their clip-path ids can collide)."""
    return "data:image/svg+xml;base64," + base64.b64encode(to_svg(figure).encode("utf-8")).decode("ascii")


def chart_funnel(report: OutcomeReport) -> Figure:
    return _figure((5.6, 3.6), lambda axes: draw_funnel(axes, report))


def draw_funnel(axes: Axes, report: OutcomeReport) -> None:
    stages = report.funnel.stages
    labels = [f"{s.label}\n({s.unit})" for s in stages]
    counts = [s.count for s in stages]
    colors = [NEUTRAL_COLOR if s.unit == "participants" else CONSERVATIVE_COLOR for s in stages]
    bars = axes.barh(labels, counts, color=colors)
    axes.invert_yaxis()
    axes.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=3, fontsize=_FONT)
    rate = format_rate(report.funnel.no_show_rate)
    axes.set_title(f"Funnel (no-show rate {rate})", fontsize=_FONT + 2, loc="left")
    axes.set_xlabel("Count", fontsize=_FONT)
    _tidy(axes, integer_x=True, pad=0.15, values=counts)


def chart_expected(report: OutcomeReport) -> Figure:
    return _figure((5.6, 3.6), lambda axes: draw_expected(axes, report))


def draw_expected(axes: Axes, report: OutcomeReport) -> None:
    expected = report.expected
    labels = [*HORIZON_LABELS.values(), "Total"]
    conservative = [*expected.conservative.as_tuple(), expected.conservative.total]
    declared = [*expected.declared.as_tuple(), expected.declared.total]
    _grouped(
        axes,
        labels,
        [("Conservative", conservative, CONSERVATIVE_COLOR), ("Declared", declared, DECLARED_COLOR)],
        money=True,
    )
    axes.set_title("Expected business by horizon (US$)", fontsize=_FONT + 2, loc="left")
    axes.set_ylabel("US$", fontsize=_FONT)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: short_usd(int(v))))


def chart_meetings_histogram(report: OutcomeReport) -> Figure:
    return _figure((5.6, 3.4), lambda axes: draw_meetings_histogram(axes, report))


def draw_meetings_histogram(axes: Axes, report: OutcomeReport) -> None:
    agenda = report.agenda
    histogram = dict(agenda.meetings_histogram)
    top = max(histogram, default=0)
    xs = list(range(top + 1))
    ys = [histogram.get(x, 0) for x in xs]
    colors = [ACCENT_COLOR if x < agenda.min_meetings_rule else CONSERVATIVE_COLOR for x in xs]
    bars = axes.bar(xs, ys, color=colors)
    axes.bar_label(bars, labels=[str(y) if y else "" for y in ys], padding=2, fontsize=_FONT)
    axes.set_title(
        f"Meetings per participant (orange: below the minimum of {agenda.min_meetings_rule})",
        fontsize=_FONT + 1,
        loc="left",
    )
    axes.set_xlabel("Meetings in the agenda", fontsize=_FONT)
    axes.set_ylabel("Participants", fontsize=_FONT)
    axes.set_xticks(xs)
    _tidy(axes, integer_y=True, pad=0.15, values=ys, vertical=True)


def chart_responses(report: OutcomeReport) -> Figure:
    return _figure((5.6, 3.4), lambda axes: draw_responses(axes, report))


def draw_responses(axes: Axes, report: OutcomeReport) -> None:
    labels = [r.label.replace("Follow-up ", "Follow-up\n") for r in report.responses]
    labels += ["Meetings with\nboth answers"]
    rates = [r.response_rate for r in report.responses] + [report.feedback.both_rate]
    values = [100 * (r or 0) for r in rates]
    bars = axes.bar(labels, values, color=[*([CONSERVATIVE_COLOR] * len(report.responses)), ACCENT_COLOR])
    bar_labels = [
        "no\ninvitations" if r is None else f"{100 * r:.0f}%\n({c}/{n})"
        for r, (c, n) in zip(
            rates,
            [(w.completed, w.invited) for w in report.responses]
            + [(report.feedback.with_both_answers, report.feedback.meetings)],
            strict=True,
        )
    ]
    axes.bar_label(bars, labels=bar_labels, padding=2, fontsize=_FONT - 1)
    axes.set_ylim(0, 125)
    axes.set_yticks([0, 25, 50, 75, 100])
    axes.set_ylabel("Completed (%)", fontsize=_FONT)
    axes.set_title("Response rate per survey wave", fontsize=_FONT + 1, loc="left")
    axes.tick_params(axis="x", labelsize=_FONT - 1)
    _spines(axes)


def chart_breakdown(breakdown: Breakdown, *, top: int = 10) -> Figure:
    size = (5.6, 1.3 + 0.55 * max(min(len(breakdown.rows), top), 2))
    return _figure(size, lambda axes: draw_breakdown(axes, breakdown, top=top))


def draw_breakdown(axes: Axes, breakdown: Breakdown, *, top: int) -> None:
    rows = list(breakdown.rows[:top])
    labels = [_short_label(r.label) for r in rows]
    positions = list(range(len(rows)))
    height = 0.38
    for offset, name, values, color in (
        (-height / 2, "Conservative", [r.conservative_usd_cents for r in rows], CONSERVATIVE_COLOR),
        (height / 2, "Declared", [r.declared_usd_cents for r in rows], DECLARED_COLOR),
    ):
        bars = axes.barh([p + offset for p in positions], values, height=height, color=color, label=name)
        axes.bar_label(bars, labels=[short_usd(v) for v in values], padding=3, fontsize=_FONT - 1)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    shown = f" (top {top})" if len(breakdown.rows) > top else ""
    axes.set_title(f"Expected business · {breakdown.heading}{shown}", fontsize=_FONT + 1, loc="left")
    axes.set_xlabel("US$, all horizons", fontsize=_FONT)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: short_usd(int(v))))
    axes.legend(fontsize=_FONT - 1, loc="lower right", frameon=False)
    values = [max(r.conservative_usd_cents, r.declared_usd_cents) for r in rows]
    _tidy(axes, pad=0.3, values=values)


def chart_followups(report: OutcomeReport) -> Figure:
    return _figure((8.4, 3.8), lambda axes: draw_followups(axes, report))


def draw_followups(axes: Axes, report: OutcomeReport) -> None:
    waves = report.followups
    labels = [f"{w.label.replace('Follow-up ', '')}\n({w.completed}/{w.invited} answered)" for w in waves]
    _grouped(
        axes,
        labels,
        [
            ("Closed (actual)", [w.closed_usd_cents for w in waves], CONSERVATIVE_COLOR),
            ("Exported (actual)", [w.exported_usd_cents for w in waves], ACCENT_COLOR),
            (
                "Expected by them",
                [w.expected_by_respondents_usd_cents for w in waves],
                DECLARED_COLOR,
            ),
        ],
        money=True,
    )
    axes.set_title("Follow-ups: actual against expected (US$)", fontsize=_FONT + 1, loc="left")
    axes.set_ylabel("US$", fontsize=_FONT)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: short_usd(int(v))))


def chart_checklist(mission: MissionOutcome) -> Figure:
    size = (5.6, 1.3 + 0.55 * max(len(mission.checklist), 2))
    return _figure(size, lambda axes: draw_checklist(axes, mission))


def draw_checklist(axes: Axes, mission: MissionOutcome) -> None:
    rows = mission.checklist
    labels = [_short_label(r.title) for r in rows]
    done = [100 * (r.completion_rate or 0) for r in rows]
    on_time = [100 * r.on_time / r.delegates if r.delegates else 0 for r in rows]
    positions = list(range(len(rows)))
    height = 0.38
    for offset, name, values, color in (
        (-height / 2, "Completed", done, CONSERVATIVE_COLOR),
        (height / 2, "On time", on_time, DECLARED_COLOR),
    ):
        bars = axes.barh([p + offset for p in positions], values, height=height, color=color, label=name)
        axes.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=3, fontsize=_FONT - 1)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlim(0, 115)
    axes.set_xlabel(f"Share of the {mission.delegates} delegates (%)", fontsize=_FONT)
    axes.set_title("Preparation checklist completion", fontsize=_FONT + 1, loc="left")
    axes.legend(fontsize=_FONT - 1, loc="lower right", frameon=False)
    _spines(axes)


def _short_label(text: str, *, width: int = 18, lines: int = 2) -> str:
    """At most `lines` lines of `width` characters, so a long HS chapter title cannot squeeze the
    plot; the tables beside the chart keep the full label."""
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = [
            *wrapped[: lines - 1],
            textwrap.shorten(" ".join(wrapped[lines - 1 :]), width, placeholder="…"),
        ]
    return "\n".join(wrapped)


def new_figure(size: tuple[float, float], *, layout: Literal["constrained"] | None = "constrained") -> Figure:
    """A figure on the Agg canvas, whatever backend the process chose: never a GUI one."""
    figure = Figure(figsize=size, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def _figure(size: tuple[float, float], draw: Callable[[Axes], None]) -> Figure:
    figure = new_figure(size)
    draw(figure.add_subplot())
    return figure


def _grouped(
    axes: Axes, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]], *, money: bool
) -> None:
    width = 0.8 / len(series)
    for index, (name, values, color) in enumerate(series):
        positions = [i - 0.4 + width * (index + 0.5) for i in range(len(labels))]
        bars = axes.bar(positions, values, width=width, color=color, label=name)
        texts = [short_usd(v) if money else f"{v:,}" for v in values]
        axes.bar_label(
            bars,
            labels=texts,
            padding=2,
            fontsize=_FONT - 2,
            rotation=90 if len(labels) * len(series) > 6 else 0,
        )
    axes.set_xticks(range(len(labels)), labels, fontsize=_FONT - 1)
    # Below the plot, where it cannot hide a bar.
    axes.legend(
        fontsize=_FONT - 1, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=len(series)
    )
    top = max((v for _, values, _ in series for v in values), default=0)
    axes.set_ylim(0, top * 1.45 if top else 1)
    _spines(axes)


def _tidy(
    axes: Axes,
    *,
    pad: float,
    values: Sequence[int],
    integer_x: bool = False,
    integer_y: bool = False,
    vertical: bool = False,
) -> None:
    """Room for the value labels past the longest bar, whole-number ticks for counts."""
    top = max(values, default=0)
    limit = top * (1 + pad) if top else 1
    if vertical:
        axes.set_ylim(0, limit)
    else:
        axes.set_xlim(0, limit)
    if integer_x:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if integer_y:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(labelsize=_FONT - 1)
    _spines(axes)


def _spines(axes: Axes) -> None:
    axes.spines["top"].set_visible(False)
    axes.spines["right"].set_visible(False)
