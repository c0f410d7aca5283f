"""200 registrations at once through the real HTTP portal on PostgreSQL, 40 emails sent twice on
purpose: every person is registered exactly once, and every submission got its one email."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models import LoginToken, Notification, Organization, Participant
from tests.portal.conftest import Portal, open_event, register, registration_form

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]
DISTINCT = 160
REPEATED = 40  # the first 40 emails are submitted twice, from two different browsers


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
    portal = make_portal(pg_engine)
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
