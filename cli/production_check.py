"""`rueda up --production-check`: is this configuration fit for the production topology of
docs/deployment.md? Each check says pass, fail (with a one-line fix) or skip (not knowable from
here), and the command exits 1 when any check fails.

The checks connect to what the configuration names (PostgreSQL, the Prefect API, Redis, the SMTP
server) but change nothing: a `SELECT`, an HTTP GET, a Redis PING, an SMTP EHLO and QUIT.
`run_checks` is pure apart from that I/O, and returns the results for `print_results` to show.
"""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from config import Settings
from config.settings import mask_url

DEFAULT_SECRET_KEY = "dev-insecure-change-me"
MIN_SECRET_KEY_LENGTH = 32
TIMEOUT = 5.0
REDIS_MODULE = "prefect_redis.messaging"
REDIS_LEASE_STORAGE = "prefect_redis.lease_storage"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""


def _pass(name: str, detail: str) -> CheckResult:
    return CheckResult(name, "pass", detail)


def _fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, "fail", detail, fix)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return (text.splitlines() or [type(error).__name__])[0]


# -- the application database ------------------------------------------------------------------


def check_database(settings: Settings) -> list[CheckResult]:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from services.db import current_revision, head_revision

    url = settings.database_url
    fix_url = "set RUEDA_DATABASE__URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/rueda"
    if not url.startswith("postgresql"):
        return [
            _fail("database is PostgreSQL", f"{mask_url(url)} is not PostgreSQL", fix_url),
            _fail("database reachable", "not checked: the database is not PostgreSQL", fix_url),
            _fail(
                "database at the code's migration head",
                "not checked: the database is not PostgreSQL",
                fix_url,
            ),
        ]
    results = [_pass("database is PostgreSQL", mask_url(url))]
    engine = create_engine(url, connect_args={"connect_timeout": int(TIMEOUT)}, pool_pre_ping=False)
    try:
        try:
            revision = current_revision(engine)
        except SQLAlchemyError as error:
            fix = "start PostgreSQL, create the database, or correct RUEDA_DATABASE__URL"
            return [
                *results,
                _fail("database reachable", _first_line(error), fix),
                _fail(
                    "database at the code's migration head", "not checked: the database is not reachable", fix
                ),
            ]
        results.append(_pass("database reachable", "connected"))
        head = head_revision()
        if revision == head:
            results.append(_pass("database at the code's migration head", f"revision {head}"))
        else:
            results.append(
                _fail(
                    "database at the code's migration head",
                    f"revision {revision or 'empty'}, the code needs {head}",
                    "run `rueda db upgrade` with this configuration",
                )
            )
        return results
    finally:
        engine.dispose()


# -- the Prefect API, server and work pool --------------------------------------------------------


