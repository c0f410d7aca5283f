"""The JSON API on the seeded events (tests/portal/api/seed.py): token authentication, per-event
authorization, filters and pagination with exact totals, survey results."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from models import ApiToken, Event, EventStatus, MemberRole, User
from services.accounts import AccountInputError, grant_role, issue_token, revoke_token
from services.db import transaction
from services.errors import NotFoundError
from tests.portal.api.seed import Seeded, TestClient, build_app, portal_settings, seed

pytestmark = pytest.mark.integration

A = "/api/v1/events/rueda-resultados"


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    return seed(engine, now)


@pytest.fixture
def client(engine: Engine, db_url: str, tmp_path: Path, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(build_app(portal_settings(tmp_path, db_url), engine)) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_without_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/events")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "detail": "a valid organizer token is required (Authorization: Bearer <token>)"
    }


def test_api_with_invalid_token_is_401(client: TestClient, seeded: Seeded) -> None:
    for header in (
        "Bearer rueda_not-a-token",
        "Bearer " + seeded.tokens["ana"][:-1],
        "Basic " + seeded.tokens["ana"],
        seeded.tokens["ana"],
    ):
        response = client.get(f"{A}/participants", headers={"Authorization": header})
        assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer"), header


def test_api_with_revoked_token_is_401(
    client: TestClient, engine: Engine, seeded: Seeded, now: datetime
) -> None:
    assert client.get("/api/v1/events", headers=auth(seeded.tokens["ana"])).status_code == 200
    with transaction(engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.user_id == seeded.user_ids["ana"])).one()
        assert token.id is not None
        assert revoke_token(session, seeded.user_ids["ana"], token.id, now=now + timedelta(hours=1)) is True
    response = client.get("/api/v1/events", headers=auth(seeded.tokens["ana"]))
    assert response.status_code == 401
    # Another user's token still works.
    assert client.get("/api/v1/events", headers=auth(seeded.tokens["olga"])).status_code == 200


def test_api_token_limited_to_one_event_sees_only_that_event(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    with transaction(engine) as session:
        ana = session.get(User, seeded.user_ids["ana"])
        other = session.get(Event, seeded.event_b)
        assert ana is not None and other is not None
        grant_role(session, ana, other, MemberRole.ORGANIZER)  # Ana now organizes both events
        scoped = issue_token(
            session, ana, name="one event", now=datetime.now(UTC), event_slug="rueda-resultados"
        ).token
        with pytest.raises(NotFoundError, match="no event with slug 'nope'"):
            issue_token(session, ana, name="x", now=datetime.now(UTC), event_slug="nope")
    everywhere = client.get("/api/v1/events", headers=auth(seeded.tokens["ana"])).json()
    assert sorted(e["slug"] for e in everywhere) == ["otra-rueda", "rueda-resultados"]
    listed = client.get("/api/v1/events", headers=auth(scoped)).json()
    assert [e["slug"] for e in listed] == ["rueda-resultados"]
    assert client.get(A, headers=auth(scoped)).status_code == 200
    assert client.get(f"{A}/participants", headers=auth(scoped)).status_code == 200
    for path in ("/api/v1/events/otra-rueda", "/api/v1/events/otra-rueda/participants"):
        assert client.get(path, headers=auth(seeded.tokens["ana"])).status_code == 200, path
        refused = client.get(path, headers=auth(scoped))
        assert (refused.status_code, refused.json()) == (
            404,
            {"detail": "no event with slug 'otra-rueda'"},
        ), path


def test_api_token_past_its_days_is_401(client: TestClient, engine: Engine, seeded: Seeded) -> None:
    real_now = datetime.now(UTC)
    with transaction(engine) as session:
        ana = session.get(User, seeded.user_ids["ana"])
        assert ana is not None
        expired = issue_token(session, ana, name="old", now=real_now - timedelta(days=3), valid_days=2).token
        fresh = issue_token(session, ana, name="new", now=real_now - timedelta(days=1), valid_days=2).token
        with pytest.raises(AccountInputError, match="days: must be between 1 and 3650"):
            issue_token(session, ana, name="x", now=real_now, valid_days=0)
    assert client.get("/api/v1/events", headers=auth(expired)).status_code == 401
    assert client.get("/api/v1/events", headers=auth(fresh)).status_code == 200


def test_api_events_of_each_user(client: TestClient, seeded: Seeded) -> None:
    mine = client.get("/api/v1/events", headers=auth(seeded.tokens["ana"])).json()
    assert [(e["slug"], e["role"], e["status"]) for e in mine] == [("rueda-resultados", "organizer", "draft")]
    assert [e["slug"] for e in client.get("/api/v1/events", headers=auth(seeded.tokens["olga"])).json()] == [
        "otra-rueda"
    ]
    one = client.get(A, headers=auth(seeded.tokens["ana"]))
    assert one.json() == {
        "slug": "rueda-resultados",
        "name": "Rueda de prueba",
        "kind": "roundtable",
        "status": "draft",
        "timezone": "America/Bogota",
        "starts_on": "2027-05-19",
        "ends_on": "2027-05-20",
        "role": "organizer",
    }


def test_api_other_events_objects_are_404(client: TestClient, seeded: Seeded) -> None:
    olga = auth(seeded.tokens["olga"])
    for path in (
        A,
        f"{A}/summary",
        f"{A}/participants",
        f"{A}/participants/{seeded.people['S1']}",
        f"{A}/requests",
        f"{A}/meetings",
        f"{A}/survey-responses",
        f"{A}/survey-disagreements",
    ):
        response = client.get(path, headers=olga)
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "no event with slug 'rueda-resultados'"},
        ), path
    # Ana's own event, but a participant id of event B: not found in A.
    response = client.get(f"{A}/participants/{seeded.participant_b}", headers=auth(seeded.tokens["ana"]))
    assert (response.status_code, response.json()) == (
        404,
        {"detail": f"no participant {seeded.participant_b} in this event"},
    )
    assert client.get("/api/v1/events/no-such-event", headers=olga).status_code == 404


def test_api_staff_token_is_403(client: TestClient, seeded: Seeded) -> None:
    response = client.get(f"{A}/participants", headers=auth(seeded.tokens["sam"]))
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "this needs the organizer role in event 'rueda-resultados'"},
    )
    events = client.get("/api/v1/events", headers=auth(seeded.tokens["sam"])).json()
    assert [(e["slug"], e["role"]) for e in events] == [("rueda-resultados", "staff")]


def test_api_participants_pages_with_exact_total(client: TestClient, seeded: Seeded) -> None:
    ana = auth(seeded.tokens["ana"])
    first = client.get(f"{A}/participants", params={"limit": 3}, headers=ana).json()
    second = client.get(f"{A}/participants", params={"limit": 3, "offset": 3}, headers=ana).json()
    last = client.get(f"{A}/participants", params={"limit": 3, "offset": 6}, headers=ana).json()
    assert [(p["total"], p["limit"], p["offset"], len(p["items"])) for p in (first, second, last)] == [
        (7, 3, 0, 3),
        (7, 3, 3, 3),
        (7, 3, 6, 1),
    ]
    names = [p["email"] for page in (first, second, last) for p in page["items"]]
    assert names == [f"{n}@example.org" for n in ("b1", "b2", "s1", "s2", "s3", "s4", "s5")]
    one = first["items"][2]
    assert {k: one[k] for k in ("id", "organization", "country", "role", "status", "table")} == {
        "id": seeded.people["S1"],
        "organization": "Café Andino SAS",
        "country": "CO",
        "role": "seller",
        "status": "registered",
        "table": None,
    }


def test_api_participant_filters(client: TestClient, seeded: Seeded) -> None:
    ana = auth(seeded.tokens["ana"])

    def emails(**params: str) -> tuple[int, list[str]]:
        page = client.get(f"{A}/participants", params=params, headers=ana).json()
        return page["total"], [p["email"] for p in page["items"]]

    assert emails(role="buyer") == (2, ["b1@example.org", "b2@example.org"])
    assert emails(country="de") == (1, ["b2@example.org"])
    assert emails(status="withdrawn") == (1, ["s5@example.org"])
    assert emails(q="frutas") == (1, ["s2@example.org"])
    assert emails(q="100%_") == (0, [])
    assert emails(role="seller", status="registered") == (
        4,
        ["s1@example.org", "s2@example.org", "s3@example.org", "s4@example.org"],
    )


def test_api_bad_parameters_name_the_field(client: TestClient, seeded: Seeded) -> None:
    ana = auth(seeded.tokens["ana"])
    response = client.get(f"{A}/participants", params={"limit": 0, "role": "king"}, headers=ana)
    assert response.status_code == 422
    assert sorted(tuple(e["loc"]) for e in response.json()["detail"]) == [
        ("query", "limit"),
        ("query", "role"),
    ]
    response = client.get(f"{A}/participants/0", headers=ana)
    assert [tuple(e["loc"]) for e in response.json()["detail"]] == [("path", "participant_id")]


def test_api_requests_and_meetings(client: TestClient, seeded: Seeded) -> None:
    ana = auth(seeded.tokens["ana"])
    requests = client.get(f"{A}/requests", headers=ana).json()
    assert requests["total"] == 8
    assert [r["status"] for r in requests["items"]] == ["accepted"] * 6 + ["declined", "expired"]
    s4 = client.get(f"{A}/requests", params={"participant_id": seeded.people["S4"]}, headers=ana).json()
    assert [(r["target_id"], r["status"]) for r in s4["items"]] == [
        (seeded.people["B1"], "declined"),
        (seeded.people["B2"], "expired"),
    ]
    meetings = client.get(f"{A}/meetings", headers=ana).json()
    m = seeded.meetings
    assert [(x["id"], x["slot"], x["table"], x["status"]) for x in meetings["items"]] == [
        (m["M1"], "d1s01", "T1", "held"),
        (m["M6"], "d1s02", "T1", "cancelled"),
        (m["M3"], "d1s02", "T2", "held"),
        (m["M2"], "d1s03", "T1", "held"),
        (m["M4"], "d1s04", "T2", "no_show"),
        (m["M5"], "d2s01", "T2", "held"),
    ]
    by_slot = client.get(f"{A}/meetings", params={"slot": "d1s02"}, headers=ana).json()
    assert (by_slot["total"], [x["id"] for x in by_slot["items"]]) == (2, [m["M6"], m["M3"]])
    by_table = client.get(f"{A}/meetings", params={"table": "T2", "status": "held"}, headers=ana).json()
    assert [x["id"] for x in by_table["items"]] == [m["M3"], m["M5"]]
    s1 = client.get(f"{A}/meetings", params={"participant_id": seeded.people["S1"]}, headers=ana).json()
    assert [(x["id"], x["host_id"], x["visitor_id"]) for x in s1["items"]] == [
        (m["M1"], seeded.people["B1"], seeded.people["S1"]),
        (m["M3"], seeded.people["B2"], seeded.people["S1"]),
    ]
    assert s1["items"][0]["starts_at"] == "2027-05-19T13:00:00Z"


def test_api_survey_results(client: TestClient, seeded: Seeded) -> None:
    ana = auth(seeded.tokens["ana"])
    m1 = client.get(f"{A}/survey-responses", params={"meeting_id": seeded.meetings["M1"]}, headers=ana).json()
    assert [
        (r["participant_id"], r["took_place"], r["expected_immediate_cents"], r["expected_3m_cents"])
        for r in m1["items"]
    ] == [
        (seeded.people["B1"], True, 1_000_000, 2_000_000),
        (seeded.people["S1"], True, 800_000, 3_000_000),
    ]
    overall = client.get(f"{A}/survey-responses", params={"kind": "participant"}, headers=ana).json()
    assert overall["total"] == 4
    flags = client.get(f"{A}/survey-disagreements", headers=ana).json()
    m = seeded.meetings
    assert flags == [
        {
            "meeting_id": m["M1"],
            "kind": "amount",
            "detail": "3m: host US$ 20,000.00, visitor US$ 30,000.00",
            "horizons": ["3m"],
        },
        {
            "meeting_id": m["M2"],
            "kind": "amount",
            "detail": "12m: host US$ 0.00, visitor US$ 10,400.00",
            "horizons": ["12m"],
        },
        {
            "meeting_id": m["M3"],
            "kind": "took_place",
            "detail": "host says it took place, visitor says it did not take place",
            "horizons": [],
        },
    ]


def test_api_summary_figures(client: TestClient, seeded: Seeded) -> None:
    summary = client.get(f"{A}/summary", headers=auth(seeded.tokens["ana"])).json()
    assert summary == {
        "slug": "rueda-resultados",
        "registrations": {
            "total": 7,
            "by_status": {"registered": 6, "confirmed": 0, "withdrawn": 1, "rejected": 0},
            "by_role": {"buyer": 2, "seller": 5, "both": 0},
        },
        "requests": {
            "total": 8,
            "by_status": {"requested": 0, "accepted": 6, "declined": 1, "expired": 1},
            "acceptance_rate": 0.75,
        },
        "meetings": {
            "total": 6,
            "by_status": {"scheduled": 0, "checked_in": 0, "held": 4, "no_show": 1, "cancelled": 1},
            # 6 slots (4 on day 1, 2 on day 2) × 4 tables; 4 held meetings occupy seats.
            "seats": 24,
            "empty_seats": 20,
        },
        "waiting": 0,
        "emails": {
            "by_status": {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 0},
            "failed": 0,
        },
    }


def test_api_organizer_adds_a_request(client: TestClient, engine: Engine, seeded: Seeded) -> None:
    ana, p = auth(seeded.tokens["ana"]), seeded.people
    body = {
        "requester_id": p["S4"],
        "target_id": p["S3"],
        "priority": "must",
        "status": "accepted",
        "note": " Same region ",
    }
    created = client.post(f"{A}/requests", json=body, headers=ana)
    assert created.status_code == 201
    row = created.json()
    assert {k: row[k] for k in ("requester_id", "target_id", "priority", "origin", "status", "note")} == {
        "requester_id": p["S4"],
        "target_id": p["S3"],
        "priority": "must",
        "origin": "organizer",
        "status": "accepted",
        "note": "Same region",
    }
    assert row["responded_at"] == row["created_at"]
    listed = client.get(
        f"{A}/requests", params={"participant_id": p["S3"], "status": "accepted"}, headers=ana
    ).json()
    assert row["id"] in [r["id"] for r in listed["items"]]
    # The same pair again, in either direction: a conflict naming the existing request.
    again = client.post(
        f"{A}/requests", json=body | {"requester_id": p["S3"], "target_id": p["S4"]}, headers=ana
    )
    assert (again.status_code, again.json()) == (
        409,
        {"detail": f"request {row['id']} already pairs these participants"},
    )


def test_api_organizer_request_refusals_name_the_field(client: TestClient, seeded: Seeded) -> None:
    ana, p = auth(seeded.tokens["ana"]), seeded.people
    cases = [
        (
            {"requester_id": p["S4"], "target_id": p["S4"]},
            400,
            "target_id: a participant cannot meet themself",
        ),
        (
            {"requester_id": p["S4"], "target_id": seeded.participant_b},
            404,
            f"target_id: no participant {seeded.participant_b} in this event",
        ),
        (
            {"requester_id": p["S5"], "target_id": p["B1"]},
            409,
            f"requester_id: participant {p['S5']} is withdrawn",
        ),
    ]
    for body, status, detail in cases:
        response = client.post(f"{A}/requests", json=body, headers=ana)
        assert (response.status_code, response.json()) == (status, {"detail": detail}), body
    bad = client.post(
        f"{A}/requests", json={"requester_id": p["S4"], "target_id": 0, "status": "declined"}, headers=ana
    )
    assert sorted(tuple(e["loc"]) for e in bad.json()["detail"]) == [
        ("body", "status"),
        ("body", "target_id"),
    ]
    # Staff and other events' organizers cannot add requests either.
    staff = client.post(f"{A}/requests", json=cases[0][0], headers=auth(seeded.tokens["sam"]))
    other = client.post(f"{A}/requests", json=cases[0][0], headers=auth(seeded.tokens["olga"]))
    assert (staff.status_code, other.status_code) == (403, 404)
    assert client.post(f"{A}/requests", json=cases[0][0]).status_code == 401


def test_api_other_methods_list_what_the_path_allows(client: TestClient, seeded: Seeded) -> None:
    response = client.delete(f"{A}/requests", headers=auth(seeded.tokens["ana"]))
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")
    response = client.delete(f"{A}/meetings", headers=auth(seeded.tokens["ana"]))
    assert (response.status_code, response.headers["allow"]) == (405, "GET")


def test_api_organizer_request_after_requests_closed_is_409(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    with transaction(engine) as session:
        event = session.get(Event, seeded.event_a)
        assert event is not None
        event.status = EventStatus.REQUESTS_CLOSED
        session.add(event)
    body = {"requester_id": seeded.people["S4"], "target_id": seeded.people["S3"]}
    response = client.post(f"{A}/requests", json=body, headers=auth(seeded.tokens["ana"]))
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": "requests of event 'rueda-resultados' are closed; add late meetings with add-late-registration"
        },
    )
