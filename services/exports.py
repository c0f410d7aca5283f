"""Exports of participants and agendas as tables (CSV or Excel, written by services.files).

The participants export uses the import's canonical headings, so an exported file imports back
unchanged. Agenda times are in each participant's own time zone, as the agenda email shows them.
"""

from __future__ import annotations

from enum import Enum
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models import (
    ACTIVE_MEETING_STATUSES,
    Event,
    EventTable,
    Meeting,
    Organization,
    Participant,
    TimeSlot,
)
from services.participants import participant_fields

PARTICIPANT_HEADINGS = [
    "email",
    "full_name",
    "organization",
    "role",
    "country",
    "language",
    "timezone",
    "consent",
    "job_title",
    "phone",
    "tax_id",
    "city",
    "region",
    "website",
    "company_size",
    "sectors",
    "spoken_languages",
    "offer_hs",
    "offer_description",
    "demand_hs",
    "demand_description",
    "target_markets",
    "certifications",
    "required_certifications",
    "women_led",
    "peasant",
    "indigenous",
    "conflict_victim",
    "unavailable",
    "host_table",
    "max_meetings",
    "status",
]

AGENDA_HEADINGS = [
    "email",
    "full_name",
    "organization",
    "day",
    "slot",
    "start",
    "end",
    "timezone",
    "table",
    "counterpart",
    "counterpart_organization",
    "counterpart_country",
    "status",
]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def participant_table(session: Session, event: Event) -> list[list[object]]:
    """One row per participant (by id), with the import's headings: `participant_fields` reads what
    an import row sets, so the file imports back unchanged (issue 13: the sectors column wrote the
    organization's sectors, not the participant's, and a shared organization broke the round trip)."""
    people = list(
        session.exec(
            select(Participant).where(Participant.event_id == event.id).order_by(col(Participant.id))
        )
    )
    fields = participant_fields(session, event, people)
    rows: list[list[object]] = []
    for p in people:
        assert p.id is not None
        values = fields[p.id]
        rows.append([_cell(p.email), *(_cell(values[h]) for h in PARTICIPANT_HEADINGS[1:-1]), p.status.value])
    return rows


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def agenda_table(session: Session, event: Event) -> list[list[object]]:
    """One row per participant and active meeting, ordered by participant then time."""
    meetings = list(
        session.exec(
            select(Meeting).where(
                Meeting.event_id == event.id, col(Meeting.status).in_(ACTIVE_MEETING_STATUSES)
            )
        )
    )
    people = {p.id: p for p in session.exec(select(Participant).where(Participant.event_id == event.id))}
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({p.organization_id for p in people.values()}))
        )
    }
    slots = {s.id: s for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    tables = {t.id: t.code for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))}
    entries: list[tuple[int, int, list[object]]] = []
    for m in meetings:
        slot = slots[m.slot_id]
        for me, other in ((m.participant_a_id, m.participant_b_id), (m.participant_b_id, m.participant_a_id)):
            person, counterpart = people[me], people[other]
            zone = ZoneInfo(person.timezone)
            entries.append(
                (
                    me,
                    slot.ordinal,
                    [
                        person.email,
                        person.full_name,
                        orgs[person.organization_id].legal_name,
                        slot.day_on.isoformat(),
                        slot.code,
                        slot.starts_at.astimezone(zone).strftime("%H:%M"),
                        slot.ends_at.astimezone(zone).strftime("%H:%M"),
                        person.timezone,
                        tables[m.table_id],
                        counterpart.full_name,
                        orgs[counterpart.organization_id].legal_name,
                        orgs[counterpart.organization_id].country,
                        m.status.value,
                    ],
                )
            )
    entries.sort(key=lambda e: (e[0], e[1]))
    return [row for _, _, row in entries]
