"""A partial re-import (issue 13): a column absent from the file leaves the field as it is, an
empty cell in a present column keeps its meaning, `--clear-missing` clears absent columns, and the
summary names the fields that changed. Through the real path: a file on disk, read_sheet, the
import service (SQLite and PostgreSQL) and the CLI (typer's CliRunner, SQLite)."""

from __future__ import annotations

import csv
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from models import Event, Participant
from services.db import run_in_transaction, transaction
from services.events import get_event_by_slug
from services.files import read_sheet
from services.participants import ImportResult, import_participants, participant_fields
from tests.factories import event_definition, make_event

pytestmark = pytest.mark.integration

FULL = {
    "email": "ana@cafe.co",
    "full_name": "Ana Gómez",
    "organization": "Café Andino SAS",
    "role": "seller",
    "country": "CO",
    "consent": "yes",
    "language": "en",
    "timezone": "Europe/Madrid",
    "job_title": "Gerente comercial",
    "phone": "+57 300 123 4567",
    "tax_id": "900123456-7",
    "city": "Medellín",
    "women_led": "yes",
    "sectors": "0127",
    "spoken_languages": "es;en;pt",
    "offer_hs": "0901;090121",
    "offer_description": "Café especial\nde origen",
    "demand_hs": "8438",
    "demand_description": "Tostadoras",
    "target_markets": "DE;US",
    "certifications": "organic",
    "required_certifications": "ce",
    "unavailable": "d1s01;d2s02",
    "host_table": "T2",
    "max_meetings": "7",
}
# What the organizer's second file holds: only the required columns, the name edited.
PARTIAL = {k: FULL[k] for k in ("email", "full_name", "organization", "role", "country", "consent")}
PARTIAL["full_name"] = "Ana María Gómez"
EXPECTED = {
    "full_name": "Ana Gómez",
    "organization": "Café Andino SAS",
    "country": "CO",
    "language": "en",
    "timezone": "Europe/Madrid",
    "consent": True,
    "job_title": "Gerente comercial",
    "phone": "+57 300 123 4567",
    "tax_id": "900123456-7",
    "city": "Medellín",
    "region": None,
    "website": None,
    "company_size": None,
    "sectors": ["0127"],
    "spoken_languages": ["es", "en", "pt"],
    "offer_hs": ["0901", "090121"],
    "offer_description": "Café especial\nde origen",
    "demand_hs": ["8438"],
    "demand_description": "Tostadoras",
    "target_markets": ["DE", "US"],
    "certifications": ["organic"],
    "required_certifications": ["ce"],
    "women_led": True,
    "peasant": False,
    "indigenous": False,
    "conflict_victim": False,
    "unavailable": ["d1s01", "d2s02"],
    "host_table": "T2",
    "max_meetings": 7,
}


def _write(path: Path, row: dict[str, str], *, delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(row), delimiter=delimiter)
        writer.writeheader()
        writer.writerow(row)
    return path


