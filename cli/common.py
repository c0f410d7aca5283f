"""What every command shares: the consoles, the settings, the database, the clock, and the one
place where errors become a clear line and an exit code.

Imported by every command module, so it imports nothing heavy at module level: the database layer
(SQLAlchemy, Alembic, the models) loads inside `database()`, when a command opens one."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from config import Settings, get_settings
from services.errors import DomainError, InputFileError

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _width(stream: Any) -> int | None:
    """Rich's width: the terminal's, or COLUMNS; when the output is a pipe or a log and COLUMNS is
    unset, 160 instead of the 80 Rich assumes, so that tables piped to grep keep a row per line."""
    if os.environ.get("COLUMNS") or (hasattr(stream, "isatty") and stream.isatty()):
        return None
    return 160


# soft_wrap: a message is one line, never cut at the console's width; tables still fit the width.
console = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout))
err_console = Console(stderr=True, highlight=False, soft_wrap=True, width=_width(sys.stderr))

F = TypeVar("F", bound=Callable[..., Any])


def utc_now() -> datetime:
    """The only clock of the CLI; services get `now` from here."""
    return datetime.now(UTC)


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as error:
        from services.files import clean_message

        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {clean_message(item['msg'])}"
            for item in error.errors()
        )
        raise DomainError(
            f"invalid settings: {problems} (check RUEDA_* variables, .env and rueda.toml)"
        ) from None
    except (OSError, ValueError) as error:  # an unreadable or malformed rueda.toml / .env
        raise DomainError(f"invalid settings: {str(error).splitlines()[0]}") from None


@contextmanager
def database(settings: Settings | None = None) -> Iterator[Engine]:
    from services.db import open_database

    settings = settings or load_settings()
    engine = open_database(
        settings.database_url, echo=settings.database.echo, pool_size=settings.database.pool_size
    )
    try:
        yield engine
    finally:
        engine.dispose()


def print_row_errors(error: InputFileError, *, limit: int = 200) -> None:
    table = Table(title=f"Problems in {error.source}", title_justify="left", show_lines=False)
    table.add_column("row", justify="right", style="bold")
    table.add_column("column", style="cyan")
    table.add_column("problem")
    for item in error.errors[:limit]:
        table.add_row(str(item.row), item.column, item.message)
    err_console.print(table)
    if len(error.errors) > limit:
        err_console.print(f"... and {len(error.errors) - limit} more")


def handle_errors(function: F) -> F:
    """Turn expected failures into one clear line (or a table of rows) and a non-zero exit code.
    Set RUEDA_DEBUG=1 to see the traceback of an unexpected error."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InputFileError as error:
            print_row_errors(error)
            err_console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(error.exit_code) from None
        except DomainError as error:
            err_console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as error:
            if os.environ.get("RUEDA_DEBUG"):
                raise
            if _is_database_error(error):
                origin = getattr(error, "orig", None) or error
                err_console.print(f"[red]database error:[/red] {str(origin).splitlines()[0]}")
                raise typer.Exit(1) from None
            err_console.print(
                f"[red]internal error:[/red] {type(error).__name__}: {error} (set RUEDA_DEBUG=1 for the traceback)"
            )
            sys.stderr.flush()
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def _is_database_error(error: Exception) -> bool:
    # A command that never opened a database cannot raise a SQLAlchemy error, so there is no need
    # to import SQLAlchemy (a third of a second) just to rule it out.
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.SQLAlchemyError)
