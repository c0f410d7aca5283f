"""Signed values that the portal puts in URLs and QR codes, keyed by `settings.portal.secret_key`.

- Sign-in links: the random token (stored hashed by `services.portal_accounts`) is signed here, so
  a forged or truncated link is refused before any database lookup.
- Calendar subscription: `/calendar/<participant id>-<HMAC>.ics`. The HMAC (SHA-256, 160 bits
  shown) is unguessable and needs no storage; rotating the secret key revokes every feed.
- Check-in code (the QR on the agenda): `rueda-checkin:<event id>:<participant id>:<HMAC>`. The
  check-in desk reads it with `read_checkin_code`, which returns None for anything not signed here.

Each kind uses its own salt, so a value signed for one purpose is worthless for another.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, Signer

_LOGIN_SALT = "rueda.portal.login-link"
_CALENDAR_SALT = b"rueda.portal.calendar-feed"
_CHECKIN_SALT = b"rueda.portal.checkin"
CHECKIN_PREFIX = "rueda-checkin"


def _signer(secret: str, salt: str) -> Signer:
    return Signer(secret, salt=salt, digest_method=hashlib.sha256)


def sign_login_token(secret: str, token: str) -> str:
    return _signer(secret, _LOGIN_SALT).sign(token).decode("ascii")


def unsign_login_token(secret: str, value: str) -> str | None:
    try:
        return _signer(secret, _LOGIN_SALT).unsign(value.strip()).decode("ascii")
    except (BadSignature, UnicodeError):
        return None


def _mac(secret: str, salt: bytes, message: str, length: int = 40) -> str:
    return hmac.new(secret.encode() + b"\x00" + salt, message.encode(), hashlib.sha256).hexdigest()[:length]


def calendar_feed_name(secret: str, participant_id: int) -> str:
    return f"{participant_id}-{_mac(secret, _CALENDAR_SALT, str(participant_id))}"


def read_calendar_feed_name(secret: str, name: str) -> int | None:
    number, _, mac = name.partition("-")
    if not number.isdigit() or len(number) > 12:
        return None
    expected = _mac(secret, _CALENDAR_SALT, number)
    return int(number) if hmac.compare_digest(mac.encode(), expected.encode()) else None


def checkin_code(secret: str, event_id: int, participant_id: int) -> str:
    body = f"{event_id}:{participant_id}"
    return f"{CHECKIN_PREFIX}:{body}:{_mac(secret, _CHECKIN_SALT, body, 24)}"


def read_checkin_code(secret: str, code: str) -> tuple[int, int] | None:
    """(event id, participant id) of a code made by `checkin_code`, else None."""
    parts = code.strip().split(":")
    if len(parts) != 4 or parts[0] != CHECKIN_PREFIX or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    expected = _mac(secret, _CHECKIN_SALT, f"{parts[1]}:{parts[2]}", 24)
    if not hmac.compare_digest(parts[3].encode(), expected.encode()):
        return None
    return int(parts[1]), int(parts[2])
