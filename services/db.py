"""Database plumbing for the entry points: engines, sessions, the transaction helper, migrations.

Use cases in `services/` take a session and never commit. The entry points (CLI, flows, portal) open
a session with `transaction()` or `run_in_transaction()`, call one service, and commit here.

SQLite needs three things per connection, set in `_sqlite_pragmas`: foreign keys on (they are off by
default, and our composite keys and cascades depend on them), WAL so that readers do not block the
writer, and a busy timeout so that a second writer waits instead of failing at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> Engine:
    """An engine for `url`; creates the folder of a SQLite file."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, echo=echo, pool_size=pool_size, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


READ_ONLY_OPTION = "rueda_read_only"


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock when the transaction starts. A deferred transaction that reads and later
    # writes fails with "database is locked" when another writer got in between, and the busy
    # timeout cannot help it; an immediate one waits its turn. Do not relax this to plain BEGIN,
    # except for sessions opened on `read_only(engine)`, which never write.
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def read_only(engine: Engine) -> Engine:
    """The same database and pool, for sessions that only read. On SQLite their transactions begin
    deferred: they share the database with other readers (WAL) instead of queueing for the write
    lock, so a page view does not wait for another page view or for a flow's write. Never write in
    such a session: a deferred transaction that writes can fail with "database is locked"."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def run_in_transaction(engine: Engine, work: Callable[[Session], T], *, attempts: int = 4) -> T:
    """Run `work` in a transaction, retrying the whole transaction when a concurrent writer won a
    race on a unique key (or SQLite was busy). The retry re-reads, so it updates instead of
    inserting twice. Domain errors are not retried."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction(engine) as session:
                return work(session)
        except (IntegrityError, OperationalError) as error:
            if attempt == attempts or not _is_retryable(error):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _is_retryable(error: IntegrityError | OperationalError) -> bool:
    text = str(error.orig).lower()
    if isinstance(error, IntegrityError):
        return "unique" in text or "duplicate key" in text
    return "database is locked" in text or "deadlock detected" in text or "could not serialize" in text


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Create or upgrade the database at `url` to `revision`. Safe to run again."""
    from alembic import command

    make_engine(url).dispose()  # creates the SQLite folder
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as connection:
        row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)", re.M)


@cache
def head_revision() -> str:
    """The newest migration's revision id, read from the migration files' `revision` and
    `down_revision` lines. Alembic's own ScriptDirectory imports every migration module to learn
    the same (a third of a second at each command's start); `tests/models/test_migrations.py`
    checks that both answers agree. A regular expression, not `ast.parse`: flow runs call this
    beside Prefect's threads, and CPython 3.11.7 can fail concurrent `ast.parse` calls with
    "AST constructor recursion depth mismatch" (python/cpython#106905)."""
    revisions: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        values: dict[str, str | None] = {}
        for match in _ASSIGNMENT.finditer(path.read_text(encoding="utf-8")):
            values.setdefault(match.group(1), match.group(2) or match.group(3))
        revision = values.get("revision")
        if revision:
            revisions[revision] = values.get("down_revision")
    heads = set(revisions) - {down for down in revisions.values() if down is not None}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have exactly one head, found {sorted(heads)}")
    return heads.pop()


def open_database(url: str, *, echo: bool = False, pool_size: int = 5) -> Engine:
    """An engine on a database migrated to the code's revision, or a DomainError saying what to run."""
    from services.errors import DomainError

    engine = make_engine(url, echo=echo, pool_size=pool_size)
    try:
        revision = current_revision(engine)
    except OperationalError as error:
        engine.dispose()
        raise DomainError(f"cannot open the database: {str(error.orig).splitlines()[0]}") from None
    head = head_revision()
    if revision != head:
        engine.dispose()
        state = "has no schema" if revision is None else f"is at revision {revision}"
        raise DomainError(f"the database {state}; this version needs {head}: run `rueda db upgrade`")
    return engine
