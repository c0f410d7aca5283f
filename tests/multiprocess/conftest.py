"""One cluster (tests/multiprocess/harness.py) for the session, and the baseline lifecycle that
every fault test compares with.

- `multiprocess` tests run in CI (`.ci/run`): the cluster and one 300-participant lifecycle, about
  4 minutes on 2 cores.
- `faults` tests take longer (a dead worker's claimed emails wait for the outbox lease, 10 minutes):
  they run with RUEDA_MP_FAULTS=1, which `make faults` sets, and are deselected otherwise.
RUEDA_MP_PARTICIPANTS changes the size (default 300; `make multiprocess` runs 2,400 through the
harness's command line instead).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
import redis

from tests.conftest import IN_CI, PG_ADMIN_DSN
from tests.multiprocess.harness import (
    Cluster,
    Delivery,
    Fingerprint,
    LifecycleRun,
    delivery,
    fingerprint,
    flow_runs,
    people_with_meetings,
    run_lifecycle,
)

PARTICIPANTS = int(os.environ.get("RUEDA_MP_PARTICIPANTS", "300"))
RUN_FAULTS = os.environ.get("RUEDA_MP_FAULTS", "") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "multiprocess: the production topology as processes (tests/multiprocess)"
    )
    config.addinivalue_line(
        "markers", "faults: fault injection on that topology (make faults, RUEDA_MP_FAULTS=1)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Fault tests last: each replaces the application database that the others read.
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)
    if RUN_FAULTS:
        return
    # Deselected, not skipped: they are not part of `make test` at all (`make faults` runs them).
    faults = [item for item in items if item.get_closest_marker("faults") is not None]
    if faults:
        config.hook.pytest_deselected(items=faults)
        items[:] = [item for item in items if item.get_closest_marker("faults") is None]


def _services_problem() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            pass
        client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except (psycopg.OperationalError, redis.RedisError) as error:
        return str(error).splitlines()[0]
    return None


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    problem = _services_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL and Redis are required in CI: {problem}")
        pytest.skip(f"PostgreSQL or Redis not available: {problem}")
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@dataclass(frozen=True)
class Baseline:
    """The no-fault lifecycle (once per session) and what it left, read before any fault test
    replaces the application database."""

    run: LifecycleRun
    outcome: Fingerprint
    delivery: Delivery
    flow_runs: Counter[tuple[str, str]]
    people_with_meetings: int


@pytest.fixture(scope="session")
def baseline(cluster: Cluster) -> Baseline:
    run = run_lifecycle(cluster, slug="mp-baseline", participants=PARTICIPANTS)
    return Baseline(
        run,
        fingerprint(cluster, run.slug),
        delivery(cluster, run.slug),
        flow_runs(cluster, run.slug),
        people_with_meetings(cluster, run.slug),
    )
