"""What the portal takes in and what it gives back when the input is wrong.

- `BodyLimit`: plain ASGI middleware that refuses a request body over `portal.max_body_bytes`
  with `413 Content Too Large` before any route reads it. A declared `Content-Length` over the
  limit is refused at once, without reading a byte; a body without one (chunked) is counted as it
  streams, and the request is refused the moment the count passes the limit (the route never sees
  the body: the chunks are buffered until the end, at most the limit). The limit is per path
  prefix (`limits`): the longest matching prefix wins, else `default`. The portal has no upload
  route today (participant files are imported with `rueda import` / the `import-participants`
  flow), so every path has the one default.
- `validation_problem`: FastAPI's `RequestValidationError` as a short JSON answer. FastAPI's own
  answer repeats each bad `input` (and `ctx`, which can hold it): a 50 MB string in a bad field
  came back as 50 MB. Here each problem is only `loc`, `msg` and `type`, each part cut to a
  bounded length, at most `MAX_PROBLEMS` of them, with `count` the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_PROBLEMS = 20
_MAX_LOC_PART = 64
_MAX_MSG = 200
_MAX_TYPE = 64
_METHODS_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

TOO_LARGE_TEXT = b'{"detail":"the request body is too large"}'


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`{"detail": [{"loc": [...], "msg": "...", "type": "..."}, ...], "count": N}`: the first
    `MAX_PROBLEMS` problems, never the input. A `loc` part is the name of a field (or its index),
    which an extra field makes a client's choice: it is cut to 64 characters too."""
    detail = []
    for error in errors[:MAX_PROBLEMS]:
        loc = [
            part if isinstance(part, int) and not isinstance(part, bool) else _cut(str(part), _MAX_LOC_PART)
            for part in error.get("loc", ())
        ]
        detail.append(
            {
                "loc": loc,
                "msg": _cut(str(error.get("msg", "")), _MAX_MSG),
                "type": _cut(str(error.get("type", "")), _MAX_TYPE),
            }
        )
    return {"detail": detail, "count": len(errors)}


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, *, default: int, limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        # Longest prefix first, so that /a/b wins over /a.
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))
        self.refused = 0  # requests answered 413 since start (read by tests)

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _METHODS_WITHOUT_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send)
            return
        if declared is not None:
            # A declared length within the limit: uvicorn and h11 never deliver more than it.
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read the whole body first, counting, so that the route
        # never starts on a body that will turn out too large.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        self.refused += 1
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(TOO_LARGE_TEXT)).encode()),
                    # The rest of the body is not read: the connection cannot carry another request.
                    (b"connection", b"close"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": TOO_LARGE_TEXT})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # h11 refuses a malformed one before the app is called
    return None
