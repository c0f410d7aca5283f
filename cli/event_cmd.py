"""`rueda event`: create, update and inspect events from definition files.

The database layer is imported inside each command (cli/lazy.py: light commands start fast)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cli.common import console, database, handle_errors, utc_now

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from models.schemas import EventDefinition

app = typer.Typer(help="Create, update and inspect events.", no_args_is_help=True)

FILE_OPTION = typer.Option(..., "--file", "-f", exists=False, help="Event definition: .toml, .yaml or .json.")


def _load(path: Path) -> EventDefinition:
    from models.schemas import EventDefinition
    from services.files import parse_model, read_mapping_file

    return parse_model(EventDefinition, read_mapping_file(path), str(path))


@app.command("create")
@handle_errors
def create(file: Path = FILE_OPTION) -> None:
    """Create an event, its time slots and its tables from a definition file."""
    from services.db import run_in_transaction
    from services.events import create_event

    definition = _load(file)
    with database() as engine:
        event = run_in_transaction(engine, lambda s: create_event(s, definition, now=utc_now()))
        _print_summary(engine, event.slug, "created")


@app.command("update")
@handle_errors
def update(file: Path = FILE_OPTION) -> None:
    """Update an event from its definition file (matched by slug); slots in use are kept."""
    from services.db import run_in_transaction
    from services.events import update_event

    definition = _load(file)
    with database() as engine:
        event = run_in_transaction(engine, lambda s: update_event(s, definition, now=utc_now()))
        _print_summary(engine, event.slug, "updated")


@app.command("list")
@handle_errors
def list_() -> None:
    """List the events."""
    from sqlmodel import func, select

    from models import Participant
    from services.db import transaction
    from services.events import list_events

    with database() as engine, transaction(engine) as session:
        table = Table("slug", "name", "kind", "dates", "status", "participants")
        for event in list_events(session):
            count = session.exec(
                select(func.count()).select_from(Participant).where(Participant.event_id == event.id)
            ).one()
            table.add_row(
                event.slug,
                event.name,
                event.kind.value,
                f"{event.starts_on} – {event.ends_on}",
                event.status.value,
                str(count),
            )
        console.print(table)


@app.command("show")
@handle_errors
def show(slug: str = typer.Argument(..., help="The event's slug.")) -> None:
    """Show one event: dates, slots, tables and participants."""
    with database() as engine:
        _print_summary(engine, slug, None)


def _print_summary(engine: Engine, slug: str, verb: str | None) -> None:
    from sqlmodel import func, select

    from models import Event, EventTable, Participant, TimeSlot
    from services.db import transaction
    from services.events import get_event_by_slug

    with transaction(engine) as session:
        event: Event = get_event_by_slug(session, slug)
        slots = session.exec(
            select(func.count()).select_from(TimeSlot).where(TimeSlot.event_id == event.id)
        ).one()
        tables = session.exec(
            select(func.count()).select_from(EventTable).where(EventTable.event_id == event.id)
        ).one()
        people = session.exec(
            select(func.count()).select_from(Participant).where(Participant.event_id == event.id)
        ).one()
        days = (event.ends_on - event.starts_on).days + 1
        head = f"event [bold]{event.slug}[/bold] {verb}: " if verb else f"[bold]{event.slug}[/bold]: "
        console.print(
            f"{head}{event.name} ({event.kind.value}, {event.status.value}), {event.starts_on} – {event.ends_on} "
            f"in {event.timezone}; {days} day(s), {slots} slots of {event.slot_minutes} min, {tables} tables, "
            f"{people} participants; meetings per participant {event.min_meetings}–{event.max_meetings}"
        )
