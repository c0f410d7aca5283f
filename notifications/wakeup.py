"""Wake the reminder clock when another process queues mail: a sign-in link reaches the SMTP server
in well under a second instead of after the clock's `max_sleep`.

Two halves, chosen by the engine's dialect:

- `notify_queued(session)`: called by `outbox.queue_message` in the business transaction. The signal
  can only be seen once that transaction has committed, never for a rolled-back one:
  - PostgreSQL: `SELECT pg_notify('rueda_outbox', '')` in the same transaction, once per transaction
    (PostgreSQL delivers notifications on commit and drops them on rollback);
  - SQLite: the session remembers that it queued something; after its commit (SQLAlchemy's
    `after_commit` session event) one byte is written, non-blocking, to the FIFO next to the
    database file (`<database>-wake`, like SQLite's own `-wal` and `-shm`). If no clock has the
    FIFO open (or none ever created it, or the pipe is full of unread wake-ups) the write is
    silently skipped: waking the clock is best-effort, the row itself is already committed.
- `Listener(engine, callback)`: run by `ReminderClock`; calls `callback` (the clock's `poke`) for each
  wake-up. `start()` returns once it listens (or its first attempt failed), so the clock's first
  run, which follows, sees every row committed before; after a reconnection it calls `callback`
  once, for the rows committed while it was not listening:
  - PostgreSQL: a dedicated psycopg 3 connection (autocommit) doing `LISTEN rueda_outbox` in a
    daemon thread; when the connection drops it reconnects with exponential backoff (0.5 s to 30 s);
  - SQLite: creates the FIFO if needed (mode 0600) and reads it in a daemon thread; it also holds a
    write end itself, so readers never see end-of-file and `stop()` can wake the thread at once;
  - anything else (an in-memory SQLite database, a platform without FIFOs): does nothing.

The clock's `max_sleep` stays the safety net: a lost signal (the listener reconnecting, the FIFO
full, a second clock on the same SQLite file reading the byte first) delays a message by at most
`max_sleep`, it never loses one. The signal carries no data: the clock re-reads the outbox.

Cost: on PostgreSQL one extra statement per transaction that queues mail and one idle connection per
clock; on SQLite one `open`/`write`/`close` of a pipe per committed transaction that queued mail.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

CHANNEL = "rueda_outbox"
_QUEUED = "rueda_outbox_queued"  # session.info: this transaction queued mail (SQLite: wake after commit)
_NOTIFIED = "rueda_outbox_notified"  # session.info: this transaction already issued NOTIFY (PostgreSQL)
_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 30.0
_FIRST_CONNECT_WAIT = 15.0  # seconds start() waits for the first LISTEN (a database down at start)
_PG_STOP_CHECK = 0.5  # seconds between checks of the stop flag while LISTEN waits


def fifo_path(url: sa.URL) -> Path | None:
    """The wake-up FIFO of a SQLite database file, or None (in-memory database, other dialect)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).with_name(Path(database).name + "-wake")


def notify_queued(session: Session) -> None:
    """Signal, once the session's transaction commits, that it queued mail. Never raises for a
    missing listener."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        if not session.info.get(_NOTIFIED):
            session.connection().execute(sa.select(sa.func.pg_notify(CHANNEL, "")))
            session.info[_NOTIFIED] = True
        return
    if bind.dialect.name == "sqlite":
        session.info[_QUEUED] = fifo_path(bind.engine.url if isinstance(bind, sa.Connection) else bind.url)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    path = session.info.pop(_QUEUED, None)
    if path is not None:
        poke_fifo(path)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    session.info.pop(_QUEUED, None)


@event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(session: Session, previous_transaction: Any) -> None:
    # A rolled-back savepoint took its NOTIFY with it: the next queue_message must issue another.
    session.info.pop(_NOTIFIED, None)


def poke_fifo(path: Path) -> bool:
    """Write one wake-up byte to `path` without blocking; False (and nothing raised) when nobody
    listens, the FIFO does not exist, or it is full of unread wake-ups."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # ENOENT: no clock ever ran here; ENXIO: no clock is reading it now
        return False
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        os.write(fd, b"\x01")
        return True
    except OSError:  # EAGAIN: the pipe is full; the clock has wake-ups to read already
        return False
    finally:
        os.close(fd)


