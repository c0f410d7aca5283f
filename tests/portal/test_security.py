"""The portal's protections, each proved by a request that must be refused: forged, expired and
reused sign-in links; one participant reaching for another's agenda, calendar, request or survey;
POSTs without the CSRF token; brute force past the rate limits (shared by several servers); and
the cookie and header settings."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import (
    LoginToken,
    Meeting,
    MeetingRequest,
    Notification,
    Participant,
    RequestOrigin,
    RequestPriority,
    SurveyWave,
)
from portal.tokens import calendar_feed_name, sign_login_token
from services.db import run_in_transaction
from services.events import get_event_by_slug
from services.portal_accounts import hash_login_token, request_login_link
from services.surveys import create_invitations
from tests.portal.conftest import SECRET, Portal, csrf_of, open_event, register, registration_form
from tests.portal.helpers import latest_link, participant_id, post_form, schedule_event, sign_in, token_of

pytestmark = pytest.mark.integration
INVALID_LINK = "This sign-in link is not valid or has expired. Ask for a new one."


# Rate-limit windows are fixed and aligned to the epoch, so a count resets at each multiple of the
# window: a day-long window, and a test that starts more than a minute before midnight UTC, never
# sees a reset (an hour-long window failed once, at 20:00).
WINDOW = 86_400


def _not_at_a_window_boundary() -> None:
    left = WINDOW - time.time() % WINDOW
    if left < 60:
        time.sleep(left + 1)


def _login_with(client: httpx.Client, signed: str) -> httpx.Response:
    page = client.get("/login", params={"t": signed})
    return client.post("/login", data={"t": signed, "csrf_token": csrf_of(page.text)})


def _is_signed_in(client: httpx.Client) -> bool:
    response = client.get("/me")
    return response.status_code == 200


def _registered(portal: Portal, email: str, **form: str) -> int:
    with portal.client() as client:
        assert register(client, "rueda-test", registration_form(email, **form)).status_code == 200
    return participant_id(portal.engine, email)


def test_login_link_forged_signature_is_refused(portal: Portal) -> None:
    open_event(portal.engine)
    _registered(portal, "ana@andino.example")
    real = token_of(latest_link(portal.engine, "ana@andino.example"))
    token = real.rsplit(".", 1)[0]
    with portal.client() as client:
        forged = sign_login_token("another-secret-key-of-someone-else", token)
        response = _login_with(client, forged)
        assert (response.status_code, INVALID_LINK in response.text) == (400, True)
        assert not _is_signed_in(client)
        # A well-signed token that was never issued is refused by the database lookup.
        response = _login_with(client, sign_login_token(SECRET, secrets.token_urlsafe(32)))
        assert (response.status_code, INVALID_LINK in response.text) == (400, True)
        assert not _is_signed_in(client)
        # The genuine link still works: the refusals above were about the forgeries.
        assert _login_with(client, real).headers["location"] == "/me"
        assert _is_signed_in(client)


def test_signing_out_ends_the_session_on_every_device(portal: Portal) -> None:
    open_event(portal.engine)
    _registered(portal, "ana@andino.example")
    with portal.client() as phone, portal.client() as laptop:
        assert sign_in(phone, latest_link(portal.engine, "ana@andino.example")).headers["location"] == "/me"
        # The same session on a second device (or a copied cookie).
        laptop.cookies.set("rueda_session", phone.cookies["rueda_session"])
        assert _is_signed_in(laptop)
        page = phone.get("/me")
        assert phone.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
        assert not _is_signed_in(phone)
        response = laptop.get("/me/agenda")
        assert (response.status_code, response.headers["location"]) == (303, "/signin")
        # A new sign-in afterwards works.
        post_form(phone, "/e/rueda-test/login", "/e/rueda-test/login", {"email": "ana@andino.example"})
        assert sign_in(phone, latest_link(portal.engine, "ana@andino.example")).headers["location"] == "/me"
        assert _is_signed_in(phone)


def test_login_link_expired_is_refused(portal: Portal) -> None:
    event_id = open_event(portal.engine)
    pid = _registered(portal, "ana@andino.example")
    issued: list[str] = []
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    run_in_transaction(
        portal.engine,
        lambda s: request_login_link(
            s,
            event_id,
            "ana@andino.example",
            now=two_hours_ago,
            lifetime=timedelta(minutes=30),
            link_for=lambda token: issued.append(token) or f"x?t={token}",
        ),
    )
    with portal.client() as client:
        response = _login_with(client, sign_login_token(SECRET, issued[0]))
        assert (response.status_code, INVALID_LINK in response.text) == (400, True)
        assert not _is_signed_in(client)
    with Session(portal.engine) as session:
        row = session.exec(
            select(LoginToken).where(LoginToken.token_hash == hash_login_token(issued[0]))
        ).one()
        assert (row.participant_id, row.used_at) == (pid, None)


def test_login_link_is_single_use_and_hashed_at_rest(portal: Portal) -> None:
    open_event(portal.engine)
    _registered(portal, "ana@andino.example")
    link = latest_link(portal.engine, "ana@andino.example")
    with portal.client() as first:
        assert sign_in(first, link).headers["location"] == "/me"
        assert _is_signed_in(first)
    with portal.client() as second:
        response = sign_in(second, link)
        assert (response.status_code, INVALID_LINK in response.text) == (400, True)
        assert not _is_signed_in(second)
    plain = token_of(link).rsplit(".", 1)[0]
    with Session(portal.engine) as session:
        hashes = session.exec(select(LoginToken.token_hash)).all()
    assert hashes == [hash_login_token(plain)]
    assert plain not in hashes[0]


def test_login_request_reveals_nobody(portal: Portal) -> None:
    open_event(portal.engine)
    _registered(portal, "ana@andino.example")
    texts = []
    with portal.client() as client:
        for email in ("ana@andino.example", "nobody@nowhere.example"):
            response = post_form(client, "/e/rueda-test/login", "/e/rueda-test/login", {"email": email})
            assert response.status_code == 200
            texts.append(re.sub(r'value="[^"]+"', "", response.text))
    assert texts[0] == texts[1]
    with Session(portal.engine) as session:
        kinds = session.exec(select(LoginToken.participant_id)).all()
    assert len(kinds) == 2  # the registration link and the requested one; none for the stranger


def test_registration_again_with_a_registered_email_changes_nothing(portal: Portal) -> None:
    open_event(portal.engine)
    pid = _registered(portal, "ana@andino.example")
    with portal.client() as client:
        response = register(
            client, "rueda-test", registration_form("ana@andino.example", full_name="Mallory")
        )
        assert response.status_code == 200
        assert "Check your email" in response.text
    with Session(portal.engine) as session:
        people = session.exec(select(Participant.id, Participant.full_name)).all()
    assert people == [(pid, "Ana Gómez")]
    assert "login_url" in latest_link_context(portal.engine, "ana@andino.example")


def latest_link_context(engine: Engine, email: str) -> dict[str, object]:
    from models import Notification

    with Session(engine) as session:
        row = session.exec(
            select(Notification)
            .where(Notification.recipient_email == email)
            .order_by(col(Notification.id).desc())
        ).first()
        assert row is not None
        return dict(row.context)


def _three_with_a_meeting(portal: Portal) -> tuple[int, int, int, int]:
    """A (a seller with no meeting), B (seller) and C (buyer) who meet; returns their ids and the
    meeting's id."""
    open_event(portal.engine)
    a = _registered(portal, "a@one.example")
    b = _registered(portal, "b@two.example", full_name="Beatriz Bravo", organization="Bravo Ltda")
    c = _registered(
        portal, "c@three.example", full_name="Carl Cole", organization="Cole Inc", country="US", role="buyer"
    )

    def accepted_request(session: Session) -> None:
        event = get_event_by_slug(session, "rueda-test")
        session.add(
            MeetingRequest(
                event_id=event.id,
                requester_id=b,
                target_id=c,
                priority=RequestPriority.MUST,
                origin=RequestOrigin.PARTICIPANT,
                status="accepted",
                created_at=datetime.now(UTC),
            )
        )

    run_in_transaction(portal.engine, accepted_request)
    schedule_event(portal.engine, "rueda-test")
    with Session(portal.engine) as session:
        meeting = session.exec(select(Meeting)).one()
        assert {meeting.participant_a_id, meeting.participant_b_id} == {b, c}
        assert meeting.id is not None
        return a, b, c, meeting.id


