"""`rueda schedule`: solve a `rueda.schedule-instance/1` file into a `rueda.schedule/1` file.

The command works on files, not on the database, so that any instance can be solved, checked and
compared from the command line (ARCHITECTURE.md, "Engine contracts"). An invalid instance is one
red line naming the JSON path of the bad field and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from engine.scheduling.io import FormatError, load_instance, result_to_json
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

    def fail(place: Path, message: str, code: int = _INVALID_INPUT) -> NoReturn:
        errors.print(f"{place}: {message}", style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code)

    # --out first: an unwritable destination must not cost a whole solve.
    problem_with_out = _out_problem(out)
    if problem_with_out is not None:
        fail(out, problem_with_out)
    try:
        problem = load_instance(instance)
    except FormatError as error:
        fail(instance, str(error))
    except OSError as error:
        fail(instance, f"cannot read: {error.strerror or error}")
    result = solve(problem, time_limit=time_limit, seed=seed)
    try:
        _write_atomically(result_to_json(result), out)
    except OSError as error:
        fail(out, f"cannot write: {error.strerror or error}", code=1)
    s = result.stats
    Console().print(
        f"[green]Scheduled {s.placed:,} of {s.placed + s.unplaced:,} meetings[/green] "
        f"(bound {s.upper_bound_placed:,}), {s.breaks:,} breaks (bound {s.lower_bound_breaks:,}, "
        f"worst {s.max_breaks}), {result.status}, {s.seconds:.1f} s -> {out}",
        highlight=False,
        soft_wrap=True,
    )


def _out_problem(out: Path) -> str | None:
    """Why the result could not be written to `out`, or None: checked before solving."""
    if out.is_dir():
        return "is a folder; give a file name, e.g. --out schedule.json"
    parent = out.parent
    if not parent.exists():
        return f"folder {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"folder {parent} is not writable"
    if out.exists() and not os.access(out, os.W_OK):
        return "exists and is not writable"
    return None


def _write_atomically(document: dict[str, Any], out: Path) -> None:
    """Write to a temporary file in the same folder, then rename over `out`: a reader (or a crash)
    sees the old file or the whole new one, never half of it."""
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        # mkstemp makes the file 0600; give it the mode a plain write would (kept if it existed).
        umask = os.umask(0)
        os.umask(umask)
        Path(temporary).chmod(out.stat().st_mode & 0o7777 if out.exists() else 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(out)  # os.replace: atomic within one folder
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
