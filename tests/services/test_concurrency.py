"""Parallel writers on PostgreSQL: imports and registrations race on the same emails and
organizations, and no participant is ever duplicated or lost."""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import func, select

from cli.data_cmd import write_demo_files
from models import Organization, Participant
from models.schemas import EventDefinition, ParticipantImport
from services.db import run_in_transaction, transaction
from services.demo_data import build_participant_rows
from services.events import create_event, get_event_by_slug
from services.files import parse_model, read_mapping_file, read_sheet
from services.participants import import_participants, register_participant

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_parallel_imports_and_registrations_never_duplicate(
    tmp_path: Path, pg_engine: Engine, now: datetime
) -> None:
    event_file, people_file = write_demo_files(
        tmp_path, participants=60, seed=9, with_errors=False, file_format="xlsx", start_on=date(2027, 5, 19)
    )
    with transaction(pg_engine) as session:
        create_event(session, parse_model(EventDefinition, read_mapping_file(event_file), "event"), now=now)
    sheet = read_sheet(people_file)
    file_emails = [r["email"] for r in build_participant_rows(60, seed=9)]
    # Registrations: 30 people who are also in the file, and 30 who are not; each registers twice.
    registrations = [
        ParticipantImport(
            email=email,
            full_name="Persona Registrada",
            organization=f"Empresa {n % 7}",
            role="seller",
            country="CO",
            consent=True,
            tax_id=f"90000000{n % 7}",
        )
        for n, email in enumerate(file_emails[:30] + [f"nuevo{n}@empresa.co" for n in range(30)])
    ] * 2
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def importer() -> None:
        barrier.wait()
        run_in_transaction(
            pg_engine,
            lambda s: import_participants(
                s, get_event_by_slug(s, "macrorrueda-demo"), sheet, source="p.xlsx", now=now
            ),
        )

    def registrar(part: int) -> None:
        barrier.wait()
        for row in registrations[part::4]:
            run_in_transaction(
                pg_engine,
                lambda s, row=row: register_participant(
                    s, get_event_by_slug(s, "macrorrueda-demo"), row, now=now
                ),
                attempts=8,
            )

    def guarded(target: object, *args: object) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)  # type: ignore[operator]
            except BaseException as error:  # collected and re-raised in the main thread
                failures.append(error)

        return threading.Thread(target=run)

    threads = [guarded(importer), guarded(importer)] + [guarded(registrar, part) for part in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with transaction(pg_engine) as session:
        emails = session.exec(select(Participant.email)).all()
        tax_ids = session.exec(select(Organization.tax_id).where(Organization.tax_id.like("90000000%"))).all()  # type: ignore[union-attr]
        total = session.exec(select(func.count()).select_from(Participant)).one()
    assert total == len(set(emails)) == 90
    assert sorted(emails) == sorted(set(file_emails) | {f"nuevo{n}@empresa.co" for n in range(30)})
    assert sorted(tax_ids) == [f"90000000{n}" for n in range(7)]