class Listener:
    """Calls `callback` whenever another process (or this one) commits queued mail. `start()` and
    `stop()` once each; `callback` runs in the listener's thread and must be quick and thread-safe."""

    def __init__(self, engine: Engine, callback: Callable[[], None]) -> None:
        self._engine = engine
        self._callback = callback
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._read_fd: int | None = None
        self._write_fd: int | None = None
        self.mode = "none"  # "postgresql", "fifo" or "none": how this listener is woken
        self._first_attempt = threading.Event()  # set once the first LISTEN attempt ended
        self.connections = 0  # successful LISTEN connections so far (PostgreSQL; 1 for the FIFO)
        self.connected = threading.Event()  # set while listening (tests and `rueda up` logs read it)

    def start(self) -> None:
        target: Callable[[], None] | None = None
        if self._engine.dialect.name == "postgresql":
            target, self.mode = self._listen_postgresql, "postgresql"
        elif (
            (path := fifo_path(self._engine.url)) is not None
            and hasattr(os, "mkfifo")
            and self._open_fifo(path)
        ):
            target, self.mode = self._listen_fifo, "fifo"
            self.connections = 1
        if target is None:
            logger.info(
                "mail wake-up: none for %s; the clock polls every max_sleep", self._engine.dialect.name
            )
            return
        self._thread = threading.Thread(target=target, name="rueda-outbox-listener", daemon=True)
        self._thread.start()
        if self.mode == "postgresql":  # the FIFO is open already
            self._first_attempt.wait(timeout=_FIRST_CONNECT_WAIT)

    def stop(self) -> None:
        self._stopping.set()
        if self._write_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._write_fd, b"\x00")  # wakes the reader's select at once
        if self._thread is not None:
            self._thread.join(timeout=10)
        for fd in (self._read_fd, self._write_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._read_fd = self._write_fd = None
        self.connected.clear()

    def _wake(self) -> None:
        try:
            self._callback()
        except Exception:
            logger.exception("mail wake-up: the callback failed")

    # SQLite: a FIFO next to the database file.

    def _open_fifo(self, path: Path) -> bool:
        try:
            with contextlib.suppress(FileExistsError):
                os.mkfifo(path, 0o600)
            if not stat.S_ISFIFO(path.stat().st_mode):
                logger.warning("mail wake-up: %s exists and is not a FIFO; the clock polls only", path)
                return False
            flags = os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
            self._read_fd = os.open(path, os.O_RDONLY | flags)
            self._write_fd = os.open(path, os.O_WRONLY | flags)  # ours: no EOF when writers close
        except OSError as error:
            logger.warning("mail wake-up: cannot open %s (%s); the clock polls only", path, error)
            return False
        return True

    def _listen_fifo(self) -> None:
        assert self._read_fd is not None
        selector = selectors.DefaultSelector()
        selector.register(self._read_fd, selectors.EVENT_READ)
        self.connected.set()
        while not self._stopping.is_set():
            try:
                if not selector.select():
                    continue
                data = os.read(self._read_fd, 4096)  # every pending wake-up at once: one run
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.EINTR):
                    continue
                logger.warning("mail wake-up: the FIFO failed (%s); the clock polls only", error)
                break
            if self._stopping.is_set():
                break
            if b"\x01" in data:
                self._wake()
        selector.close()

    # PostgreSQL: LISTEN on a dedicated connection.

    def _listen_postgresql(self) -> None:
        import psycopg

        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        backoff = _BACKOFF_FIRST
        first = True
        while not self._stopping.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.connections += 1
                    self.connected.set()
                    backoff = _BACKOFF_FIRST
                    if first:
                        self._first_attempt.set()  # start() returns: the clock's first run follows
                    else:
                        self._wake()  # rows committed while nobody listened
                    first = False
                    while not self._stopping.is_set():
                        # Returns at the first notification (then we wake at once), or after the
                        # timeout, to look at the stop flag.
                        if list(connection.notifies(timeout=_PG_STOP_CHECK, stop_after=1)):
                            self._wake()
            except psycopg.Error as error:
                self.connected.clear()
                first = False
                self._first_attempt.set()
                if self._stopping.is_set():
                    return
                logger.warning(
                    "mail wake-up: LISTEN connection lost (%s); retrying in %.1f s", error, backoff
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
        self.connected.clear()
