"""The portal application: participant pages, organizer pages and the JSON API in one FastAPI app.

`create_app(settings, engine)` builds it; `python -m portal` serves it with uvicorn on
`settings.portal.host:port`. The engine defaults to the configured database, which must be
migrated (`rueda db upgrade`). Several processes may serve the same database: sessions are signed
cookies and rate limits live in the database, so no process holds state of its own (only a
few seconds' cache of each event's catalog listings, `portal.catalog_cache_seconds`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

from config import Settings, get_settings
from portal import api, organizer, participant
from portal.web import install_error_pages, install_middleware, mount_static
from services.db import open_database
from services.errors import DomainError
from services.participant_catalog import DirectoryCache

DEFAULT_SECRET = "dev-insecure-change-me"
MIN_SECRET_LENGTH = 32


def is_loopback(host: str | None) -> bool:
    """True for an address only this machine can reach: 127.0.0.0/8, ::1 (also as [::1] or
    IPv4-mapped ::ffff:127.x) and the name `localhost`. Everything else, 0.0.0.0 and :: included,
    may be reachable from the network."""
    if not host:
        return False
    name = host.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def check_secret_key(settings: Settings) -> None:
    """Refuse a guessable signing key unless the portal is only reachable on this machine, that is
    unless BOTH its bind address (`portal.host`) is loopback and its public URL is a plain-http
    loopback URL: the key signs sessions, sign-in links, calendar feeds and check-in codes, so with
    the public default anyone who can reach the port could forge an organizer's session. Runs on
    every way the portal starts (`create_app`, `rueda portal` before its workers, `python -m portal`)."""
    secret = settings.portal.secret_key.get_secret_value()
    if secret != DEFAULT_SECRET and len(secret) >= MIN_SECRET_LENGTH:
        return
    url = urlsplit(settings.portal.public_url)
    if is_loopback(settings.portal.host) and url.scheme == "http" and is_loopback(url.hostname):
        return
    raise DomainError(
        f"portal.secret_key must be a random value of at least {MIN_SECRET_LENGTH} characters when the "
        f"portal listens on {settings.portal.host} and is served at {settings.portal.public_url}: set "
        "RUEDA_PORTAL__SECRET_KEY (for example to the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
    )


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_secret_key(settings)
    if engine is None:
        # One pooled connection per thread, so that the pool never opens and closes connections
        # under load (SQLAlchemy closes overflow connections as soon as they are returned).
        engine = open_database(
            settings.database_url,
            echo=settings.database.echo,
            pool_size=max(settings.database.pool_size, settings.portal.threads),
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Page handlers are synchronous and run in AnyIO's thread pool (40 threads by default).
        # More threads than pooled connections only queue inside the pool, where a wait longer than
        # its timeout becomes an error page; on few cores they also fight over the GIL. Requests
        # beyond `threads` wait in the event loop instead.
        to_thread.current_default_thread_limiter().total_tokens = settings.portal.threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Rueda",
        summary="Business matchmaking events: participant portal, organizer pages and the integration API.",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.directories = DirectoryCache(settings.portal.catalog_cache_seconds)
    install_middleware(app, settings)
    install_error_pages(app)
    mount_static(app)
    app.include_router(participant.router)
    app.include_router(organizer.router)
    app.include_router(api.router)
    return app
