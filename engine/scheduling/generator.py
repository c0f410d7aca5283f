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
  break spread is at most 2. These are *planted*: meetings are drawn by building a hidden
  schedule, so `schedule_all` is always satisfiable, as in the real forums.

Invariants: the output validates (`parse_instance(instance_to_json(x)) == x`); no participant is
asked for more meetings than `max_meetings` or its available slots; the same config and seed give
the same instance (only `random.Random(seed)` is used).

Cost: O(meetings) draws, with retries bounded by a constant factor.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    return frozenset(slots[i].id for i in sorted(blocked))


def generate_instance(config: GeneratorConfig, seed: int) -> Instance:
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
    if config.planted:
        meetings = _planted_meetings(config, participants, slots, rng)
    else:
        meetings = _drawn_meetings(config, participants, free_slots, rng)
    return Instance(
        slots=tuple(slots),
        tables=tuple(host_tables + pool_tables),
        participants=tuple(participants),
        meetings=tuple(meetings),
        constraints=Constraints(config.schedule_all, config.max_break_spread),
        name=f"{config.name}-seed{seed}",
    )


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


def _planted_meetings(
    config: GeneratorConfig, participants: list[Participant], slots: list[Slot], rng: Random
) -> list[MeetingSpec]:
    """Draw meetings by filling a hidden schedule, so that all of them fit together."""
    n = len(participants)
    busy = [{s.id for s in slots if s.id in p.unavailable} for p in participants]
    used_tables = {s.id: 0 for s in slots}
    pairs: set[tuple[int, int]] = set()
    meetings: list[MeetingSpec] = []
    attempts = 0
    while len(meetings) < config.meetings and attempts < config.meetings * 50:
        attempts += 1
        a, b = rng.sample(range(n), 2)
        slot = rng.choice(slots).id
        pair = (min(a, b), max(a, b))
        if pair in pairs or slot in busy[a] or slot in busy[b] or used_tables[slot] >= config.pool_tables:
            continue
        pairs.add(pair)
        busy[a].add(slot)
        busy[b].add(slot)
        used_tables[slot] += 1
        meetings.append(MeetingSpec(f"M{len(meetings) + 1:03d}", (participants[a].id, participants[b].id)))
    return meetings
