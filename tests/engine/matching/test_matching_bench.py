"""The benchmark's population and rows: seeded, realistic in shape, same output for the same seed."""

from __future__ import annotations

from collections import Counter

import pytest

from engine.matching.bench import generate_population, run_matching_benchmark, run_optimality_check

pytestmark = pytest.mark.unit


def test_generate_population_is_seeded_and_shaped_like_a_macrorrueda() -> None:
    profiles, preferences, rules = generate_population(400, seed=3)
    assert generate_population(400, seed=3) == (profiles, preferences, rules)
    assert generate_population(400, seed=4)[0] != profiles
    roles = Counter(p.role.value for p in profiles)
    assert sum(roles.values()) == 400
    assert 0.2 < roles["buyer"] / 400 < 0.4
    sellers = [p for p in profiles if p.role.value == "seller"]
    assert sum(p.country == "CO" for p in sellers) / len(sellers) > 0.8
    assert len({p.country for p in profiles if p.role.value == "buyer"}) > 20
    assert all(p.offer_text for p in sellers)
    assert len(rules.forced_pairs) <= 20


def test_run_matching_benchmark_rows() -> None:
    rows = run_matching_benchmark(participants=200, seed=1)
    assert [row["step"] for row in rows] == ["generate", "score", "select", "total"]
    again = run_matching_benchmark(participants=200, seed=1)
    measured = {"seconds", "cpu_seconds", "score_and_select_seconds", "score_and_select_cpu_seconds"}
    measured |= {"baseline_rss_mb", "peak_rss_mb"}
    without_timings = [{k: v for k, v in row.items() if k not in measured} for row in rows]
    assert without_timings == [{k: v for k, v in row.items() if k not in measured} for row in again]
    assert rows[0]["participants"] == 200
    assert isinstance(rows[2]["meetings"], int) and rows[2]["meetings"] > 200
    assert all(isinstance(row["seconds"], float) for row in rows)


def test_run_optimality_check_matches_cp_sat_on_a_small_population() -> None:
    check = run_optimality_check(participants=100, seed=1, time_limit=20.0)
    assert check["cp_sat_status"] == "OPTIMAL"
    assert check["both"] == 2
    assert check["ours"] == check["cp_sat"] == (174, 108316)
    assert check["utility_gap_percent"] == 0.0
