"""`rueda db`: create and upgrade the application database."""

from __future__ import annotations

import typer

from cli.common import console, handle_errors, load_settings
from config.settings import mask_url
from services.db import current_revision, head_revision, make_engine, upgrade_database

app = typer.Typer(help="Create or upgrade the application database.", no_args_is_help=True)


@app.command("upgrade")
@handle_errors
def upgrade(revision: str = typer.Option("head", help="Target migration revision.")) -> None:
    """Create the database, or upgrade it to the latest schema. Safe to run again."""
    settings = load_settings()
    upgrade_database(settings.database_url, revision)
    console.print(
        f"database {mask_url(settings.database_url)} is at revision [bold]{revision if revision != 'head' else head_revision()}[/bold]"
    )


@app.command("current")
@handle_errors
def current() -> None:
    """Show the database's schema revision and the code's."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if revision == head else "needs `rueda db upgrade`"
    console.print(f"database: {revision or 'empty'}   code: {head}   ({state})")
