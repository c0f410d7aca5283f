"""Calendar files (RFC 5545 / iTIP RFC 5546) for meetings: the agenda of a participant, the changed
meetings of an agenda, and cancellations. Pure: no database, no clock (DTSTAMP is an argument).

Invariants:
- one VEVENT per meeting; its UID depends only on the meeting id (`meeting-<id>@<domain>`), so every
  update of the same meeting replaces the entry in the recipient's calendar instead of adding one;
  the domain is `settings.portal.uid_domain` for every source (email, portal download, feed), so a
  meeting that reaches one calendar by two of them is still one entry;
- SEQUENCE is the meeting's version, which grows on every change, so a calendar keeps the newest;
- METHOD:REQUEST for new and changed meetings, METHOD:CANCEL (STATUS:CANCELLED) for cancelled ones;
  one file has one METHOD, so a change set with both becomes two files;
- METHOD:PUBLISH for the portal's agenda download and calendar subscription feed;
- times are written in the event's zone with its VTIMEZONE, so clients show the venue's wall time
  correctly whatever zone the recipient's device is in;
- LOCATION is the table and the venue; DESCRIPTION names the counterpart, the products and the
  contact details the context carries (the service includes them only with consent).

Cost: about 0.3 ms per meeting; the VTIMEZONE of each zone and year range is built once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parseaddr
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar as VCalendar
from icalendar import Event, Timezone, vCalAddress, vText

from notifications.catalog import (
    AgendaChanged,
    AgendaPublished,
    Calendar,
    ChangeKind,
    Context,
    EventInfo,
    MeetingCancelled,
    MeetingInfo,
    get_kind,
)
from notifications.render import translate

PRODID = "-//Rueda//Notifications//EN"
# PUBLISH: the portal's download and subscription feed (a calendar to show, not an invitation).
Method = Literal["REQUEST", "CANCEL", "PUBLISH"]


@dataclass(frozen=True, slots=True)
class CalendarFile:
    filename: str
    method: Method
    content: bytes


@cache
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    # Only the event's years: the full 1970-2038 table costs about 80 ms per zone and per file, and
    # a meeting never falls outside its event. Cached: the component is never modified after this.
    return Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1))


def meeting_uid(meeting_id: int, domain: str) -> str:
    return f"meeting-{meeting_id}@{domain}"


def build_calendar(
    meetings: tuple[MeetingInfo, ...],
    *,
    method: Method,
    event: EventInfo,
    language: str,
    organizer: str,
    attendee: str,
    stamp_at: datetime,
    domain: str,
) -> bytes:
    """One calendar with one VEVENT per meeting. `organizer` is the From address, `attendee` the
    recipient's address; `stamp_at` (aware) becomes DTSTAMP."""
    zone = ZoneInfo(event.timezone)
    calendar = VCalendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add("calscale", "GREGORIAN")
    organizer_name, organizer_email = parseaddr(organizer)
    for meeting in meetings:
        calendar.add_component(
            _vevent(
                meeting,
                method=method,
                event=event,
                language=language,
                zone=zone,
                organizer_name=organizer_name,
                organizer_email=organizer_email,
                attendee=attendee,
                stamp_at=stamp_at,
                domain=domain,
            )
        )
    calendar.add_component(_vtimezone(event.timezone, event.starts_on.year, event.ends_on.year))
    content: bytes = calendar.to_ical()
    return content


def _vevent(
    meeting: MeetingInfo,
    *,
    method: Method,
    event: EventInfo,
    language: str,
    zone: ZoneInfo,
    organizer_name: str,
    organizer_email: str,
    attendee: str,
    stamp_at: datetime,
    domain: str,
) -> Event:
    other = meeting.counterpart
    item = Event()
    item.add("uid", meeting_uid(meeting.meeting_id, domain))
    item.add("sequence", meeting.version)
    item.add("dtstamp", stamp_at)
    item.add("dtstart", meeting.starts_at.astimezone(zone))
    item.add("dtend", meeting.ends_at.astimezone(zone))
    item.add(
        "summary",
        translate(language, "Meeting with %(name)s") % {"name": f"{other.name} ({other.organization})"},
    )
    place = [f"{translate(language, 'Table')} {meeting.table}"]
    place += [p for p in (event.venue_name, event.venue_address) if p]
    item.add("location", ", ".join(place))
    lines = [f"{other.name} · {other.organization} ({other.country})"]
    if other.products:
        lines.append(f"{translate(language, 'Products')}: {'; '.join(other.products)}")
    contact = [c for c in (other.email, other.phone) if c]
    if contact:
        lines.append(f"{translate(language, 'Contact')}: {' · '.join(contact)}")
    item.add("description", "\n".join(lines))
    item.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    item.add("transp", "OPAQUE")
    organizer_address = vCalAddress(f"mailto:{organizer_email}")
    if organizer_name:
        organizer_address.params["cn"] = vText(organizer_name)
    item.add("organizer", organizer_address)
    attendee_address = vCalAddress(f"mailto:{attendee}")
    attendee_address.params["role"] = vText("REQ-PARTICIPANT")
    attendee_address.params["partstat"] = vText("ACCEPTED")
    item.add("attendee", attendee_address)
    return item


def build_calendar_files(
    kind_key: str,
    context: Context,
    *,
    language: str,
    organizer: str,
    attendee: str,
    stamp_at: datetime,
    domain: str,
) -> list[CalendarFile]:
    """The calendar attachments of a message, as its kind declares (`catalog.Calendar`)."""

    def make(meetings: tuple[MeetingInfo, ...], method: Method, filename: str) -> CalendarFile:
        content = build_calendar(
            meetings,
            method=method,
            event=context.event,
            language=language,
            organizer=organizer,
            attendee=attendee,
            stamp_at=stamp_at,
            domain=domain,
        )
        return CalendarFile(filename=filename, method=method, content=content)

    declared = get_kind(kind_key).calendar
    if declared is Calendar.AGENDA and isinstance(context, AgendaPublished):
        return [make(context.meetings, "REQUEST", "agenda.ics")] if context.meetings else []
    if declared is Calendar.CANCEL and isinstance(context, MeetingCancelled):
        return [make((context.meeting,), "CANCEL", "cancelled.ics")]
    if declared is Calendar.CHANGES and isinstance(context, AgendaChanged):
        current = tuple(c.meeting for c in context.changes if c.change != ChangeKind.CANCELLED)
        cancelled = tuple(c.meeting for c in context.changes if c.change == ChangeKind.CANCELLED)
        files = []
        if current:
            files.append(make(current, "REQUEST", "changes.ics"))
        if cancelled:
            files.append(make(cancelled, "CANCEL", "cancelled.ics"))
        return files
    return []
