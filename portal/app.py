"""The portal application: participant pages, organizer pages and the JSON API in one FastAPI app.

`create_app(settings, engine)` builds it; `python -m portal` serves it with uvicorn on
`settings.portal.host:port`. The engine defaults to the configured database, which must be
migrated (`rueda db upgrade`). Several processes may serve the same database: sessions are signed
cookies and rate limits live in the database, so no process holds state of its own.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from config import Settings, get_settings
from portal import api, organizer, participant
from portal.web import install_error_pages, install_middleware, mount_static
from services.db import open_database


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    if engine is None:
        engine = open_database(
            settings.database_url, echo=settings.database.echo, pool_size=settings.database.pool_size
        )
    app = FastAPI(
        title="Rueda",
        summary="Business matchmaking events: participant portal, organizer pages and the integration API.",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    install_middleware(app, settings)
    install_error_pages(app)
    mount_static(app)
    app.include_router(participant.router)
    app.include_router(organizer.router)
    app.include_router(api.router)
    return app