def _fields(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        event = get_event_by_slug(session, "rueda-test")
        ana = session.exec(select(Participant).where(Participant.email == "ana@cafe.co")).one()
        values = participant_fields(session, event, [ana])[ana.id or 0]
    values["role"] = values["role"].value
    return values


def _import(engine: Engine, path: Path, now: datetime, *, clear_missing: bool = False) -> ImportResult:
    sheet = read_sheet(path)
    return run_in_transaction(
        engine,
        lambda s: import_participants(
            s,
            get_event_by_slug(s, "rueda-test"),
            sheet,
            source=path.name,
            now=now,
            clear_missing=clear_missing,
        ),
    )


def _event(engine: Engine, now: datetime) -> Event:
    with transaction(engine) as session:
        return make_event(session, now)


def test_absent_columns_keep_the_stored_fields(tmp_path: Path, engine: Engine, now: datetime) -> None:
    _event(engine, now)
    first = _import(engine, _write(tmp_path / "full.csv", FULL), now)
    assert (first.created, first.updated, first.changed_fields) == (1, 0, ())
    assert _fields(engine) == {**EXPECTED, "role": "seller"}
    later = now + timedelta(hours=1)
    result = _import(engine, _write(tmp_path / "partial.csv", PARTIAL), later)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert result.changed_fields == (("full_name", 1),)
    assert result.summary == "0 new, 1 updated: full_name (1), 0 unchanged"
    assert _fields(engine) == {**EXPECTED, "role": "seller", "full_name": "Ana María Gómez"}
    # The same partial file again changes nothing at all.
    again = _import(engine, tmp_path / "partial.csv", later + timedelta(hours=1))
    assert (again.updated, again.unchanged, again.changed_fields) == (0, 1, ())
    with Session(engine) as session:
        ana = session.exec(select(Participant)).one()
    assert ana.updated_at == later


def test_present_empty_cells_clear_and_the_summary_names_each_field(
    tmp_path: Path, engine: Engine, now: datetime
) -> None:
    _event(engine, now)
    _import(engine, _write(tmp_path / "full.csv", FULL), now)
    edit = {**PARTIAL, "full_name": FULL["full_name"], "job_title": "Directora", "phone": "", "language": ""}
    result = _import(engine, _write(tmp_path / "edit.csv", edit, delimiter=";"), now + timedelta(hours=1))
    assert result.changed_fields == (("language", 1), ("job_title", 1), ("phone", 1))
    assert result.summary == "0 new, 1 updated: language (1), job_title (1), phone (1), 0 unchanged"
    # An empty language cell means the event's default (es), as it always did.
    assert _fields(engine) == {
        **EXPECTED,
        "role": "seller",
        "job_title": "Directora",
        "phone": None,
        "language": "es",
    }


def test_clear_missing_clears_the_absent_columns(tmp_path: Path, engine: Engine, now: datetime) -> None:
    _event(engine, now)
    _import(engine, _write(tmp_path / "full.csv", FULL), now)
    result = _import(engine, _write(tmp_path / "partial.csv", PARTIAL), now, clear_missing=True)
    assert result.updated == 1
    assert dict(result.changed_fields) == {
        "full_name": 1,
        "language": 1,
        "timezone": 1,
        "job_title": 1,
        "phone": 1,
        "spoken_languages": 1,
        "offer_hs": 1,
        "offer_description": 1,
        "demand_hs": 1,
        "demand_description": 1,
        "target_markets": 1,
        "certifications": 1,
        "required_certifications": 1,
        "women_led": 1,
        "unavailable": 1,
        "host_table": 1,
        "max_meetings": 1,
    }
    # Organization text fields and sectors keep their stored value on an empty cell (as before): the
    # sectors now come from the organization, the trade lines that held them being gone.
    assert _fields(engine) == {
        **EXPECTED,
        "role": "seller",
        "full_name": "Ana María Gómez",
        "language": "es",
        "timezone": "America/Bogota",
        "job_title": None,
        "phone": None,
        "sectors": ["0127"],
        "spoken_languages": ["es"],
        "offer_hs": [],
        "offer_description": None,
        "demand_hs": [],
        "demand_description": None,
        "target_markets": [],
        "certifications": [],
        "required_certifications": [],
        "women_led": False,
        "unavailable": [],
        "host_table": None,
        "max_meetings": None,
    }


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("RUEDA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_cli_partial_reimport_and_clear_missing(runner: CliRunner, tmp_path: Path) -> None:
    from config import get_settings
    from services.db import make_engine

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            from services.events import create_event

            create_event(session, event_definition(), now=datetime.now().astimezone())
        _write(tmp_path / "full.csv", FULL)
        result = runner.invoke(app, ["import", "participants", "full.csv", "--event", "rueda-test"])
        assert result.exit_code == 0, result.output
        assert "imported 1 participants into rueda-test: 1 new, 0 updated, 0 unchanged" in result.output
        edit = {**PARTIAL, "job_title": "Directora", "phone": "+57 1 555 0101"}
        _write(tmp_path / "edit.csv", edit)
        result = runner.invoke(app, ["import", "participants", "edit.csv", "--event", "rueda-test"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == (
            "imported 1 participants into rueda-test: "
            "0 new, 1 updated: full_name (1), job_title (1), phone (1), 0 unchanged"
        )
        assert _fields(engine) == {
            **EXPECTED,
            "role": "seller",
            "full_name": "Ana María Gómez",
            "job_title": "Directora",
            "phone": "+57 1 555 0101",
        }
        result = runner.invoke(
            app, ["import", "participants", "edit.csv", "--event", "rueda-test", "--clear-missing"]
        )
        assert result.exit_code == 0, result.output
        fields = _fields(engine)
        assert (fields["timezone"], fields["host_table"], fields["offer_hs"], fields["unavailable"]) == (
            "America/Bogota",
            None,
            [],
            [],
        )
        assert (fields["job_title"], fields["phone"]) == ("Directora", "+57 1 555 0101")
    finally:
        engine.dispose()


def _people(count: int) -> list[dict[str, str]]:
    return [{**PARTIAL, "email": f"p{i}@cafe.co"} for i in range(count)]


def test_the_row_cap_is_a_setting_and_a_longer_file_writes_nothing(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config import get_settings
    from services.db import make_engine
    from services.events import create_event

    monkeypatch.setenv("RUEDA_IMPORTS__MAX_ROWS", "3")
    assert get_settings().imports.max_rows == 3
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            create_event(session, event_definition(), now=datetime.now().astimezone())
        for name, count in (("four.csv", 4), ("three.csv", 3)):
            with (tmp_path / name).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, list(PARTIAL))
                writer.writeheader()
                writer.writerows(_people(count))
        result = runner.invoke(app, ["import", "participants", "four.csv", "--event", "rueda-test"])
        assert (result.exit_code, result.output.strip()) == (
            1,
            "error: four.csv: more than 3 data rows; the row cap is the setting imports.max_rows "
            "(RUEDA_IMPORTS__MAX_ROWS)",
        )
        with Session(engine) as session:
            assert session.exec(select(Participant)).all() == []
        result = runner.invoke(app, ["import", "participants", "three.csv", "--event", "rueda-test"])
        assert result.exit_code == 0, result.output
        assert "3 new, 0 updated, 0 unchanged" in result.output
    finally:
        engine.dispose()


@pytest.mark.unit
def test_read_sheet_takes_the_cap_for_excel_and_csv(tmp_path: Path) -> None:
    from services.errors import DomainError
    from services.files import write_table

    for suffix in ("csv", "xlsx"):
        path = tmp_path / f"rows.{suffix}"
        # Fully empty rows do not count against the cap.
        write_table(path, list(PARTIAL), [list(r.values()) for r in _people(2)] + [["", ""]] * 5)
        assert len(read_sheet(path, max_rows=2).rows) == 2
        with pytest.raises(DomainError) as caught:
            read_sheet(path, max_rows=1)
        assert str(caught.value) == (
            f"{path}: more than 1 data rows; the row cap is the setting imports.max_rows "
            "(RUEDA_IMPORTS__MAX_ROWS)"
        )


@pytest.mark.unit
def test_the_row_cap_setting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from config import ImportSettings

    assert ImportSettings().max_rows == 100_000
    with pytest.raises(ValidationError):
        ImportSettings(max_rows=0)
