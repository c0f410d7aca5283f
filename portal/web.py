"""Web plumbing shared by every portal page: templates and languages, the database session, signed
cookie sessions, CSRF, security headers, rate limits and error pages.

How to use it from a router (participant pages, organizer pages):

    from portal.web import CsrfProtected, DbSession, render, run_write

    router = APIRouter(prefix="/organizer", dependencies=[CsrfProtected])

    @router.get("/things")
    def things(request: Request, db: DbSession) -> HTMLResponse:
        return render(request, "organizer/things.html", {"things": load_things(db)})

    @router.post("/things")
    def add_thing(request: Request, name: Annotated[str, Form()]) -> Response:
        run_write(request, lambda s: add_thing_service(s, name, now=utc_now()))
        return redirect(request, "/organizer/things")

- `render(request, template, context, status_code=200)`: a page from `portal/templates/` (put
  organizer pages under `portal/templates/organizer/` and extend `base.html`). Every template
  sees `request`, `lang`, `_` (translate, `_("Hello {name}", name=x)`), `csrf_input()` (the
  hidden field every POST form must contain), `csrf_token`, `public_url`, `static(path)` and
  the filters `local_datetime`, `local_date`, `local_time` (`value|local_time(tz)`).
- `CsrfProtected`: a router dependency that refuses (403) any POST, PUT, PATCH or DELETE whose
  `csrf_token` form field (or `X-CSRF-Token` header) does not match the session's token. JSON
  APIs authenticated by bearer tokens, not cookies, do not need it.
- `DbSession`: a read session for the request (closed afterwards, never committed), for routes
  that only read. Writes go through `run_write(request, work)`, one transaction retried on a lost
  unique-key race (`services.db.run_in_transaction`); services never commit. A route that writes
  reads with `run_read(request, work)` instead of `DbSession` (see run_read: SQLite locks).
- `enforce_rate_limit(request, rule, identifier)`: counts a hit in the shared database counter
  and raises 429 (with Retry-After) past the limit; `rate_rules(settings)` has the configured
  rules (`login`, `login-email`, `register`).
- Sessions: `request.session` is a signed cookie (`rueda_session`: HttpOnly, SameSite=Lax, Secure
  when the public URL is https). Participants are `session["participant_id"]`, organizers
  `session["user_id"]`. Call `start_login(request, key, value, language=...)` at login: it clears
  the old session (no fixation) and rotates the CSRF token; `logout(request)` clears it.
- `utc_now()`: the clock, read here at the entry point only (services take `now`).
- `DomainError` raised from a route becomes a page with its message (404 for NotFoundError,
  409 for ConflictError, else 400); under `/api/` errors stay JSON. A parameter or body FastAPI
  cannot validate answers 422 with `loc`, `msg` and `type` per problem, never the input
  (`portal.limits.validation_problem`); a body over `portal.max_body_bytes` answers 413.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context as JinjaContext
from markupsafe import Markup, escape
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings
from portal.i18n import LANGUAGE_NAMES, LANGUAGES, choose_language, translate
from portal.limits import BodyLimit, validation_problem
from portal.shedding import LoadShedding
from services.db import read_only, run_in_transaction
from services.domain_events import emit_pending, event_fields
from services.errors import ConflictError, DomainError, NotFoundError
from services.ratelimit import RateLimit, hit_rate_limit

T = TypeVar("T")
log = logging.getLogger("rueda.portal")

PORTAL_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PORTAL_DIR / "templates"
STATIC_DIR = PORTAL_DIR / "static"
SESSION_COOKIE = "rueda_session"
CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def utc_now() -> datetime:
    """The clock. Entry points read it; services take `now`."""
    return datetime.now(UTC)


def get_settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def db_session(request: Request) -> Iterator[Session]:
    with Session(read_only(get_engine(request)), expire_on_commit=False) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


def run_read(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in a short session that is closed before returning. Use it instead of
    `DbSession` in a route that also writes: on SQLite every transaction takes the write lock at
    BEGIN, so a read session held open for the whole request would block the request's own write."""
    with Session(read_only(get_engine(request)), expire_on_commit=False) as session:
        return work(session)


