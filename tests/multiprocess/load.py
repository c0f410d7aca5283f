"""Load on the portal from a second process: N concurrent signed-in participants over loopback,
each browsing its pages in a loop (home, catalog, requests, agenda, calendar file) with a short
think time, for a bounded time. Prints p50/p95/p99 latency per page and overall, and the errors.

    python -m tests.multiprocess.load --url http://127.0.0.1:8000 --database-url postgresql+psycopg://... \
        --secret-key KEY --event macrorrueda-mp --users 2000 --duration 60

`make load` starts the multi-process cluster with its portal, runs a lifecycle so that the
participants have catalogs, requests and agendas, then runs this against it.

Each virtual user holds one keep-alive connection and a session cookie signed with the portal's
key, as the portal itself signs it after a magic-link sign-in (starlette's SessionMiddleware):
2,000 sign-ins from one address would only measure the portal's login rate limit. The client is
a minimal HTTP/1.1 client on asyncio streams, so that the load generator costs less CPU than the
portal it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import secrets
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from itsdangerous import TimestampSigner
from sqlalchemy import create_engine, text

PAGES = ("/me", "/me/catalog", "/me/requests", "/me/agenda", "/me/agenda.ics")
SESSION_COOKIE = "rueda_session"


def session_cookie(secret_key: str, participant_id: int) -> str:
    """The cookie starlette's SessionMiddleware sets after `start_login`."""
    data = {"participant_id": participant_id, "csrf": secrets.token_urlsafe(32)}
    payload = base64.b64encode(json.dumps(data).encode("utf-8"))
    return TimestampSigner(secret_key).sign(payload).decode("utf-8")


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, keep the connection)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, not close


async def virtual_user(
    host: str,
    port: int,
    cookie: str,
    deadline: float,
    results: Results,
    rng: random.Random,
    think: tuple[float, float] = (0.5, 2.0),
) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.monotonic() < deadline:
        for page in PAGES:
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                status = None
                for _attempt in range(2):
                    reused = connection is not None
                    if connection is None:
                        connection = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
                    reader, writer = connection
                    try:
                        writer.write(
                            f"GET {page} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                            f"Cookie: {SESSION_COOKIE}={cookie}\r\nAccept: text/html\r\n\r\n".encode(
                                "latin-1"
                            )
                        )
                        await writer.drain()
                        status, keep = await asyncio.wait_for(_read_response(reader), 60)
                        break
                    except (ConnectionError, asyncio.IncompleteReadError):
                        writer.close()
                        connection = None
                        # The server closes a keep-alive connection left idle (uvicorn: after 5 s);
                        # like a browser, send the request again once on a new connection.
                        if not reused:
                            raise
                assert status is not None
                results.latencies[page].append(time.perf_counter() - started)
                results.statuses[f"{page} {status}"] += 1
                if status >= 400:
                    results.errors[f"{page} HTTP {status}"] += 1
                if not keep and connection is not None:
                    connection[1].close()
                    connection = None
            except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
                results.errors[f"{page} {type(error).__name__}"] += 1
                if connection is not None:
                    connection[1].close()
                connection = None
            # Think time, cut short at the deadline.
            await asyncio.sleep(max(0.0, min(rng.uniform(*think), deadline - time.monotonic())))
    if connection is not None:
        connection[1].close()


def participants(database_url: str, slug: str, users: int) -> list[int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            ids = connection.execute(
                text(
                    "SELECT p.id FROM participant p JOIN event e ON e.id = p.event_id WHERE e.slug = :s ORDER BY p.id"
                ),
                {"s": slug},
            ).scalars()
            found = [int(i) for i in ids]
    finally:
        engine.dispose()
    if not found:
        raise SystemExit(f"no participants in event {slug!r}")
    return [found[i % len(found)] for i in range(users)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(
    urls: list[str],
    cookies: list[str],
    duration: float,
    ramp: float,
    seed: int,
    think: tuple[float, float] = (0.5, 2.0),
) -> tuple[Results, float]:
    """Users are spread over `urls` (several portal processes) round-robin, as a proxy would."""
    servers = [(urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80) for url in urls]
    results = Results()
    started = time.monotonic()
    deadline = started + duration
    rng = random.Random(seed)

    async def user(index: int, cookie: str) -> None:
        await asyncio.sleep(ramp * index / len(cookies))
        host, port = servers[index % len(servers)]
        await virtual_user(host, port, cookie, deadline, results, random.Random(rng.random()), think)

    await asyncio.gather(*(user(i, c) for i, c in enumerate(cookies)))
    return results, time.monotonic() - started


def report(results: Results, elapsed: float, users: int, think: tuple[float, float]) -> dict[str, object]:
    every = [v for values in results.latencies.values() for v in values]

    def summary(values: list[float]) -> dict[str, float | int]:
        return {
            "requests": len(values),
            "p50_ms": round(1000 * statistics.median(values), 1),
            "p95_ms": round(1000 * percentile(values, 0.95), 1),
            "p99_ms": round(1000 * percentile(values, 0.99), 1),
            "max_ms": round(1000 * max(values), 1),
        }

    return {
        "users": users,
        "think_seconds": list(think),
        "seconds": round(elapsed, 1),
        "requests_per_second": round(len(every) / elapsed, 1),
        "all": summary(every) if every else {},
        "pages": {page: summary(values) for page, values in sorted(results.latencies.items())},
        "errors": dict(results.errors),
        "error_rate": round(
            sum(results.errors.values()) / max(1, len(every) + sum(results.errors.values())), 4
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.multiprocess.load", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--url", required=True, help="The portal, e.g. http://127.0.0.1:8000 (several: comma-separated)"
    )
    parser.add_argument(
        "--database-url", required=True, help="The application database (to pick participants)."
    )
    parser.add_argument("--secret-key", required=True, help="The portal's RUEDA_PORTAL__SECRET_KEY.")
    parser.add_argument("--event", required=True, help="The event whose participants browse.")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of load, ramp included.")
    parser.add_argument(
        "--ramp",
        type=float,
        default=None,
        help="Seconds over which the users arrive (default: the longest think time, at least 10).",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--think",
        default="0.5,2",
        help="Seconds a user waits between two pages, drawn uniformly between MIN,MAX.",
    )
    args = parser.parse_args(argv)
    cookies = [
        session_cookie(args.secret_key, pid)
        for pid in participants(args.database_url, args.event, args.users)
    ]
    low, _, high = args.think.partition(",")
    think = (float(low), float(high or low))
    if not 0 <= think[0] <= think[1]:
        parser.error(f"--think {args.think!r}: give MIN,MAX seconds with 0 <= MIN <= MAX")
    results, elapsed = asyncio.run(
        run(
            args.url.split(","),
            cookies,
            args.duration,
            args.ramp if args.ramp is not None else max(10.0, think[1]),
            args.seed,
            think,
        )
    )
    print(json.dumps(report(results, elapsed, args.users, think), indent=2))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
