"""Calendar files parse back with icalendar, carry valid time zones, and keep a meeting's UID while
its SEQUENCE grows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from notifications.catalog import EventInfo
from notifications.ics import build_calendar, build_calendar_files
from notifications.samples import SAMPLE_EVENT, sample_contexts, sample_meetings

pytestmark = pytest.mark.unit

STAMP = datetime(2027, 4, 1, 15, 0, tzinfo=UTC)
ORGANIZER = "Rueda <no-reply@rueda.localhost>"


def _calendar(meetings: tuple, method: str = "REQUEST", event: EventInfo = SAMPLE_EVENT) -> Calendar:  # type: ignore[type-arg]
    content = build_calendar(
        meetings,
        method=method,  # type: ignore[arg-type]
        event=event,
        language="es",
        organizer=ORGANIZER,
        attendee="ana@example.org",
        stamp_at=STAMP,
        domain="rueda.localhost",
    )
    return Calendar.from_ical(content)


def test_agenda_calendar_parses_back_with_one_event_per_meeting() -> None:
    calendar = _calendar(sample_meetings(3))
    events = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert [str(e["UID"]) for e in events] == [
        "meeting-101@rueda.localhost",
        "meeting-102@rueda.localhost",
        "meeting-103@rueda.localhost",
    ]
    first = events[0]
    assert first.decoded("DTSTART") == datetime(2027, 5, 19, 8, 0, tzinfo=ZoneInfo("America/Bogota"))
    assert first.decoded("DTSTART").astimezone(UTC) == datetime(2027, 5, 19, 13, 0, tzinfo=UTC)
    assert first["DTSTART"].params["TZID"] == "America/Bogota"
    assert int(first["SEQUENCE"]) == 1
    assert str(first["STATUS"]) == "CONFIRMED"
    assert str(first["SUMMARY"]) == "Reunión con Hans Müller (Rheinkaffee GmbH)"
    assert str(first["LOCATION"]) == "Mesa T12, Centro de Eventos Valle del Pacífico, Calle 37 # 8-43, Cali"
    assert str(first["DESCRIPTION"]) == (
        "Hans Müller · Rheinkaffee GmbH (DE)\n"
        "Productos: Café verde especial (0901.11); Cacao en grano (1801.00)\n"
        "Contacto: h.mueller@rheinkaffee.example · +49 30 1234567"
    )
    assert first.decoded("DTSTAMP") == STAMP
    assert str(first["ORGANIZER"]) == "mailto:no-reply@rueda.localhost"
    assert str(first["ATTENDEE"]) == "mailto:ana@example.org"


def test_description_omits_contact_without_consent() -> None:
    second = _calendar(sample_meetings(3)).walk("VEVENT")[1]
    assert (
        str(second["DESCRIPTION"])
        == "Chloé Martin · Épicerie Fine Lyon (FR)\nProductos: Panela orgánica (1701.13)"
    )


def test_vtimezone_matches_the_zone_rules_across_daylight_saving() -> None:
    madrid = dataclasses.replace(SAMPLE_EVENT, timezone="Europe/Madrid")
    winter, summer = sample_meetings(2)
    winter = dataclasses.replace(
        winter,
        starts_at=datetime(2027, 2, 1, 9, 0, tzinfo=UTC),
        ends_at=datetime(2027, 2, 1, 9, 30, tzinfo=UTC),
    )
    summer = dataclasses.replace(
        summer,
        starts_at=datetime(2027, 7, 1, 9, 0, tzinfo=UTC),
        ends_at=datetime(2027, 7, 1, 9, 30, tzinfo=UTC),
    )
    calendar = _calendar((winter, summer), event=madrid)
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Madrid"
    rules = zone.to_tz()
    for event, offset in zip(calendar.walk("VEVENT"), (timedelta(hours=1), timedelta(hours=2)), strict=True):
        local = event.decoded("DTSTART").replace(tzinfo=None)
        assert local.replace(tzinfo=rules).utcoffset() == offset
        assert local.replace(tzinfo=rules).astimezone(UTC).hour == 9


def test_changed_meeting_keeps_its_uid_with_a_higher_sequence() -> None:
    meeting = sample_meetings(1)[0]
    moved = dataclasses.replace(
        meeting,
        version=meeting.version + 1,
        starts_at=meeting.starts_at + timedelta(hours=1),
        ends_at=meeting.ends_at + timedelta(hours=1),
        table="T40",
    )
    [before] = _calendar((meeting,)).walk("VEVENT")
    [after] = _calendar((moved,)).walk("VEVENT")
    assert after["UID"] == before["UID"]
    assert (int(before["SEQUENCE"]), int(after["SEQUENCE"])) == (1, 2)
    assert str(after["LOCATION"]).startswith("Mesa T40, ")


def test_cancellation_uses_method_cancel() -> None:
    [file] = build_calendar_files(
        "meeting.cancelled",
        sample_contexts()["meeting.cancelled"],
        language="en",
        organizer=ORGANIZER,
        attendee="ana@example.org",
        stamp_at=STAMP,
        domain="rueda.localhost",
    )
    calendar = Calendar.from_ical(file.content)
    assert (file.filename, file.method, str(calendar["METHOD"])) == ("cancelled.ics", "CANCEL", "CANCEL")
    [event] = calendar.walk("VEVENT")
    assert (str(event["UID"]), str(event["STATUS"])) == ("meeting-101@rueda.localhost", "CANCELLED")
    assert str(event["SUMMARY"]) == "Meeting with Hans Müller (Rheinkaffee GmbH)"


def test_agenda_change_sends_updates_and_cancellations_separately() -> None:
    files = build_calendar_files(
        "agenda.changed",
        sample_contexts()["agenda.changed"],
        language="pt",
        organizer=ORGANIZER,
        attendee="ana@example.org",
        stamp_at=STAMP,
        domain="rueda.localhost",
    )
    assert [(f.filename, f.method) for f in files] == [
        ("changes.ics", "REQUEST"),
        ("cancelled.ics", "CANCEL"),
    ]
    updates, cancellations = (Calendar.from_ical(f.content) for f in files)
    assert [(str(e["UID"]), int(e["SEQUENCE"])) for e in updates.walk("VEVENT")] == [
        ("meeting-102@rueda.localhost", 2),
        ("meeting-140@rueda.localhost", 1),
    ]
    assert [str(e["UID"]) for e in cancellations.walk("VEVENT")] == ["meeting-103@rueda.localhost"]
    assert str(updates.walk("VEVENT")[0]["LOCATION"]).startswith("Mesa T20, ")


def test_kinds_without_meetings_attach_no_calendar() -> None:
    for kind in ("survey.invited", "reminder.first-meeting", "organizer.digest"):
        assert (
            build_calendar_files(
                kind,
                sample_contexts()[kind],
                language="es",
                organizer=ORGANIZER,
                attendee="a@b.org",
                stamp_at=STAMP,
                domain="d",
            )
            == []
        )