def test_participant_cannot_reach_another_participants_agenda_calendar_or_survey(portal: Portal) -> None:
    a, b, _c, meeting_id = _three_with_a_meeting(portal)
    links = run_in_transaction(
        portal.engine,
        lambda s: create_invitations(
            s, get_event_by_slug(s, "rueda-test").id or 0, SurveyWave.POST_EVENT, now=datetime.now(UTC)
        ),
    )
    b_survey = next(link.token for link in links if link.participant_id == b)
    with portal.client() as as_a, portal.client() as as_b:
        sign_in(as_a, latest_link(portal.engine, "a@one.example"))
        sign_in(as_b, latest_link(portal.engine, "b@two.example"))
        # B reaches their own things: the checks below refuse A, not everyone.
        assert as_b.get(f"/me/meetings/{meeting_id}.ics").status_code == 200
        assert as_b.get(f"/calendar/{calendar_feed_name(SECRET, b)}.ics").status_code == 200
        assert as_b.get("/survey", params={"t": b_survey}).status_code == 200
        assert "Carl Cole" in as_b.get("/me/agenda").text

        assert as_a.get(f"/me/meetings/{meeting_id}.ics").status_code == 404
        assert "Carl Cole" not in as_a.get("/me/agenda").text
        assert "BEGIN:VEVENT" not in as_a.get("/me/agenda.ics").text
        a_feed_mac = calendar_feed_name(SECRET, a).split("-", 1)[1]
        assert as_a.get(f"/calendar/{b}-{a_feed_mac}.ics").status_code == 404
        assert as_a.get(f"/calendar/{b}-{'0' * 40}.ics").status_code == 404
        assert as_a.get("/survey", params={"t": b_survey}).status_code == 403
        assert as_a.get("/survey", params={"t": secrets.token_urlsafe(32)}).status_code == 404
        with Session(portal.engine) as session:
            request_id = session.exec(select(MeetingRequest.id)).one()
        refused = post_form(as_a, "/me/requests", f"/me/requests/{request_id}/decline", {})
        assert refused.status_code == 404
    with Session(portal.engine) as session:
        assert session.exec(select(MeetingRequest.status)).all() == ["accepted"]


