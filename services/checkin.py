"""The check-in desk: finding a participant by name (or by the id in their check-in code, which
the portal verifies: portal.tokens.read_checkin_code) and their meetings, for staff to check in or
mark as no-shows, and to record their arrival (services.onsite.arrive).

Invariants: every look-up is inside the given event, so a participant of another event is "not
found"; the service never reads the clock or commits.
Cost: one indexed query per look-up; a name search reads at most `limit` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, or_, select

from models import (
    Event,
    EventTable,
    Meeting,
    MeetingStatus,
    Organization,
    Participant,
    TimeSlot,
)
from services.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class DeskParticipant:
    id: int
    full_name: str
    organization: str
    country: str
    role: str
    status: str
    arrived_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeskMeeting:
    meeting_id: int
    slot: str
    starts_at: datetime
    ends_at: datetime
    table: str
    counterpart: str
    counterpart_organization: str
    status: MeetingStatus

    @property
    def can_check_in(self) -> bool:
        return self.status is MeetingStatus.SCHEDULED

    @property
    def can_mark_no_show(self) -> bool:
        return self.status in (MeetingStatus.SCHEDULED, MeetingStatus.CHECKED_IN)


def _desk_query(event_id: int) -> Any:
    return (
        select(Participant, Organization.legal_name, Organization.country)
        .join(Organization, col(Organization.id) == col(Participant.organization_id))
        .where(Participant.event_id == event_id)
    )


def _desk_participant(row: Any) -> DeskParticipant:
    p, organization, country = row
    assert p.id is not None
    return DeskParticipant(
        p.id, p.full_name, organization, country, p.role.value, p.status.value, p.arrived_at
    )


def get_desk_participant(session: Session, event: Event, participant_id: int) -> DeskParticipant:
    assert event.id is not None
    row = session.exec(_desk_query(event.id).where(Participant.id == participant_id)).first()
    if row is None:
        raise NotFoundError(f"no participant {participant_id} in this event")
    return _desk_participant(row)


def search_participants(
    session: Session, event: Event, text: str, *, limit: int = 20
) -> list[DeskParticipant]:
    """Participants whose name, email or organization contains `text` (case-insensitive)."""
    assert event.id is not None
    words = text.strip().lower()
    if not words:
        return []
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.exec(
        _desk_query(event.id)
        .where(
            or_(
                func.lower(Participant.full_name).like(pattern, escape="\\"),
                func.lower(Participant.email).like(pattern, escape="\\"),
                func.lower(Organization.legal_name).like(pattern, escape="\\"),
            )
        )
        .order_by(col(Participant.full_name), col(Participant.id))
        .limit(limit)
    ).all()
    return [_desk_participant(r) for r in rows]


def load_desk_meetings(session: Session, event: Event, participant_id: int) -> list[DeskMeeting]:
    """Every meeting of the participant in slot order, with the counterpart (cancelled ones too:
    staff answering "where is my meeting?" need to see it was cancelled)."""
    rows = session.exec(
        select(Meeting, TimeSlot, EventTable.code)
        .join(TimeSlot, col(TimeSlot.id) == col(Meeting.slot_id))
        .join(EventTable, col(EventTable.id) == col(Meeting.table_id))
        .where(
            Meeting.event_id == event.id,
            or_(Meeting.participant_a_id == participant_id, Meeting.participant_b_id == participant_id),
        )
        .order_by(col(TimeSlot.ordinal))
    ).all()
    others = {
        m.participant_b_id if m.participant_a_id == participant_id else m.participant_a_id for m, _, _ in rows
    }
    names = {
        p.id: (p.full_name, org)
        for p, org in session.exec(
            select(Participant, Organization.legal_name)
            .join(Organization, col(Organization.id) == col(Participant.organization_id))
            .where(col(Participant.id).in_(others))
        ).all()
    }
    result = []
    for m, s, table in rows:
        other = m.participant_b_id if m.participant_a_id == participant_id else m.participant_a_id
        name, org = names[other]
        result.append(DeskMeeting(m.id or 0, s.code, s.starts_at, s.ends_at, table, name, org, m.status))
    return result
