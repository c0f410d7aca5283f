"""The catalog of kinds: every kind has its templates and a context that is validated at queue
time and survives its JSON form."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifications.catalog import (
    KINDS,
    Audience,
    Calendar,
    MeetingInfo,
    NotificationContextError,
    context_from_json,
    context_to_json,
    validate_context,
)
from notifications.render import TEMPLATE_DIR
from notifications.samples import sample_contexts, sample_meetings

pytestmark = pytest.mark.unit


def test_catalog_has_the_kinds_of_issues_4_and_6() -> None:
    assert sorted(KINDS) == [
        "agenda.changed",
        "agenda.published",
        "followup.invited",
        "login.requested",
        "matches.suggested",
        "meeting.cancelled",
        "mission.deadline-approaching",
        "organizer.digest",
        "privacy.erasure-decided",
        "registration.confirmed",
        "reminder.day-before",
        "reminder.first-meeting",
        "requests.received",
        "survey.invited",
        "survey.reminder",
        "waitlist.offered",
    ]
    assert [k for k, v in KINDS.items() if v.audience is Audience.ORGANIZER] == ["organizer.digest"]
    assert {k: v.calendar for k, v in KINDS.items() if v.calendar is not Calendar.NONE} == {
        "agenda.published": Calendar.AGENDA,
        "agenda.changed": Calendar.CHANGES,
        "meeting.cancelled": Calendar.CANCEL,
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_text_and_html_templates(kind: str) -> None:
    folder = Path(TEMPLATE_DIR) / KINDS[kind].template_dir
    assert sorted(p.name for p in folder.iterdir()) == ["message.html", "message.txt"]
    assert "{% block subject %}" in (folder / "message.txt").read_text()
    assert '{% extends "base.html" %}' in (folder / "message.html").read_text()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_sample_context_survives_json(kind: str) -> None:
    context = sample_contexts()[kind]
    assert validate_context(kind, context) is context
    assert context_from_json(kind, context_to_json(context)) == context


def test_context_refuses_naive_datetimes() -> None:
    meeting = sample_meetings(1)[0]
    with pytest.raises(ValueError, match="naive datetime 2027-05-19T08:00:00"):
        dataclasses.replace(meeting, starts_at=datetime(2027, 5, 19, 8, 0))  # noqa: DTZ001


def test_context_refuses_a_meeting_that_ends_before_it_starts() -> None:
    meeting = sample_meetings(1)[0]
    with pytest.raises(ValueError, match="a meeting ends after it starts"):
        dataclasses.replace(meeting, ends_at=meeting.starts_at)


def test_context_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(
        NotificationContextError, match=r"survey\.invited takes a SurveyInvited, not a SurveyReminder"
    ):
        validate_context("survey.invited", sample_contexts()["survey.reminder"])


def test_stored_context_is_validated_when_read() -> None:
    data = context_to_json(sample_contexts()["followup.invited"])
    data["months"] = 4
    with pytest.raises(NotificationContextError, match="follow-ups happen at 3, 6 or 12 months"):
        context_from_json("followup.invited", data)
    data["months"] = 6
    data["event"]["timezone"] = "Mars/Olympus"
    with pytest.raises(NotificationContextError, match="'Mars/Olympus' is not an IANA time zone"):
        context_from_json("followup.invited", data)


def test_meeting_json_keeps_utc_instants() -> None:
    meeting = MeetingInfo(
        meeting_id=1,
        version=1,
        starts_at=datetime(2027, 5, 19, 13, 0, tzinfo=UTC),
        ends_at=datetime(2027, 5, 19, 13, 30, tzinfo=UTC),
        table="T1",
        counterpart=sample_meetings(1)[0].counterpart,
    )
    context = dataclasses.replace(sample_contexts()["reminder.first-meeting"], meeting=meeting)
    data = context_to_json(context)
    assert data["meeting"]["starts_at"] == "2027-05-19T13:00:00Z"
    assert context_from_json("reminder.first-meeting", data) == context
