"""200 registrations at once through the real HTTP portal on PostgreSQL, 40 emails sent twice on
purpose: every person is registered exactly once, and every submission got its one email. And
signed-in pages at once on a portal with as few threads as pooled connections: nothing deadlocks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, create_engine, func
from sqlmodel import Session, select

from models import LoginToken, Notification, Organization, Participant
from tests.multiprocess.load import session_cookie
from tests.portal.conftest import SECRET, Portal, open_event, register, registration_form
from tests.portal.helpers import participant_id

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]
DISTINCT = 160
REPEATED = 40  # the first 40 emails are submitted twice, from two different browsers
ADMIT_ALL = 1000  # a queue no test here fills


def _submit(portal: Portal, number: int) -> int:
    form = registration_form(
        f"person{number:03d}@company{number:03d}.example",
        full_name=f"Person {number:03d}",
        organization=f"Company {number:03d} SAS",
        role="seller" if number % 2 else "buyer",
    )
    with portal.client() as client:
        return register(client, "rueda-test", form).status_code


def test_concurrent_registrations_lose_and_duplicate_nothing(
    pg_engine: Engine, make_portal: Callable[..., Portal]
) -> None:
    # 40 browsers at once on one process: this test is about losing and duplicating nothing, so the
    # process admits them all (load shedding past threads + queue_limit is tested in test_shedding).
    portal = make_portal(pg_engine, queue_limit=ADMIT_ALL)
    open_event(pg_engine)
    numbers = list(range(DISTINCT)) + list(range(REPEATED))
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(lambda n: _submit(portal, n), numbers))
    assert Counter(statuses) == {200: DISTINCT + REPEATED}
    with Session(pg_engine) as session:
        emails = session.exec(select(Participant.email)).all()
        assert sorted(emails) == sorted(f"person{n:03d}@company{n:03d}.example" for n in range(DISTINCT))
        assert session.exec(select(func.count()).select_from(Organization)).one() == DISTINCT
        kinds = Counter(session.exec(select(Notification.kind)).all())
        # One confirmation per person; the second submission of an email got a sign-in link instead.
        assert kinds == {"registration.confirmed": DISTINCT, "login.requested": REPEATED}
        assert session.exec(select(func.count()).select_from(LoginToken)).one() == DISTINCT + REPEATED
        per_person = Counter(session.exec(select(Notification.participant_id)).all())
        assert sorted(Counter(per_person.values()).items()) == [(1, DISTINCT - REPEATED), (2, REPEATED)]


def test_signed_in_pages_at_once_do_not_exhaust_a_small_pool(
    pg_engine: Engine, postgres_url: str, make_portal: Callable[..., Portal]
) -> None:
    # Two threads and two pooled connections (no overflow), 60 signed-in pages asked at once. A
    # dependency that kept its connection while the request waited for a thread to run the page
    # deadlocked here: the connections were held by requests waiting for a thread, and the threads
    # by requests waiting for a connection, until the pool's timeout turned them into HTTP 500.
    open_event(pg_engine)
    assert _submit(make_portal(pg_engine), 1) == 200
    me = participant_id(pg_engine, "person001@company001.example")
    small = create_engine(postgres_url, pool_size=2, max_overflow=0, pool_timeout=10)
    try:
        # The 58 requests beyond the two threads must wait, not be shed (see test_shedding).
        portal = make_portal(small, threads=2, queue_limit=ADMIT_ALL)
        cookie = session_cookie(SECRET, me)

        def page(path: str) -> int:
            with portal.client() as client:
                client.cookies.set("rueda_session", cookie)
                return client.get(path).status_code

        paths = ["/me", "/me/catalog", "/me/requests", "/me/agenda"] * 15
        with ThreadPoolExecutor(max_workers=60) as pool:
            statuses = list(pool.map(page, paths))
    finally:
        small.dispose()
    assert Counter(statuses) == {200: 60}
