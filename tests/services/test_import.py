"""Importing participants: validation names row and column, a bad file changes nothing,
re-importing updates in place, Spanish headings work, and exports import back unchanged."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, func, select

from cli.data_cmd import write_demo_files
from models import Organization, Participant, ParticipantRole, TradeDirection, TradeLine, Unavailability
from models.schemas import EventDefinition
from services.db import run_in_transaction, transaction
from services.demo_data import build_participant_rows
from services.errors import InputFileError, RowError
from services.events import create_event, get_event_by_slug
from services.exports import PARTICIPANT_HEADINGS, participant_table
from services.files import parse_model, read_mapping_file, read_sheet, write_table
from services.participants import _ALIAS_TO_FIELD, ImportResult, import_participants, normalize_heading

pytestmark = pytest.mark.integration


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(r) for r in connection.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1'))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def _demo(
    tmp_path: Path,
    engine: Engine,
    now: datetime,
    *,
    participants: int = 40,
    seed: int = 5,
    with_errors: bool = False,
    file_format: str = "xlsx",
) -> Path:
    event_file, people_file = write_demo_files(
        tmp_path,
        participants=participants,
        seed=seed,
        with_errors=with_errors,
        file_format=file_format,
        start_on=date(2027, 5, 19),
    )
    definition = parse_model(EventDefinition, read_mapping_file(event_file), "event")
    with transaction(engine) as session:
        if session.exec(select(func.count()).select_from(Participant)).one() == 0 and not _has_event(session):
            create_event(session, definition, now=now)
    return people_file


def _has_event(session: Session) -> bool:
    from models import Event

    return session.exec(select(Event.id)).first() is not None


def _import(engine: Engine, path: Path, now: datetime) -> ImportResult:
    sheet = read_sheet(path)
    return run_in_transaction(
        engine,
        lambda s: import_participants(
            s, get_event_by_slug(s, "macrorrueda-demo"), sheet, source=path.name, now=now
        ),
    )


def test_import_creates_participants_with_their_details(
    tmp_path: Path, engine: Engine, now: datetime
) -> None:
    path = _demo(tmp_path, engine, now)
    result = _import(engine, path, now)
    assert (result.created, result.updated, result.ignored_columns) == (40, 0, ())
    rows = build_participant_rows(40, seed=5)
    with transaction(engine) as session:
        people = session.exec(select(Participant).order_by(Participant.id)).all()
        assert [p.email for p in people] == [r["email"] for r in rows]
        assert sum(p.role is ParticipantRole.BUYER for p in people) == 12
        first = people[0]
        lines = session.exec(select(TradeLine).where(TradeLine.participant_id == first.id)).all()
        assert [(line.direction, line.hs_codes) for line in lines] == [
            (TradeDirection.DEMAND, rows[0]["demand_hs"].split(";"))
        ]
        assert first.table_id is not None
        assert first.consent_at == now and first.consent_source == "import"
        unavailable = session.exec(select(func.count()).select_from(Unavailability)).one()
    assert unavailable == sum(len(r["unavailable"].split(";")) for r in rows if r["unavailable"])


def test_reimport_updates_by_email_and_never_duplicates(
    tmp_path: Path, engine: Engine, now: datetime
) -> None:
    path = _demo(tmp_path, engine, now, file_format="csv")
    _import(engine, path, now)
    before = _snapshot(engine)
    later = now + timedelta(hours=1)
    # The same file again: nothing changes, not even a timestamp, and no fact is recorded.
    result = _import(engine, path, later)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 40)
    assert _snapshot(engine) == before
    # Two rows edited: exactly those two are updated, by email, and nothing is duplicated.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        headings, rows = list(reader.fieldnames or []), list(reader)
    job, offer = _heading(headings, "job_title"), _heading(headings, "offer_description")
    rows[2][job] = "Gerente de exportaciones"
    seller = next(i for i, row in enumerate(rows) if i != 2 and row[offer])
    rows[seller][offer] = "Café especial de origen, tostado"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, headings)
        writer.writeheader()
        writer.writerows(rows)
    result = _import(engine, path, later)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 38)
    after = _snapshot(engine)
    assert len(after["participant"]) == len(before["participant"]) == 40
    assert len(after["organization"]) == len(before["organization"])
    assert len(after["trade_line"]) == len(before["trade_line"])
    with Session(engine) as session:
        moved = session.exec(select(Participant.email).where(Participant.updated_at == later)).all()
    email = _heading(headings, "email")
    assert sorted(moved) == sorted([rows[2][email], rows[seller][email]])
    facts = _snapshot(engine)["domain_event"]
    assert len(facts) == len(before["domain_event"]) + 1


def _heading(headings: list[str], field: str) -> str:
    return next(h for h in headings if _ALIAS_TO_FIELD.get(normalize_heading(h)) == field)


def test_broken_file_reports_every_row_and_changes_nothing(
    tmp_path: Path, engine: Engine, now: datetime
) -> None:
    good = _demo(tmp_path / "good", engine, now)
    _import(engine, good, now)
    before = _snapshot(engine)
    bad = _demo(tmp_path / "bad", engine, now, with_errors=True)
    with pytest.raises(InputFileError) as caught:
        _import(engine, bad, now + timedelta(hours=1))
    first_email = build_participant_rows(40, seed=5)[0]["email"]
    assert caught.value.errors == [
        RowError(
            42,
            "Correo electrónico",
            "value is not a valid email address: There must be something after the @-sign.",
        ),
        RowError(43, "País", "'Narnia' is not an ISO 3166 country code or name"),
        RowError(44, "HS oferta", "'09A1' is not an HS code of 2, 4 or 6 digits"),
        RowError(45, "Rol", "'inversionista' is not a role (buyer/comprador, seller/vendedor, both/ambos)"),
        RowError(46, "Correo electrónico", f"{first_email} already appears in row 2"),
        RowError(47, "Consentimiento", "consent to data processing is required (Ley 1581 de 2012 / GDPR)"),
        RowError(48, "Zona horaria", "'America/Medellin' is not an IANA time zone (e.g. America/Bogota)"),
        RowError(49, "No disponible", "no slot 'd9s99' in this event"),
    ]
    assert str(caught.value) == "participants.xlsx: 8 problems found; nothing was imported"
    assert _snapshot(engine) == before


def test_missing_required_columns_are_named(tmp_path: Path, engine: Engine, now: datetime) -> None:
    _demo(tmp_path, engine, now)
    path = tmp_path / "minimal.csv"
    path.write_text("Nombre;Correo;País\nAna Gómez;ana@cafe.co;Colombia\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        _import(engine, path, now)
    assert [(e.row, e.column) for e in caught.value.errors] == [
        (1, "organization"),
        (1, "role"),
        (1, "consent"),
    ]


def test_english_excel_then_spanish_semicolon_csv_update_one_participant(
    tmp_path: Path, engine: Engine, now: datetime
) -> None:
    _demo(tmp_path, engine, now)
    path = tmp_path / "buyers.xlsx"
    write_table(
        path,
        [
            "E-mail",
            "Name",
            "Company",
            "Role",
            "Country",
            "Consent",
            "Demand HS",
            "Languages",
            "Notas internas",
        ],
        [
            [
                "Hans@Kaffee.de",
                "Hans Müller",
                "Kaffee Import GmbH",
                "buyer",
                "Alemania",
                "yes",
                901,
                "de;en",
                "VIP",
            ]
        ],
    )
    result = _import(engine, path, now)
    assert (result.created, result.updated, result.ignored_columns) == (1, 0, ("Notas internas",))
    path2 = tmp_path / "compradores.csv"
    path2.write_text(
        "Correo electrónico;Nombre completo;Empresa;Rol;País;Consentimiento;HS demanda;Idiomas;Idioma\n"
        "hans@kaffee.de;Hans Müller;Kaffee Import GmbH;comprador;DEU;sí;0901.11;de;en\n",
        encoding="utf-8",
    )
    result = _import(engine, path2, now)
    assert (result.created, result.updated) == (0, 1)
    with transaction(engine) as session:
        hans = session.exec(select(Participant).where(Participant.email == "hans@kaffee.de")).one()
        line = session.exec(select(TradeLine).where(TradeLine.participant_id == hans.id)).one()
        org = session.get(Organization, hans.organization_id)
    assert (hans.spoken_languages, hans.language, hans.timezone) == (["de"], "en", "America/Bogota")
    assert (line.direction, line.hs_codes) == (TradeDirection.DEMAND, ["090111"])
    assert org is not None and (org.country, org.legal_name) == ("DE", "Kaffee Import GmbH")


@pytest.mark.unit
def test_excel_number_keeps_the_leading_zero_of_an_hs_code(tmp_path: Path) -> None:
    path = tmp_path / "hs.xlsx"
    write_table(path, ["email", "demand_hs"], [["a@b.co", 901], ["c@d.co", 80440]])
    sheet = read_sheet(path)
    from models.schemas import _hs_list

    assert [_hs_list(raw["demand_hs"]) for _, raw in sheet.rows] == [["0901"], ["080440"]]


def test_export_imports_back_unchanged(tmp_path: Path, engine: Engine, now: datetime) -> None:
    path = _demo(tmp_path, engine, now, file_format="csv")
    _import(engine, path, now)
    with transaction(engine) as session:
        exported = participant_table(session, get_event_by_slug(session, "macrorrueda-demo"))
    out = tmp_path / "export.csv"
    write_table(out, PARTICIPANT_HEADINGS, exported)
    before = _snapshot(engine)
    result = _import(engine, out, now + timedelta(hours=1))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 40)
    assert result.ignored_columns == ("status",)
    # Every table byte-identical: the export carries everything the import sets.
    assert _snapshot(engine) == before
