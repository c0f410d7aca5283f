"""Load shedding: past a bound on waiting requests, answer 503 at once instead of queueing.

Each portal process works on `portal.threads` requests at a time; the others wait in the event loop
for a thread. Without a bound, overload makes every page slow (at twenty times the capacity the
median wait reached 21 s, docs/benchmarks.md "Load"). With one, a process admits `threads +
queue_limit` requests; the next ones get `503 Service Unavailable` with `Retry-After` right away,
and the admitted ones keep their normal speed. A browser shows the short text below; a client of
the API reads the status and the header. Static files are cheap and never shed.

Plain ASGI (no BaseHTTPMiddleware): the count is taken before anything else runs, and the event
loop is one thread, so a plain integer is enough.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

BUSY_TEXT = (
    "El portal tiene mucha demanda en este momento. Vuelva a intentarlo en unos segundos.\n"
    "O portal está com muita procura neste momento. Tente novamente em alguns segundos.\n"
    "The portal is busy right now. Please try again in a few seconds.\n"
).encode()


class LoadShedding:
    def __init__(self, app: ASGIApp, *, limit: int, retry_after_seconds: int) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = str(retry_after_seconds)
        self.in_flight = 0
        self.shed = 0  # requests refused since start (read by tests and operators' debugging)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.shed += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(BUSY_TEXT)).encode()),
                        (b"retry-after", self.retry_after.encode()),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": BUSY_TEXT})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
