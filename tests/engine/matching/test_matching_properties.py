"""Hypothesis properties of selection: caps, rules, forced pairs, determinism, and optimality.

Optimality is checked against an independent CP-SAT model of the same objective (minimum-meeting
places filled first, then utility in thousandths) on small bipartite instances, where the min-cost
flow is exact.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from engine.matching import (
    MatchProfile,
    MatchResult,
    OrganizerRules,
    Preference,
    PreferenceKind,
    RequestPolicy,
    Role,
    Weights,
    compute_matches,
    select_meetings,
)
from engine.matching.preferences import pair_key
from engine.matching.scoring import PairScores

pytestmark = pytest.mark.unit


def _hand_scores(
    profiles: list[MatchProfile], pairs: dict[tuple[str, str], float], weights: Weights
) -> PairScores:
    """PairScores with given scores for (supplier, demander) pairs (as in test_matching_selection)."""
    ordered = tuple(sorted(profiles, key=lambda p: p.id))
    index = {p.id: i for i, p in enumerate(ordered)}
    supplier = np.array([index[s] for s, _ in pairs], dtype=np.int64)
    demander = np.array([index[d] for _, d in pairs], dtype=np.int64)
    score = np.array(list(pairs.values()), dtype=np.float64)
    components = np.zeros((len(pairs), 6))
    components[:, 3] = 1.0
    above = score >= weights.min_score
    counts = np.bincount(np.concatenate([supplier[above], demander[above]]), minlength=len(ordered))
    return PairScores(ordered, supplier, demander, components, score, counts.astype(np.int64), weights)


def _objective(result: MatchResult, profiles: list[MatchProfile], weights: Weights) -> tuple[int, int]:
    degree = dict(result.meetings_per_participant)
    covered = sum(min(degree[p.id], weights.min_meetings, p.max_meetings, p.cap) for p in profiles)
    return covered, sum(round(m.utility * 1000) for m in result.meetings)


def _cp_sat_optimum(
    profiles: list[MatchProfile], pairs: dict[tuple[str, str], float], weights: Weights
) -> tuple[int, int]:
    model = cp_model.CpModel()
    usable = {k: round(v * 1000) for k, v in pairs.items() if v >= weights.min_score}
    x = {k: model.new_bool_var(f"{k}") for k in usable}
    covered = []
    for p in profiles:
        mine = [x[k] for k in usable if p.id in k]
        model.add(sum(mine) <= p.cap)
        c = model.new_int_var(0, min(weights.min_meetings, p.max_meetings, p.cap), f"c_{p.id}")
        model.add(c <= sum(mine))
        covered.append(c)
    big = sum(abs(u) for u in usable.values()) + 1
    model.maximize(big * sum(covered) + sum(u * x[k] for k, u in usable.items()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    chosen = [k for k in usable if solver.value(x[k])]
    degree = Counter(i for k in chosen for i in k)
    total_covered = sum(min(degree[p.id], weights.min_meetings, p.max_meetings, p.cap) for p in profiles)
    return total_covered, sum(usable[k] for k in chosen)


@st.composite
def bipartite_instances(draw: st.DrawFn) -> tuple[list[MatchProfile], dict[tuple[str, str], float], Weights]:
    sellers = draw(st.integers(1, 4))
    buyers = draw(st.integers(1, 4))
    profiles = [
        MatchProfile(
            f"{prefix}{i}",
            role,
            "CO",
            max_meetings=draw(st.integers(0, 3)),
            free_slots=draw(st.integers(0, 3)),
        )
        for prefix, role, count in (("s", Role.SELLER, sellers), ("b", Role.BUYER, buyers))
        for i in range(count)
    ]
    pairs = {
        (f"s{i}", f"b{j}"): draw(st.integers(0, 1000)) / 1000
        for i in range(sellers)
        for j in range(buyers)
        if draw(st.booleans())
    }
    return profiles, pairs, Weights(min_meetings=draw(st.integers(0, 2)))


FAIRNESS_CONFLICT = (
    [
        MatchProfile("s0", Role.SELLER, "CO", max_meetings=2, free_slots=2),
        MatchProfile("s1", Role.SELLER, "CO", max_meetings=1, free_slots=1),
        MatchProfile("b0", Role.BUYER, "CO", max_meetings=1, free_slots=1),
        MatchProfile("b1", Role.BUYER, "CO", max_meetings=1, free_slots=1),
    ],
    {("s0", "b0"): 0.9, ("s0", "b1"): 0.9, ("s1", "b0"): 0.4, ("s1", "b1"): 0.45},
    Weights(min_meetings=1),
)


@settings(max_examples=300, deadline=None)
@given(bipartite_instances())
@example(FAIRNESS_CONFLICT)
def test_select_meetings_is_optimal_on_bipartite_instances(
    instance: tuple[list[MatchProfile], dict[tuple[str, str], float], Weights],
) -> None:
    profiles, pairs, weights = instance
    result = select_meetings(_hand_scores(profiles, pairs, weights))
    assert _objective(result, profiles, weights) == _cp_sat_optimum(profiles, pairs, weights)


IDS = [f"p{i}" for i in range(7)]


@st.composite
def rueda_instances(draw: st.DrawFn) -> tuple[list[MatchProfile], list[Preference], OrganizerRules]:
    codes = st.lists(st.sampled_from(["09", "0901", "090111", "090121", "18", "1801", "060311"]), max_size=3)
    languages = st.lists(st.sampled_from(["es", "en", "pt"]), min_size=1, max_size=2)
    profiles = [
        MatchProfile(
            pid,
            draw(st.sampled_from(list(Role))),
            draw(st.sampled_from(["CO", "DE", "US"])),
            tuple(draw(languages)),
            offered_hs=tuple(draw(codes)),
            demanded_hs=tuple(draw(codes)),
            target_markets=tuple(draw(st.lists(st.sampled_from(["DE", "US", "MX"]), max_size=2))),
            offer_text=draw(st.sampled_from(["", "café orgánico", "rosas", "cacao fino"])),
            demand_text=draw(st.sampled_from(["", "organic coffee", "flores cortadas", "cacao"])),
            max_meetings=draw(st.integers(0, 4)),
            free_slots=draw(st.integers(0, 4)),
        )
        for pid in IDS[: draw(st.integers(2, len(IDS)))]
    ]
    ids = [p.id for p in profiles] + ["ghost"]
    pair = st.tuples(st.sampled_from(ids), st.sampled_from(ids))
    preferences = [
        Preference(a, b, kind)
        for (a, b), kind in draw(
            st.lists(st.tuples(pair, st.sampled_from(list(PreferenceKind))), max_size=10)
        )
    ]
    rules = OrganizerRules(
        forced_pairs=tuple(draw(st.lists(pair, max_size=4))),
        forbidden_pairs=tuple(draw(st.lists(pair, max_size=4))),
        request_policy=draw(st.sampled_from(list(RequestPolicy))),
    )
    return profiles, preferences, rules


@settings(max_examples=100, deadline=None)
@given(rueda_instances(), st.integers(0, 2), st.randoms(use_true_random=False))
def test_compute_matches_properties(
    instance: tuple[list[MatchProfile], list[Preference], OrganizerRules], minimum: int, rnd: random.Random
) -> None:
    profiles, preferences, rules = instance
    weights = Weights(min_meetings=minimum, min_score=0.2)
    result = compute_matches(profiles, preferences, rules, weights)
    caps = {p.id: p.cap for p in profiles}
    pairs = [pair_key(m.supplier_id, m.demander_id) for m in result.meetings]
    degree = Counter(i for pair in pairs for i in pair)

    assert len(set(pairs)) == len(pairs)
    assert all(a != b for a, b in pairs)
    assert all(degree[pid] <= cap for pid, cap in caps.items())
    assert dict(result.meetings_per_participant) == {pid: degree[pid] for pid in caps}

    forbidden = {pair_key(a, b) for a, b in rules.forbidden_pairs}
    declined = {pair_key(p.requester, p.target) for p in preferences if p.kind is PreferenceKind.DO_NOT_MEET}
    assert not (set(pairs) & (forbidden | declined))

    forced = {pair_key(a, b) for a, b in rules.forced_pairs if a != b and a in caps and b in caps}
    forced -= forbidden | declined
    forced_count = Counter(i for pair in forced for i in pair)
    feasible = {(a, b) for a, b in forced if forced_count[a] <= caps[a] and forced_count[b] <= caps[b]}
    assert feasible <= set(pairs)
    assert {pair_key(m.supplier_id, m.demander_id) for m in result.meetings if m.is_forced} <= forced

    assert all(s.meetings < s.minimum for s in result.shortfalls)
    assert {s.participant_id for s in result.shortfalls} == {
        p.id for p in profiles if degree[p.id] < min(minimum, p.max_meetings)
    }

    assert compute_matches(profiles, preferences, rules, weights) == result
    shuffled = list(profiles)
    rnd.shuffle(shuffled)
    assert compute_matches(shuffled, preferences, rules, weights) == result
