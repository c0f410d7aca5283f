"""`rueda demo`: the main job on a fresh machine. Today it generates a macrorrueda, creates the
database and the event, and imports the participants; the lifecycle flows extend it (issue 5)."""

from __future__ import annotations

import time
from datetime import date

import typer
from sqlmodel import Session

from cli.common import console, handle_errors, load_settings, utc_now
from cli.data_cmd import write_demo_files
from models.schemas import EventDefinition
from services.db import open_database, run_in_transaction, upgrade_database
from services.errors import NotFoundError
from services.events import create_event, get_event_by_slug, update_event
from services.files import parse_model, read_mapping_file, read_sheet
from services.participants import import_participants


@handle_errors
def demo(
    participants: int = typer.Option(
        300, "--participants", "-n", min=2, max=20_000, help="Size of the rueda."
    ),
    seed: int = typer.Option(1, "--seed", "-s", help="Random seed of the generated data."),
) -> None:
    """Run the demo: generate a macrorrueda, create the event and import its participants."""
    settings = load_settings()
    folder = settings.data_dir / "demo"
    started = time.perf_counter()
    event_file, people_file = write_demo_files(
        folder,
        participants=participants,
        seed=seed,
        with_errors=False,
        file_format="xlsx",
        start_on=date(2027, 5, 19),
    )
    generated = time.perf_counter()
    upgrade_database(settings.database_url)
    engine = open_database(settings.database_url)
    definition = parse_model(EventDefinition, read_mapping_file(event_file), str(event_file))

    def upsert_event(session: Session) -> str:
        try:
            get_event_by_slug(session, definition.slug)
        except NotFoundError:
            return create_event(session, definition, now=utc_now()).slug
        return update_event(session, definition, now=utc_now()).slug

    try:
        slug = run_in_transaction(engine, upsert_event)
        sheet = read_sheet(people_file)
        result = run_in_transaction(
            engine,
            lambda s: import_participants(
                s, get_event_by_slug(s, slug), sheet, source=people_file.name, now=utc_now()
            ),
        )
    finally:
        engine.dispose()
    done = time.perf_counter()
    console.print(
        f"[bold green]demo ready[/bold green]: event [bold]{slug}[/bold] with {result.total} participants "
        f"({result.created} new, {result.updated} updated)"
    )
    console.print(
        f"  generated in {generated - started:.1f} s, database and import in {done - generated:.1f} s"
    )
    console.print(f"  files: {event_file}, {people_file}")
    console.print(f"  database: {settings.database_url}")
    console.print(
        f"  look next: rueda event show {slug}   rueda export participants --event {slug} --out participants.csv"
    )
