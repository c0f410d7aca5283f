"""Pages over HTTP: registration errors sit next to their fields, registration closes with its
window, the profile form validates, the data export downloads, the deletion request is recorded,
and the agenda's printable page and calendar feed answer."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, col, select

from models import DomainEvent, Participant
from portal.tokens import calendar_feed_name
from tests.portal.conftest import SECRET, Portal, csrf_of, open_event, register, registration_form
from tests.portal.helpers import latest_link, participant_id, post_form, sign_in

pytestmark = pytest.mark.integration


def test_registration_errors_sit_next_to_their_fields(portal: Portal) -> None:
    open_event(portal.engine)
    with portal.client() as client:
        response = register(
            client,
            "rueda-test",
            registration_form("not-an-email", country="Atlantis", role="", offer_hs="9", consent=""),
        )
    assert response.status_code == 422
    for field, message in (
        ("email", "Enter a valid email address, like name@company.com."),
        ("country", "Choose the country of your organization."),
        ("role", "Choose whether you sell, buy or both."),
        ("offer_hs", "HS codes have 2, 4 or 6 digits, like 0901."),
        ("consent", "To register you must authorize the processing of your data."),
    ):
        assert f'<p class="error" id="{field}-error">{message}</p>' in response.text, field
    assert (
        'id="f-email" name="email" type="email" value="not-an-email" required autocomplete="email"'
        in response.text
    )
    assert 'id="f-full_name"' in response.text and "full_name-error" not in response.text
    with Session(portal.engine) as session:
        assert session.exec(select(Participant.id)).all() == []


def test_registration_is_refused_when_closed(portal: Portal) -> None:
    open_event(portal.engine, registration_closes="2026-02-01T00:00:00")
    with portal.client() as client:
        page = client.get("/e/rueda-test/register")
        assert "Registration for this event is closed." in page.text
        response = client.post(
            "/e/rueda-test/register",
            data={**registration_form("ana@andino.example"), "csrf_token": csrf_of(page.text)},
        )
    assert response.status_code == 400
    assert "registration for Rueda de prueba is closed" in response.text


def test_profile_data_export_and_deletion_request(portal: Portal) -> None:
    open_event(portal.engine)
    with portal.client() as client:
        register(client, "rueda-test", registration_form("ana@andino.example"))
        sign_in(client, latest_link(portal.engine, "ana@andino.example"))
        bad = post_form(client, "/me", "/me", {"full_name": "A", "language": "xx", "timezone": "Mars/Base"})
        assert bad.status_code == 422
        assert (
            '<p class="error" id="timezone-error">Choose a time zone from the list, like America/Bogota.</p>'
            in bad.text
        )
        good = post_form(
            client,
            "/me",
            "/me",
            {"full_name": "Ana Gómez", "language": "pt", "timezone": "America/Sao_Paulo", "offer_hs": "0901"},
        )
        assert (good.status_code, good.headers["location"]) == (303, "/me?saved=1")
        page = client.get("/me?saved=1")
        assert '<html lang="pt">' in page.text and "Seu perfil foi salvo." in page.text
        exported = client.get("/me/data.json")
        assert exported.headers["content-disposition"] == 'attachment; filename="my-data.json"'
        data = json.loads(exported.text)
        assert (data["format"], data["participant"]["timezone"], data["trade_lines"][0]["hs_codes"]) == (
            "rueda.personal-data/1",
            "America/Sao_Paulo",
            ["0901"],
        )
        erased = post_form(client, "/me/data", "/me/data/erase", {})
        assert (erased.status_code, erased.headers["location"]) == (303, "/me/data")
        assert "Você pediu a exclusão dos seus dados em" in client.get("/me/data").text
        assert client.get("/me/agenda/print").status_code == 200
        me = participant_id(portal.engine, "ana@andino.example")
        feed = client.get(f"/calendar/{calendar_feed_name(SECRET, me)}.ics")
        assert (feed.status_code, feed.text.count("BEGIN:VEVENT")) == (200, 0)
        logout = post_form(client, "/me", "/logout", {})
        assert logout.headers["location"] == "/"
        assert client.get("/me").headers["location"] == "/signin"
    with Session(portal.engine) as session:
        assert session.exec(
            select(DomainEvent.name).where(DomainEvent.name == "rueda.erasure.requested")
        ).all() == ["rueda.erasure.requested"]


def test_signin_without_an_event_sends_a_link_per_event(portal: Portal) -> None:
    open_event(portal.engine)
    open_event(portal.engine, slug="rueda-dos", name="Rueda dos")
    with portal.client() as client:
        for slug in ("rueda-test", "rueda-dos"):
            register(client, slug, registration_form("ana@andino.example"))
        assert client.get("/agenda").headers["location"] == "/me/agenda"
        assert client.get("/me/agenda").headers["location"] == "/signin"
        for email in ("ana@andino.example", "nobody@nowhere.example"):
            response = post_form(client, "/signin", "/signin", {"email": email})
            assert response.status_code == 200
            assert (
                "If the address is registered for an event, we have sent it a sign-in link." in response.text
            )
    from models import Notification

    with Session(portal.engine) as session:
        sent = session.exec(
            select(Notification.kind, Notification.participant_id).order_by(col(Notification.id))
        ).all()
    assert sent == [
        ("registration.confirmed", 1),
        ("registration.confirmed", 2),
        ("login.requested", 1),
        ("login.requested", 2),
    ]
    with portal.client() as client:
        assert sign_in(client, latest_link(portal.engine, "ana@andino.example")).headers["location"] == "/me"
        assert "Rueda dos" in client.get("/me").text


def test_catalog_pages_by_forty_and_keeps_the_filters(portal: Portal) -> None:
    from models import ParticipantRole
    from services.db import run_in_transaction
    from services.events import get_event_by_slug
    from tests.factories import make_participant

    open_event(portal.engine)
    with portal.client() as client:
        register(client, "rueda-test", registration_form("ana@andino.example"))
        sign_in(client, latest_link(portal.engine, "ana@andino.example"))

        def buyers(session: Session) -> None:
            event = get_event_by_slug(session, "rueda-test")
            for n in range(45):
                make_participant(
                    session,
                    event,
                    event.created_at,
                    f"b{n:02d}@buyer.example",
                    full_name=f"Buyer {n:02d}",
                    organization=f"Buyer {n:02d} GmbH",
                    country="DE",
                    role=ParticipantRole.BUYER,
                )

        run_in_transaction(portal.engine, buyers)
        first = client.get("/me/catalog", params={"country": "DE"})
        assert first.text.count("<article") == 40
        assert "Page 1 of 2" in first.text
        assert 'href="/me/catalog?country=DE&amp;page=2" rel="next"' in first.text
        second = client.get("/me/catalog", params={"country": "DE", "page": 2})
        assert second.text.count("<article") == 5
        assert "Buyer 44" in second.text and "Buyer 00" not in second.text
