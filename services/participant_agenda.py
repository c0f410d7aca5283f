"""One participant's agenda: their active meetings with times, tables and counterparts, and the same
meetings as a calendar file (download or subscription feed).

Only the participant's own meetings are ever loaded: a meeting id that is not theirs is "not found".
Times stay aware UTC here; pages show them in the participant's own time zone, and calendar files
carry the event's zone with its VTIMEZONE (notifications.ics).
Cost: the participant's meetings, plus one pass over the event's participants to describe the
counterparts (services.agendas.meeting_infos).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from models import (
    ACTIVE_MEETING_STATUSES,
    Event,
    EventStatus,
    EventTable,
    Meeting,
    Organization,
)
from notifications.catalog import EventInfo, MeetingInfo
from notifications.ics import build_calendar
from services.agendas import event_info, meeting_infos, shown_zone
from services.lifecycle import is_past
from services.portal_accounts import get_active_participant


@dataclass(frozen=True, slots=True)
class AgendaView:
    event_id: int
    event_slug: str
    event: EventInfo
    participant_id: int
    participant_name: str
    organization: str
    timezone: str  # every time is shown in it (services.agendas.shown_zone)
    own_timezone: str | None  # the participant's own zone, when it differs: a second line
    language: str
    email: str
    host_table: str | None
    is_published: bool
    meetings: tuple[MeetingInfo, ...]


def load_agenda(session: Session, participant_id: int) -> AgendaView:
    me = get_active_participant(session, participant_id)
    event = session.get(Event, me.event_id)
    assert event is not None and event.id is not None and me.id is not None
    is_published = is_past(event, EventStatus.PUBLISHED)
    meetings: list[Meeting] = []
    if is_published:
        meetings = list(
            session.exec(
                select(Meeting).where(
                    Meeting.event_id == event.id,
                    col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
                    or_(Meeting.participant_a_id == me.id, Meeting.participant_b_id == me.id),
                )
            )
        )
    infos = meeting_infos(session, event, meetings).get(me.id, []) if meetings else []
    org = session.get(Organization, me.organization_id)
    host_table = session.get(EventTable, me.table_id) if me.table_id is not None else None
    return AgendaView(
        event_id=event.id,
        event_slug=event.slug,
        event=event_info(event),
        participant_id=me.id,
        participant_name=me.full_name,
        organization=org.legal_name if org else "",
        timezone=shown_zone(event, me.timezone),
        own_timezone=me.timezone if me.timezone != shown_zone(event, me.timezone) else None,
        language=me.language,
        email=me.email,
        host_table=(host_table.label or host_table.code) if host_table else None,
        is_published=is_published,
        meetings=tuple(infos),
    )


def build_agenda_calendar(
    agenda: AgendaView, *, organizer: str, stamp_at: datetime, domain: str, meeting_id: int | None = None
) -> bytes:
    """The agenda (or one meeting of it) as an iCalendar file, METHOD:PUBLISH."""
    meetings = agenda.meetings
    if meeting_id is not None:
        meetings = tuple(m for m in meetings if m.meeting_id == meeting_id)
    return build_calendar(
        meetings,
        method="PUBLISH",
        event=agenda.event,
        language=agenda.language,
        organizer=organizer,
        attendee=agenda.email,
        stamp_at=stamp_at,
        domain=domain,
    )
