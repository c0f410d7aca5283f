"""`rueda up --production-check` against real services: the local PostgreSQL, Redis and an SMTP
sink, and closed ports for what is down. A configuration that passes every check, with a Prefect
server on PostgreSQL and Redis, is proven in tests/multiprocess/test_lifecycle.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from cli.production_check import (
    CheckResult,
    check_database,
    check_portal,
    check_prefect,
    check_redis,
    check_smtp,
    format_results,
    run_checks,
)
from config import DatabaseSettings, PortalSettings, Settings, SmtpSettings
from notifications.sink import MailSink
from services.db import head_revision
from tests.conftest import PG_ADMIN_DSN

pytestmark = pytest.mark.integration

GOOD_KEY = "k" * 48
FIX_DB_URL = "set RUEDA_DATABASE__URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/rueda"
FIX_API = (
    "set PREFECT_API_URL=https://prefect.example.org/api (the API of `prefect server start --no-services`)"
)
FIX_SMTP = "set RUEDA_SMTP__HOST, __PORT, __SECURITY, __USERNAME, __PASSWORD to your provider's"
FIX_KEY = 'set RUEDA_PORTAL__SECRET_KEY to a random value: python -c "import secrets; print(secrets.token_urlsafe(48))"'
FIX_BASE = "set RUEDA_PORTAL__BASE_URL=https://your.domain (the address behind the reverse proxy)"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come from the arguments only: no RUEDA_/PREFECT_ variable left by another test, no
    `.env` or `rueda.toml` of the working directory."""
    for name in list(os.environ):
        if name.startswith(("RUEDA_", "PREFECT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail", port=closed_port()) as running:
        yield running


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    name = f"rueda_mp_check_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_default_configuration_fails_every_check_with_its_fix(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    results = run_checks(settings, {})
    sqlite = f"sqlite:///{tmp_path / 'rueda.db'}"
    assert results == [
        CheckResult("database is PostgreSQL", "fail", f"{sqlite} is not PostgreSQL", FIX_DB_URL),
        CheckResult("database reachable", "fail", "not checked: the database is not PostgreSQL", FIX_DB_URL),
        CheckResult(
            "database at the code's migration head",
            "fail",
            "not checked: the database is not PostgreSQL",
            FIX_DB_URL,
        ),
        CheckResult(
            "PREFECT_API_URL set", "fail", "not set: `rueda up` would start a local SQLite server", FIX_API
        ),
        CheckResult("Prefect API reachable", "fail", "not checked: PREFECT_API_URL is not set", FIX_API),
        CheckResult(
            "Prefect server database is PostgreSQL",
            "fail",
            "not checked: PREFECT_API_URL is not set",
            FIX_API,
        ),
        CheckResult("Prefect messaging on Redis", "fail", "not checked: PREFECT_API_URL is not set", FIX_API),
        CheckResult(
            "work pool 'rueda-process' exists", "fail", "not checked: PREFECT_API_URL is not set", FIX_API
        ),
        CheckResult(
            "Redis reachable",
            "fail",
            "no Redis URL: PREFECT_REDIS_MESSAGING_URL is not set and the API reports none",
            "set PREFECT_REDIS_MESSAGING_URL=redis://HOST:6379/0 (and the same PREFECT_SERVER_DOCKET_URL)",
        ),
        CheckResult("SMTP host set", "fail", "not set: `rueda up` would run the local mail sink", FIX_SMTP),
        CheckResult("SMTP server answers EHLO", "fail", "not checked: no SMTP host", FIX_SMTP),
        CheckResult("portal secret key", "fail", "the default development key", FIX_KEY),
        CheckResult(
            "portal base URL is https", "fail", "not set: links in emails would point to 127.0.0.1", FIX_BASE
        ),
    ]
    lines = format_results(results)
    assert lines[:2] == [
        f"FAIL  database is PostgreSQL: {sqlite} is not PostgreSQL",
        f"      fix: {FIX_DB_URL}",
    ]
    assert lines[-1] == "13 checks: 0 passed, 13 failed, 0 skipped"


@pytest.mark.postgres
def test_a_migrated_postgresql_database_passes(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database=DatabaseSettings(url=postgres_url))
    assert check_database(settings) == [
        CheckResult("database is PostgreSQL", "pass", postgres_url),
        CheckResult("database reachable", "pass", "connected"),
        CheckResult("database at the code's migration head", "pass", f"revision {head_revision()}"),
    ]


@pytest.mark.postgres
def test_an_empty_postgresql_database_needs_the_migrations(empty_pg_database: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database=DatabaseSettings(url=empty_pg_database))
    assert check_database(settings)[1:] == [
        CheckResult("database reachable", "pass", "connected"),
        CheckResult(
            "database at the code's migration head",
            "fail",
            f"revision empty, the code needs {head_revision()}",
            "run `rueda db upgrade` with this configuration",
        ),
    ]


def test_an_unreachable_postgresql_database_fails(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql+psycopg://rueda:secret@127.0.0.1:{port}/rueda"
    settings = Settings(data_dir=tmp_path, database=DatabaseSettings(url=url))
    fix = "start PostgreSQL, create the database, or correct RUEDA_DATABASE__URL"
    assert check_database(settings) == [
        # The password never shows.
        CheckResult(
            "database is PostgreSQL", "pass", f"postgresql+psycopg://rueda:**********@127.0.0.1:{port}/rueda"
        ),
        CheckResult(
            "database reachable",
            "fail",
            f'connection failed: connection to server at "127.0.0.1", port {port} failed: Connection refused',
            fix,
        ),
        CheckResult(
            "database at the code's migration head", "fail", "not checked: the database is not reachable", fix
        ),
    ]


def test_an_unreachable_prefect_api_fails_with_the_checks_that_need_it(tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api"
    results, server = check_prefect(Settings(data_dir=tmp_path), {"PREFECT_API_URL": api + "/"})
    fix = "start `prefect server start --no-services` there, or correct PREFECT_API_URL"
    assert server == {}
    assert results == [
        CheckResult("PREFECT_API_URL set", "pass", api),
        CheckResult("Prefect API reachable", "fail", "[Errno 111] Connection refused", fix),
        CheckResult(
            "Prefect server database is PostgreSQL",
            "fail",
            "not checked: the Prefect API does not answer",
            fix,
        ),
        CheckResult(
            "Prefect messaging on Redis", "fail", "not checked: the Prefect API does not answer", fix
        ),
        CheckResult(
            "work pool 'rueda-process' exists", "fail", "not checked: the Prefect API does not answer", fix
        ),
    ]


def test_redis_answers_or_fails() -> None:
    assert check_redis({}, {"PREFECT_REDIS_MESSAGING_URL": "redis://127.0.0.1:6379/0"}) == CheckResult(
        "Redis reachable", "pass", "redis://127.0.0.1:6379/0 answers PING"
    )
    # Without the variable, the docket URL the API reports is used.
    assert check_redis({"docket": {"url": "redis://127.0.0.1:6379/3"}}, {}).status == "pass"
    port = closed_port()
    assert check_redis({}, {"PREFECT_REDIS_MESSAGING_URL": f"redis://:pw@127.0.0.1:{port}/0"}) == CheckResult(
        "Redis reachable",
        "fail",
        f"redis://:**********@127.0.0.1:{port}/0: Error 111 connecting to 127.0.0.1:{port}. Connection refused.",
        "start Redis or correct PREFECT_REDIS_MESSAGING_URL",
    )


def test_smtp_answers_ehlo_or_fails(sink: MailSink, tmp_path: Path) -> None:
    good = Settings(data_dir=tmp_path, smtp=SmtpSettings(host="127.0.0.1", port=sink.port))
    assert check_smtp(good) == [
        CheckResult("SMTP host set", "pass", f"127.0.0.1:{sink.port}, security none"),
        CheckResult("SMTP server answers EHLO", "pass", f"127.0.0.1:{sink.port} answers EHLO"),
    ]
    fix = "check RUEDA_SMTP__HOST, __PORT and __SECURITY against your provider's settings"
    # The sink offers no STARTTLS: a provider configured for it must.
    starttls = Settings(
        data_dir=tmp_path, smtp=SmtpSettings(host="127.0.0.1", port=sink.port, security="starttls")
    )
    assert check_smtp(starttls)[1] == CheckResult(
        "SMTP server answers EHLO", "fail", f"127.0.0.1:{sink.port} does not offer STARTTLS", fix
    )
    port = closed_port()
    down = Settings(data_dir=tmp_path, smtp=SmtpSettings(host="127.0.0.1", port=port))
    assert check_smtp(down)[1] == CheckResult(
        "SMTP server answers EHLO", "fail", f"127.0.0.1:{port}: [Errno 111] Connection refused", fix
    )


def test_portal_secret_key_and_base_url(tmp_path: Path) -> None:
    def portal(key: str, base: str | None) -> list[CheckResult]:
        return check_portal(
            Settings(data_dir=tmp_path, portal=PortalSettings(secret_key=SecretStr(key), base_url=base))
        )

    assert portal(GOOD_KEY, "https://rueda.example.org") == [
        CheckResult("portal secret key", "pass", "48 characters, not the default"),
        CheckResult("portal base URL is https", "pass", "https://rueda.example.org"),
    ]
    assert portal("k" * 31, "http://rueda.example.org") == [
        CheckResult("portal secret key", "fail", "31 characters, fewer than 32", FIX_KEY),
        CheckResult(
            "portal base URL is https", "fail", "http://rueda.example.org is not an https URL", FIX_BASE
        ),
    ]


def test_the_command_prints_each_check_and_exits_1(tmp_path: Path, sink: MailSink) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUEDA_", "PREFECT_"))}
    env.update(
        RUEDA_DATA_DIR=str(tmp_path),
        RUEDA_SMTP__HOST="127.0.0.1",
        RUEDA_SMTP__PORT=str(sink.port),
        RUEDA_PORTAL__SECRET_KEY=GOOD_KEY,
        RUEDA_PORTAL__BASE_URL="https://rueda.example.org",
        PREFECT_REDIS_MESSAGING_URL="redis://127.0.0.1:6379/0",
        COLUMNS="80",
    )
    rueda = str(Path(sys.executable).parent / "rueda")
    result = subprocess.run(
        [rueda, "up", "--production-check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # One line per check, never wrapped, each failure followed by its fix.
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")] == [
        "FAIL  database is PostgreSQL",
        "FAIL  database reachable",
        "FAIL  database at the code's migration head",
        "FAIL  PREFECT_API_URL set",
        "FAIL  Prefect API reachable",
        "FAIL  Prefect server database is PostgreSQL",
        "FAIL  Prefect messaging on Redis",
        "FAIL  work pool 'rueda-process' exists",
        "PASS  Redis reachable",
        "PASS  SMTP host set",
        "PASS  SMTP server answers EHLO",
        "PASS  portal secret key",
        "PASS  portal base URL is https",
        "13 checks",
    ]
    assert lines[-1] == "13 checks: 5 passed, 8 failed, 0 skipped"
    assert sum(1 for line in lines if line.startswith("      fix: ")) == 8
