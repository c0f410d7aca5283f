"""Sending the surveys: one email per invitee with a working link, nothing twice, reminders within
the cap and spacing with a rotated link, follow-ups by wave, and the follow-ups the reconciliation
finds due."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import DomainEvent, Event, EventStatus, Notification, SurveyWave
from notifications.catalog import context_from_json
from services.db import transaction
from services.errors import DomainError, NotFoundError
from services.lifecycle import end_event
from services.survey_mail import ReminderPolicy, due_followups, send_followups, send_surveys
from services.surveys import ParticipantAnswer, get_survey, submit_answers
from tests.surveys.known_event import build_roundtable

pytestmark = pytest.mark.integration
BASE = "https://rueda.example.org"
POLICY = ReminderPolicy(max_reminders=2, spacing=timedelta(days=4))


def _event(engine: Engine, now: datetime) -> int:
    with transaction(engine) as session:
        event_id, _, _ = build_roundtable(session, now)
    return event_id


def _ended(engine: Engine, event_id: int, now: datetime) -> None:
    with transaction(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        event.status = EventStatus.SCHEDULED
        end_event(session, event, now=now)


def _send(engine: Engine, event_id: int, now: datetime, months: int | None = None) -> tuple[int, int]:
    with transaction(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        if months is None:
            result = send_surveys(session, event, now=now, base_url=BASE, policy=POLICY)
        else:
            result = send_followups(session, event, months, now=now, base_url=BASE, policy=POLICY)
    return result.invited, result.reminded


def _tokens(engine: Engine, kind: str) -> dict[str, str]:
    """recipient email -> the token in the newest `kind` email's link."""
    with Session(engine) as session:
        rows = session.exec(
            select(Notification).where(Notification.kind == kind).order_by(col(Notification.id))
        ).all()
    tokens = {}
    for row in rows:
        context = context_from_json(kind, row.context)
        url = context.survey_url  # type: ignore[union-attr]
        assert url.startswith(f"{BASE}/survey?t=")
        tokens[row.recipient_email] = parse_qs(urlparse(url).query)["t"][0]
    return tokens


def test_surveys_go_once_to_everyone_with_a_meeting_and_reminders_respect_cap_and_spacing(
    engine: Engine, now: datetime
) -> None:
    event_id = _event(engine, now)
    with transaction(engine) as session, pytest.raises(DomainError, match="has not ended"):
        send_surveys(session, session.get(Event, event_id), now=now, base_url=BASE)  # type: ignore[arg-type]
    _ended(engine, event_id, now)
    assert _send(engine, event_id, now) == (5, 0)
    invited = _tokens(engine, "survey.invited")
    assert sorted(invited) == [
        "b1@example.org",
        "b2@example.org",
        "s1@example.org",
        "s2@example.org",
        "s3@example.org",
    ]
    with Session(engine) as session:
        assert len(get_survey(session, invited["b1@example.org"], now=now).meetings) == 2
    # At once again: nothing new.
    assert _send(engine, event_id, now + timedelta(hours=1)) == (0, 0)
    # B1 answers everything about the event (satisfaction and NPS) and both meetings.
    with transaction(engine) as session:
        view = get_survey(session, invited["b1@example.org"], now=now)
        from services.surveys import MeetingAnswer

        submit_answers(
            session,
            invited["b1@example.org"],
            meetings=[
                MeetingAnswer(meeting_id=m.meeting_id, took_place=True, interest=4) for m in view.meetings
            ],
            participant=ParticipantAnswer(satisfaction=5, recommend=9),
            now=now + timedelta(days=1),
        )
    # Four days on: the four others are reminded with a new link; the old one stops working.
    assert _send(engine, event_id, now + timedelta(days=4)) == (0, 4)
    reminded = _tokens(engine, "survey.reminder")
    assert sorted(reminded) == ["b2@example.org", "s1@example.org", "s2@example.org", "s3@example.org"]
    with Session(engine) as session:
        with pytest.raises(NotFoundError):
            get_survey(session, invited["b2@example.org"], now=now + timedelta(days=4))
        assert len(get_survey(session, reminded["b2@example.org"], now=now + timedelta(days=4)).meetings) == 3
    assert _send(engine, event_id, now + timedelta(days=6)) == (0, 0)  # spacing holds
    assert _send(engine, event_id, now + timedelta(days=8)) == (0, 4)  # the second and last
    assert _send(engine, event_id, now + timedelta(days=12)) == (0, 0)  # cap reached
    with Session(engine) as session:
        kinds = session.exec(select(Notification.kind)).all()
    assert sorted(kinds).count("survey.invited") == 5
    assert sorted(kinds).count("survey.reminder") == 8


def test_followups_by_wave_and_the_ones_the_reconciliation_finds_due(engine: Engine, now: datetime) -> None:
    event_id = _event(engine, now)
    _ended(engine, event_id, now)
    with Session(engine) as session:
        assert due_followups(session, now=now + timedelta(days=90)) == []
        assert due_followups(session, now=now + timedelta(days=183)) == [
            ("rueda-resultados", 3),
            ("rueda-resultados", 6),
        ]
    assert _send(engine, event_id, now + timedelta(days=91), months=3) == (4, 0)
    assert _send(engine, event_id, now + timedelta(days=91), months=3) == (0, 0)
    with Session(engine) as session:
        assert due_followups(session, now=now + timedelta(days=400)) == [
            ("rueda-resultados", 6),
            ("rueda-resultados", 12),
        ]
        rows = session.exec(select(Notification).where(Notification.kind == "followup.invited")).all()
        contexts = [context_from_json("followup.invited", r.context) for r in rows]
        facts = session.exec(
            select(DomainEvent.payload).where(DomainEvent.name == "rueda.survey.invited")
        ).all()
    assert sorted(r.recipient_email for r in rows) == [
        "b1@example.org",
        "b2@example.org",
        "s1@example.org",
        "s2@example.org",
    ]
    assert {c.months for c in contexts} == {3}  # type: ignore[union-attr]
    assert facts == [{"wave": SurveyWave.FOLLOWUP_3M.value, "invitations": 4}]
    with (
        transaction(engine) as session,
        pytest.raises(DomainError, match="months: follow-ups are at 3, 6 or 12"),
    ):
        send_followups(session, session.get(Event, event_id), 4, now=now, base_url=BASE)  # type: ignore[arg-type]
