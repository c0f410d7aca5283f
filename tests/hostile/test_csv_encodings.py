"""CSV in every encoding and delimiter an organizer's spreadsheet program writes (issue 13): the same
generated rows, written as UTF-8, UTF-8 with BOM, Windows-1252 and Latin-1 (only characters both
legacy encodings hold), separated by commas, semicolons or tabs, import with identical results. A
deliberately broken file fails with one line naming row and column, and the database is unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from services.db import run_in_transaction
from services.errors import DomainError, InputFileError, RowError
from services.events import get_event_by_slug
from services.files import read_sheet
from services.participants import ImportResult, import_participants
from tests.hostile.strategies import (
    HEADINGS,
    create_events,
    csv_bytes,
    fields_by_email,
    fresh_database,
    participant_rows,
)

pytestmark = pytest.mark.integration

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1"]
DELIMITERS = [",", ";", "\t"]
COMBINATIONS = [(e, d) for e in ENCODINGS for d in DELIMITERS]


def _import(engine: Engine, path: Path, slug: str, now: datetime) -> ImportResult:
    sheet = read_sheet(path)
    return run_in_transaction(
        engine,
        lambda s: import_participants(s, get_event_by_slug(s, slug), sheet, source=path.name, now=now),
    )


def _read_as_utf8(data: bytes, encoding: str) -> bool:
    """A legacy file whose bytes are also valid UTF-8 ('Ã©' in Latin-1 is 'é' in UTF-8) is read as
    UTF-8, as docs/importing.md says; such an example says nothing about the legacy decoding."""
    if encoding.startswith("utf-8"):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not data.isascii()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=participant_rows(legacy=True))
def test_every_encoding_and_delimiter_imports_the_same(
    rows: list[dict[str, str]], sqlite_template: Path, tmp_path: Path, now: datetime
) -> None:
    with fresh_database(sqlite_template, tmp_path) as engine:
        slugs = [f"rueda-{i}" for i in range(len(COMBINATIONS))]
        create_events(engine, now, *slugs)
        results: dict[tuple[str, str], tuple[Any, ...]] = {}
        for slug, (encoding, delimiter) in zip(slugs, COMBINATIONS, strict=True):
            data = csv_bytes(rows, encoding=encoding, delimiter=delimiter)
            if _read_as_utf8(data, encoding):
                continue
            path = tmp_path / f"{slug}.csv"
            path.write_bytes(data)
            sheet = read_sheet(path)
            assert sheet.headings == HEADINGS, (encoding, delimiter)
            result = _import(engine, path, slug, now)
            results[(encoding, delimiter)] = (
                result.created,
                result.ignored_columns,
                fields_by_email(engine, slug),
            )
        baseline = results[("utf-8", ",")]
        assert baseline[:2] == (len(rows), ())
        for combination, result in results.items():
            assert result == baseline, combination


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(r) for r in connection.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1'))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=participant_rows(legacy=True),
    combination=st.sampled_from(COMBINATIONS),
    breakage=st.sampled_from(["country", "control", "consent"]),
    data=st.data(),
)
def test_a_broken_file_names_row_and_column_and_changes_nothing(
    rows: list[dict[str, str]],
    combination: tuple[str, str],
    breakage: str,
    data: st.DataObject,
    sqlite_template: Path,
    tmp_path: Path,
    now: datetime,
) -> None:
    encoding, delimiter = combination
    with fresh_database(sqlite_template, tmp_path) as engine:
        create_events(engine, now, "rueda-test")
        good = tmp_path / "good.csv"
        good.write_bytes(csv_bytes(rows, encoding="utf-8", delimiter=","))
        _import(engine, good, "rueda-test", now)
        before = _snapshot(engine)
        # Every row edited, one row broken: nothing of the edit may land.
        edited = [{**row, "job_title": "Gerente"} for row in rows]
        index = data.draw(st.integers(0, len(rows) - 1))
        if breakage == "country":
            edited[index]["country"] = "Narnia"
        elif breakage == "consent":
            edited[index]["consent"] = "no"
        else:
            edited[index]["full_name"] = "Ana\x01Gómez"
        path = tmp_path / "broken.csv"
        path.write_bytes(csv_bytes(edited, encoding=encoding, delimiter=delimiter))
        with pytest.raises(DomainError) as caught:
            _import(engine, path, "rueda-test", now + timedelta(hours=1))
        row = index + 2
        message = str(caught.value)
        assert "\n" not in message
        if breakage == "control":
            assert message == f"{path}: row {row}, full_name: control character U+0001 not allowed"
        else:
            assert isinstance(caught.value, InputFileError)
            assert message == "broken.csv: 1 problem found; nothing was imported"
            reason = (
                "'Narnia' is not an ISO 3166 country code or name"
                if breakage == "country"
                else "consent to data processing is required (Ley 1581 de 2012 / GDPR)"
            )
            assert caught.value.errors == [RowError(row, breakage, reason)]
        assert _snapshot(engine) == before
