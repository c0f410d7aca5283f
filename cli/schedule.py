"""`rueda schedule`: solve a `rueda.schedule-instance/1` file into a `rueda.schedule/1` file.

The command works on files, not on the database, so that any instance can be solved, checked and
compared from the command line (ARCHITECTURE.md, "Engine contracts"). An invalid instance is one
red line naming the JSON path of the bad field and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from engine.scheduling.io import FormatError, load_instance, result_to_json, write_json
from engine.scheduling.solver import solve

_INVALID_INPUT = 2


def schedule_command(
    instance: Annotated[
        Path,
        typer.Argument(
            help="Instance file in the rueda.schedule-instance/1 JSON format.", show_default=False
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Where to write the rueda.schedule/1 result.", show_default=False),
    ],
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", min=0.0, help="Seconds the solver may spend improving the schedule."),
    ] = 10.0,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same instance and seed give the same schedule.")
    ] = 0,
) -> None:
    """Place meetings into slots and tables, then write the schedule with its bounds."""
    errors = Console(stderr=True)
    try:
        problem = load_instance(instance)
    except FormatError as error:
        errors.print(f"[red]{instance}: {error}[/red]", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(_INVALID_INPUT) from None
    except OSError as error:
        errors.print(f"[red]{instance}: cannot read: {error.strerror}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(_INVALID_INPUT) from None
    result = solve(problem, time_limit=time_limit, seed=seed)
    write_json(result_to_json(result), out)
    s = result.stats
    Console().print(
        f"[green]Scheduled {s.placed:,} of {s.placed + s.unplaced:,} meetings[/green] "
        f"(bound {s.upper_bound_placed:,}), {s.breaks:,} breaks (bound {s.lower_bound_breaks:,}, "
        f"worst {s.max_breaks}), {result.status}, {s.seconds:.1f} s -> {out}",
        highlight=False,
        soft_wrap=True,
    )
