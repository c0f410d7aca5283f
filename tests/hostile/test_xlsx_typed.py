"""A spreadsheet typed in Excel or LibreOffice, not written by our export (issue 13): numbers,
booleans and dates in cells. A phone, a tax id and an HS code typed as numbers import as the text
the organizer sees; "TRUE" in the consent column is consent; an HS code whose leading zero the
spreadsheet dropped gets it back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import Organization, Participant, TradeLine
from services.db import transaction
from services.files import read_sheet
from services.participants import import_participants
from tests.factories import make_event

pytestmark = pytest.mark.integration

NOW = datetime(2027, 4, 1, 15, 0, tzinfo=UTC)


def test_typed_cells_import_as_the_text_the_organizer_sees(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        ["email", "nombre", "empresa", "rol", "pais", "consentimiento", "telefono", "nit", "hs_oferta"]
    )
    sheet.append(
        ["ana@cafe.co", "Ana Gómez", "Café SAS", "vendedor", "CO", True, 3105550101, 900123456, 90111]
    )
    sheet.append(["bob@cafe.co", "Bob Ray", "Ray LLC", "comprador", "US", "sí", 5550101, None, "0901"])
    workbook.save(path)
    with transaction(engine) as session:
        event = make_event(session, NOW)
        result = import_participants(session, event, read_sheet(path), source=path.name, now=NOW)
    assert (result.created, result.updated) == (2, 0)
    with Session(engine) as session:
        rows = session.exec(
            select(Participant.email, Participant.phone, Organization.tax_id, Participant.consent_at)
            .join(Organization, col(Organization.id) == col(Participant.organization_id))
            .order_by(col(Participant.email))
        ).all()
        codes = session.exec(select(TradeLine.hs_codes).order_by(col(TradeLine.participant_id))).all()
    assert [(e, p, t, c is not None) for e, p, t, c in rows] == [
        ("ana@cafe.co", "3105550101", "900123456", True),
        ("bob@cafe.co", "5550101", None, True),
    ]
    assert codes == [["090111"], ["0901"]]