def test_post_without_csrf_token_is_refused(portal: Portal) -> None:
    open_event(portal.engine)
    with portal.client() as client:
        client.get("/e/rueda-test/register")
        response = client.post("/e/rueda-test/register", data=registration_form("ana@andino.example"))
        assert response.status_code == 403
        wrong = client.post(
            "/e/rueda-test/register", data={**registration_form("ana@andino.example"), "csrf_token": "x" * 43}
        )
        assert wrong.status_code == 403
    with Session(portal.engine) as session:
        assert session.exec(select(Participant.id)).all() == []
    b = _registered(portal, "b@two.example", role="buyer")
    _registered(portal, "a@one.example")
    with portal.client() as client:
        sign_in(client, latest_link(portal.engine, "a@one.example"))
        response = client.post("/me/requests", data={"target_id": str(b), "priority": "must"})
        assert response.status_code == 403
        assert "Your form expired" in response.text
    with Session(portal.engine) as session:
        assert session.exec(select(MeetingRequest.id)).all() == []


def test_brute_force_is_rate_limited_across_servers(
    sqlite_engine: Engine, make_portal: Callable[..., Portal]
) -> None:
    limits = {
        "login_attempts_per_window": 3,
        "registrations_per_window": 2,
        "rate_limit_window_seconds": WINDOW,
    }
    _not_at_a_window_boundary()
    first, second = make_portal(sqlite_engine, **limits), make_portal(sqlite_engine, **limits)
    open_event(sqlite_engine)
    statuses = []
    with first.client() as one, second.client() as two:
        for client in (one, two, one, two, one):
            response = post_form(
                client, "/e/rueda-test/login", "/e/rueda-test/login", {"email": "x@y.example"}
            )
            statuses.append(response.status_code)
        assert statuses == [200, 200, 200, 429, 429]
        assert response.headers["retry-after"].isdigit()
        assert "Too many attempts" in response.text
        # Guessing sign-in tokens is counted in the same budget (per address).
        guess = _login_with(two, sign_login_token(SECRET, secrets.token_urlsafe(32)))
        assert guess.status_code == 429
        registrations = [
            register(client, "rueda-test", registration_form(f"p{n}@x.example")).status_code
            for n, client in enumerate((one, two, one))
        ]
        assert registrations == [200, 200, 429]
    with Session(sqlite_engine) as session:
        assert len(session.exec(select(Participant.id)).all()) == 2


