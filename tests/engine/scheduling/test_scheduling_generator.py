"""The instance generator: valid, reproducible, and shaped like the events it imitates."""

from __future__ import annotations

from collections import Counter
from random import Random

import pytest

from engine.scheduling.bench import first_fit
from engine.scheduling.generator import generate_instance, macro_config, research_config
from engine.scheduling.io import instance_to_json, parse_instance
from tests.engine.scheduling.checker import check


@pytest.mark.unit
def test_generate_macro_instance_has_the_published_shape() -> None:
    instance = generate_instance(macro_config(), seed=5)
    hosts = [p for p in instance.participants if p.table is not None]
    assert (len(instance.participants), len(instance.meetings), len(instance.slots), len(hosts)) == (
        2400,
        12000,
        32,
        700,
    )
    assert sorted({s.day for s in instance.slots}) == ["d1", "d2"]
    degree = Counter(pid for m in instance.meetings for pid in m.participants)
    for p in instance.participants:
        assert degree[p.id] <= min(p.max_meetings or 32, 32 - len(p.unavailable))
    # Popular buyers: the busiest host has far more meetings than the median host.
    host_degrees = sorted(degree[p.id] for p in hosts)
    assert host_degrees[-1] >= 2 * host_degrees[len(host_degrees) // 2]
    assert generate_instance(macro_config(), seed=5) == instance


@pytest.mark.unit
@pytest.mark.parametrize("index", [1, 2, 3])
def test_generate_research_instance_is_in_the_published_ranges(index: int) -> None:
    instance = generate_instance(research_config(Random(index), index), seed=index)
    assert 42 <= len(instance.participants) <= 78
    assert 125 <= len(instance.meetings) <= 302
    assert 8 <= len(instance.slots) <= 22
    assert 12 <= len(instance.tables) <= 27
    assert (instance.constraints.schedule_all, instance.constraints.max_break_spread) == (True, 2)
    assert parse_instance(instance_to_json(instance)) == instance
    assert check(instance, first_fit(instance)) == []
