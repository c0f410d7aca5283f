"""`rueda portal`: serve the participant portal, the organizer pages and the JSON API with uvicorn.

Several workers (or several machines) can serve one database: sessions are signed cookies and the
rate limits are counted in the database. Access logs stay off: URLs carry sign-in and survey tokens.
"""

from __future__ import annotations

import os

import typer
import uvicorn

from cli.common import console, database, handle_errors, load_settings
from portal.app import check_secret_key


@handle_errors
def portal_command(
    host: str | None = typer.Option(None, "--host", help="Address to listen on. Default: portal.host."),
    port: int | None = typer.Option(None, "--port", "-p", help="Port. Default: portal.port."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=64, help="Worker processes."),
) -> None:
    """Serve the portal (participants, organizers, API) on portal.host:portal.port."""
    # The workers build their own settings from the environment: pass the overrides that way.
    if host is not None:
        os.environ["RUEDA_PORTAL__HOST"] = host
    if port is not None:
        os.environ["RUEDA_PORTAL__PORT"] = str(port)
    settings = load_settings()
    # Here, before uvicorn: in its workers the refusal would be a traceback, not one line.
    check_secret_key(settings)
    with database(settings):
        pass  # fail here, with a clear message, if the database is missing or not migrated
    console.print(
        f"portal on http://{settings.portal.host}:{settings.portal.port} "
        f"(public URL {settings.portal.public_url}; Ctrl+C to stop)"
    )
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=settings.portal.host,
        port=settings.portal.port,
        workers=workers,
        proxy_headers=True,
        access_log=False,
        log_level="warning",
    )
