"""Shared fixtures: a real database per test, on SQLite and on PostgreSQL.

- SQLite: the migrations run once into a template file; each test gets a copy (fast and isolated).
- PostgreSQL (127.0.0.1:5432, user postgres, trust auth): one fresh database per test session,
  created here and dropped at the end; each test starts from empty tables (TRUNCATE).
  Locally, PostgreSQL tests skip when no server answers. With CI=true they fail instead: CI must
  run them (`.ci/run`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)
from services.db import make_engine, upgrade_database

PG_ADMIN_DSN = os.environ.get("RUEDA_TEST_PG_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The CLI's tables are as wide as COLUMNS says, or 160 columns when piped (cli/common.py). pytest-xdist
# sets COLUMNS=80 in its workers, and a developer's shell may export it: tests see piped output.
os.environ.pop("COLUMNS", None)
NOW = datetime(2027, 4, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "rueda.db"
    upgrade_database(f"sqlite:///{path}")
    return path


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    problem = _pg_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but does not answer: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    name = f"rueda_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade_database(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "rueda.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    try:
        _truncate_all(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=12)
    _truncate_all(engine)
    yield engine
    engine.dispose()


# Parallel runs (`make pytest` uses pytest-xdist with --dist loadgroup): a directory whose tests
# share one expensive stack (a Prefect server, the multi-process topology, the demo) runs on one
# worker, as one group; every other module is a group of its own, so module-scoped fixtures are
# built once. Serial runs ignore the marks.
_SHARED_STACK_DIRS = ("flows", "multiprocess", "e2e")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        relative = item.path.relative_to(tests_dir)
        group = relative.parts[0] if relative.parts[0] in _SHARED_STACK_DIRS else relative.as_posix()
        item.add_marker(pytest.mark.xdist_group(group))
