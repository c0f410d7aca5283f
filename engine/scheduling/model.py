"""Engine types for scheduling: the `rueda.schedule-instance/1` and `rueda.schedule/1` formats.

Problem: carry an instance (slots, tables, participants, meetings, constraints) and a result
(assignments, unscheduled meetings with a reason, statistics) between the loader, the solver, the
rescheduler, the waiting list and the services, with no behaviour attached.

Invariants: every value here is frozen and slotted, so it can be shared and hashed; ids are the
strings of the public JSON format; tuples keep the order of the input (slots are in time order).
A validated `Instance` (see `engine.scheduling.io.parse_instance`) only refers to ids it defines.

Cost: plain data, O(size of the instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

INSTANCE_FORMAT = "rueda.schedule-instance/1"
RESULT_FORMAT = "rueda.schedule/1"


class UnscheduledReason(StrEnum):
    """Why a meeting has no slot. A closed set, documented in docs/algorithms/scheduling.md."""

    # No slot passes both participants' availability, the meeting's sessions and its fixed slot.
    NO_ALLOWED_SLOT = "no_allowed_slot"
    # Allowed slots exist, but in each of them one of the two participants is already meeting.
    NO_COMMON_FREE_SLOT = "no_common_free_slot"
    # One participant already has `max_meetings` meetings, or more meetings than usable slots.
    PARTICIPANT_FULL = "participant_full"
    # Both participants are free in some allowed slot, but no table they may use is free there.
    NO_TABLE = "no_table"
    # The `after` constraints leave no slot (a cycle, or predecessors placed too late).
    INFEASIBLE_PRECEDENCE = "infeasible_precedence"
    # Placing it would push a participant's breaks past `max_break_spread`.
    BREAK_SPREAD = "break_spread"
    # The time limit ran out before the solver could place it.
    TIME_LIMIT = "time_limit"


class ScheduleStatus(StrEnum):
    """What the solver can say about the result as a whole."""

    # Proven optimal for the lexicographic objective (the bounds meet, or CP-SAT proved it).
    OPTIMAL = "optimal"
    # Every hard constraint holds; optimality is not proven.
    FEASIBLE = "feasible"
    # `schedule_all` was asked and is proven impossible; `unscheduled` names the blocking meetings.
    SCHEDULE_ALL_IMPOSSIBLE = "schedule_all_impossible"
    # `schedule_all` was asked and not met, but impossibility is not proven.
    SCHEDULE_ALL_UNMET = "schedule_all_unmet"


@dataclass(frozen=True, slots=True)
class Slot:
    id: str
    day: str
    session: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    unavailable: frozenset[str] = frozenset()
    # The participant hosts at this table: all its meetings happen there.
    table: str | None = None
    max_meetings: int | None = None


@dataclass(frozen=True, slots=True)
class MeetingSpec:
    id: str
    participants: tuple[str, str]
    priority: int = 1
    # None: any session. A tuple: only slots whose session is listed.
    sessions: tuple[str, ...] | None = None
    fixed_slot: str | None = None
    # Meetings that must take place in an earlier slot when both are placed.
    after: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraints:
    schedule_all: bool = False
    max_break_spread: int | None = None


@dataclass(frozen=True, slots=True)
class Instance:
    slots: tuple[Slot, ...]
    tables: tuple[str, ...]
    participants: tuple[Participant, ...]
    meetings: tuple[MeetingSpec, ...]
    constraints: Constraints = Constraints()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Assignment:
    meeting: str
    slot: str
    table: str
    # A locked meeting (checked in, or held by the organizer) is never moved by rescheduling.
    is_locked: bool = False


@dataclass(frozen=True, slots=True)
class Unscheduled:
    meeting: str
    reason: UnscheduledReason


@dataclass(frozen=True, slots=True)
class Stats:
    placed: int
    unplaced: int
    placed_priority: int
    breaks: int
    max_breaks: int
    # An upper bound on the number of meetings any schedule can place.
    upper_bound_placed: int
    # A lower bound on the breaks of any schedule that places at least `placed_priority`.
    lower_bound_breaks: int
    seconds: float
    # An upper bound on the priority any schedule can place (an addition to the format).
    upper_bound_priority: int = 0


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    assignments: tuple[Assignment, ...]
    unscheduled: tuple[Unscheduled, ...]
    stats: Stats
    status: ScheduleStatus = ScheduleStatus.FEASIBLE