def run_write(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction, committed on success (retried on a lost unique-key race)."""
    return run_in_transaction(get_engine(request), work)


def emit_facts(request: Request) -> int:
    """Emit to Prefect, now, the facts committed so far (a desk's no-show starts its waiting-list
    refill at once). Without a Prefect API (a portal on its own) it does nothing: the
    `reconcile-events` deployment emits them within 5 minutes. Never fails the request."""
    if not os.environ.get("PREFECT_API_URL"):
        return 0
    from prefect.events import emit_event

    try:
        with Session(get_engine(request)) as session:
            return emit_pending(session, lambda fact: emit_event(**event_fields(fact)), now=utc_now())
    except Exception:  # the facts stay pending; reconcile-events emits them
        log.warning("could not emit facts to Prefect now; reconcile-events will", exc_info=True)
        return 0


def language_of(request: Request) -> str:
    cached = request.scope.get("rueda.lang")
    if isinstance(cached, str):
        return cached
    language = choose_language(request, get_settings_of(request).defaults.language)
    request.scope["rueda.lang"] = language
    return language


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe request without the session's CSRF token (synchronizer token pattern)."""
    if request.method in _SAFE_METHODS:
        return
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="csrf")


CsrfProtected = Depends(csrf_protect)


SESSION_STARTED_KEY = "since"


def start_login(request: Request, key: str, value: int, *, language: str | None = None) -> None:
    """Begin an authenticated session: drop whatever the session held, rotate the CSRF token, and
    note when it began (signing out ends the account's sessions begun before, see
    `session_started_at`)."""
    request.session.clear()
    request.session[key] = value
    request.session[SESSION_STARTED_KEY] = (utc_now() - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        microseconds=1
    )
    if language in LANGUAGES:
        request.session["profile_lang"] = language
    request.session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    request.scope.pop("rueda.lang", None)


def session_started_at(request: Request) -> datetime | None:
    """When the signed-in session began (None for a session from before this was recorded).
    Compare it with the account's `sessions_valid_after` (`session_is_current`)."""
    started = request.session.get(SESSION_STARTED_KEY)
    if not isinstance(started, int) or started <= 0:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=started)


def logout(request: Request) -> None:
    """Forget the session in this browser. To end the account's other sessions too, set its
    `sessions_valid_after` (`end_participant_sessions`, `end_user_sessions`)."""
    request.session.clear()
    request.scope.pop("rueda.lang", None)


