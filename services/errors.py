"""Errors that services raise on purpose. Each carries a message safe to show a user; the CLI and
the portal turn them into one clear line and an exit code, in one place each."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """A request that cannot be carried out as asked. `str(error)` is the user-facing message."""

    exit_code = 1


class NotFoundError(DomainError):
    pass


class ConflictError(DomainError):
    pass


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in an input file: 1-based spreadsheet row (the heading is row 1), column, reason."""

    row: int
    column: str
    message: str


class InputFileError(DomainError):
    """An input file has bad rows. Nothing was written."""

    def __init__(self, source: str, errors: list[RowError]) -> None:
        self.source = source
        self.errors = errors
        plural = "s" if len(errors) != 1 else ""
        super().__init__(f"{source}: {len(errors)} problem{plural} found; nothing was imported")
