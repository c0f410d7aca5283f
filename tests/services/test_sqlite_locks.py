"""SQLite locking: write transactions take the write lock at BEGIN (so a read-then-write never
fails half-way), and sessions opened on `read_only(engine)` do not, so page views are not queued
behind a flow's long write or behind each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from services.db import make_engine, read_only

pytestmark = pytest.mark.integration


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Engine:
    path = tmp_path / "rueda.db"
    path.write_bytes(sqlite_template.read_bytes())
    return make_engine(f"sqlite:///{path}")


def _count_events(engine: Engine) -> int:
    with engine.connect() as connection:
        # Give up at once instead of after the 30-second busy timeout (before the transaction begins).
        connection.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        return int(connection.execute(text("SELECT count(*) FROM event")).scalar_one())


def test_readers_do_not_wait_for_the_write_lock(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as writer:
        writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this connection holds the write lock
        assert _count_events(read_only(sqlite_engine)) == 0
        with pytest.raises(OperationalError, match="database is locked"):
            _count_events(sqlite_engine)
    assert _count_events(sqlite_engine) == 0  # the lock is gone with the writer
