"""The known event, built once per test module on a SQLite copy of the migrated template (building it
takes about a second, rendering its files a few more); tests that need both backends use the
`engine` fixture instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.db import make_engine, transaction
from services.report import OutcomeReport, ReportInput, compute_report, load_report_input
from services.report_render import ReportFiles, write_report_files
from tests.conftest import NOW
from tests.surveys.known_event import KnownEvent, build_known_event


@pytest.fixture(scope="module")
def known_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, KnownEvent]:
    """The database URL of the known event, and its ids."""
    path = tmp_path_factory.mktemp("known") / "rueda.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        return url, build_known_event(engine, NOW)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def known_input(known_db: tuple[str, KnownEvent]) -> tuple[KnownEvent, ReportInput]:
    url, event = known_db
    engine = make_engine(url)
    try:
        # Load and leave: an open SQLite transaction holds the write lock (BEGIN IMMEDIATE).
        with transaction(engine) as session:
            data = load_report_input(session, event.event_id)
    finally:
        engine.dispose()
    return event, data


@pytest.fixture(scope="module")
def known(known_input: tuple[KnownEvent, ReportInput]) -> tuple[KnownEvent, OutcomeReport]:
    event, data = known_input
    return event, compute_report(data, now=NOW)


@pytest.fixture(scope="module")
def known_files(
    known: tuple[KnownEvent, OutcomeReport], tmp_path_factory: pytest.TempPathFactory
) -> ReportFiles:
    return write_report_files(known[1], tmp_path_factory.mktemp("report"))
