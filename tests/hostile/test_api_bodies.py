"""Generated JSON bodies for the API's write endpoint (`POST /api/v1/events/{slug}/requests`, the
only POST; the API has no PATCH), sent over real HTTP to the portal on the seeded events
(tests/portal/api/seed.py), on SQLite and PostgreSQL: wrong types, huge numbers, `NaN` and `Infinity` literals, deep
nesting, control and direction characters, missing and extra fields, bodies that are not an
object or not JSON. Whatever comes in:

- the status is 201 or a 4xx, never a 500;
- a 4xx is short JSON (under 4 KB: nothing is echoed) that names the field: a 422 lists problems
  whose `loc` is `body` then a field of the model, a key that was sent, or (for a body that is not
  JSON) the position; a 400/404/409 starts with the field it is about, or names the request it
  conflicts with, or says the body could not be parsed;
- after a refusal no table has gained or lost a row; after a 201 exactly one request was added."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from config.settings import SmtpSettings
from models import Notification
from notifications.dispatcher import dispatch_due
from notifications.sink import MailSink
from tests.notifications.seed import Seeded as NotificationSeed
from tests.notifications.seed import queue_sample
from tests.portal.api.seed import Seeded, seed
from tests.portal.conftest import Portal

pytestmark = pytest.mark.integration

URL = "/api/v1/events/rueda-resultados/requests"
FIELDS = ("requester_id", "target_id", "priority", "status", "note")
MISSING = object()
DEEP = re.compile(r'"@@DEEP(\d+)@@"')
# Refusals of the service, by their start: a field, or the request the pair already has.
DOMAIN_MESSAGE = re.compile(
    r"^(requester_id|target_id|status|note): |^request \d+ already pairs these participants$"
)
PARSE_MESSAGE = "There was an error parsing the body"

CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u202e", "\u2066", "\ufeff", "\r\n"]

HUGE_NUMBERS = st.sampled_from([2**31, 2**31 - 1, -(2**31), 2**63, 2**64 + 1, 10**40, 10**400, -(10**40)])
NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 1e-320])
# A marker the encoder turns into that many nested arrays (json.dumps cannot write them itself).
NESTED = st.sampled_from([2, 50, 900, 1500, 20_000]).map(lambda depth: f"@@DEEP{depth}@@")
HOSTILE_TEXT = st.one_of(
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=5), st.sampled_from(CONTROLS), st.text(max_size=5)),
    st.text(max_size=20),
    st.just("x" * 600),
    st.sampled_from(["", " ", "NaN", "Infinity", "null", "1e999", "١٢", "must\x00", "accepted "]),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), HUGE_NUMBERS, NON_FINITE, st.floats(), HOSTILE_TEXT
)
WRONG = st.one_of(
    SCALARS,
    NESTED,
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    ),
)
GOOD = {
    # Ids of a fresh database (the fixture checks): 1-7 are event A's participants (7 is
    # withdrawn), 8 is event B's.
    "requester_id": st.integers(1, 8),
    "target_id": st.integers(1, 8),
    "priority": st.sampled_from(["must", "nice"]),
    "status": st.sampled_from(["requested", "accepted"]),
    "note": st.one_of(st.none(), st.text(max_size=30)),
}


@st.composite
def request_bodies(draw: st.DrawFn) -> tuple[bytes, dict[str, Any] | None]:
    """The encoded body, and the object it encodes when it is one (for naming its keys)."""
    shape = draw(st.sampled_from(["valid"] * 3 + ["object"] * 5 + ["not_object", "not_json"]))
    if shape == "not_json":
        raw = draw(
            st.sampled_from(
                [b"", b"{", b'{"requester_id": 1,}', b"\xff\xfe{}", b"{'a': 1}", b"[" * 3000, b"nul"]
            )
        )
        return raw, None
    if shape == "not_object":
        value = draw(WRONG)
        return _encode(value, draw(st.booleans())), None
    body: dict[str, Any] = {}
    for field in FIELDS:
        if shape == "valid":  # a body the schema takes: the service decides
            choice = (
                "good"
                if field in ("requester_id", "target_id")
                else draw(st.sampled_from(["good", "missing"]))
            )
        else:
            choice = draw(st.sampled_from(["good", "good", "wrong", "missing"]))
        value = MISSING if choice == "missing" else draw(GOOD[field] if choice == "good" else WRONG)
        if value is not MISSING:
            body[field] = value
    extra = (
        {} if shape == "valid" else draw(st.dictionaries(st.text(min_size=1, max_size=80), WRONG, max_size=3))
    )
    body.update({k: v for k, v in extra.items() if k not in FIELDS})
    return _encode(body, draw(st.booleans())), body


def _encode(value: Any, ascii_only: bool) -> bytes:
    text = json.dumps(value, allow_nan=True, ensure_ascii=ascii_only)  # NaN and Infinity literals
    text = DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)
    return text.encode("utf-8", "surrogatepass")


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.name: int(session.exec(select(func.count()).select_from(table)).one())
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    seeded = seed(engine, now)
    assert (sorted(seeded.people.values()), seeded.participant_b) == (list(range(1, 8)), 8)
    return seeded


@pytest.fixture
def api_portal(engine: Engine, make_portal: Callable[..., Portal], seeded: Seeded) -> Portal:
    return make_portal(engine)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=request_bodies())
def test_generated_bodies_get_a_201_or_a_4xx_naming_the_field_and_refusals_write_nothing(
    api_portal: Portal, seeded: Seeded, case: tuple[bytes, dict[str, Any] | None]
) -> None:
    raw, body = case
    before = _counts(api_portal.engine)
    headers = {"Authorization": f"Bearer {seeded.tokens['ana']}", "Content-Type": "application/json"}
    with api_portal.client() as client:
        response = client.post(URL, content=raw, headers=headers)
    after = _counts(api_portal.engine)
    event(f"status {response.status_code}")
    assert response.status_code in (201, 400, 404, 409, 422), (response.status_code, response.text[:300])
    if response.status_code == 201:
        assert body is not None
        created = response.json()
        assert (created["requester_id"], created["target_id"]) == (body["requester_id"], body["target_id"])
        assert after["meeting_request"] == before["meeting_request"] + 1
        return
    assert after == before
    assert response.headers["content-type"] == "application/json"
    assert len(response.content) < 4096
    payload = response.json()
    if response.status_code == 422:
        problems = payload["detail"]
        assert 1 <= len(problems) <= 20 and payload["count"] >= len(problems)
        # A key is named as sent, cut to 64 characters (portal/limits.py).
        sent = {key if len(key) <= 64 else key[:63] + "\u2026" for key in (body or {})}
        for problem in problems:
            assert set(problem) == {"loc", "msg", "type"}
            loc = problem["loc"]
            assert loc[0] == "body", problem
            if len(loc) > 1:
                named = loc[1]
                assert (
                    isinstance(named, int)  # a position in a body that is not JSON, or an index
                    or named in FIELDS
                    or named in sent
                ), problem
    else:
        detail = payload["detail"]
        assert isinstance(detail, str)
        assert DOMAIN_MESSAGE.match(detail) or detail == PARSE_MESSAGE, detail


def test_after_generated_api_bodies_mail_still_goes_out(
    api_portal: Portal, seeded: Seeded, smtp: SmtpSettings, sink: MailSink, now: datetime
) -> None:
    """Issue 13's standing property for the API door: after any body, accepted or refused, the
    dispatcher delivers every message (the requests' notifications and an unrelated sign-in link)."""
    headers = {"Authorization": f"Bearer {seeded.tokens['ana']}", "Content-Type": "application/json"}

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(case=request_bodies())
    def post(case: tuple[bytes, dict[str, Any] | None]) -> None:
        with api_portal.client() as client:
            assert client.post(URL, content=case[0], headers=headers).status_code in (201, 400, 404, 409, 422)

    post()
    with Session(api_portal.engine) as session:
        key = queue_sample(
            session,
            NotificationSeed(seeded.event_a, [seeded.people["S1"]]),
            kind="login.requested",
            index=0,
            due_at=now,
            now=now,
        )
        session.commit()
        pending = int(session.exec(select(func.count()).select_from(Notification)).one())
    report = dispatch_due(api_portal.engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.failed) == (pending, 0)
    with Session(api_portal.engine) as session:
        message_id = session.exec(
            select(Notification.message_id).where(Notification.idempotency_key == key)
        ).one()
    assert message_id in {e.message_id for e in sink.entries()}
