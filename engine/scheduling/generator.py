"""Realistic synthetic scheduling instances for benchmarks and tests.

Problem: real event data are private, but the solver must be measured on instances that look like
real ruedas: a few popular buyers everyone asks for, late arrivals and early leavers, buyers at
numbered host tables while sellers move, a pool of free tables for seller-seller meetings, two days
of 16-20 slots split into morning and afternoon sessions, and meetings restricted to a session.

Shapes:
- `macro_config`: ProColombia's Macrorrueda 100 (2,400 participants, 12,000 meetings, 32 slots,
  700 host tables).
- `large_config`: ten times the meetings' pressure (6,000 participants, 50,000 meetings, 40 slots).
- `research_config`: the University of Girona forums of Bofill et al. (JAIR 2022): 42-78
  participants, 125-302 meetings, 8-22 slots, 12-27 tables, all meetings must be placed and the
  break spread is at most 2. These are *planted* (`generate_planted`): the meetings are read off a
  hidden schedule built first, so `schedule_all` is satisfiable and the hidden schedule's breaks
  are known: the optimum is at most that many. The hidden schedule is built break-free (every
  participant meets in one unbroken run per day), except for participants with a mid-day absence
  (`gap_share`), who get one run on each side of it: one break each, and when such a participant
  has more meetings than its longest available stretch, a break any schedule must have, which the
  break lower bound sees. When the bound reaches the hidden schedule's breaks, the optimum is known.

Invariants: the output validates (`parse_instance(instance_to_json(x)) == x`); no participant is
asked for more meetings than `max_meetings` or its available slots; the same config and seed give
the same instance (only `random.Random(seed)` is used).

Cost: O(meetings) draws, with retries bounded by a constant factor; the planted sweep is
O(slots x participants^2) (a few milliseconds at forum size).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from random import Random

from engine.scheduling.model import Constraints, Instance, MeetingSpec, Participant, Slot

_SESSIONS = ("am", "pm")


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    name: str
    hosts: int
    movers: int
    meetings: int
    days: int
    slots_per_day: int
    pool_tables: int
    # Share of meetings between two movers (they need a pool table).
    pooled_share: float = 0.04
    late_share: float = 0.1
    early_share: float = 0.1
    one_day_share: float = 0.05
    session_share: float = 0.05
    # Popularity of hosts ~ 1 / rank^skew (Zipf), so a few buyers are asked for by many sellers.
    skew: float = 0.6
    host_cap: int | None = None
    mover_cap: int | None = None
    schedule_all: bool = False
    max_break_spread: int | None = None
    planted: bool = False
    # Share of participants away for 1-2 slots in the middle of a day (planted instances only).
    gap_share: float = 0.0


def macro_config() -> GeneratorConfig:
    return GeneratorConfig(
        "macrorrueda",
        hosts=700,
        movers=1700,
        meetings=12_000,
        days=2,
        slots_per_day=16,
        pool_tables=60,
        host_cap=30,
        mover_cap=16,
    )


def large_config() -> GeneratorConfig:
    return GeneratorConfig(
        "macrorrueda-x10",
        hosts=2000,
        movers=4000,
        meetings=50_000,
        days=2,
        slots_per_day=20,
        pool_tables=150,
        host_cap=36,
        mover_cap=24,
    )


def research_config(rng: Random, index: int) -> GeneratorConfig:
    """One forum-like shape, drawn within the published ranges."""
    participants = rng.randint(42, 78)
    tables = rng.randint(12, 27)
    meetings = rng.randint(125, 302)
    # Enough slots that the hidden schedule fits: tables at most 70% busy, agendas at most 60% full.
    needed = max(-(-meetings * 10 // (tables * 7)), -(-meetings * 2 * 10 // (participants * 6)))
    slots = min(22, max(rng.randint(8, 22), needed))
    # Half of the forums have no mid-day absences (planted optimum 0), half have some (forced breaks).
    gap_share = (0.0, 0.08)[index % 2]
    return GeneratorConfig(
        f"forum-{index:02d}",
        hosts=0,
        movers=participants,
        meetings=meetings,
        days=1,
        slots_per_day=slots,
        pool_tables=tables,
        late_share=0.15,
        early_share=0.15,
        one_day_share=0.0,
        session_share=0.0,
        schedule_all=True,
        max_break_spread=2,
        planted=True,
        gap_share=gap_share,
    )


def _slots(config: GeneratorConfig) -> list[Slot]:
    slots: list[Slot] = []
    half = config.slots_per_day // 2
    for d in range(config.days):
        for i in range(config.slots_per_day):
            hour, minute = divmod(8 * 60 + i * 30 + (60 if i >= half else 0), 60)
            start = f"2026-05-{20 + d:02d}T{hour:02d}:{minute:02d}:00-05:00"
            hour2, minute2 = divmod(hour * 60 + minute + 30, 60)
            end = f"2026-05-{20 + d:02d}T{hour2:02d}:{minute2:02d}:00-05:00"
            slots.append(Slot(f"d{d + 1}s{i + 1:02d}", f"d{d + 1}", _SESSIONS[i >= half], start, end))
    return slots


def _unavailable(config: GeneratorConfig, slots: list[Slot], rng: Random) -> frozenset[str]:
    per_day = config.slots_per_day
    blocked: set[int] = set()
    roll = rng.random()
    if roll < config.late_share:
        blocked.update(range(rng.randint(2, max(2, per_day // 3))))
    elif roll < config.late_share + config.early_share:
        last = len(slots)
        blocked.update(range(last - rng.randint(2, max(2, per_day // 3)), last))
    elif config.days > 1 and roll < config.late_share + config.early_share + config.one_day_share:
        day = rng.randrange(config.days)
        blocked.update(range(day * per_day, (day + 1) * per_day))
    # Drawn only when asked for, so that configs without gaps keep their instances.
    if config.gap_share and per_day >= 6 and rng.random() < config.gap_share:
        day = rng.randrange(config.days)
        first = day * per_day + rng.randint(per_day // 3, (2 * per_day) // 3 - 1)
        blocked.update(range(first, first + rng.randint(1, 2)))
    return frozenset(slots[i].id for i in sorted(blocked))


@dataclass(frozen=True, slots=True)
class Planted:
    """A generated instance with the hidden schedule its meetings were drawn from."""

    instance: Instance
    # Meeting id -> slot id of the hidden schedule (tables: any free pool table; there are enough).
    hidden: tuple[tuple[str, str], ...]
    # Breaks of the hidden schedule: an upper bound on the optimum, since it places every meeting.
    breaks: int
    max_breaks: int


def generate_instance(config: GeneratorConfig, seed: int) -> Instance:
    return generate_planted(config, seed).instance


def generate_planted(config: GeneratorConfig, seed: int) -> Planted:
    """The instance, and for planted configs its hidden schedule (empty for the others)."""
    rng = Random(seed)
    slots = _slots(config)
    n_slots = len(slots)
    host_tables = [f"H{i + 1:04d}" for i in range(config.hosts)]
    pool_tables = [f"P{i + 1:03d}" for i in range(config.pool_tables)]
    participants: list[Participant] = []
    free_slots: list[int] = []
    for i in range(config.hosts + config.movers):
        is_host = i < config.hosts
        unavailable = _unavailable(config, slots, rng)
        cap = config.host_cap if is_host else config.mover_cap
        room = n_slots - len(unavailable)
        participants.append(
            Participant(
                id=f"B{i + 1:04d}" if is_host else f"S{i - config.hosts + 1:04d}",
                unavailable=unavailable,
                table=host_tables[i] if is_host else None,
                max_meetings=cap,
            )
        )
        free_slots.append(room if cap is None else min(cap, room))
    hidden: list[tuple[str, str]] = []
    if config.planted:
        meetings, hidden = _planted_meetings(config, participants, slots, rng)
    else:
        meetings = _drawn_meetings(config, participants, free_slots, rng)
    instance = Instance(
        slots=tuple(slots),
        tables=tuple(host_tables + pool_tables),
        participants=tuple(participants),
        meetings=tuple(meetings),
        constraints=Constraints(config.schedule_all, config.max_break_spread),
        name=f"{config.name}-seed{seed}",
    )
    breaks = hidden_breaks(instance, dict(hidden)) if hidden else {}
    return Planted(instance, tuple(hidden), sum(breaks.values()), max(breaks.values(), default=0))


def hidden_breaks(instance: Instance, slot_of: dict[str, str]) -> dict[str, int]:
    """Breaks per participant of a complete assignment meeting id -> slot id (idle runs inside a day)."""
    position = {s.id: i for i, s in enumerate(instance.slots)}
    day = {s.id: s.day for s in instance.slots}
    used: dict[tuple[str, str], list[int]] = {}
    for m in instance.meetings:
        slot = slot_of[m.id]
        for pid in m.participants:
            used.setdefault((pid, day[slot]), []).append(position[slot])
    result = {p.id: 0 for p in instance.participants}
    for (pid, _), indices in used.items():
        indices.sort()
        result[pid] += sum(1 for x, y in pairwise(indices) if y - x > 1)
    return result


def _drawn_meetings(
    config: GeneratorConfig, participants: list[Participant], room: list[int], rng: Random
) -> list[MeetingSpec]:
    hosts = list(range(config.hosts))
    movers = list(range(config.hosts, config.hosts + config.movers))
    cumulative: list[float] = []
    total = 0.0
    for rank in range(len(hosts)):
        total += 1.0 / (rank + 1) ** config.skew
        cumulative.append(total)
    degree = [0] * len(participants)
    pairs: set[tuple[int, int]] = set()
    meetings: list[MeetingSpec] = []
    attempts = 0
    while len(meetings) < config.meetings and attempts < config.meetings * 20:
        attempts += 1
        mover = rng.choice(movers)
        if hosts and rng.random() >= config.pooled_share:
            other = rng.choices(hosts, cum_weights=cumulative)[0]
        else:
            other = rng.choice(movers)
        pair = (min(mover, other), max(mover, other))
        if mover == other or pair in pairs or degree[mover] >= room[mover] or degree[other] >= room[other]:
            continue
        pairs.add(pair)
        degree[mover] += 1
        degree[other] += 1
        sessions = (rng.choice(_SESSIONS),) if rng.random() < config.session_share else None
        priority = rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]
        meetings.append(
            MeetingSpec(
                id=f"M{len(meetings) + 1:05d}",
                participants=(participants[other].id, participants[mover].id),
                priority=priority,
                sessions=sessions,
            )
        )
    return meetings


def _segments(available: set[int], day_slots: range) -> list[tuple[int, int]]:
    """Maximal runs (first, last) of available slots within one day."""
    runs: list[tuple[int, int]] = []
    start = -1
    for s in day_slots:
        if s in available and start < 0:
            start = s
        if s not in available and start >= 0:
            runs.append((start, s - 1))
            start = -1
    if start >= 0:
        runs.append((start, day_slots[-1]))
    return runs


def _plan_runs(segments: list[tuple[int, int]], degree: int, rng: Random) -> list[tuple[int, int, int]]:
    """The hidden runs (start, length, last slot of its segment) of one participant in one day.

    One run in one segment. With two segments (a mid-day absence) the participant is made busy:
    more meetings than the longer segment holds, in a run ending at the absence and a run starting
    right after it, so that any schedule gives it a break.
    """
    if not segments:
        return []
    lengths = [b - a + 1 for a, b in segments]
    if len(segments) == 2 and min(lengths) >= 2:
        (_, b1), (a2, b2) = segments
        degree = min(max(degree, max(lengths) + 1), lengths[0] + lengths[1])
        before = rng.randint(max(1, degree - lengths[1]), min(lengths[0], degree - 1))
        return [(b1 - before + 1, before, b1), (a2, degree - before, b2)]
    first, last = max(segments, key=lambda seg: (seg[1] - seg[0], rng.random()))
    length = min(degree, last - first + 1)
    start = rng.randint(first, last - length + 1)
    return [(start, length, last)]


def _planted_meetings(
    config: GeneratorConfig, participants: list[Participant], slots: list[Slot], rng: Random
) -> tuple[list[MeetingSpec], list[tuple[str, str]]]:
    """Draw meetings by building a hidden schedule with one unbroken run per participant and day.

    Each participant gets a degree and planned runs (`_plan_runs`); then a sweep over the slots
    pairs, in each slot, the participants whose run goes on or starts there (never two who already
    met; at most `pool_tables` pairs), topping up with participants who may start their run early.
    A run whose participant finds no partner ends there, and a run that cannot start moves one
    slot later and shortens, so no run is ever interrupted: the only breaks are between the two
    runs of a participant with a mid-day absence.
    """
    n = len(participants)
    index = {s.id: i for i, s in enumerate(slots)}
    per_day = config.slots_per_day
    mean = 2 * config.meetings / max(1, n)
    runs: list[list[list[int]]] = []
    available: list[set[int]] = []
    for person in participants:
        free = set(range(len(slots))) - {index[sid] for sid in person.unavailable}
        available.append(free)
        degree = max(1, round(mean * rng.uniform(0.5, 1.5)))
        plan: list[list[int]] = []
        days = list(range(config.days))
        rng.shuffle(days)
        for d in days:
            segments = _segments(free, range(d * per_day, (d + 1) * per_day))
            day_runs = _plan_runs(segments, degree, rng)
            plan += [list(r) for r in day_runs]
            degree -= sum(r[1] for r in day_runs)
            if degree <= 0:
                break
        plan.sort()
        runs.append(plan)
    # Per participant: index of its current run, and meetings held in it (-1: not started).
    current = [0] * n
    held = [-1] * n
    pairs: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, int]] = []
    for s in range(len(slots)):
        active = [p for p in range(n) if held[p] >= 0]
        starting = [
            p for p in range(n) if held[p] < 0 and current[p] < len(runs[p]) and runs[p][current[p]][0] == s
        ]
        early = [
            p
            for p in range(n)
            if held[p] < 0
            and current[p] < len(runs[p])
            and runs[p][current[p]][0] > s
            and all(t in available[p] for t in range(s, runs[p][current[p]][0]))
            and slots[s].day == slots[runs[p][current[p]][0]].day
        ]
        rng.shuffle(active)
        rng.shuffle(starting)
        rng.shuffle(early)
        wanting = active + starting
        partner: dict[int, int] = {}
        for group in (wanting, early):
            for u in wanting:
                if u in partner or len(partner) >= 2 * config.pool_tables:
                    continue
                options = [
                    v for v in group if v != u and v not in partner and (min(u, v), max(u, v)) not in pairs
                ]
                if options:
                    v = rng.choice(options)
                    partner[u] = v
                    partner[v] = u
        for p in wanting + early:
            if p in partner:
                if held[p] < 0:
                    run = runs[p][current[p]]
                    run[0] = s
                    held[p] = 0
                held[p] += 1
                if held[p] == runs[p][current[p]][1]:
                    held[p] = -1
                    current[p] += 1
                q = partner[p]
                if p < q:
                    pairs.add((p, q))
                    placed.append((p, q, s))
            elif held[p] >= 0:
                # No partner: the run ends here, unbroken.
                held[p] = -1
                current[p] += 1
            elif p in starting:
                run = runs[p][current[p]]
                run[0] = s + 1
                run[1] = min(run[1], run[2] - s)
                if run[1] <= 0:
                    current[p] += 1
    rng.shuffle(placed)
    meetings: list[MeetingSpec] = []
    hidden: list[tuple[str, str]] = []
    for k, (p, q, s) in enumerate(placed):
        a, b = (p, q) if rng.random() < 0.5 else (q, p)
        mid = f"M{k + 1:03d}"
        meetings.append(MeetingSpec(mid, (participants[a].id, participants[b].id)))
        hidden.append((mid, slots[s].id))
    return meetings, hidden
