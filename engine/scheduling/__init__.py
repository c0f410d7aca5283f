"""Scheduling: place accepted meetings into slots and tables, and keep the schedule right on the day.

Problem: given slots, tables, participants (availability, host tables, caps) and meetings (priority,
sessions, fixed slots, precedences), produce a schedule with no double booking that places the most
priority, then has the fewest breaks, then the fewest for the worst-off participant; later, change
it with as little disruption as possible and refill freed slots from the waiting list.

Invariants: every function here is pure and deterministic for its inputs and seed; every schedule it
returns satisfies all hard constraints (docs/algorithms/scheduling.md); what cannot be placed comes
back with a reason from the closed set `UnscheduledReason`.

Cost: see each module; `solve` uses at most about its `time_limit`.

Public entry points:
- `solve` (solver.py), whose result carries the bounds of bounds.py in its stats;
- `reschedule` and `Changes` (reschedule.py); `rank_waitlist` (waitlist.py);
- `parse_instance`, `load_instance`, `result_to_json`, `parse_result` (io.py);
- `generate_instance` and the benchmark shapes (generator.py), `run_benchmarks` (bench.py).
"""

from engine.scheduling.io import (
    FormatError,
    instance_to_json,
    load_instance,
    load_result,
    parse_instance,
    parse_result,
    result_to_json,
)
from engine.scheduling.model import (
    Assignment,
    Constraints,
    Instance,
    MeetingSpec,
    Participant,
    ScheduleResult,
    ScheduleStatus,
    Slot,
    Stats,
    Unscheduled,
    UnscheduledReason,
)
from engine.scheduling.reschedule import (
    ChangeKind,
    Changes,
    MeetingChange,
    Reschedule,
    RescheduleConflict,
    TableOutage,
    reschedule,
)
from engine.scheduling.solver import solve
from engine.scheduling.waitlist import WaitlistEntry, rank_waitlist

__all__ = [
    "Assignment",
    "ChangeKind",
    "Changes",
    "Constraints",
    "FormatError",
    "Instance",
    "MeetingChange",
    "MeetingSpec",
    "Participant",
    "Reschedule",
    "RescheduleConflict",
    "ScheduleResult",
    "ScheduleStatus",
    "Slot",
    "Stats",
    "TableOutage",
    "Unscheduled",
    "UnscheduledReason",
    "WaitlistEntry",
    "instance_to_json",
    "load_instance",
    "load_result",
    "parse_instance",
    "parse_result",
    "rank_waitlist",
    "reschedule",
    "result_to_json",
    "solve",
]
