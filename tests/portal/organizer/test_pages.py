"""Organizer pages on the seeded events (tests/portal/api/seed.py): password sign-in with a rate
limit, roles, isolation between events, CSRF, dashboard figures, event setup and the check-in desk."""

from __future__ import annotations

import json
import re
from base64 import b64encode
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import Engine
from sqlmodel import col, select

from config import Settings
from models import DomainEvent, Event, EventStatus, Meeting, MeetingStatus, Notification, NotificationStatus
from portal.tokens import checkin_code
from services.db import transaction
from tests.portal.api.seed import PASSWORD, SECRET, Seeded, TestClient, build_app, portal_settings, seed

pytestmark = pytest.mark.integration

DASH = "/organizer/events/rueda-resultados"


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    data = seed(engine, now)
    with transaction(engine) as session:
        # One email that failed for good, one sent: the dashboard counts and lists the failure.
        for status, error in (
            (NotificationStatus.FAILED, "550 mailbox unavailable"),
            (NotificationStatus.SENT, None),
        ):
            session.add(
                Notification(
                    event_id=data.event_a,
                    kind="agenda.published",
                    participant_id=data.people["S1"],
                    recipient_email="s1@example.org",
                    language="es",
                    idempotency_key=f"test-{status.value}",
                    message_id=f"<test-{status.value}@rueda>",
                    due_at=now,
                    status=status,
                    attempts=3 if error else 1,
                    last_error=error,
                    created_at=now,
                )
            )
    return data


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    base = portal_settings(tmp_path, db_url)
    # A day-long window: the fixed window's boundary (midnight UTC) is the only moment the count resets.
    limits = {"login_attempts_per_window": 3, "rate_limit_window_seconds": 86_400}
    return base.model_copy(update={"portal": base.portal.model_copy(update=limits)})


