"""Organizer and staff accounts: passwords, roles per event, and API tokens.

The problem: the open-source Prefect UI has no user accounts, so the portal is where organizers get
real authorization. Every organizer page and API call resolves the caller to a user, then the user
to a role in one event; nothing is visible outside the events the user is a member of.

Invariants:
- Passwords are stored as argon2id hashes (argon2-cffi's defaults); a hash made with older
  parameters is upgraded on the next successful login. Unknown emails cost the same argon2 work as
  wrong passwords, so a login's timing does not tell whether an account exists.
- API tokens are 256-bit random strings shown once; only their SHA-256 is stored (a token is
  already high-entropy, so a slow hash would add nothing but latency to every API call). A revoked
  token, or a token of a deactivated user, authenticates nobody.
- Roles: `organizer` can do everything in the event; `staff` runs the check-in desk and reads the
  dashboard. A user who is not a member of an event is told the event does not exist
  (`NotFoundError`), never that it is forbidden, so membership does not leak event slugs.

Cost: one indexed query per check; argon2 verification is the only deliberate slowness (~50 ms).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, or_, select

from models import ApiToken, Event, EventMembership, MemberRole, User
from models.text import TextError, clean_text, column_limit
from services.errors import ConflictError, DomainError, NotFoundError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "rueda_"
MAX_TOKEN_DAYS = 3650
_HASHER = PasswordHasher()
# Verified against when the email is unknown, so that both paths do the same argon2 work.
_DUMMY_HASH = _HASHER.hash("not a password of anyone: equalises login timing")
# What each role may do, from least to most.
_RANK = {MemberRole.STAFF: 1, MemberRole.ORGANIZER: 2}


class ForbiddenError(DomainError):
    """The user is a member of the event, but their role does not allow this action."""


class AccountInputError(DomainError):
    """Input for an account that cannot be accepted; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new API token. `token` exists only here: show it once, it is not stored."""

    token_id: int
    name: str
    token: str


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What an API token allows: act as `user`, in `event_id` only when it is set."""

    user: User
    event_id: int | None


@dataclass(frozen=True, slots=True)
class Access:
    """A user's standing in one event."""

    event: Event
    role: MemberRole

    @property
    def is_organizer(self) -> bool:
        return self.role is MemberRole.ORGANIZER


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountInputError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountInputError("password", f"must be at most {MAX_PASSWORD_LENGTH} characters long")


def normalize_email(email: str) -> str:
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountInputError("email", str(error)) from None
    return checked.normalized.lower()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def create_user(session: Session, *, email: str, full_name: str, password: str, now: datetime) -> User:
    """A new active user. Refuses an email that already has an account."""
    address = normalize_email(email)
    try:
        name = clean_text(full_name.strip())
    except TextError as error:
        raise AccountInputError("name", str(error)) from None
    if not name:
        raise AccountInputError("name", "is empty")
    limit = column_limit(User, "full_name")
    if len(name) > limit:
        raise AccountInputError("name", f"must be at most {limit} characters long")
    if get_user_by_email(session, address) is not None:
        raise ConflictError(f"a user with email {address} already exists")
    user = User(email=address, full_name=name, password_hash=hash_password(password), created_at=now)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    session.add(user)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Upgrades an outdated hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None  # no hash of ours comes from such a password; do not spend argon2 on it
    user = get_user_by_email(session, email)
    if user is None or not user.is_active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
        session.add(user)
    return user


def end_user_sessions(session: Session, user_id: int, *, now: datetime) -> None:
    """Sign the organizer out on every device: sessions begun until `now` are no longer valid."""
    user = session.get(User, user_id)
    if user is not None:
        user.sessions_valid_after = now


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def grant_role(session: Session, user: User, event: Event, role: MemberRole) -> EventMembership:
    """Make `user` a member of `event` with `role` (changing the role if already a member)."""
    membership = session.exec(
        select(EventMembership).where(
            EventMembership.user_id == user.id, EventMembership.event_id == event.id
        )
    ).first()
    if membership is None:
        assert user.id is not None and event.id is not None
        membership = EventMembership(user_id=user.id, event_id=event.id, role=role)
    membership.role = role
    session.add(membership)
    session.flush()
    return membership


