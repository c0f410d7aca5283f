"""Participants' accounts in the portal: sign-up, and sign-in by emailed one-time links.

Invariants:
- Sign-up never overwrites an existing registration: a form with an email already registered for
  the event changes nothing and emails that address a sign-in link instead. The page says the same
  thing in both cases ("check your email"), so the form tells nobody who is registered.
- Sign-ups of one email are serialised (a PostgreSQL advisory lock on (event, email); SQLite has one
  writer at a time), so concurrent submissions of one email create exactly one participant, and
  the (event, email) unique key backs this up.
- A sign-in link carries a random 256-bit token; only its SHA-256 is stored (`login_token`). It
  expires, and it works once: spending it is a conditional UPDATE (`used_at IS NULL`), so two
  concurrent uses cannot both succeed. The portal also signs the token inside the URL, so a
  forged link is refused before any database lookup.
- Every email is an outbox row queued in the caller's transaction (delivered after commit).
- Unknown, expired, used and forged links all get one error with one message: no oracle.

Cost: a handful of indexed statements per call.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Event, EventStatus, LoginToken, Organization, Participant, ParticipantStatus
from models.schemas import ParticipantImport
from notifications.catalog import LoginRequested, RegistrationConfirmed
from notifications.outbox import build_key, queue_message
from services.agendas import event_info, recipient_for
from services.errors import DomainError, NotFoundError
from services.participants import register_participant

# Plain token -> the URL to put in the email (the portal signs the token into it).
LinkBuilder = Callable[[str], str]
ACTIVE_STATUSES = (ParticipantStatus.REGISTERED, ParticipantStatus.CONFIRMED)


class RegistrationClosedError(DomainError):
    """The event does not take registrations now."""


class InvalidLoginLinkError(DomainError):
    """Unknown, forged, expired or already used: one message for all (no oracle)."""

    def __init__(self) -> None:
        super().__init__("this sign-in link is not valid or has expired; ask for a new one")


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    participant_id: int
    is_new: bool


def hash_login_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_registration_open(event: Event, now: datetime) -> bool:
    if event.status is not EventStatus.REGISTRATION_OPEN:
        return False
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return False
    return event.registration_closes_at is None or now < event.registration_closes_at


def list_open_events(session: Session, *, now: datetime) -> list[Event]:
    """Events that take registrations now, soonest first."""
    events = session.exec(
        select(Event).where(Event.status == EventStatus.REGISTRATION_OPEN).order_by(col(Event.starts_on))
    ).all()
    return [e for e in events if is_registration_open(e, now)]


def register_in_portal(
    session: Session,
    event_id: int,
    row: ParticipantImport,
    *,
    now: datetime,
    link_lifetime: timedelta,
    link_for: LinkBuilder,
) -> RegistrationResult:
    """Register `row` for the event and email a confirmation with a sign-in link; if the email is
    already registered, change nothing and email a sign-in link (see the module docstring)."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id {event_id}")
    if not is_registration_open(event, now):
        raise RegistrationClosedError(f"registration for {event.name} is closed")
    _lock_email(session, event_id, row.email)
    existing = _find_participant(session, event_id, row.email)
    if existing is not None:
        assert existing.id is not None
        if existing.status in ACTIVE_STATUSES:
            _send_login_link(session, event, existing, now=now, lifetime=link_lifetime, link_for=link_for)
        return RegistrationResult(existing.id, is_new=False)
    participant = register_participant(session, event, row, now=now)
    assert participant.id is not None
    token, expires_at = _issue_token(session, participant.id, now=now, lifetime=link_lifetime)
    organization = session.get(Organization, participant.organization_id)
    queue_message(
        session,
        kind="registration.confirmed",
        context=RegistrationConfirmed(
            event=event_info(event),
            recipient=recipient_for(event, participant.full_name, participant.timezone),
            organization=organization.legal_name if organization else row.organization,
            portal_url=link_for(token),
            requests_close_at=event.requests_close_at,
        ),
        recipient_email=participant.email,
        language=participant.language,
        idempotency_key=build_key("registration.confirmed", participant.id, f"event-{event_id}"),
        due_at=now,
        not_after=expires_at,
        now=now,
        event_id=event_id,
        participant_id=participant.id,
    )
    return RegistrationResult(participant.id, is_new=True)


