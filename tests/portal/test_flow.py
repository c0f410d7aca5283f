"""The participant's whole path over HTTP against the real portal: register, sign in by the emailed
link, find a counterpart in the catalog, ask for a meeting, the counterpart accepts, the schedule is
built, both agendas and calendar files show the meeting, and the survey is answered."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, select

from models import Meeting, MeetingRequest, Notification, RequestStatus, SurveyResponse, SurveyWave
from notifications.catalog import RequestsReceived, context_from_json
from services.db import run_in_transaction
from services.surveys import create_invitations
from tests.portal.conftest import Portal, open_event, register, registration_form
from tests.portal.helpers import latest_link, participant_id, post_form, schedule_event, sign_in

pytestmark = pytest.mark.integration


def test_participant_path_register_to_survey(portal: Portal) -> None:
    event_id = open_event(portal.engine)
    with portal.client() as seller, portal.client() as buyer:
        _walk(portal, event_id, seller, buyer)


def _walk(portal: Portal, event_id: int, seller: httpx.Client, buyer: httpx.Client) -> None:
    response = register(seller, "rueda-test", registration_form("ana@andino.example"))
    assert response.status_code == 200
    assert "Check your email" in response.text
    response = register(
        buyer,
        "rueda-test",
        registration_form(
            "hans@rheinkaffee.example",
            full_name="Hans Müller",
            organization="Rheinkaffee GmbH",
            country="DE",
            role="buyer",
            timezone="Europe/Berlin",
            offer_hs="",
            demand_hs="0901",
            demand_description="Green coffee",
        ),
    )
    assert response.status_code == 200
    assert sign_in(seller, latest_link(portal.engine, "ana@andino.example")).headers["location"] == "/me"
    assert sign_in(buyer, latest_link(portal.engine, "hans@rheinkaffee.example")).headers["location"] == "/me"
    hans = participant_id(portal.engine, "hans@rheinkaffee.example")

    catalog = seller.get("/me/catalog", params={"country": "DE"})
    assert catalog.status_code == 200
    assert "Hans Müller" in catalog.text
    assert "hans@rheinkaffee.example" not in catalog.text  # contact details stay private
    asked = post_form(
        seller,
        "/me/catalog",
        "/me/requests",
        {"target_id": str(hans), "priority": "must", "note": "Two containers a month"},
    )
    assert (asked.status_code, asked.headers["location"]) == (303, "/me/requests?sent=1")

    incoming = buyer.get("/me/requests")
    assert "Two containers a month" in incoming.text
    with Session(portal.engine) as session:
        request = session.exec(select(MeetingRequest)).one()
        told = session.exec(select(Notification).where(Notification.kind == "requests.received")).one()
    # Hans is told by email, in his language, with a link to the request (answering is a signed-in POST).
    assert (told.recipient_email, told.language, told.participant_id) == (
        "hans@rheinkaffee.example",
        "en",
        hans,
    )
    context = context_from_json("requests.received", told.context)
    assert isinstance(context, RequestsReceived)
    (info,) = context.requests
    assert (info.counterpart.name, info.counterpart.organization, info.note) == (
        "Ana Gómez",
        "Café Andino SAS",
        "Two containers a month",
    )
    assert info.accept_url == info.decline_url == f"{portal.url}/me/requests#request-{request.id}"
    assert f'id="request-{request.id}"' in incoming.text
    accepted = post_form(buyer, "/me/requests", f"/me/requests/{request.id}/accept", {})
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/me/requests?answered=1")
    with Session(portal.engine) as session:
        assert session.exec(select(MeetingRequest.status)).all() == [RequestStatus.ACCEPTED]

    schedule_event(portal.engine, "rueda-test")
    agenda = seller.get("/me/agenda")
    assert agenda.status_code == 200
    assert "Hans Müller" in agenda.text and "Rheinkaffee GmbH" in agenda.text
    assert "<svg" in agenda.text  # the check-in QR code
    calendar = seller.get("/me/agenda.ics")
    assert calendar.headers["content-type"] == "text/calendar; charset=utf-8"
    assert calendar.text.count("BEGIN:VEVENT") == 1
    assert "METHOD:PUBLISH" in calendar.text

    links = run_in_transaction(
        portal.engine, lambda s: create_invitations(s, event_id, SurveyWave.POST_EVENT, now=datetime.now(UTC))
    )
    link = next(
        item for item in links if item.participant_id == participant_id(portal.engine, "ana@andino.example")
    )
    page = seller.get("/survey", params={"t": link.token})
    assert page.status_code == 200
    with Session(portal.engine) as session:
        meeting_id = session.exec(select(Meeting.id)).one()
    answered = post_form(
        seller,
        f"/survey?t={link.token}",
        "/survey",
        {
            "t": link.token,
            f"m{meeting_id}_took_place": "yes",
            f"m{meeting_id}_interest": "5",
            f"m{meeting_id}_expected_12m": "25000",
            "satisfaction": "5",
            "recommend": "9",
        },
    )
    assert answered.status_code == 200
    assert "Thank you! Your answers are saved." in answered.text
    with Session(portal.engine) as session:
        rows = session.exec(select(SurveyResponse).order_by(SurveyResponse.kind)).all()
        assert [
            (r.kind.value, r.interest, r.expected_12m_cents, r.satisfaction, r.recommend) for r in rows
        ] == [
            ("meeting", 5, 2_500_000, None, None),
            ("participant", None, None, 5, 9),
        ]

    # A mistake is named next to its field and nothing is saved; then the follow-up wave.
    wrong = post_form(
        seller,
        f"/survey?t={link.token}",
        "/survey",
        {"t": link.token, f"m{meeting_id}_took_place": "no", f"m{meeting_id}_interest": "4"},
    )
    assert wrong.status_code == 422
    assert (
        f'<p class="error" id="m{meeting_id}_interest-error">leave empty: the meeting did not take place</p>'
        in (wrong.text)
    )
    followups = run_in_transaction(
        portal.engine,
        lambda s: create_invitations(s, event_id, SurveyWave.FOLLOWUP_3M, now=datetime.now(UTC)),
    )
    token = next(item.token for item in followups if item.participant_id == link.participant_id)
    page = seller.get("/survey", params={"t": token})
    assert "Business after 3 months" in page.text
    saved = post_form(
        seller,
        f"/survey?t={token}",
        "/survey",
        {"t": token, "rows": "3", "f0_hs_code": "0901.11", "f0_closed": "12.500,50", "f0_currency": "USD"},
    )
    assert (saved.status_code, "Thank you! Your answers are saved." in saved.text) == (200, True)
    with Session(portal.engine) as session:
        lines = session.exec(select(SurveyResponse).where(SurveyResponse.kind == "followup")).all()
        assert [(r.hs_code, r.actual_closed_cents, r.actual_exported_cents) for r in lines] == [
            ("090111", 1_250_050, None)
        ]
        assert session.exec(
            select(SurveyResponse.took_place).where(SurveyResponse.kind == "meeting")
        ).all() == [True]
