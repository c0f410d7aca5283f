"""A participant's rights over their own data (Colombia's Ley 1581 de 2012 and the GDPR): see it,
export it as JSON, and ask for it to be deleted.

- The export holds what the system keeps about the participant: the registration (with the
  consent time and source), the organization, offers and demands, availability, requests made and
  received (counterparts by name and organization only), meetings, survey answers, and the emails
  sent to them (kind, status and times; not other people's data).
- A deletion request is recorded as the domain fact `rueda.erasure.requested` (once per
  participant) for the organizers to carry out: deleting at once would silently remove meetings
  from other participants' agendas and figures from the outcome report, which is the organizer's
  call to schedule and to confirm. The participant sees the request's date on their page.
Cost: one query per kind of data, all by participant id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from models import (
    DomainEvent,
    Event,
    EventTable,
    Meeting,
    MeetingRequest,
    Notification,
    Organization,
    Participant,
    SurveyInvitation,
    SurveyResponse,
    TimeSlot,
    TradeLine,
    Unavailability,
)
from services.domain_events import record_fact
from services.portal_accounts import get_active_participant

ERASURE_FACT = "rueda.erasure.requested"
EXPORT_FORMAT = "rueda.personal-data/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_personal_data(session: Session, participant_id: int, *, now: datetime) -> dict[str, Any]:
    me = get_active_participant(session, participant_id)
    event = session.get(Event, me.event_id)
    org = session.get(Organization, me.organization_id)
    assert event is not None and org is not None and me.id is not None
    slots = {s.id: s for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    tables = {t.id: t for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))}
    requests = session.exec(
        select(MeetingRequest)
        .where(or_(MeetingRequest.requester_id == me.id, MeetingRequest.target_id == me.id))
        .order_by(col(MeetingRequest.id))
    ).all()
    meetings = session.exec(
        select(Meeting)
        .where(or_(Meeting.participant_a_id == me.id, Meeting.participant_b_id == me.id))
        .order_by(col(Meeting.id))
    ).all()
    others = {r.requester_id for r in requests} | {r.target_id for r in requests}
    others |= {m.participant_a_id for m in meetings} | {m.participant_b_id for m in meetings}
    others.discard(me.id)
    people = {p.id: p for p in session.exec(select(Participant).where(col(Participant.id).in_(others)))}
    org_names = {
        o.id: o.legal_name
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({p.organization_id for p in people.values()}))
        )
    }

    def who(pid: int) -> dict[str, str]:
        person = people[pid]
        return {"name": person.full_name, "organization": org_names.get(person.organization_id, "")}

    invitations = session.exec(select(SurveyInvitation).where(SurveyInvitation.participant_id == me.id)).all()
    answers = session.exec(
        select(SurveyResponse).where(col(SurveyResponse.invitation_id).in_([i.id for i in invitations]))
    ).all()
    emails = session.exec(
        select(Notification).where(Notification.participant_id == me.id).order_by(col(Notification.id))
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "event": {"slug": event.slug, "name": event.name},
        "participant": {
            "full_name": me.full_name,
            "email": me.email,
            "job_title": me.job_title,
            "phone": me.phone,
            "role": me.role.value,
            "status": me.status.value,
            "language": me.language,
            "timezone": me.timezone,
            "spoken_languages": list(me.spoken_languages),
            "max_meetings": me.max_meetings,
            "consent_at": _iso(me.consent_at),
            "consent_source": me.consent_source,
            "created_at": _iso(me.created_at),
            "updated_at": _iso(me.updated_at),
        },
        "organization": {
            "legal_name": org.legal_name,
            "tax_id": org.tax_id,
            "country": org.country,
            "city": org.city,
            "region": org.region,
            "website": org.website,
            "size": org.size.value if org.size else None,
            "sectors": list(org.sector_codes),
            "is_women_led": org.is_women_led,
            "is_peasant": org.is_peasant,
            "is_indigenous": org.is_indigenous,
            "is_conflict_victim": org.is_conflict_victim,
        },
        "trade_lines": [
            {
                "direction": line.direction.value,
                "hs_codes": list(line.hs_codes),
                "sectors": list(line.sector_codes),
                "target_markets": list(line.target_markets),
                "certifications": list(line.certifications),
                "description": line.description,
            }
            for line in session.exec(
                select(TradeLine).where(TradeLine.participant_id == me.id).order_by(col(TradeLine.id))
            )
        ],
        "unavailable_slots": sorted(
            slots[u.slot_id].code
            for u in session.exec(select(Unavailability).where(Unavailability.participant_id == me.id))
        ),
        "requests": [
            {
                "direction": "sent" if r.requester_id == me.id else "received",
                "counterpart": who(r.target_id if r.requester_id == me.id else r.requester_id),
                "priority": r.priority.value,
                "origin": r.origin.value,
                "status": r.status.value,
                "note": r.note,
                "created_at": _iso(r.created_at),
                "responded_at": _iso(r.responded_at),
            }
            for r in requests
        ],
        "meetings": [
            {
                "slot": slots[m.slot_id].code,
                "starts_at": _iso(slots[m.slot_id].starts_at),
                "table": tables[m.table_id].code,
                "status": m.status.value,
                "counterpart": who(m.participant_b_id if m.participant_a_id == me.id else m.participant_a_id),
            }
            for m in meetings
        ],
        "surveys": [
            {
                "wave": i.wave.value,
                "sent_at": _iso(i.sent_at),
                "completed_at": _iso(i.completed_at),
                "answers": [
                    {
                        "kind": a.kind.value,
                        "meeting_slot": None
                        if a.meeting_id is None
                        else next((slots[m.slot_id].code for m in meetings if m.id == a.meeting_id), None),
                        "took_place": a.took_place,
                        "interest": a.interest,
                        "next_steps": a.next_steps,
                        "currency": a.currency,
                        "expected_immediate_cents": a.expected_immediate_cents,
                        "expected_3m_cents": a.expected_3m_cents,
                        "expected_6m_cents": a.expected_6m_cents,
                        "expected_12m_cents": a.expected_12m_cents,
                        "satisfaction": a.satisfaction,
                        "recommend": a.recommend,
                        "hs_code": a.hs_code,
                        "actual_closed_cents": a.actual_closed_cents,
                        "actual_exported_cents": a.actual_exported_cents,
                        "comments": a.comments,
                        "submitted_at": _iso(a.submitted_at),
                    }
                    for a in answers
                    if a.invitation_id == i.id
                ],
            }
            for i in invitations
        ],
        "emails": [
            {
                "kind": n.kind,
                "status": n.status.value,
                "created_at": _iso(n.created_at),
                "sent_at": _iso(n.sent_at),
            }
            for n in emails
        ],
        "erasure_requested_at": _iso(erasure_requested_at(session, me.id)),
    }


def erasure_requested_at(session: Session, participant_id: int) -> datetime | None:
    fact = session.exec(
        select(DomainEvent).where(
            DomainEvent.name == ERASURE_FACT, DomainEvent.resource_id == f"rueda.participant.{participant_id}"
        )
    ).first()
    return fact.occurred_at if fact is not None else None


def request_erasure(session: Session, participant_id: int, *, now: datetime) -> bool:
    """Record the participant's deletion request; False if it was already recorded."""
    me = get_active_participant(session, participant_id)
    assert me.id is not None
    if erasure_requested_at(session, me.id) is not None:
        return False
    record_fact(
        session,
        ERASURE_FACT,
        resource=f"rueda.participant.{me.id}",
        event_id=me.event_id,
        now=now,
        payload={"participant_id": me.id},
        dedupe_key=f"erasure:{me.id}",
    )
    return True