def test_registering_someone_elses_address_again_and_again_cannot_flood_their_inbox(
    sqlite_engine: Engine, make_portal: Callable[..., Portal]
) -> None:
    # Every registration emails a sign-in link, so the address's email budget applies to it, with
    # the link requests of /e/<slug>/login and /signin: 3 emails, then 429, from any client.
    portal = make_portal(sqlite_engine, login_attempts_per_window=3, rate_limit_window_seconds=WINDOW)
    _not_at_a_window_boundary()
    open_event(sqlite_engine)
    with portal.client() as client:
        statuses = [
            register(client, "rueda-test", registration_form("victim@x.example")).status_code
            for _ in range(2)
        ]
        statuses.append(post_form(client, "/signin", "/signin", {"email": "victim@x.example"}).status_code)
        statuses.append(register(client, "rueda-test", registration_form("victim@x.example")).status_code)
    assert statuses == [200, 200, 200, 429]
    with Session(sqlite_engine) as session:
        queued = session.exec(
            select(Notification.kind).where(Notification.recipient_email == "victim@x.example")
        ).all()
    # the first registration confirms; the second and /signin send a sign-in link; the fourth nothing
    assert sorted(queued) == ["login.requested", "login.requested", "registration.confirmed"]


def test_cookies_and_security_headers(sqlite_engine: Engine, make_portal: Callable[..., Portal]) -> None:
    portal = make_portal(sqlite_engine, base_url="https://rueda.example.org")
    open_event(sqlite_engine)
    with portal.client() as client:
        response = client.get("/e/rueda-test/register")
    headers = response.headers
    assert headers["content-security-policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    assert (headers["x-content-type-options"], headers["x-frame-options"], headers["referrer-policy"]) == (
        "nosniff",
        "DENY",
        "no-referrer",
    )
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["cache-control"] == "no-store"
    cookie = headers["set-cookie"].lower()
    assert cookie.startswith("rueda_session=")
    assert ("httponly" in cookie, "samesite=lax" in cookie, "secure" in cookie) == (True, True, True)
    assert "<script" not in response.text and "style=" not in response.text


def test_no_personal_data_in_logs(
    sqlite_engine: Engine, make_portal: Callable[..., Portal], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    portal = make_portal(sqlite_engine, login_attempts_per_window=2)
    open_event(portal.engine)
    with portal.client() as client:
        register(client, "rueda-test", registration_form("ana@andino.example", phone="+57 300 1234567"))
        sign_in(client, latest_link(portal.engine, "ana@andino.example"))
        statuses = [
            post_form(
                client, "/e/rueda-test/login", "/e/rueda-test/login", {"email": "ana@andino.example"}
            ).status_code
            for _ in range(2)
        ]
        assert statuses == [200, 429]  # the refusal is logged, without saying whose
        assert client.get("/me/data.json").status_code == 200
    # The server side only: the test's own HTTP client (httpx, httpcore) logs its requests.
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert [r.getMessage() for r in server if r.name == "rueda.portal"] == [
        "rate limit login exceeded (3 hits)"
    ]
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in server)
    for secret in ("ana@andino.example", "Ana Gómez", "Café Andino", "300 1234567", "127.0.0.1"):
        assert secret not in logged, secret


@pytest.mark.parametrize(
    ("base_url", "secret", "refused"),
    [
        ("https://rueda.example.org", "dev-insecure-change-me", True),
        ("https://rueda.example.org", "short-but-not-default", True),
        ("http://192.0.2.10:8000", "dev-insecure-change-me", True),
        ("https://rueda.example.org", SECRET, False),
        (None, "dev-insecure-change-me", False),  # http://127.0.0.1:<port>: only this machine
    ],
)
def test_a_guessable_secret_key_is_refused_off_this_machine(
    sqlite_engine: Engine, tmp_path: Path, base_url: str | None, secret: str, refused: bool
) -> None:
    from portal.app import create_app
    from services.errors import DomainError
    from tests.portal.conftest import portal_settings

    settings = portal_settings(tmp_path, 8000, base_url=base_url, secret_key=secret)
    if refused:
        with pytest.raises(DomainError, match=r"portal\.secret_key must be a random value of at least 32"):
            create_app(settings, sqlite_engine)
    else:
        assert create_app(settings, sqlite_engine).title == "Rueda"


def test_non_ascii_tokens_are_refused_not_a_server_error(portal: Portal) -> None:
    with portal.client() as client:
        assert client.get("/calendar/1-%C3%A9.ics").status_code == 404
        page = client.get("/")
        assert page.status_code == 200
        refused = client.post("/language", data={"csrf_token": "é", "language": "es"})
        assert refused.status_code == 403


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),  # same /64: same budget
        ("::ffff:203.0.113.9", "::ffff:203.0.113.9"),
    ],
)
def test_rate_limits_count_an_ipv6_client_by_its_64(host: str, key: str) -> None:
    from starlette.requests import Request

    from portal.web import client_address

    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "client": (host, 5000)})
    assert client_address(request) == key
