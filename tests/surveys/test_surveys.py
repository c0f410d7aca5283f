"""Survey links, answers, reminders and reconciliation through the service, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from models import DomainEvent, SurveyInvitation, SurveyResponse, SurveyResponseKind, SurveyWave
from services.db import transaction
from services.errors import NotFoundError
from services.surveys import (
    DEFAULT_WINDOW,
    DisagreementKind,
    FieldError,
    FollowupLine,
    MeetingAnswer,
    ParticipantAnswer,
    SurveyAnswerError,
    SurveyClosedError,
    create_invitations,
    get_survey,
    hash_token,
    issue_reminders,
    list_disagreements,
    submit_answers,
)
from tests.surveys.known_event import SURVEY_AT, build_roundtable

pytestmark = pytest.mark.integration

LATER = SURVEY_AT + timedelta(days=1)


def _setup(engine: Engine, now: datetime) -> tuple[int, dict[str, int], dict[str, int], dict[str, str]]:
    with transaction(engine) as session:
        event_id, people, meetings = build_roundtable(session, now)
    name_of = {v: k for k, v in people.items()}
    with transaction(engine) as session:
        links = create_invitations(session, event_id, SurveyWave.POST_EVENT, now=SURVEY_AT)
    return event_id, people, meetings, {name_of[link.participant_id]: link.token for link in links}


def test_invitations_go_once_to_participants_with_meetings(engine: Engine, now: datetime) -> None:
    event_id, people, _, tokens = _setup(engine, now)
    # S4 has no meeting, S5 withdrew; S3's only active meeting was a no-show, still surveyed.
    assert sorted(tokens) == ["B1", "B2", "S1", "S2", "S3"]
    with transaction(engine) as session:
        rows = session.exec(select(SurveyInvitation).order_by(col(SurveyInvitation.participant_id))).all()
        assert [r.token_hash for r in rows] == [hash_token(tokens[n]) for n in ("B1", "B2", "S1", "S2", "S3")]
        assert all(r.sent_at == SURVEY_AT and r.reminders_sent == 0 and r.completed_at is None for r in rows)
        assert all(len(t) >= 43 and hash_token(t) != t for t in tokens.values())
        again = create_invitations(session, event_id, SurveyWave.POST_EVENT, now=LATER)
        assert again == []
        followups = create_invitations(session, event_id, SurveyWave.FOLLOWUP_3M, now=LATER)
        # Follow-ups need an active meeting: S3's was a no-show.
        assert sorted(link.participant_id for link in followups) == sorted(
            people[n] for n in ("B1", "B2", "S1", "S2")
        )
        facts = session.exec(select(DomainEvent).where(DomainEvent.name == "rueda.survey.invited")).all()
        assert sorted(f.payload["invitations"] for f in facts) == [4, 5]


def test_one_link_lists_all_of_a_participants_meetings(engine: Engine, now: datetime) -> None:
    event_id, people, meetings, tokens = _setup(engine, now)
    with transaction(engine) as session:
        view = get_survey(session, tokens["B2"], now=LATER)
    assert (view.event_id, view.participant_id, view.wave, view.is_complete) == (
        event_id,
        people["B2"],
        SurveyWave.POST_EVENT,
        False,
    )
    assert view.closes_at == SURVEY_AT + DEFAULT_WINDOW
    assert [(m.meeting_id, m.counterpart_organization, m.table_code) for m in view.meetings] == [
        (meetings["M3"], "Café Andino SAS", "T2"),
        (meetings["M4"], "Confecciones Medellín SAS", "T2"),
        (meetings["M5"], "Frutas del Valle SAS", "T2"),
    ]
    assert all(m.answer is None for m in view.meetings)


def test_unknown_and_closed_links_are_refused(engine: Engine, now: datetime) -> None:
    _, _, _, tokens = _setup(engine, now)
    with transaction(engine) as session:
        with pytest.raises(NotFoundError, match="not valid"):
            get_survey(session, "not-a-token", now=LATER)
        with pytest.raises(SurveyClosedError, match="closed"):
            get_survey(session, tokens["B1"], now=SURVEY_AT + DEFAULT_WINDOW)
        with pytest.raises(SurveyClosedError):
            submit_answers(
                session,
                tokens["B1"],
                participant=ParticipantAnswer(5, 10),
                now=SURVEY_AT + timedelta(days=31),
            )
        assert get_survey(
            session, tokens["B1"], now=SURVEY_AT + timedelta(days=40), window=timedelta(days=60)
        )


def test_invalid_answers_name_each_field_and_save_nothing(engine: Engine, now: datetime) -> None:
    _, _, meetings, tokens = _setup(engine, now)
    with transaction(engine) as session, pytest.raises(SurveyAnswerError) as caught:
        submit_answers(
            session,
            tokens["B1"],
            meetings=[
                MeetingAnswer(meetings["M1"], True, interest=6, expected_3m_cents=-5),
                MeetingAnswer(meetings["M2"], False, interest=3, expected_immediate_cents=100),
                MeetingAnswer(meetings["M3"], True),
                MeetingAnswer(meetings["M1"], True, currency="JPY", expected_immediate_cents=10),
            ],
            participant=ParticipantAnswer(satisfaction=0, recommend=11),
            now=LATER,
        )
    m1, m2, m3 = meetings["M1"], meetings["M2"], meetings["M3"]
    assert caught.value.errors == [
        FieldError(f"meetings[{m1}].interest", "give a whole number from 1 to 5"),
        FieldError(f"meetings[{m1}].expected_3m_cents", "cannot be negative"),
        FieldError(f"meetings[{m2}].interest", "leave empty: the meeting did not take place"),
        FieldError(f"meetings[{m2}].expected_immediate_cents", "leave empty: the meeting did not take place"),
        FieldError(f"meetings[{m3}]", "not one of your meetings at this event"),
        FieldError(f"meetings[{m1}]", "answered twice in one submission"),
        FieldError(f"meetings[{m1}].usd_rate", "state how many US$ one JPY is worth"),
        FieldError("participant.satisfaction", "give a whole number from 1 to 5"),
        FieldError("participant.recommend", "give a whole number from 0 to 10"),
    ]
    assert str(caught.value).startswith(f"meetings[{m1}].interest: give a whole number from 1 to 5; ")
    with transaction(engine) as session:
        assert session.exec(select(SurveyResponse)).all() == []


def test_followup_answers_are_validated_by_line(engine: Engine, now: datetime) -> None:
    event_id, _, meetings, _ = _setup(engine, now)
    with transaction(engine) as session:
        token = create_invitations(session, event_id, SurveyWave.FOLLOWUP_3M, now=LATER)[0].token
    with transaction(engine) as session, pytest.raises(SurveyAnswerError) as caught:
        submit_answers(
            session,
            token,
            meetings=[MeetingAnswer(meetings["M1"], True)],
            followup=[FollowupLine("9x", actual_closed_cents=1), FollowupLine("0901", currency="usd")],
            now=LATER,
        )
    assert caught.value.errors == [
        FieldError("meetings", "a follow-up asks about business closed, not meetings"),
        FieldError("followup[0].hs_code", "give the product's HS code (2, 4 or 6 digits)"),
        FieldError("followup[1].actual_closed_cents", "give the amount closed or exported"),
        FieldError("followup[1].currency", "give an ISO 4217 code such as USD, EUR or COP"),
    ]


def test_resubmitting_updates_the_answer_and_completion_is_recorded_once(
    engine: Engine, now: datetime
) -> None:
    _, _, meetings, tokens = _setup(engine, now)
    with transaction(engine) as session:
        first = submit_answers(
            session,
            tokens["B1"],
            meetings=[MeetingAnswer(meetings["M1"], True, interest=3, expected_immediate_cents=100_000)],
            now=LATER,
        )
    assert (first.meetings_saved, first.is_complete, first.is_newly_complete) == (1, False, False)
    with transaction(engine) as session:
        second = submit_answers(
            session,
            tokens["B1"],
            meetings=[
                MeetingAnswer(meetings["M1"], True, interest=5, expected_immediate_cents=250_000),
                # EUR needs no stated rate: the event configures one.
                MeetingAnswer(meetings["M2"], True, currency="EUR", expected_6m_cents=10_000),
            ],
            participant=ParticipantAnswer(satisfaction=4, recommend=8, comments="  Great  "),
            now=LATER + timedelta(hours=1),
        )
    assert (second.is_complete, second.is_newly_complete) == (True, True)
    with transaction(engine) as session:
        third = submit_answers(
            session,
            tokens["B1"],
            participant=ParticipantAnswer(satisfaction=5),
            now=LATER + timedelta(hours=2),
        )
        assert (third.is_complete, third.is_newly_complete) == (True, False)
        rows = session.exec(select(SurveyResponse).order_by(col(SurveyResponse.id))).all()
        assert [(r.kind, r.meeting_id, r.interest, r.expected_immediate_cents) for r in rows] == [
            (SurveyResponseKind.MEETING, meetings["M1"], 5, 250_000),
            (SurveyResponseKind.MEETING, meetings["M2"], None, None),
            (SurveyResponseKind.PARTICIPANT, None, None, None),
        ]
        assert (rows[1].currency, rows[1].usd_rate, rows[1].expected_6m_cents) == ("EUR", None, 10_000)
        assert (rows[2].satisfaction, rows[2].recommend, rows[2].comments) == (5, None, None)
        invitation = session.exec(
            select(SurveyInvitation).where(SurveyInvitation.token_hash == hash_token(tokens["B1"]))
        ).one()
        assert invitation.completed_at == LATER + timedelta(hours=1)
        completed = session.exec(
            select(DomainEvent).where(DomainEvent.name == "rueda.survey.completed")
        ).all()
        assert [f.resource_id for f in completed] == [f"rueda.survey_invitation.{invitation.id}"]
        view = get_survey(session, tokens["B1"], now=LATER + timedelta(hours=3))
        assert view.is_complete
        assert [m.answer.interest if m.answer else None for m in view.meetings] == [5, None]


def test_followup_resubmission_replaces_the_product_lines(engine: Engine, now: datetime) -> None:
    event_id, people, _, _ = _setup(engine, now)
    with transaction(engine) as session:
        links = create_invitations(session, event_id, SurveyWave.FOLLOWUP_6M, now=LATER)
    token = next(link.token for link in links if link.participant_id == people["S1"])
    with transaction(engine) as session:
        result = submit_answers(
            session,
            token,
            followup=[
                FollowupLine("0901.11", actual_closed_cents=100, actual_exported_cents=50),
                FollowupLine("0804", actual_closed_cents=7),
            ],
            now=LATER,
        )
        assert (result.followup_lines_saved, result.is_complete, result.is_newly_complete) == (2, True, True)
    with transaction(engine) as session:
        submit_answers(session, token, followup=[FollowupLine("0901", actual_exported_cents=9)], now=LATER)
        rows = session.exec(select(SurveyResponse)).all()
        assert [(r.hs_code, r.actual_closed_cents, r.actual_exported_cents) for r in rows] == [
            ("0901", None, 9)
        ]
        assert [line.hs_code for line in get_survey(session, token, now=LATER).followup_lines] == ["0901"]


def test_reminders_respect_cap_spacing_and_rotate_the_link(engine: Engine, now: datetime) -> None:
    event_id, people, meetings, tokens = _setup(engine, now)
    with transaction(engine) as session:
        submit_answers(
            session,
            tokens["S3"],
            meetings=[MeetingAnswer(meetings["M4"], False)],
            participant=ParticipantAnswer(satisfaction=2),
            now=LATER,
        )

    def remind(at: datetime) -> list[int]:
        with transaction(engine) as session:
            links = issue_reminders(
                session, event_id, SurveyWave.POST_EVENT, now=at, max_reminders=2, spacing=timedelta(days=3)
            )
        return sorted(link.participant_id for link in links)

    assert remind(SURVEY_AT + timedelta(days=2)) == []
    pending = sorted(people[n] for n in ("B1", "B2", "S1", "S2"))
    assert remind(SURVEY_AT + timedelta(days=3)) == pending
    assert remind(SURVEY_AT + timedelta(days=3)) == []
    assert remind(SURVEY_AT + timedelta(days=5)) == []
    assert remind(SURVEY_AT + timedelta(days=6)) == pending
    assert remind(SURVEY_AT + timedelta(days=20)) == []  # the cap of two is reached
    with transaction(engine) as session:
        with pytest.raises(NotFoundError):
            get_survey(session, tokens["B1"], now=LATER)
        rows = session.exec(
            select(SurveyInvitation).where(SurveyInvitation.participant_id == people["B1"])
        ).all()
        assert [(r.reminders_sent, r.last_reminded_at) for r in rows] == [(2, SURVEY_AT + timedelta(days=6))]


def test_reminders_stop_when_the_survey_closes(engine: Engine, now: datetime) -> None:
    event_id, _, _, _ = _setup(engine, now)
    with transaction(engine) as session:
        late = issue_reminders(
            session,
            event_id,
            SurveyWave.POST_EVENT,
            now=SURVEY_AT + timedelta(days=30),
            max_reminders=5,
            spacing=timedelta(days=1),
        )
    assert late == []


def test_new_reminder_link_opens_the_same_survey(engine: Engine, now: datetime) -> None:
    event_id, people, _, _ = _setup(engine, now)
    with transaction(engine) as session:
        links = issue_reminders(
            session,
            event_id,
            SurveyWave.POST_EVENT,
            now=SURVEY_AT + timedelta(days=4),
            max_reminders=1,
            spacing=timedelta(days=3),
        )
        fresh = next(link for link in links if link.participant_id == people["S1"])
        view = get_survey(session, fresh.token, now=SURVEY_AT + timedelta(days=4))
    assert (view.invitation_id, view.participant_id) == (fresh.invitation_id, people["S1"])


def test_list_disagreements_reads_both_sides_from_the_database(engine: Engine, now: datetime) -> None:
    event_id, _, meetings, tokens = _setup(engine, now)
    with transaction(engine) as session:
        submit_answers(session, tokens["B2"], meetings=[MeetingAnswer(meetings["M5"], False)], now=LATER)
        submit_answers(
            session,
            tokens["S2"],
            meetings=[MeetingAnswer(meetings["M5"], True, expected_immediate_cents=5_000)],
            now=LATER,
        )
        submit_answers(session, tokens["S3"], meetings=[MeetingAnswer(meetings["M4"], True)], now=LATER)
        submit_answers(session, tokens["B2"], meetings=[MeetingAnswer(meetings["M4"], True)], now=LATER)
        flags = list_disagreements(session, event_id)
    assert [(f.meeting_id, f.kind, f.detail) for f in flags] == [
        (meetings["M4"], DisagreementKind.STATUS, "both sides say it took place; recorded as no_show"),
        (
            meetings["M5"],
            DisagreementKind.TOOK_PLACE,
            "host says it did not take place, visitor says it took place",
        ),
    ]


def test_links_carry_what_the_emails_need(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        event_id, people, meetings = build_roundtable(session, now)
    name_of = {v: k for k, v in people.items()}
    with transaction(engine) as session:
        links = create_invitations(
            session, event_id, SurveyWave.POST_EVENT, now=SURVEY_AT, window=timedelta(days=10)
        )
    assert {name_of[link.participant_id]: (link.meetings, link.reported_usd_cents) for link in links} == {
        "B1": (2, None),
        "B2": (3, None),
        "S1": (2, None),
        "S2": (2, None),
        "S3": (1, None),
    }
    assert {link.closes_at for link in links} == {SURVEY_AT + timedelta(days=10)}
    token = {name_of[link.participant_id]: link.token for link in links}
    with transaction(engine) as session:
        submit_answers(
            session,
            token["B1"],
            meetings=[
                MeetingAnswer(
                    meetings["M1"], True, expected_immediate_cents=100_000, expected_12m_cents=50_000
                ),
                MeetingAnswer(meetings["M2"], True, currency="EUR", expected_3m_cents=10_000),
            ],
            now=LATER,
        )
        submit_answers(session, token["S1"], meetings=[MeetingAnswer(meetings["M1"], False)], now=LATER)
        followups = create_invitations(session, event_id, SurveyWave.FOLLOWUP_3M, now=LATER)
        reminded = issue_reminders(
            session,
            event_id,
            SurveyWave.FOLLOWUP_3M,
            now=LATER + timedelta(days=3),
            max_reminders=1,
            spacing=timedelta(days=3),
        )
    # Follow-ups cover active meetings only, and carry what each participant expected (EUR at 1.10).
    expected = {"B1": (2, 161_000), "B2": (2, None), "S1": (2, None), "S2": (2, None)}
    assert {
        name_of[link.participant_id]: (link.meetings, link.reported_usd_cents) for link in followups
    } == expected
    assert {
        name_of[link.participant_id]: (link.meetings, link.reported_usd_cents) for link in reminded
    } == expected
    assert {link.closes_at for link in reminded} == {LATER + DEFAULT_WINDOW}