def list_access(session: Session, user_id: int) -> list[Access]:
    """The events the user is a member of, newest first, with the role in each."""
    rows = session.exec(
        select(Event, EventMembership.role)
        .join(EventMembership, col(EventMembership.event_id) == col(Event.id))
        .where(EventMembership.user_id == user_id)
        .order_by(col(Event.starts_on).desc(), col(Event.slug))
    ).all()
    return [Access(event, MemberRole(role)) for event, role in rows]


def require_access(
    session: Session, user_id: int, event_slug: str, *, minimum: MemberRole = MemberRole.STAFF
) -> Access:
    """The user's access to the event, at least `minimum`. Not a member: NotFoundError (the event
    does not exist as far as this user can tell). A member with a lower role: ForbiddenError."""
    row = session.exec(
        select(Event, EventMembership.role)
        .join(EventMembership, col(EventMembership.event_id) == col(Event.id))
        .join(User, col(User.id) == col(EventMembership.user_id))
        .where(Event.slug == event_slug, EventMembership.user_id == user_id, User.is_active == True)  # noqa: E712 (SQL)
    ).first()
    if row is None:
        raise NotFoundError(f"no event with slug {event_slug!r}")
    event, role = row[0], MemberRole(row[1])
    if _RANK[role] < _RANK[minimum]:
        raise ForbiddenError(f"this needs the {minimum.value} role in event {event_slug!r}")
    return Access(event, role)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    user: User,
    *,
    name: str,
    now: datetime,
    event_slug: str | None = None,
    valid_days: int | None = None,
) -> IssuedToken:
    """A new API token for `user`, acting with the user's roles: in every event of the user, or
    only in `event_slug` (where the user must be an organizer); until revoked, or for
    `valid_days`. Only its hash is stored."""
    label = name.strip()
    if not label:
        raise AccountInputError("name", "is empty")
    if len(label) > 100:
        raise AccountInputError("name", "must be at most 100 characters long")
    if valid_days is not None and not 1 <= valid_days <= MAX_TOKEN_DAYS:
        raise AccountInputError("days", f"must be between 1 and {MAX_TOKEN_DAYS}")
    assert user.id is not None
    event_id = None
    if event_slug is not None:
        event_id = require_access(session, user.id, event_slug, minimum=MemberRole.ORGANIZER).event.id
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=label,
        token_hash=hash_token(token),
        created_at=now,
        event_id=event_id,
        expires_at=now + timedelta(days=valid_days) if valid_days is not None else None,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return IssuedToken(row.id, label, token)


def verify_token(session: Session, token: str, *, now: datetime) -> TokenGrant | None:
    """What a valid token allows (its active user, and the one event it is limited to, if any);
    None for an unknown, revoked or expired token or an inactive user."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.exec(
        select(User, ApiToken)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(
            ApiToken.token_hash == hash_token(token),
            col(ApiToken.revoked_at).is_(None),
            or_(col(ApiToken.expires_at).is_(None), col(ApiToken.expires_at) > now),
            User.is_active == True,  # noqa: E712 (SQL, not Python)
        )
    ).first()
    if row is None:
        return None
    user, api_token = row
    return TokenGrant(user=user, event_id=api_token.event_id)


def token_access(session: Session, grant: TokenGrant, event_slug: str, *, minimum: MemberRole) -> Access:
    """`require_access` for a token: an event outside the token's one event is not found, the same
    as an event its user is not a member of."""
    assert grant.user.id is not None
    access = require_access(session, grant.user.id, event_slug, minimum=minimum)
    if grant.event_id is not None and access.event.id != grant.event_id:
        raise NotFoundError(f"no event with slug {event_slug!r}")
    return access


def token_events(session: Session, grant: TokenGrant) -> list[Access]:
    """The events a token may see."""
    assert grant.user.id is not None
    return [
        a
        for a in list_access(session, grant.user.id)
        if grant.event_id is None or a.event.id == grant.event_id
    ]


def list_tokens(session: Session, user_id: int) -> Sequence[ApiToken]:
    return session.exec(select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id))).all()


def revoke_token(session: Session, user_id: int, token_id: int, *, now: datetime) -> bool:
    """Revoke one of the user's tokens. True if it was active until now; False if already revoked."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError(f"no API token {token_id}")
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    session.add(row)
    return True
