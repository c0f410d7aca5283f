"""Exports import back (issue 13): generated participants -> import -> export (CSV and XLSX) ->
import into a fresh event -> export again. The two exports are equal, every participant's fields
are equal, and importing an export into its own event changes nothing. Real files on disk, the real
reader, import service and exporter, a fresh SQLite database per example."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from services.db import run_in_transaction, transaction
from services.events import get_event_by_slug
from services.exports import PARTICIPANT_HEADINGS, participant_table
from services.files import read_sheet, write_table
from services.participants import ImportResult, import_participants
from tests.hostile.strategies import (
    create_events,
    csv_bytes,
    fields_by_email,
    fresh_database,
    participant_rows,
)

pytestmark = pytest.mark.integration


def _import(engine: Engine, path: Path, slug: str, now: datetime) -> ImportResult:
    sheet = read_sheet(path)
    return run_in_transaction(
        engine,
        lambda s: import_participants(s, get_event_by_slug(s, slug), sheet, source=path.name, now=now),
    )


def _export(engine: Engine, slug: str, path: Path) -> list[list[object]]:
    with transaction(engine) as session:
        rows = participant_table(session, get_event_by_slug(session, slug))
    write_table(path, PARTICIPANT_HEADINGS, rows, sheet_title="participants")
    return rows


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=participant_rows())
def test_an_export_imports_back_unchanged(
    rows: list[dict[str, str]], suffix: str, sqlite_template: Path, tmp_path: Path, now: datetime
) -> None:
    with fresh_database(sqlite_template, tmp_path) as engine:
        create_events(engine, now, "rueda-a", "rueda-b")
        source = tmp_path / "source.csv"
        source.write_bytes(csv_bytes(rows, encoding="utf-8", delimiter=","))
        assert _import(engine, source, "rueda-a", now).created == len(rows)
        first = tmp_path / f"first.{suffix}"
        exported = _export(engine, "rueda-a", first)
        later = now + timedelta(hours=1)
        # Into its own event: nothing changes.
        again = _import(engine, first, "rueda-a", later)
        assert (again.created, again.updated, again.unchanged, again.changed_fields) == (0, 0, len(rows), ())
        assert again.ignored_columns == ("status",)
        # Into a fresh event: the same participants, field by field, and the same export.
        assert _import(engine, first, "rueda-b", later).created == len(rows)
        second = tmp_path / f"second.{suffix}"
        assert _export(engine, "rueda-b", second) == exported
        assert read_sheet(second) == read_sheet(first)
        assert fields_by_email(engine, "rueda-b") == fields_by_email(engine, "rueda-a")