def _get_json(url: str, environ: Mapping[str, str]) -> tuple[int, Any]:
    """GET `url` with the Prefect API's basic auth when configured; (status, JSON body or None)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    auth = environ.get("PREFECT_API_AUTH_STRING")
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read()
            return int(response.status), json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        return int(error.code), None


def check_prefect(settings: Settings, environ: Mapping[str, str]) -> tuple[list[CheckResult], dict[str, Any]]:
    """The API checks, and the server settings the API reports (for the Redis check)."""
    api_url = (environ.get("PREFECT_API_URL") or settings.prefect.api_url or "").rstrip("/")
    names = (
        "Prefect API reachable",
        "Prefect server database is PostgreSQL",
        "Prefect messaging on Redis",
        f"work pool {settings.prefect.work_pool!r} exists",
    )
    if not api_url:
        fix = "set PREFECT_API_URL=https://prefect.example.org/api (the API of `prefect server start --no-services`)"
        return [
            _fail("PREFECT_API_URL set", "not set: `rueda up` would start a local SQLite server", fix),
            *(_fail(name, "not checked: PREFECT_API_URL is not set", fix) for name in names),
        ], {}
    results = [_pass("PREFECT_API_URL set", api_url)]
    try:
        status, _ = _get_json(f"{api_url}/health", environ)
    except (urllib.error.URLError, OSError) as error:
        status, problem = 0, _first_line(getattr(error, "reason", error) or error)
    else:
        problem = f"HTTP {status} from {api_url}/health"
    if status != 200:
        fix = "start `prefect server start --no-services` there, or correct PREFECT_API_URL"
        return [
            *results,
            _fail(names[0], problem, fix),
            *(_fail(name, "not checked: the Prefect API does not answer", fix) for name in names[1:]),
        ], {}
    results.append(_pass(names[0], f"{api_url}/health answers"))
    status, server_settings = _get_json(f"{api_url}/admin/settings", environ)
    server = (server_settings or {}).get("server", {}) if status == 200 else {}
    results.append(_check_prefect_database(server, environ))
    results.append(_check_prefect_messaging(server))
    results.append(_check_work_pool(api_url, settings.prefect.work_pool, environ))
    return results, server


def _check_prefect_database(server: Mapping[str, Any], environ: Mapping[str, str]) -> CheckResult:
    name = "Prefect server database is PostgreSQL"
    fix = "set PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://USER:PASSWORD@HOST:5432/prefect on the server"
    database = server.get("database", {}) if isinstance(server, Mapping) else {}
    driver = database.get("driver") if isinstance(database, Mapping) else None
    if driver:
        if str(driver).startswith("postgresql"):
            return _pass(name, f"the API reports driver {driver}")
        return _fail(name, f"the API reports driver {driver}", fix)
    local = environ.get("PREFECT_API_DATABASE_CONNECTION_URL")
    if local:
        if local.startswith("postgresql"):
            return _pass(name, f"PREFECT_API_DATABASE_CONNECTION_URL here is {mask_url(local)}")
        return _fail(name, f"PREFECT_API_DATABASE_CONNECTION_URL here is {mask_url(local)}", fix)
    return CheckResult(
        name,
        "skip",
        "the API hides its database URL; set PREFECT_API_DATABASE_CONNECTION_URL here to check it",
    )


def _check_prefect_messaging(server: Mapping[str, Any]) -> CheckResult:
    name = "Prefect messaging on Redis"
    events = server.get("events", {}) if isinstance(server, Mapping) else {}
    if not events:
        return CheckResult(name, "skip", "the API does not report its settings (GET /admin/settings)")
    found = {
        "PREFECT_MESSAGING_BROKER": events.get("messaging_broker"),
        "PREFECT_MESSAGING_CACHE": events.get("messaging_cache"),
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": server.get("concurrency", {}).get("lease_storage"),
    }
    wanted = {
        "PREFECT_MESSAGING_BROKER": REDIS_MODULE,
        "PREFECT_MESSAGING_CACHE": REDIS_MODULE,
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": REDIS_LEASE_STORAGE,
    }
    wrong = [f"{key}={found[key]}" for key in wanted if found[key] != wanted[key]]
    docket = str(server.get("docket", {}).get("url", ""))
    if not docket.startswith(("redis://", "rediss://", "redis+sentinel://", "rediss+sentinel://")):
        wrong.append(f"PREFECT_SERVER_DOCKET_URL={docket}")
    if wrong:
        return _fail(
            name,
            "the server uses " + ", ".join(wrong),
            "set the prefect_redis settings of docs/deployment.md on the API and services processes",
        )
    return _pass(name, "broker, cache and lease storage are prefect_redis; docket on Redis")


def _check_work_pool(api_url: str, pool: str, environ: Mapping[str, str]) -> CheckResult:
    name = f"work pool {pool!r} exists"
    status, body = _get_json(f"{api_url}/work_pools/{pool}", environ)
    if status == 404:
        return _fail(
            name, "not found", "run `python -m flows.deploy` (creates the pool and registers the deployments)"
        )
    if status != 200 or not isinstance(body, Mapping):
        return _fail(
            name, f"HTTP {status} from {api_url}/work_pools/{pool}", "check PREFECT_API_URL and its auth"
        )
    if body.get("type") != "process":
        return _fail(
            name,
            f"its type is {body.get('type')!r}",
            "delete it and run `python -m flows.deploy` (type process)",
        )
    return _pass(name, "type process")


# -- Redis ---------------------------------------------------------------------------------------


def check_redis(server: Mapping[str, Any], environ: Mapping[str, str]) -> CheckResult:
    import redis

    name = "Redis reachable"
    url = environ.get("PREFECT_REDIS_MESSAGING_URL") or str(server.get("docket", {}).get("url", ""))
    if not url.startswith(("redis://", "rediss://")):
        return _fail(
            name,
            "no Redis URL: PREFECT_REDIS_MESSAGING_URL is not set and the API reports none",
            "set PREFECT_REDIS_MESSAGING_URL=redis://HOST:6379/0 (and the same PREFECT_SERVER_DOCKET_URL)",
        )
    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as error:
        return _fail(
            name,
            f"{mask_url(url)}: {_first_line(error)}",
            "start Redis or correct PREFECT_REDIS_MESSAGING_URL",
        )
    finally:
        client.close()
    return _pass(name, f"{mask_url(url)} answers PING")


# -- SMTP, portal ------------------------------------------------------------------------------


def check_smtp(settings: Settings) -> list[CheckResult]:
    smtp = settings.smtp
    if not smtp.host:
        fix = "set RUEDA_SMTP__HOST, __PORT, __SECURITY, __USERNAME, __PASSWORD to your provider's"
        return [
            _fail("SMTP host set", "not set: `rueda up` would run the local mail sink", fix),
            _fail("SMTP server answers EHLO", "not checked: no SMTP host", fix),
        ]
    address = f"{smtp.host}:{smtp.port}"
    results = [_pass("SMTP host set", f"{address}, security {smtp.security}")]
    fix = "check RUEDA_SMTP__HOST, __PORT and __SECURITY against your provider's settings"
    try:
        client: smtplib.SMTP
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT)
        try:
            code, _ = client.ehlo()
            starttls = client.has_extn("starttls")
        finally:
            try:
                client.quit()
            except smtplib.SMTPException:
                client.close()
    except (OSError, smtplib.SMTPException) as error:
        return [*results, _fail("SMTP server answers EHLO", f"{address}: {_first_line(error)}", fix)]
    if code != 250:
        return [*results, _fail("SMTP server answers EHLO", f"{address} answered EHLO with {code}", fix)]
    if smtp.security == "starttls" and not starttls:
        return [*results, _fail("SMTP server answers EHLO", f"{address} does not offer STARTTLS", fix)]
    if smtp.security == "none" and smtp.host not in LOOPBACK:
        return [
            *results,
            _fail(
                "SMTP server answers EHLO",
                f"{address} answers, but security is none: mail and password cross the network in clear",
                "set RUEDA_SMTP__SECURITY=starttls (port 587) or tls (port 465)",
            ),
        ]
    return [*results, _pass("SMTP server answers EHLO", f"{address} answers EHLO")]


def check_portal(settings: Settings) -> list[CheckResult]:
    portal = settings.portal
    key = portal.secret_key.get_secret_value()
    fix_key = 'set RUEDA_PORTAL__SECRET_KEY to a random value: python -c "import secrets; print(secrets.token_urlsafe(48))"'
    if key == DEFAULT_SECRET_KEY:
        secret = _fail("portal secret key", "the default development key", fix_key)
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        secret = _fail(
            "portal secret key", f"{len(key)} characters, fewer than {MIN_SECRET_KEY_LENGTH}", fix_key
        )
    else:
        secret = _pass("portal secret key", f"{len(key)} characters, not the default")
    fix_url = "set RUEDA_PORTAL__BASE_URL=https://your.domain (the address behind the reverse proxy)"
    if not portal.base_url:
        base = _fail("portal base URL is https", "not set: links in emails would point to 127.0.0.1", fix_url)
    elif urlsplit(portal.base_url).scheme != "https" or not urlsplit(portal.base_url).hostname:
        base = _fail("portal base URL is https", f"{portal.base_url} is not an https URL", fix_url)
    else:
        base = _pass("portal base URL is https", portal.base_url)
    return [secret, base]


# -- all of it ---------------------------------------------------------------------------------


def run_checks(settings: Settings, environ: Mapping[str, str]) -> list[CheckResult]:
    results = check_database(settings)
    prefect, server = check_prefect(settings, environ)
    results += prefect
    results.append(check_redis(server, environ))
    results += check_smtp(settings)
    results += check_portal(settings)
    return results


def format_results(results: list[CheckResult]) -> list[str]:
    """One line per check (`PASS  name: detail`), and a `fix:` line under each failure."""
    lines = []
    for result in results:
        lines.append(f"{result.status.upper():<4}  {result.name}: {result.detail}")
        if result.fix:
            lines.append(f"      fix: {result.fix}")
    failed = sum(1 for r in results if r.status == "fail")
    lines.append(
        f"{len(results)} checks: {len(results) - failed - sum(1 for r in results if r.status == 'skip')} passed,"
        f" {failed} failed, {sum(1 for r in results if r.status == 'skip')} skipped"
    )
    return lines


def production_check(settings: Settings, environ: Mapping[str, str]) -> int:
    """Print every check; the exit code: 1 when any failed, else 0."""
    from cli.common import console

    results = run_checks(settings, environ)
    for line in format_results(results):
        style = (
            "red" if line.startswith(("FAIL", "      fix:")) else "green" if line.startswith("PASS") else ""
        )
        console.print(line, style=style, markup=False, soft_wrap=True)
    return 1 if any(r.status == "fail" for r in results) else 0
