"""Erasure against generated names (issue 13, item 5): whatever a person is called (punctuation at
either end, regex metacharacters, any script, mixed case), once their data is erased no table holds
their name, address or phone, and other people's words that merely contain it are left alone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import SmtpSettings
from models import MeetingRequest, Notification, NotificationStatus, RequestOrigin, RequestPriority
from notifications.dispatcher import dispatch_due
from services.db import transaction
from services.erasure import ErasureOptions, carry_out_erasure
from tests.factories import make_event, make_participant
from tests.portal.test_erasure import database_text

pytestmark = pytest.mark.integration

NOW = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
OPTIONS = ErasureOptions(agenda_url="http://127.0.0.1:8000/agenda", first_meeting_lead=timedelta(minutes=30))
_numbers = itertools.count(1)

# Name parts as people type them: any letters, marks, digits, punctuation and symbols, and spaces.
part = st.text(
    alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="·"),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=part, last=part, phone=st.from_regex(r"\+[0-9]{2} [0-9]{3} [0-9]{4}", fullmatch=True))
def test_no_table_names_an_erased_person(
    sqlite_engine: Engine, smtp: SmtpSettings, first: str, last: str, phone: str
) -> None:
    n = next(_numbers)
    # The middle mark makes each example's name unique in the database; its two ends are generated.
    name = f"{first}·{n}·{last}"
    email = f"person{n}@erasure.example"
    with transaction(sqlite_engine) as session:
        event = make_event(session, NOW, slug=f"erasure-{n}")
        try:
            person = make_participant(session, event, NOW, email, full_name=name, phone=phone)
        except ValidationError:
            reject()  # refused at the door (e.g. only spaces): nothing to erase
        other = make_participant(session, event, NOW, f"other{n}@erasure.example", full_name="Zed Other")
        third = make_participant(session, event, NOW, f"third{n}@erasure.example", full_name="Yves Third")
        stored = person.full_name
        assert (
            person.id is not None and other.id is not None and third.id is not None and event.id is not None
        )
        # What others wrote and were sent about the person, as real text puts a name: between words.
        session.add(
            MeetingRequest(
                event_id=event.id,
                requester_id=other.id,
                target_id=third.id,
                priority=RequestPriority.MUST,
                origin=RequestOrigin.PARTICIPANT,
                note=f"Met {stored}, or {stored.upper()}, at the fair. Call {phone}. Banana{n}",
                created_at=NOW,
            )
        )
        session.add(
            Notification(
                event_id=event.id,
                kind="requests.received",
                participant_id=other.id,
                recipient_email=f"other{n}@erasure.example",
                language="en",
                context={"requests": [{"counterpart": {"name": stored, "email": email, "phone": phone}}]},
                idempotency_key=f"erasure-test-{n}",
                message_id=f"<erasure-test-{n}@rueda>",
                due_at=NOW,
                status=NotificationStatus.SENT,
                created_at=NOW,
            )
        )
        session.flush()
        person_id = person.id
        outcome = carry_out_erasure(session, event, person_id, by="dpo", now=NOW, options=OPTIONS)
    assert outcome.changed["participant anonymised"] == 1
    assert outcome.changed["other people's free text naming them"] == 1
    assert outcome.changed["other outbox messages naming them"] == 1
    # The confirmation needs the address until it is sent; then the outbox forgets it too.
    assert dispatch_due(sqlite_engine, smtp, clock=lambda: NOW, calendar_domain="rueda.localhost").failed == 0
    text = database_text(sqlite_engine)
    for value in (stored, stored.upper(), email, phone):
        assert value not in text
    with Session(sqlite_engine) as session:
        request = session.exec(select(MeetingRequest).where(MeetingRequest.event_id == event.id)).one()
    # The whole-word rule keeps the words around the name.
    assert request.note is not None and request.note.endswith(f". Call [erased]. Banana{n}")
    assert request.note.startswith(f"Met Erased participant {person_id}, or ")


def test_a_namesake_keeps_their_name_in_their_own_mail(sqlite_engine: Engine) -> None:
    """Two participants called Ana Gómez: erasing one replaces the name only in her own rows; the
    other's queued email still greets her by it (her address and phone are unique: those go)."""
    with transaction(sqlite_engine) as session:
        event = make_event(session, NOW, slug="namesakes")
        erased = make_participant(session, event, NOW, "ana1@erasure.example", full_name="Ana Gómez")
        kept = make_participant(session, event, NOW, "ana2@erasure.example", full_name="Ana Gómez")
        assert event.id is not None and erased.id is not None and kept.id is not None
        session.add(
            Notification(
                event_id=event.id,
                kind="login.requested",
                participant_id=kept.id,
                recipient_email="ana2@erasure.example",
                language="es",
                context={"recipient": {"name": "Ana Gómez"}, "note": "ana1@erasure.example wrote"},
                idempotency_key="namesake-1",
                message_id="<namesake-1@rueda>",
                due_at=NOW,
                created_at=NOW,
            )
        )
        session.flush()
        outcome = carry_out_erasure(session, event, erased.id, by="dpo", now=NOW, options=OPTIONS)
        assert outcome.changed["namesakes whose text keeps the name"] == 1
        assert "Ana Gómez" not in outcome.archive_needles
        row = session.exec(select(Notification).where(Notification.idempotency_key == "namesake-1")).one()
        assert row.context == {
            "recipient": {"name": "Ana Gómez"},
            "note": f"erased-{erased.id}@erased.invalid wrote",
        }