def request_login_link(
    session: Session,
    event_id: int,
    email: str,
    *,
    now: datetime,
    lifetime: timedelta,
    link_for: LinkBuilder,
) -> bool:
    """Email a sign-in link if `email` is an active participant of the event. The caller shows the
    same page whatever this returns."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id {event_id}")
    participant = _find_participant(session, event_id, email.strip().lower())
    if participant is None or participant.status not in ACTIVE_STATUSES:
        return False
    _send_login_link(session, event, participant, now=now, lifetime=lifetime, link_for=link_for)
    return True


def request_login_links_everywhere(
    session: Session, email: str, *, now: datetime, lifetime: timedelta, link_for: LinkBuilder
) -> int:
    """Email a sign-in link for every event (not archived) where `email` is an active participant:
    the sign-in page reached from an agenda or reminder email, which names no event. Returns how
    many were queued; the caller shows the same page whatever the count."""
    rows = session.exec(
        select(Participant, Event)
        .join(Event, col(Event.id) == col(Participant.event_id))
        .where(
            Participant.email == email.strip().lower(),
            col(Participant.status).in_(ACTIVE_STATUSES),
            Event.status != EventStatus.ARCHIVED,
        )
        .order_by(col(Participant.id))
    ).all()
    for participant, event in rows:
        _send_login_link(session, event, participant, now=now, lifetime=lifetime, link_for=link_for)
    return len(rows)


def sign_in_with_token(session: Session, token: str, *, now: datetime) -> Participant:
    """Spend a sign-in token: the participant it belongs to, or InvalidLoginLinkError."""
    row = session.exec(select(LoginToken).where(LoginToken.token_hash == hash_login_token(token))).first()
    if row is None or row.used_at is not None or now >= row.expires_at:
        raise InvalidLoginLinkError()
    # Conditional: of two concurrent uses of one link, exactly one finds used_at still NULL.
    spent = session.execute(
        sa.update(LoginToken)
        .where(col(LoginToken.id) == row.id, col(LoginToken.used_at).is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidLoginLinkError()
    participant = session.get(Participant, row.participant_id)
    if participant is None or participant.status not in ACTIVE_STATUSES:
        raise InvalidLoginLinkError()
    return participant


def get_active_participant(session: Session, participant_id: int) -> Participant:
    """The signed-in participant, or NotFoundError when the account is gone or withdrawn."""
    participant = session.get(Participant, participant_id)
    if participant is None or participant.status not in ACTIVE_STATUSES:
        raise NotFoundError("this account is no longer active")
    return participant


def session_is_current(valid_after: datetime | None, started_at: datetime | None) -> bool:
    """Whether a portal session that began at `started_at` (None: before sessions recorded it) is
    still valid for an account whose sessions before `valid_after` have ended."""
    if valid_after is None:
        return True
    return started_at is not None and started_at > valid_after


def end_participant_sessions(session: Session, participant_id: int, *, now: datetime) -> None:
    """Sign the participant out on every device: sessions begun until `now` are no longer valid."""
    participant = session.get(Participant, participant_id)
    if participant is not None:
        participant.sessions_valid_after = now


def _find_participant(session: Session, event_id: int, email: str) -> Participant | None:
    return session.exec(
        select(Participant).where(Participant.event_id == event_id, Participant.email == email)
    ).first()


def _lock_email(session: Session, event_id: int, email: str) -> None:
    """Serialise sign-ups of one (event, email) until the transaction ends (PostgreSQL). SQLite's
    BEGIN IMMEDIATE already lets one writer in at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"register:{event_id}:{email}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _issue_token(
    session: Session, participant_id: int, *, now: datetime, lifetime: timedelta
) -> tuple[str, datetime]:
    # Spent and expired tokens of this participant are of no use to anyone: drop them.
    session.execute(
        sa.delete(LoginToken).where(
            col(LoginToken.participant_id) == participant_id,
            sa.or_(col(LoginToken.used_at).is_not(None), col(LoginToken.expires_at) <= now),
        )
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    session.add(
        LoginToken(
            participant_id=participant_id,
            token_hash=hash_login_token(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token, expires_at


def _send_login_link(
    session: Session,
    event: Event,
    participant: Participant,
    *,
    now: datetime,
    lifetime: timedelta,
    link_for: LinkBuilder,
) -> None:
    assert participant.id is not None and event.id is not None
    token, expires_at = _issue_token(session, participant.id, now=now, lifetime=lifetime)
    queue_message(
        session,
        kind="login.requested",
        context=LoginRequested(
            event=event_info(event),
            recipient=recipient_for(event, participant.full_name, participant.timezone),
            login_url=link_for(token),
            expires_at=expires_at,
        ),
        recipient_email=participant.email,
        language=participant.language,
        # One message per token: the token's hash (not the token) names it.
        idempotency_key=build_key("login.requested", participant.id, hash_login_token(token)[:24]),
        due_at=now,
        not_after=expires_at,
        now=now,
        event_id=event.id,
        participant_id=participant.id,
    )
