"""Exports of participants and agendas as tables (CSV or Excel, written by services.files).

The participants export uses the import's canonical headings, so an exported file imports back
unchanged. Agenda times are in each participant's own time zone, as the agenda email shows them.
"""

from __future__ import annotations

from collections import defaultdict
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
    TradeDirection,
    TradeLine,
    Unavailability,
)

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
    people = list(
        session.exec(
            select(Participant).where(Participant.event_id == event.id).order_by(col(Participant.id))
        )
    )
    ids = [p.id for p in people]
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({p.organization_id for p in people}))
        )
    }
    lines: dict[tuple[int, str], TradeLine] = {}
    for line in session.exec(select(TradeLine).where(col(TradeLine.participant_id).in_(ids))):
        lines[(line.participant_id, line.direction.value)] = line
    slot_code = {s.id: s.code for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    table_code = {
        t.id: t.code for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))
    }
    unavailable: dict[int, list[str]] = defaultdict(list)
    for u in session.exec(select(Unavailability).where(col(Unavailability.participant_id).in_(ids))):
        unavailable[u.participant_id].append(slot_code[u.slot_id])
    rows: list[list[object]] = []
    for p in people:
        assert p.id is not None
        org = orgs[p.organization_id]
        offer = lines.get((p.id, TradeDirection.OFFER.value))
        demand = lines.get((p.id, TradeDirection.DEMAND.value))
        rows.append(
            [
                p.email,
                p.full_name,
                org.legal_name,
                p.role.value,
                org.country,
                p.language,
                p.timezone,
                _yes(p.consent_at is not None),
                p.job_title or "",
                p.phone or "",
                org.tax_id or "",
                org.city or "",
                org.region or "",
                org.website or "",
                org.size.value if org.size else "",
                ";".join(org.sector_codes),
                ";".join(p.spoken_languages),
                ";".join(offer.hs_codes) if offer else "",
                offer.description if offer else "",
                ";".join(demand.hs_codes) if demand else "",
                demand.description if demand else "",
                ";".join(offer.target_markets) if offer else "",
                ";".join(offer.certifications) if offer else "",
                ";".join(demand.certifications) if demand else "",
                _yes(org.is_women_led),
                _yes(org.is_peasant),
                _yes(org.is_indigenous),
                _yes(org.is_conflict_victim),
                ";".join(sorted(unavailable[p.id])),
                table_code.get(p.table_id, "") if p.table_id else "",
                "" if p.max_meetings is None else p.max_meetings,
                p.status.value,
            ]
        )
    return rows


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
