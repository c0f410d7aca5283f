"""Load shedding (portal/shedding.py), on a real uvicorn: a portal process admits `threads +
queue_limit` requests; the next one is answered 503 with Retry-After at once, and the admitted ones
go on normally. Requests are held "in flight" deterministically: each has sent its headers and only
part of its form body, so the portal is working on it (waiting for the rest)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from portal.shedding import BUSY_TEXT, LoadShedding
from tests.portal.conftest import Portal

BODY = b"lang=es&next=%2F"


def _hold(portal: Portal) -> socket.socket:
    """A POST whose body is only half sent."""
    address = urlsplit(portal.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    head = (
        f"POST /language HTTP/1.1\r\nHost: {address.netloc}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock.sendall(head + BODY[:5])
    return sock


def _finish(sock: socket.socket) -> int:
    sock.sendall(BODY[5:])
    response = b""
    while chunk := sock.recv(65536):
        response += chunk
    sock.close()
    return int(response.split(b" ", 2)[1])


def _shedder(portal_app: object) -> LoadShedding:
    layer = portal_app
    while not isinstance(layer, LoadShedding):
        layer = layer.app  # type: ignore[attr-defined]
    return layer


def _wait_in_flight(shedder: LoadShedding, count: int) -> None:
    deadline = time.monotonic() + 20
    while shedder.in_flight != count:
        assert time.monotonic() < deadline, f"{shedder.in_flight} requests in flight, expected {count}"
        time.sleep(0.01)


def test_past_the_bound_requests_get_503_with_retry_after_and_admitted_ones_finish(
    sqlite_engine: Engine, make_portal: Callable[..., Portal]
) -> None:
    portal = make_portal(sqlite_engine, threads=1, queue_limit=2, retry_after_seconds=7)
    with portal.client() as client:
        assert client.get("/privacy").status_code == 200  # builds the middleware stack
        shedder = _shedder(portal.app.middleware_stack)
        held = [_hold(portal) for _ in range(3)]
        _wait_in_flight(shedder, 3)
        busy = client.get("/privacy")
        assert (busy.status_code, busy.headers["retry-after"], busy.content) == (503, "7", BUSY_TEXT)
        assert client.get("/api/v1/events").status_code == 503  # the API too
        assert client.get("/static/portal.css").status_code != 503  # static files are never shed
        assert shedder.shed == 2
        assert [_finish(sock) != 503 for sock in held] == [True, True, True]
        _wait_in_flight(shedder, 0)
        assert client.get("/privacy").status_code == 200


@settings(max_examples=30, deadline=None)
@given(limit=st.integers(min_value=1, max_value=6), extra=st.integers(min_value=0, max_value=6))
def test_the_shedder_admits_exactly_its_limit(limit: int, extra: int) -> None:
    """At ASGI level, for any bound: with `limit` requests waiting inside the app, every further one
    is refused, none of the admitted is, and once they finish new requests are admitted again."""
    import asyncio

    async def scenario() -> tuple[list[int], int, int]:
        release = asyncio.Event()

        async def app(scope: dict, receive: object, send: Callable) -> None:  # type: ignore[type-arg]
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        shedder = LoadShedding(app, limit=limit, retry_after_seconds=1)  # type: ignore[arg-type]
        transport = httpx.ASGITransport(app=shedder)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            admitted = [asyncio.create_task(client.get("/page")) for _ in range(limit)]
            while shedder.in_flight < limit:
                await asyncio.sleep(0)
            refused = [(await client.get("/page")).status_code for _ in range(extra)]
            release.set()
            statuses = [(await task).status_code for task in admitted]
            after = (await client.get("/page")).status_code
        return statuses + refused, after, shedder.shed

    statuses, after, shed = asyncio.run(scenario())
    assert statuses == [200] * limit + [503] * extra
    assert (after, shed) == (200, extra)


@pytest.mark.parametrize("queue_limit", [0, 5])
def test_the_bound_is_threads_plus_queue_limit(
    sqlite_engine: Engine, make_portal: Callable[..., Portal], queue_limit: int
) -> None:
    portal = make_portal(sqlite_engine, threads=2, queue_limit=queue_limit)
    with portal.client() as client:
        assert client.get("/privacy").status_code == 200  # builds the middleware stack
    assert _shedder(portal.app.middleware_stack).limit == 2 + queue_limit
