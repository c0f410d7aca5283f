"""Organizer accounts as a service and from the command line: argon2 hashes, roles per event, API
tokens stored as SHA-256 and shown once."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import ApiToken, EventMembership, MemberRole, User
from services.accounts import (
    AccountInputError,
    ForbiddenError,
    authenticate,
    create_user,
    grant_role,
    issue_token,
    require_access,
    revoke_token,
    verify_token,
)
from services.db import make_engine, transaction
from services.errors import ConflictError, NotFoundError
from services.events import get_event_by_slug
from tests.factories import make_event

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple"


def test_accounts_hash_passwords_with_argon2(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        user = create_user(session, email=" Ana@Example.ORG ", full_name="Ana", password=PASSWORD, now=now)
        assert user.email == "ana@example.org"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    with transaction(engine) as session:
        assert authenticate(session, "ANA@example.org", PASSWORD) is not None
        assert authenticate(session, "ana@example.org", PASSWORD + "x") is None
        assert authenticate(session, "nobody@example.org", PASSWORD) is None
        with pytest.raises(ConflictError, match=r"a user with email ana@example\.org already exists"):
            create_user(session, email="ana@example.org", full_name="Ana", password=PASSWORD, now=now)


def test_accounts_refuse_bad_input_naming_the_field(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        cases = (
            ({"email": "not-an-email", "full_name": "A", "password": PASSWORD}, "email"),
            ({"email": "a@example.org", "full_name": "  ", "password": PASSWORD}, "name"),
            ({"email": "a@example.org", "full_name": "A", "password": "short"}, "password"),
        )
        for fields, field in cases:
            with pytest.raises(AccountInputError) as caught:
                create_user(session, now=now, **fields)
            assert caught.value.field == field
        with pytest.raises(AccountInputError, match=r"^password: must be at least 12 characters long$"):
            create_user(session, email="a@example.org", full_name="A", password="x" * 11, now=now)


def test_accounts_roles_are_per_event(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        first = make_event(session, now, slug="primera")
        second = make_event(session, now, slug="segunda")
        user = create_user(session, email="sam@example.org", full_name="Sam", password=PASSWORD, now=now)
        grant_role(session, user, first, MemberRole.STAFF)
        assert user.id is not None
        uid = user.id
        second_id = second.id
    with transaction(engine) as session:
        assert require_access(session, uid, "primera").role is MemberRole.STAFF
        with pytest.raises(ForbiddenError, match="this needs the organizer role in event 'primera'"):
            require_access(session, uid, "primera", minimum=MemberRole.ORGANIZER)
        with pytest.raises(NotFoundError, match="no event with slug 'segunda'"):
            require_access(session, uid, "segunda")
        user_row = session.get(User, uid)
        assert user_row is not None
        event_row = session.exec(select(EventMembership)).one()
        assert (event_row.user_id, event_row.role) == (uid, MemberRole.STAFF)
    with transaction(engine) as session:
        # Promotion changes the role in place: one membership row per (user, event).
        grant_role(session, user_row, get_event_by_slug(session, "primera"), MemberRole.ORGANIZER)
    with transaction(engine) as session:
        assert require_access(session, uid, "primera", minimum=MemberRole.ORGANIZER).is_organizer is True
        assert len(session.exec(select(EventMembership)).all()) == 1
        assert second_id is not None


def test_accounts_tokens_are_stored_hashed_and_revocable(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        user = create_user(session, email="ana@example.org", full_name="Ana", password=PASSWORD, now=now)
        issued = issue_token(session, user, name="crm", now=now)
        uid = user.id
    assert issued.token.startswith("rueda_") and len(issued.token) == 6 + 43
    with transaction(engine) as session:
        row = session.exec(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
        found = verify_token(session, issued.token, now=now)
        assert found is not None and (found.user.id, found.event_id) == (uid, None)
        assert verify_token(session, issued.token + "x", now=now) is None
        assert uid is not None
        assert revoke_token(session, uid, issued.token_id, now=now) is True
    with transaction(engine) as session:
        assert verify_token(session, issued.token, now=now) is None
        assert revoke_token(session, uid, issued.token_id, now=now) is False
        with pytest.raises(NotFoundError, match="no API token 999"):
            revoke_token(session, uid, 999, now=now)


@pytest.fixture
def cli_db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: datetime) -> str:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("RUEDA_"):
            monkeypatch.delenv(name)
    shutil.copyfile(sqlite_template, tmp_path / "rueda.db")
    url = f"sqlite:///{tmp_path / 'rueda.db'}"
    monkeypatch.setenv("RUEDA_DATABASE__URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    engine = make_engine(url)
    with transaction(engine) as session:
        make_event(session, now, slug="rueda-cli")
    engine.dispose()
    return url


def test_cli_user_add_and_token_create(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("RUEDA_USER_PASSWORD", PASSWORD)
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            "--email",
            "Ana@Example.org",
            "--name",
            "Ana",
            "--event",
            "rueda-cli",
            "--role",
            "organizer",
        ],
    )
    assert (added.exit_code, added.output) == (0, "ana@example.org created as organizer of rueda-cli\n")
    again = runner.invoke(
        app,
        [
            "user",
            "add",
            "--email",
            "ana@example.org",
            "--name",
            "Ana",
            "--event",
            "rueda-cli",
            "--role",
            "staff",
        ],
    )
    assert (again.exit_code, again.output) == (0, "ana@example.org is now staff of rueda-cli\n")
    missing = runner.invoke(
        app,
        ["user", "add", "--email", "bo@example.org", "--name", "Bo", "--event", "nope", "--role", "staff"],
    )
    assert (missing.exit_code, missing.output) == (1, "error: no event with slug 'nope'\n")
    created = runner.invoke(app, ["token", "create", "--email", "ana@example.org", "--name", "crm"])
    assert created.exit_code == 0
    heading, token = created.output.splitlines()
    assert (
        heading
        == "token 1 (crm) for ana@example.org, every event of the user, until revoked; shown only now:"
    )
    engine = make_engine(cli_db)
    with transaction(engine) as session:
        grant = verify_token(session, token, now=datetime.now(UTC))
        assert grant is not None and grant.user.email == "ana@example.org"
        assert authenticate(session, "ana@example.org", PASSWORD) is not None
    engine.dispose()
    revoked = runner.invoke(app, ["token", "revoke", "--email", "ana@example.org", "--id", "1"])
    assert (revoked.exit_code, revoked.output) == (0, "token 1 revoked\n")
    token_for_event = [
        "token",
        "create",
        "--email",
        "ana@example.org",
        "--name",
        "sync",
        "--event",
        "rueda-cli",
    ]
    staff_only = runner.invoke(app, [*token_for_event, "--days", "30"])
    assert (staff_only.exit_code, staff_only.output) == (
        1,
        "error: this needs the organizer role in event 'rueda-cli'\n",
    )
    promote = ["user", "add", "--email", "ana@example.org", "--name", "Ana", "--event", "rueda-cli"]
    assert runner.invoke(app, [*promote, "--role", "organizer"]).exit_code == 0
    scoped = runner.invoke(app, [*token_for_event, "--days", "30"])
    assert scoped.exit_code == 0, scoped.output
    assert scoped.output.splitlines()[0] == (
        "token 2 (sync) for ana@example.org, event rueda-cli, for 30 days; shown only now:"
    )
    bad_days = runner.invoke(app, [*token_for_event, "--days", "0"])
    assert (bad_days.exit_code, bad_days.output) == (1, "error: days: must be between 1 and 3650\n")
    listed = runner.invoke(app, ["token", "list", "--email", "ana@example.org"], env={"COLUMNS": "200"})
    rows = [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in listed.output.splitlines()
        if line.startswith("│")
    ]
    # id, name, event, whether it expires, whether it is revoked
    assert [(r[0], r[1], r[2], bool(r[4]), bool(r[5])) for r in rows] == [
        ("1", "crm", "(all)", False, True),
        ("2", "sync", "rueda-cli", True, False),
    ]


def test_cli_user_add_refuses_a_short_password(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUEDA_USER_PASSWORD", "short")
    result = CliRunner().invoke(
        app, ["user", "add", "--email", "ana@example.org", "--name", "Ana", "--event", "rueda-cli"]
    )
    assert (result.exit_code, result.output) == (1, "error: password: must be at least 12 characters long\n")
