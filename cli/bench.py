"""`rueda bench schedule`: our scheduler beside the first-fit baseline, as a Rich table.

The numbers in docs/benchmarks.md (Scheduling) come from this command; `--markdown` writes the same
table in Markdown so that the docs can be regenerated rather than retyped.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engine.scheduling.bench import SIZES, BenchRow, rows_to_markdown, run_benchmarks


class BenchSize(StrEnum):
    MACRO = "macro"
    LARGE = "large"
    RESEARCH = "research"
    ALL = "all"


def _table(rows: list[BenchRow]) -> Table:
    table = Table(title="Scheduling: rueda vs first-fit")
    for name in (
        "size",
        "instance",
        "solver",
        "meetings",
        "placed / bound",
        "% of bound",
        "breaks",
        "breaks/participant",
        "max",
        "break bound",
        "planted",
        "seconds",
        "peak MB",
        "status",
    ):
        table.add_column(
            name, justify="left" if name in ("size", "instance", "solver", "status") else "right"
        )
    for r in rows:
        style = "bold" if r.solver == "rueda" else None
        table.add_row(
            r.size,
            r.instance,
            r.solver,
            f"{r.meetings:,}",
            f"{r.placed:,} / {r.upper_bound_placed:,}",
            f"{r.share_of_bound:.3f}",
            f"{r.breaks:,}",
            f"{r.breaks_per_participant:.3f}",
            str(r.max_breaks),
            f"{r.lower_bound_breaks:,}",
            "-" if r.planted_breaks is None else str(r.planted_breaks),
            f"{r.seconds:.2f}",
            f"{r.peak_mb:.0f}",
            r.status,
            style=style,
        )
    return table


def bench_schedule(
    size: Annotated[BenchSize, typer.Option("--size", help="Which instances to run.")] = BenchSize.ALL,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the generator and the solver.")] = 0,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", min=0.0, help="Seconds per solve; default: 10 (60 for large).", show_default=False
        ),
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the table as Markdown to this file.")
    ] = None,
) -> None:
    """Run the scheduler and the first-fit baseline side by side on generated instances."""
    sizes = SIZES if size is BenchSize.ALL else (str(size),)
    rows = run_benchmarks(sizes, seed=seed, time_limit=time_limit)
    Console().print(_table(rows))
    if markdown is not None:
        markdown.write_text(rows_to_markdown(rows), encoding="utf-8")


def bench_matching(
    participants: int = typer.Option(
        2400, "--participants", "-n", min=10, max=20_000, help="Population size."
    ),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed of the synthetic population."),
) -> None:
    """Score and select at macrorrueda size on a synthetic population; time and memory per step."""
    from engine.matching.bench import run_matching_benchmark

    rows = run_matching_benchmark(participants, seed)
    table = Table(title=f"Matching: {participants:,} participants, seed {seed}")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("CPU s", justify="right")
    table.add_column("figures")
    for row in rows:
        figures = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("step", "seconds", "cpu_seconds"))
        table.add_row(str(row["step"]), str(row.get("seconds", "")), str(row.get("cpu_seconds", "")), figures)
    Console().print(table)