@pytest.fixture
def client(engine: Engine, settings: Settings, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(build_app(settings, engine), follow_redirects=False) as client:
        yield client


def csrf(client: TestClient, path: str = "/organizer/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def sign_in(client: TestClient, who: str, password: str = PASSWORD) -> int:
    token = csrf(client)
    response = client.post(
        "/organizer/login", data={"email": f"{who}@organizer.org", "password": password, "csrf_token": token}
    )
    return response.status_code


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found is not None, element_id
    return found.group(1).strip()


def test_organizer_pages_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("/organizer/", DASH, f"{DASH}/checkin", f"{DASH}/setup"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/organizer/login"), path


def test_sign_in_and_dashboard_figures(client: TestClient, seeded: Seeded) -> None:
    assert sign_in(client, "ana") == 303
    events = client.get("/organizer/")
    assert events.status_code == 200
    assert re.findall(r'href="/organizer/events/([a-z-]+)"', events.text) == ["rueda-resultados"]
    page = client.get(DASH, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    figures = {
        key: text_of(page.text, f"fig-{key}")
        for key in (
            "registrations",
            "acceptance",
            "meetings",
            "empty",
            "waiting",
            "no-shows",
            "email-failures",
        )
    }
    # 7 participants; 6 of 8 decided requests accepted; 6 meetings of which 1 cancelled; 24 seats
    # (6 slots × 4 tables) less 4 held meetings; 1 no-show; 1 failed email.
    assert figures == {
        "registrations": "7",
        "acceptance": "75 %",
        "meetings": "5",
        "empty": "20",
        "waiting": "0",
        "no-shows": "1",
        "email-failures": "1",
    }
    assert "<td>s1@example.org</td>" in page.text  # the organizer sees whose email failed
    # A no-show is listed by its time in the event's zone, with the slot code beside it.
    no_show = re.search(r'<table id="no-shows">.*?<tbody><tr><td>(.*?)</td>', page.text, re.S)
    assert no_show is not None
    assert no_show.group(1) == (
        '<time datetime="2027-05-19T14:30:00+00:00">May 19, 2027, 9:30\u202fAM</time> <span class="small muted">d1s04</span>'
    )
    # The day-1 grid: 4 slots × 4 tables with 3 active meetings (M1, M3, M2; M4 was a no-show).
    assert "Empty seats on this day: 13." in page.text
    assert "550 mailbox unavailable" in page.text
    # The event is a draft: the one step that applies is closing registration (issue 14, item 13).
    assert re.findall(r'action="/organizer/events/rueda-resultados/launch/([a-z-]+)"', page.text) == [
        "close-registration"
    ]
    spanish = client.get(DASH, headers={"Accept-Language": "es"})
    assert "Tasa de aceptación de solicitudes" in spanish.text


def test_sign_in_with_a_wrong_password_is_refused(client: TestClient) -> None:
    assert sign_in(client, "ana", "not the password at all") == 401
    assert client.get("/organizer/").status_code == 303


def test_sign_in_is_rate_limited_even_for_the_right_password(client: TestClient) -> None:
    assert [sign_in(client, "ana", "wrong password number") for _ in range(3)] == [401, 401, 401]
    # The limit (3 per window here) counts attempts before the password is checked.
    assert sign_in(client, "ana") == 429
    assert client.get("/organizer/").status_code == 303


def test_staff_sees_the_dashboard_and_desk_but_not_setup_or_buttons(client: TestClient) -> None:
    assert sign_in(client, "sam") == 303
    page = client.get(DASH)
    assert page.status_code == 200
    assert "/launch/" not in page.text
    # Staff see that an email failed, not whose address it was (organizers do).
    assert "s1@example.org" not in page.text and "s…@example.org" in page.text
    assert client.get(f"{DASH}/checkin").status_code == 200
    assert client.get(f"{DASH}/setup").status_code == 403
    token = csrf(client, DASH)
    response = client.post(f"{DASH}/launch/build-schedule", data={"csrf_token": token})
    assert response.status_code == 403
    response = client.post(f"{DASH}/setup", data={"csrf_token": token, "name": "Renamed by staff"})
    assert response.status_code == 403


def test_other_events_pages_and_objects_are_not_found(client: TestClient, seeded: Seeded) -> None:
    assert sign_in(client, "olga") == 303
    for path in (DASH, f"{DASH}/checkin", f"{DASH}/setup", f"{DASH}/checkin/{seeded.people['S1']}"):
        assert client.get(path).status_code == 404, path
    token = csrf(client, "/organizer/")
    response = client.post(
        f"{DASH}/meetings/{seeded.meetings['M5']}/no-show",
        data={"csrf_token": token, "participant_id": seeded.people["S2"]},
    )
    assert response.status_code == 404
    # Olga's own event, with a participant id and a meeting id of event A: not found there either.
    own = "/organizer/events/otra-rueda"
    assert client.get(own).status_code == 200
    assert client.get(f"{own}/checkin/{seeded.people['S1']}").status_code == 404
    response = client.post(
        f"{own}/meetings/{seeded.meetings['M5']}/check-in",
        data={"csrf_token": token, "participant_id": seeded.people["S2"]},
    )
    assert response.status_code == 404


def test_a_participant_session_opens_no_organizer_page(client: TestClient, seeded: Seeded) -> None:
    payload = b64encode(json.dumps({"participant_id": seeded.people["B1"]}).encode())
    client.cookies.set("rueda_session", TimestampSigner(SECRET).sign(payload).decode())
    response = client.get(DASH)
    assert (response.status_code, response.headers["location"]) == (303, "/organizer/login")


def test_organizer_posts_without_csrf_are_refused(client: TestClient, engine: Engine, seeded: Seeded) -> None:
    response = client.post("/organizer/login", data={"email": "ana@organizer.org", "password": PASSWORD})
    assert response.status_code == 403
    assert sign_in(client, "ana") == 303
    for token in (None, "forged-token-of-the-right-length-000000000"):
        data = {"participant_id": str(seeded.people["S1"])} | ({"csrf_token": token} if token else {})
        response = client.post(f"{DASH}/meetings/{seeded.meetings['M1']}/no-show", data=data)
        assert response.status_code == 403
    with transaction(engine) as session:
        meeting = session.get(Meeting, seeded.meetings["M1"])
        assert meeting is not None and meeting.status is MeetingStatus.HELD


def test_checkin_desk_by_code_then_check_in_and_no_show(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    with transaction(engine) as session:
        m5 = session.get(Meeting, seeded.meetings["M5"])
        assert m5 is not None
        m5.status = MeetingStatus.SCHEDULED
        session.add(m5)
    assert sign_in(client, "sam") == 303
    s2 = seeded.people["S2"]
    code = checkin_code(SECRET, seeded.event_a, s2)
    found = client.get(f"{DASH}/checkin", params={"code": f"  {code}\n"})
    assert (found.status_code, found.headers["location"]) == (303, f"{DASH}/checkin/{s2}")
    for wrong in (
        code[:-1] + ("0" if code[-1] != "0" else "1"),
        checkin_code(SECRET, seeded.event_b, s2),
        "hello",
    ):
        refused = client.get(f"{DASH}/checkin", params={"code": wrong}, headers={"Accept-Language": "en"})
        assert refused.status_code == 404
        assert "This is not a check-in code of this event." in refused.text
    search = client.get(f"{DASH}/checkin", params={"q": "FRUTAS"})
    assert re.findall(r'href="/organizer/events/rueda-resultados/checkin/(\d+)"', search.text) == [str(s2)]
    desk = client.get(f"{DASH}/checkin/{s2}")
    m2, m5_id = seeded.meetings["M2"], seeded.meetings["M5"]
    assert re.findall(r'id="meeting-(\d+)"', desk.text) == [str(m2), str(m5_id)]
    assert re.findall(r"/meetings/(\d+)/(check-in|no-show)", desk.text) == [
        (str(m5_id), "check-in"),
        (str(m5_id), "no-show"),
    ]
    token = csrf(client, f"{DASH}/checkin/{s2}")
    done = client.post(
        f"{DASH}/meetings/{m5_id}/check-in",
        data={"csrf_token": token, "participant_id": str(s2)},
        headers={"Accept-Language": "en"},
    )
    assert (done.status_code, done.headers["location"]) == (303, f"{DASH}/checkin/{s2}")
    assert "Meeting checked in." in client.get(f"{DASH}/checkin/{s2}", headers={"Accept-Language": "en"}).text
    missed = client.post(
        f"{DASH}/meetings/{m5_id}/no-show", data={"csrf_token": token, "participant_id": str(s2)}
    )
    assert missed.status_code == 303
    with transaction(engine) as session:
        meeting = session.get(Meeting, m5_id)
        assert meeting is not None and (meeting.status, meeting.version) == (MeetingStatus.NO_SHOW, 2)
        facts = session.exec(
            select(DomainEvent.name).where(DomainEvent.resource_id == f"rueda.meeting.{m5_id}")
        ).all()
        assert sorted(facts) == ["rueda.meeting.checked_in", "rueda.meeting.missed"]
    # A meeting of another participant cannot be acted on through this participant's desk.
    response = client.post(
        f"{DASH}/meetings/{seeded.meetings['M1']}/no-show",
        data={"csrf_token": token, "participant_id": str(s2)},
    )
    assert response.status_code == 404


def test_event_setup_saves_and_names_bad_fields(client: TestClient, engine: Engine, seeded: Seeded) -> None:
    assert sign_in(client, "ana") == 303
    form = client.get(f"{DASH}/setup")
    assert form.status_code == 200
    assert 'value="Rueda de prueba"' in form.text
    token = csrf(client, f"{DASH}/setup")
    fields = {
        "csrf_token": token,
        "name": "Rueda de resultados 2027",
        "venue_name": "Centro de Convenciones",
        "venue_address": "",
        "venue_city": "Cartagena",
        "registration_opens": "2027-03-01T08:00",
        "registration_closes": "2027-05-01T18:00",
        "requests_close": "",
        "min_meetings": "3",
        "max_meetings": "12",
        "request_policy": "both_ways",
    }
    saved = client.post(f"{DASH}/setup", data=fields)
    assert (saved.status_code, saved.headers["location"]) == (303, f"{DASH}/setup")
    with transaction(engine) as session:
        event = session.get(Event, seeded.event_a)
        assert event is not None
        assert (event.name, event.venue_name, event.city, event.min_meetings, event.max_meetings) == (
            "Rueda de resultados 2027",
            "Centro de Convenciones",
            "Cartagena",
            3,
            12,
        )
        assert event.request_policy.value == "both_ways"
        # 08:00 in Bogotá (UTC-5) is 13:00 UTC.
        assert event.registration_opens_at is not None
        assert event.registration_opens_at.isoformat() == "2027-03-01T13:00:00+00:00"
    bad = client.post(f"{DASH}/setup", data=fields | {"min_meetings": "20", "max_meetings": "x"})
    assert bad.status_code == 422
    assert re.findall(r'<p class="error" id="([a-z_]+)-error">', bad.text) == ["max_meetings"]
    worse = client.post(f"{DASH}/setup", data=fields | {"min_meetings": "20", "max_meetings": "4"})
    assert worse.status_code == 422
    assert re.findall(r'<p class="error" id="([a-z_]+)-error">', worse.text) == ["min_meetings"]
    with transaction(engine) as session:
        event = session.get(Event, seeded.event_a)
        assert event is not None and (event.min_meetings, event.max_meetings) == (3, 12)


def test_signing_out_ends_copies_of_the_session_on_every_device(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    assert sign_in(client, "ana") == 303
    copied = client.cookies.get("rueda_session")
    assert copied is not None
    with TestClient(build_app(settings, engine), follow_redirects=False) as other:
        other.cookies.set("rueda_session", copied)
        assert other.get("/organizer/").status_code == 200  # the copy works while signed in
        assert (
            client.post("/organizer/logout", data={"csrf_token": csrf(client, "/organizer/")}).status_code
            == 303
        )
        response = other.get("/organizer/")
        assert (response.status_code, response.headers["location"]) == (303, "/organizer/login")
    # Signing in again afterwards starts a session that works.
    assert sign_in(client, "ana") == 303
    assert client.get("/organizer/").status_code == 200


def test_reminders_an_ended_event_never_sent_are_skipped_and_shown(
    engine: Engine, client: TestClient, seeded: Seeded, now: datetime
) -> None:
    """Issue 14, item 14: a reminder still pending when the event ends is skipped with its reason,
    and the dashboard says how many were not sent and why."""
    from notifications.outbox import build_key, queue_message
    from notifications.samples import sample_contexts
    from services.lifecycle import end_event

    with transaction(engine) as session:
        event = session.get(Event, seeded.event_a)
        assert event is not None
        event.status = EventStatus.PUBLISHED
        session.add(event)
        for index, kind in enumerate(
            ("reminder.first-meeting", "reminder.day-before", "reminder.first-meeting")
        ):
            queue_message(
                session,
                kind=kind,
                context=sample_contexts()[kind],
                recipient_email=f"r{index}@example.org",
                language="es",
                idempotency_key=build_key(kind, seeded.people["B1"], f"unsent-{index}"),
                due_at=now,
                now=now,
                event_id=seeded.event_a,
                participant_id=seeded.people["B1"],
            )
        # Another event's reminder is not touched.
        queue_message(
            session,
            kind="reminder.day-before",
            context=sample_contexts()["reminder.day-before"],
            recipient_email="zoe@otra.co",
            language="es",
            idempotency_key="other-event-reminder",
            due_at=now,
            now=now,
            event_id=seeded.event_b,
            participant_id=seeded.participant_b,
        )
    with transaction(engine) as session:
        event = session.get(Event, seeded.event_a)
        assert event is not None
        result = end_event(session, event, now=now)
    assert result.detail == "event ended; 3 reminders that never went out are skipped"
    with transaction(engine) as session:
        rows = session.exec(
            select(Notification.event_id, Notification.status, Notification.last_error).where(
                col(Notification.kind).like("reminder.%")
            )
        ).all()
    assert sorted(rows, key=lambda r: (r[0], r[1].value)) == [
        (seeded.event_a, NotificationStatus.SKIPPED, "skipped: the event ended before this reminder went out")
    ] * 3 + [(seeded.event_b, NotificationStatus.PENDING, None)]
    assert sign_in(client, "ana") == 303
    page = client.get(DASH)
    assert text_of(page.text, "fig-email-skipped") == "3"
    assert "<li>3 · el evento terminó antes de que saliera este recordatorio</li>" in page.text  # es page


def test_the_grid_pages_tables_and_filters_by_participant(client: TestClient, seeded: Seeded) -> None:
    """Issue 14, item 13: the grid shows a window of tables or the tables where a participant meets;
    the empty-seat counts stay those of every table."""
    assert sign_in(client, "ana") == 303
    page = client.get(DASH, headers={"Accept-Language": "en"})
    assert text_of(page.text, "grid-range") == "Tables 1 to 4 of 4."
    # B2 meets at T2 on day 1 (M3, M4 a no-show, so only M3 is active): one column.
    filtered = client.get(DASH, params={"who": "b2@example.org"}, headers={"Accept-Language": "en"})
    header = re.search(r'<table class="schedule-grid">\s*<thead><tr>(.*?)</tr>', filtered.text, re.S)
    assert header is not None
    assert re.findall(r'<th scope="col">([^<]*)</th>', header.group(1)) == ["Slot", "T2", "Empty"]
    assert "Tables where b2@example.org meets: 1 of 4." in filtered.text
    assert "Empty seats on this day: 13." in filtered.text
    assert client.get(DASH, params={"tables_from": "0"}).status_code == 422


def test_a_700_table_grid_is_paged(engine: Engine, now: datetime) -> None:
    from services.dashboard import build_grid
    from tests.factories import make_event

    with transaction(engine) as session:
        event = make_event(session, now, slug="macro-grid", tables=700)
        first_page = build_grid(session, event)
        last_page = build_grid(session, event, first=691)
        beyond = build_grid(session, event, first=5000)
    assert (first_page.first, len(first_page.tables), first_page.total_tables) == (1, 30, 700)
    assert (first_page.tables[0], first_page.tables[-1]) == ("T1", "T30")
    assert (last_page.first, last_page.tables[0], last_page.tables[-1]) == (691, "T691", "T700")
    assert (beyond.first, beyond.tables) == (700, ("T700",))
    assert all(len(row.cells) == 30 and row.empty == 700 for row in first_page.rows)
