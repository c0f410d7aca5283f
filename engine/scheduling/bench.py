"""Benchmarks: our solver beside a first-fit baseline on generated instances.

Problem: the claims in docs/benchmarks.md (Scheduling) (share of the upper bound placed, breaks per
participant, seconds, memory) must be reproducible by one command, `rueda bench schedule`.

Baseline (what commercial tools and spreadsheets do): each meeting, in priority order (ties in
instance order), takes the first slot where both participants are free and a suitable table is
free (and, with `max_break_spread`, keeps everyone within it). It shares the feasibility rules
with the solver, so the two differ only in how they choose.

Measurements: wall-clock seconds with `time.perf_counter`, and peak memory as the process's
maximum resident set size (`resource.getrusage`). That peak only grows, so sizes run from small to
large and each row reports the peak reached so far; `tracemalloc` was not used because it slows
Python code several times over and would distort the seconds.

Research rows also carry the planted breaks: the breaks of the hidden schedule the generator drew
the meetings from (`generator.generate_planted`), so the optimum is at most that number.

Cost: the sum of the time limits, plus the baselines (well under a second each).
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from random import Random

from engine.scheduling.core import State, compile_instance
from engine.scheduling.generator import (
    generate_instance,
    generate_planted,
    large_config,
    macro_config,
    research_config,
)
from engine.scheduling.model import Instance, ScheduleResult, ScheduleStatus
from engine.scheduling.solver import build_result, solve

SIZES = ("research", "macro", "large")
RESEARCH_INSTANCES = 6


@dataclass(frozen=True, slots=True)
class BenchRow:
    size: str
    instance: str
    solver: str
    participants: int
    meetings: int
    slots: int
    placed: int
    upper_bound_placed: int
    placed_priority: int
    upper_bound_priority: int
    breaks: int
    lower_bound_breaks: int
    max_breaks: int
    seconds: float
    peak_mb: float
    status: str
    # Breaks of the hidden schedule of a planted instance (an upper bound on the optimum).
    planted_breaks: int | None = None

    @property
    def share_of_bound(self) -> float:
        return 100.0 * self.placed / self.upper_bound_placed if self.upper_bound_placed else 100.0

    @property
    def breaks_per_participant(self) -> float:
        return self.breaks / self.participants if self.participants else 0.0


def first_fit(instance: Instance) -> ScheduleResult:
    """The baseline: priority order, first slot free for both with a free table."""
    started = time.perf_counter()
    c = compile_instance(instance)
    state = State(c)
    for m in sorted(range(c.n_meetings), key=lambda m: -c.priority[m]):
        mask = state.candidates(m)
        while mask:
            s = (mask & -mask).bit_length() - 1
            if state.spread_ok(m, s):
                state.place(m, s)
                break
            mask &= mask - 1
    return build_result(state, seconds=time.perf_counter() - started, status=ScheduleStatus.FEASIBLE)


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _row(
    size: str,
    instance: Instance,
    solver: str,
    result: ScheduleResult,
    seconds: float,
    planted_breaks: int | None = None,
) -> BenchRow:
    s = result.stats
    return BenchRow(
        size=size,
        instance=instance.name,
        solver=solver,
        participants=len(instance.participants),
        meetings=len(instance.meetings),
        slots=len(instance.slots),
        placed=s.placed,
        upper_bound_placed=s.upper_bound_placed,
        placed_priority=s.placed_priority,
        upper_bound_priority=s.upper_bound_priority,
        breaks=s.breaks,
        lower_bound_breaks=s.lower_bound_breaks,
        max_breaks=s.max_breaks,
        seconds=round(seconds, 2),
        peak_mb=round(_peak_mb(), 1),
        status=str(result.status),
        planted_breaks=planted_breaks,
    )


def bench_instances(size: str, seed: int) -> list[Instance]:
    return [instance for instance, _ in bench_cases(size, seed)]


def bench_cases(size: str, seed: int) -> list[tuple[Instance, int | None]]:
    """The instances of a size, each with its planted breaks (None when not planted)."""
    if size == "macro":
        return [(generate_instance(macro_config(), seed), None)]
    if size == "large":
        return [(generate_instance(large_config(), seed), None)]
    if size == "research":
        rng = Random(seed)
        cases: list[tuple[Instance, int | None]] = []
        for i in range(RESEARCH_INSTANCES):
            planted = generate_planted(research_config(rng, i + 1), seed + i)
            cases.append((planted.instance, planted.breaks))
        return cases
    raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")


def run_benchmarks(sizes: Iterable[str], *, seed: int, time_limit: float | None = None) -> list[BenchRow]:
    """Rows for ours and the baseline on each instance of each size.

    `time_limit` None uses each size's target: 10 s (research, macro) and 60 s (large).
    """
    rows: list[BenchRow] = []
    for size in sizes:
        limit = time_limit if time_limit is not None else (60.0 if size == "large" else 10.0)
        for instance, planted in bench_cases(size, seed):
            started = time.perf_counter()
            baseline = first_fit(instance)
            rows.append(_row(size, instance, "first-fit", baseline, time.perf_counter() - started, planted))
            started = time.perf_counter()
            ours = solve(instance, time_limit=limit, seed=seed)
            rows.append(_row(size, instance, "rueda", ours, time.perf_counter() - started, planted))
    return rows


def rows_to_markdown(rows: list[BenchRow]) -> str:
    header = (
        "| size | instance | solver | participants | meetings | slots | placed | % of bound "
        "| breaks | breaks/participant | max breaks | break bound | planted breaks | seconds "
        "| peak MB | status |"
    )
    lines = [header, "|" + "---|" * 16]
    for r in rows:
        planted = "-" if r.planted_breaks is None else str(r.planted_breaks)
        lines.append(
            f"| {r.size} | {r.instance} | {r.solver} | {r.participants} | {r.meetings} | {r.slots} "
            f"| {r.placed} / {r.upper_bound_placed} | {r.share_of_bound:.3f} | {r.breaks} "
            f"| {r.breaks_per_participant:.3f} | {r.max_breaks} | {r.lower_bound_breaks} | {planted} "
            f"| {r.seconds:.2f} | {r.peak_mb:.0f} | {r.status} |"
        )
    return "\n".join(lines) + "\n"
