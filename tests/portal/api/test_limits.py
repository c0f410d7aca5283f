"""What the API takes in and gives back, over real HTTP (uvicorn on a loopback port): a 422 names the
field and never echoes the body; a body over `portal.max_body_bytes` answers 413 before any route
reads it, whether it declares its Content-Length or is sent chunked, and the server goes on."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from config import Settings
from models import MeetingRequest
from portal.limits import MAX_PROBLEMS, TOO_LARGE_TEXT, BodyLimit
from tests.portal.api.seed import Seeded, seed
from tests.portal.conftest import Portal

pytestmark = pytest.mark.integration

A = "/api/v1/events/rueda-resultados"
LIMIT = 4096  # a small limit, so that an oversized body still fits in the sockets' buffers


@pytest.fixture
def seeded(sqlite_engine: Engine, now: datetime) -> Seeded:
    return seed(sqlite_engine, now)


@pytest.fixture
def portal(sqlite_engine: Engine, make_portal: Callable[..., Portal], seeded: Seeded) -> Portal:
    return make_portal(sqlite_engine, max_body_bytes=LIMIT)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _requests(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(MeetingRequest)).one()


def test_the_default_limit_is_one_mebibyte() -> None:
    assert Settings().portal.max_body_bytes == 1_048_576


@pytest.fixture
def roomy_portal(sqlite_engine: Engine, make_portal: Callable[..., Portal], seeded: Seeded) -> Portal:
    return make_portal(sqlite_engine)


def test_a_100_kb_string_in_a_bad_field_gets_a_short_422_naming_it(
    roomy_portal: Portal, seeded: Seeded
) -> None:
    huge = "x" * 100_000
    p = seeded.people
    before = _requests(roomy_portal.engine)
    with roomy_portal.client() as client:
        ana = auth(seeded.tokens["ana"])
        wrong_type = client.post(
            f"{A}/requests", json={"requester_id": huge, "target_id": p["B1"]}, headers=ana
        )
        too_long = client.post(
            f"{A}/requests", json={"requester_id": p["S4"], "target_id": p["S3"], "note": huge}, headers=ana
        )
        extra_key = client.post(
            f"{A}/requests", json={"requester_id": p["S4"], "target_id": p["S3"], huge: 1}, headers=ana
        )
        many = client.post(
            f"{A}/requests",
            json={
                "requester_id": p["S4"],
                "target_id": p["S3"],
                **{f"x{i}{huge[:3000]}": 1 for i in range(30)},
            },
            headers=ana,
        )
    for response in (wrong_type, too_long, extra_key, many):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/json"
        assert len(response.content) < 4096
        assert huge[:100] not in response.text
    assert wrong_type.json() == {
        "detail": [
            {
                "loc": ["body", "requester_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ],
        "count": 1,
    }
    assert too_long.json() == {
        "detail": [
            {
                "loc": ["body", "note"],
                "msg": "String should have at most 500 characters",
                "type": "string_too_long",
            }
        ],
        "count": 1,
    }
    # An extra field's name is the client's choice: cut to 64 characters.
    assert extra_key.json() == {
        "detail": [
            {
                "loc": ["body", "x" * 63 + "\u2026"],
                "msg": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            }
        ],
        "count": 1,
    }
    problems = many.json()
    assert (len(problems["detail"]), problems["count"]) == (MAX_PROBLEMS, 30)
    assert {e["type"] for e in problems["detail"]} == {"extra_forbidden"}
    assert [e["loc"][1][:3] for e in problems["detail"]] == [f"x{i}x"[:3] for i in range(MAX_PROBLEMS)]
    assert _requests(roomy_portal.engine) == before


def _valid_body(seeded: Seeded, padding: int) -> bytes:
    """A request the API would create, padded with JSON whitespace to `padding` bytes."""
    body = json.dumps({"requester_id": seeded.people["S4"], "target_id": seeded.people["S3"]}).encode()
    return body + b" " * (padding - len(body))


def test_a_body_over_the_limit_is_refused_with_or_without_content_length(
    portal: Portal, seeded: Seeded
) -> None:
    ana = auth(seeded.tokens["ana"]) | {"Content-Type": "application/json"}
    before = _requests(portal.engine)
    oversized = _valid_body(seeded, LIMIT + 1)
    with portal.client() as client:
        declared = client.post(f"{A}/requests", content=oversized, headers=ana)
        assert (declared.status_code, declared.content) == (413, TOO_LARGE_TEXT)
        assert "content-length" in {k.lower() for k in declared.request.headers}
        # The same bytes in chunks, with no Content-Length.
        chunked = client.post(
            f"{A}/requests",
            content=iter([oversized[i : i + 1000] for i in range(0, len(oversized), 1000)]),
            headers=ana,
        )
        assert chunked.request.headers["transfer-encoding"] == "chunked"
        assert (chunked.status_code, chunked.content) == (413, TOO_LARGE_TEXT)
        # Nothing was created, and the server serves the next requests: one at exactly the limit,
        # sent in chunks (the counted body reaches the route whole), then a read.
        assert _requests(portal.engine) == before
        exact = _valid_body(seeded, LIMIT)
        created = client.post(f"{A}/requests", content=iter([exact[:100], exact[100:]]), headers=ana)
        assert created.status_code == 201
        assert (created.json()["requester_id"], created.json()["target_id"]) == (
            seeded.people["S4"],
            seeded.people["S3"],
        )
        listed = client.get(f"{A}/requests", headers=auth(seeded.tokens["ana"]))
        assert (listed.status_code, listed.json()["total"]) == (200, 9)
    assert _requests(portal.engine) == before + 1


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_of_body_is_sent(
    portal: Portal, seeded: Seeded
) -> None:
    # Ten gigabytes announced and none sent: the answer comes from the headers alone.
    address = urlsplit(portal.url)
    assert address.hostname is not None and address.port is not None
    head = (
        f"POST {A}/requests HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {seeded.tokens['ana']}\r\nContent-Type: application/json\r\n"
        "Content-Length: 10000000000\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(head)
        answer = _read_all(connection)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert rest.endswith(TOO_LARGE_TEXT)
    assert b"connection: close" in rest.lower()
    with portal.client() as client:
        assert client.get("/api/v1/events", headers=auth(seeded.tokens["ana"])).status_code == 200


def _read_all(connection: socket.socket) -> bytes:
    """Read until the server closes the connection (the 413 closes it)."""
    chunks: list[bytes] = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def _nothing(scope: object, receive: object, send: object) -> None:
    return None


def test_the_longest_matching_prefix_sets_the_limit() -> None:
    # For a future upload route: its own, larger limit by path prefix (none exists today).
    limit = BodyLimit(
        _nothing, default=1_000, limits={"/organizer/events": 5_000, "/organizer/events/x/import": 9_000}
    )
    assert [
        limit.limit_for(p) for p in ("/api/v1/events", "/organizer/events/x", "/organizer/events/x/import")
    ] == [
        1_000,
        5_000,
        9_000,
    ]
