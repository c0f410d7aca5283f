"""`rueda user` and `rueda token`: organizer and staff accounts, and API tokens for integrations.

Passwords never travel on the command line (they would stay in the shell history and in `ps`):
`rueda user add` reads `RUEDA_USER_PASSWORD` when set (for scripts), else prompts twice, hidden.
A token is printed once, at creation; only its SHA-256 is stored.
"""

from __future__ import annotations

import os

import typer
from rich.table import Table
from sqlmodel import Session

from cli.common import console, database, handle_errors, utc_now
from models import Event, MemberRole, User
from services.accounts import (
    create_user,
    get_user_by_email,
    grant_role,
    issue_token,
    list_tokens,
    normalize_email,
    revoke_token,
)
from services.db import run_in_transaction, transaction
from services.errors import NotFoundError
from services.events import get_event_by_slug

PASSWORD_ENV = "RUEDA_USER_PASSWORD"

user_app = typer.Typer(help="Organizer and staff accounts and their roles per event.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for integrations (JSON API under /api/v1).", no_args_is_help=True)

EMAIL = typer.Option(..., "--email", help="The user's email (the login).")


def _password() -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    password: str = typer.prompt(
        "Password (12 characters or more)", hide_input=True, confirmation_prompt=True
    )
    return password


def _user(session: Session, email: str) -> User:
    user = get_user_by_email(session, normalize_email(email))
    if user is None:
        raise NotFoundError(f"no user with email {email.strip().lower()}; create it with `rueda user add`")
    return user


@user_app.command("add")
@handle_errors
def add_user(
    email: str = EMAIL,
    name: str = typer.Option(..., "--name", help="Full name, shown on the organizer pages."),
    event: str = typer.Option(..., "--event", help="Slug of the event the user works on."),
    role: MemberRole = typer.Option(
        MemberRole.STAFF, "--role", help="organizer: everything; staff: check-in desk and dashboard."
    ),
) -> None:
    """Create a user (or find an existing one) and give them a role in an event."""
    with database() as engine:
        with transaction(engine) as session:
            exists = get_user_by_email(session, normalize_email(email)) is not None
            get_event_by_slug(session, event)
        password = None if exists else _password()

        def work(session: Session) -> str:
            target = get_event_by_slug(session, event)
            if password is None:
                user = _user(session, email)
            else:
                user = create_user(session, email=email, full_name=name, password=password, now=utc_now())
            grant_role(session, user, target, role)
            return user.email

        address = run_in_transaction(engine, work)
    verb = "is now" if exists else "created as"
    console.print(f"{address} {verb} {role.value} of {event}")


@token_app.command("create")
@handle_errors
def create_token(
    email: str = EMAIL,
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. crm-sync."),
    event: str | None = typer.Option(
        None, "--event", help="Limit the token to this event (slug; the user must be its organizer)."
    ),
    days: int | None = typer.Option(
        None, "--days", help="The token stops working after this many days (default: until revoked)."
    ),
) -> None:
    """Issue an API token for a user. It is shown once: store it in the integration's secrets."""
    with database() as engine:
        issued = run_in_transaction(
            engine,
            lambda s: issue_token(
                s, _user(s, email), name=name, now=utc_now(), event_slug=event, valid_days=days
            ),
        )
    scope = f"event {event}" if event else "every event of the user"
    until = f"for {days} days" if days else "until revoked"
    console.print(
        f"token {issued.token_id} ({issued.name}) for {email.strip().lower()}, {scope}, {until}; shown only now:"
    )
    # Plain print, no markup or wrapping, so that the token can be copied or piped whole.
    typer.echo(issued.token)


@token_app.command("list")
@handle_errors
def list_user_tokens(email: str = EMAIL) -> None:
    """List a user's tokens (ids and names; the tokens themselves are not stored)."""
    with database() as engine, transaction(engine) as session:
        user = _user(session, email)
        assert user.id is not None
        table = Table("id", "name", "event", "created", "expires", "revoked")
        for token in list_tokens(session, user.id):
            scope = session.get(Event, token.event_id) if token.event_id is not None else None
            table.add_row(
                str(token.id),
                token.name,
                scope.slug if scope is not None else "(all)",
                token.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                token.expires_at.strftime("%Y-%m-%d %H:%M UTC") if token.expires_at else "",
                token.revoked_at.strftime("%Y-%m-%d %H:%M UTC") if token.revoked_at else "",
            )
    console.print(table)


@token_app.command("revoke")
@handle_errors
def revoke_user_token(
    email: str = EMAIL, token_id: int = typer.Option(..., "--id", help="The token's id (see `list`).")
) -> None:
    """Revoke a token at once: the next API call with it answers 401."""
    with database() as engine:

        def work(session: Session) -> bool:
            user = _user(session, email)
            assert user.id is not None
            return revoke_token(session, user.id, token_id, now=utc_now())

        changed = run_in_transaction(engine, work)
    console.print(f"token {token_id} revoked" if changed else f"token {token_id} was already revoked")