def client_address(request: Request) -> str:
    """The client's address as the server sees it, as rate limits count it: an IPv6 client by its
    /64 network (one subscriber gets a whole /64, so counting single addresses would let them rotate
    through 2^64 of them). Behind a reverse proxy, run uvicorn with `--forwarded-allow-ips` so that
    this is the real client, not the proxy."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return host


def rate_rules(settings: Settings) -> dict[str, RateLimit]:
    window = timedelta(seconds=settings.portal.rate_limit_window_seconds)
    attempts = settings.portal.login_attempts_per_window
    return {
        "login": RateLimit("login", attempts, window),
        "login-email": RateLimit("login-email", attempts, window),
        "register": RateLimit("register", settings.portal.registrations_per_window, window),
    }


def enforce_rate_limit(request: Request, rule: RateLimit, identifier: str) -> None:
    """Count a hit (committed at once, even if the request then fails) and refuse past the limit."""
    decision = run_write(request, lambda s: hit_rate_limit(s, rule, identifier, now=utc_now()))
    if not decision.is_allowed:
        log.info("rate limit %s exceeded (%d hits)", rule.scope, decision.hits)
        raise HTTPException(
            status_code=429,
            detail="rate",
            headers={"Retry-After": str(decision.retry_after_seconds)},
        )


def redirect(path: str, status_code: int = 303) -> RedirectResponse:
    return RedirectResponse(path, status_code=status_code)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@pass_context
def _local_datetime(context: JinjaContext, value: datetime, tz: str | None = None) -> str:
    local = value.astimezone(_zone(tz))
    date_part = format_date(local.date(), "medium", locale=context["lang"])
    return f"{date_part}, {format_time(local, 'short', locale=context['lang'])}"


@pass_context
def _local_date(context: JinjaContext, value: datetime, tz: str | None = None) -> str:
    return format_date(value.astimezone(_zone(tz)).date(), "full", locale=context["lang"])


@pass_context
def _local_time(context: JinjaContext, value: datetime, tz: str | None = None) -> str:
    return format_time(value.astimezone(_zone(tz)), "short", locale=context["lang"])


@pass_context
def _csrf_input(context: JinjaContext) -> Markup:
    token = context["csrf_token"]
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


def _static(path: str) -> str:
    return f"/static/{quote(path)}"


def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: do not look at their files' times on every page.
        auto_reload=False,
    )
    environment.filters.update(local_datetime=_local_datetime, local_date=_local_date, local_time=_local_time)
    environment.globals.update(
        csrf_input=_csrf_input, static=_static, LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES
    )
    return environment


TEMPLATES = build_environment()


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    language = language_of(request)

    def _(text: str, **values: object) -> str:
        return translate(language, text, **values)

    settings = get_settings_of(request)
    values: dict[str, Any] = {
        "request": request,
        "lang": language,
        "_": _,
        "csrf_token": csrf_token(request),
        "public_url": settings.portal.public_url,
        "is_participant": "participant_id" in request.session,
        "title": None,
    }
    values.update(context or {})
    html = TEMPLATES.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _security_headers(is_https: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # Login and survey links carry secrets in their query string: never leak them onwards.
        "Referrer-Policy": "no-referrer",
        # The check-in desk scans QR codes with the camera; nothing else needs a device.
        "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if is_https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware:
    """Adds `headers` to every response that does not set them, and `Cache-Control: no-store` to
    HTML pages (they show personal data: no shared cache may keep them). Plain ASGI, not
    `BaseHTTPMiddleware`, which costs a task and a stream per request."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in self.headers if name not in present]
                content_type = next(
                    (value for name, value in message.get("headers", []) if name.lower() == b"content-type"),
                    b"",
                )
                if content_type.startswith(b"text/html") and b"cache-control" not in present:
                    added.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Load shedding, the body size limit, the signed cookie session, and security headers on
    every response."""
    is_https = settings.portal.public_url.startswith("https://")

    app.add_middleware(SecurityHeadersMiddleware, headers=_security_headers(is_https))

    # Added last, so it runs first: the session exists before any route or handler reads it.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.portal.secret_key.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.portal.session_days * 86_400,
        same_site="lax",
        https_only=is_https,
    )
    # Before the session and every route: a body over the limit is refused unread (portal/limits.py).
    app.add_middleware(BodyLimit, default=settings.portal.max_body_bytes)
    # Outermost: a request past the bound is refused before any other work (portal/shedding.py).
    app.add_middleware(
        LoadShedding,
        limit=settings.portal.threads + settings.portal.queue_limit,
        retry_after_seconds=settings.portal.retry_after_seconds,
    )


_ERROR_TEXT = {
    400: "This request could not be carried out.",
    403: "You cannot open this page.",
    404: "This page does not exist, or it is not yours.",
    409: "This conflicts with the current state.",
    429: "Too many attempts. Please wait a few minutes and try again.",
}
_CSRF_TEXT = "Your form expired. Go back, reload the page and send it again."


def install_error_pages(app: FastAPI) -> None:
    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if request.url.path.startswith("/api/") or "session" not in request.scope:
            return await http_exception_handler(request, error)
        if error.status_code in (301, 302, 303, 307) and error.headers:
            return RedirectResponse(error.headers["Location"], status_code=error.status_code)
        detail = error.detail if isinstance(error.detail, str) else ""
        if detail == "csrf":
            message = translate(language_of(request), _CSRF_TEXT)
        elif detail and detail not in ("rate", HTTPStatus(error.status_code).phrase):
            message = detail  # a route's own message, already in the page's language
        else:
            text = _ERROR_TEXT.get(error.status_code, HTTPStatus(error.status_code).phrase)
            message = translate(language_of(request), text)
        return render(
            request,
            "error.html",
            {"status": error.status_code, "message": message},
            status_code=error.status_code,
            headers=dict(error.headers or {}),
        )

    async def on_domain_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, DomainError)
        status = 404 if isinstance(error, NotFoundError) else 409 if isinstance(error, ConflictError) else 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(error)}, status_code=status)
        # Services' messages are English; the catalog holds the ones participants can meet.
        message = translate(language_of(request), str(error))
        return render(request, "error.html", {"status": status, "message": message}, status_code=status)

    async def on_validation_error(_request: Request, error: Exception) -> Response:
        # FastAPI's default answer repeats every bad input: never echo the body (portal/limits.py).
        assert isinstance(error, RequestValidationError)
        return JSONResponse(validation_problem(error.errors()), status_code=422)

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(DomainError, on_domain_error)


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
