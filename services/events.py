"""Creating and updating an event from its typed definition.

The slot plan (days, sessions, breaks, slot length, changeover) becomes `TimeSlot` rows with stable
codes `d<day>s<nn>`, and the table count or names become `EventTable` rows. An update keeps the rows
whose code survives, so meetings and unavailabilities that point at them stay valid; it refuses to
drop a slot or table that something still uses. Cost: O(slots + tables) rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (
    ChecklistItem,
    Event,
    EventStatus,
    EventTable,
    EventText,
    Meeting,
    Participant,
    TimeSlot,
    Unavailability,
)
from models.schemas import ORGANIZER_TEXT_KINDS, EventDefinition
from services.clock import combine_local, local_to_utc
from services.domain_events import record_fact
from services.errors import ConflictError, DomainError, NotFoundError


@dataclass(frozen=True, slots=True)
class SlotSpec:
    code: str
    ordinal: int
    day_index: int
    day_on: date
    session: str
    starts_at: datetime
    ends_at: datetime


def build_slots(definition: EventDefinition) -> list[SlotSpec]:
    """Every meeting slot of the plan, in time order. A slot never overlaps a break."""
    plan = definition.schedule
    length = timedelta(minutes=plan.slot_minutes)
    step = timedelta(minutes=plan.slot_minutes + plan.gap_minutes)
    slots: list[SlotSpec] = []
    for day_index, day in enumerate(plan.days):
        number = 0
        for session in sorted(day.sessions, key=lambda s: s.start):
            start = combine_local(day.date, session.start, definition.timezone)
            end = combine_local(day.date, session.end, definition.timezone)
            breaks = [
                (
                    combine_local(day.date, b.start, definition.timezone),
                    combine_local(day.date, b.end, definition.timezone),
                )
                for b in session.breaks
            ]
            at = start
            while at + length <= end:
                clash = next((b for b in breaks if at < b[1] and b[0] < at + length), None)
                if clash is not None:
                    at = clash[1]
                    continue
                number += 1
                slots.append(
                    SlotSpec(
                        code=f"d{day_index + 1}s{number:02d}",
                        ordinal=len(slots),
                        day_index=day_index,
                        day_on=day.date,
                        session=session.name,
                        starts_at=at.astimezone(UTC),
                        ends_at=(at + length).astimezone(UTC),
                    )
                )
                at += step
    if not slots:
        raise DomainError("schedule: the sessions are too short for a single slot")
    return slots


def table_codes(definition: EventDefinition) -> list[str]:
    if isinstance(definition.tables, int):
        return [f"T{n}" for n in range(1, definition.tables + 1)]
    return list(definition.tables)


def get_event_by_slug(session: Session, slug: str) -> Event:
    event = session.exec(select(Event).where(Event.slug == slug)).first()
    if event is None:
        raise NotFoundError(f"no event with slug {slug!r}")
    return event


def create_event(session: Session, definition: EventDefinition, *, now: datetime) -> Event:
    if session.exec(select(Event.id).where(Event.slug == definition.slug)).first() is not None:
        raise ConflictError(f"event {definition.slug!r} already exists; use `rueda event update`")
    event = Event(kind=definition.kind, created_at=now, updated_at=now, **_event_fields(definition))
    event.status = EventStatus.REGISTRATION_OPEN if definition.registration_opens else EventStatus.DRAFT
    session.add(event)
    session.flush()
    assert event.id is not None
    _sync_slots(session, event.id, build_slots(definition))
    _sync_tables(session, event.id, table_codes(definition))
    _sync_checklist(session, event.id, definition)
    _sync_texts(session, event.id, definition)
    record_fact(
        session, "rueda.event.created", resource=f"rueda.event.{event.id}", event_id=event.id, now=now
    )
    return event


def update_event(session: Session, definition: EventDefinition, *, now: datetime) -> Event:
    event = get_event_by_slug(session, definition.slug)
    if event.kind != definition.kind:
        raise DomainError(f"event {definition.slug!r} is a {event.kind}; its kind cannot change")
    assert event.id is not None
    before = _stored_state(session, event)
    for name, value in _event_fields(definition).items():
        if getattr(event, name) != value:
            setattr(event, name, value)
    _sync_slots(session, event.id, build_slots(definition))
    _sync_tables(session, event.id, table_codes(definition))
    _sync_checklist(session, event.id, definition)
    _sync_texts(session, event.id, definition)
    if _stored_state(session, event) == before:
        return event  # the same definition again: nothing changes, nothing is recorded
    event.updated_at = now
    session.add(event)
    record_fact(
        session, "rueda.event.updated", resource=f"rueda.event.{event.id}", event_id=event.id, now=now
    )
    return event


def _stored_state(session: Session, event: Event) -> tuple[object, ...]:
    """What a definition sets, as stored: to tell a real update from a repeat."""
    session.flush()
    fields = tuple(sorted((k, repr(v)) for k, v in event.model_dump(exclude={"updated_at"}).items()))
    slots = sorted(
        (s.code, s.ordinal, s.day_index, s.day_on, s.session, s.starts_at, s.ends_at)
        for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))
    )
    tables = sorted(session.exec(select(EventTable.code).where(EventTable.event_id == event.id)))
    checklist = sorted(
        (i.code, i.title, i.due_at)
        for i in session.exec(select(ChecklistItem).where(ChecklistItem.event_id == event.id))
    )
    texts = sorted(
        (t.notification_kind, t.language, t.text)
        for t in session.exec(select(EventText).where(EventText.event_id == event.id))
    )
    return (fields, tuple(slots), tuple(tables), tuple(checklist), tuple(texts))


def _event_fields(d: EventDefinition) -> dict[str, Any]:
    tz = d.timezone
    return {
        "slug": d.slug,
        "name": d.name,
        "timezone": tz,
        "format": d.format,
        "languages": list(d.languages),
        "default_language": d.default_language or d.languages[0],
        "venue_name": d.venue.name,
        "venue_address": d.venue.address,
        "city": d.venue.city,
        "country": d.venue.country,
        "starts_on": d.schedule.days[0].date,
        "ends_on": d.schedule.days[-1].date,
        "slot_minutes": d.schedule.slot_minutes,
        "min_meetings": d.rules.min_meetings,
        "max_meetings": d.rules.max_meetings,
        "request_policy": d.rules.request_policy,
        "registration_opens_at": local_to_utc(d.registration_opens, tz) if d.registration_opens else None,
        "registration_closes_at": local_to_utc(d.registration_closes, tz) if d.registration_closes else None,
        "requests_close_at": local_to_utc(d.requests_close, tz) if d.requests_close else None,
        "slot_plan": d.schedule.model_dump(mode="json"),
        "rules": d.rules.model_dump(mode="json"),
        "usd_rates": dict(d.usd_rates),
        "mission": d.mission.model_dump(mode="json") if d.mission else None,
    }


def _sync_slots(session: Session, event_id: int, specs: list[SlotSpec]) -> None:
    existing = {s.code: s for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event_id))}
    wanted = {s.code for s in specs}
    for code, slot in existing.items():
        if code in wanted:
            continue
        used = (
            session.exec(select(func.count()).select_from(Meeting).where(Meeting.slot_id == slot.id)).one()
            + session.exec(
                select(func.count()).select_from(Unavailability).where(Unavailability.slot_id == slot.id)
            ).one()
        )
        if used:
            raise ConflictError(f"slot {code} is used by meetings or unavailabilities; it cannot be removed")
        session.delete(slot)
    session.flush()
    # Ordinals are unique per event: park the survivors out of the way before renumbering.
    for offset, slot in enumerate(existing.values()):
        if slot.code in wanted:
            slot.ordinal = 1_000_000 + offset
    session.flush()
    for spec in specs:
        found = existing.get(spec.code)
        slot = (
            found
            if found is not None
            else TimeSlot(
                event_id=event_id,
                code=spec.code,
                ordinal=spec.ordinal,
                day_index=0,
                day_on=spec.day_on,
                session=spec.session,
                starts_at=spec.starts_at,
                ends_at=spec.ends_at,
            )
        )
        slot.ordinal, slot.day_index, slot.day_on = spec.ordinal, spec.day_index, spec.day_on
        slot.session, slot.starts_at, slot.ends_at = spec.session, spec.starts_at, spec.ends_at
        session.add(slot)
    session.flush()


def _sync_tables(session: Session, event_id: int, codes: list[str]) -> None:
    existing = {t.code: t for t in session.exec(select(EventTable).where(EventTable.event_id == event_id))}
    for code, table in existing.items():
        if code in codes:
            continue
        used = (
            session.exec(select(func.count()).select_from(Meeting).where(Meeting.table_id == table.id)).one()
            + session.exec(
                select(func.count()).select_from(Participant).where(Participant.table_id == table.id)
            ).one()
        )
        if used:
            raise ConflictError(f"table {code} hosts a participant or meetings; it cannot be removed")
        session.delete(table)
    for code in codes:
        if code not in existing:
            session.add(EventTable(event_id=event_id, code=code))
    session.flush()


def _sync_checklist(session: Session, event_id: int, definition: EventDefinition) -> None:
    items = definition.mission.checklist if definition.mission else []
    existing = {
        i.code: i for i in session.exec(select(ChecklistItem).where(ChecklistItem.event_id == event_id))
    }
    for item in items:
        due_at = local_to_utc(item.due, definition.timezone)
        row = existing.pop(item.code, None)
        if row is None:
            row = ChecklistItem(event_id=event_id, code=item.code, title=item.title, due_at=due_at)
        row.title, row.due_at = item.title, due_at
        session.add(row)
    for row in existing.values():
        session.delete(row)
    session.flush()


def _sync_texts(session: Session, event_id: int, definition: EventDefinition) -> None:
    """The definition's organizer texts become the event's `event_text` rows; a kind or language
    without text loses its row. No `organizer_text` in the definition: the rows stay as they are.
    Rows of kinds outside ORGANIZER_TEXT_KINDS (no door writes them) are left alone."""
    if definition.organizer_text is None:
        return
    wanted = {
        (kind, language): text
        for kind, texts in definition.organizer_text.items()
        for language, text in texts.items()
        if text
    }
    rows = session.exec(
        select(EventText)
        .where(EventText.event_id == event_id)
        .where(col(EventText.notification_kind).in_(ORGANIZER_TEXT_KINDS))
    )
    for row in rows:
        text = wanted.pop((row.notification_kind, row.language), None)
        if text is None:
            session.delete(row)
        elif row.text != text:
            row.text = text
            session.add(row)
    for (kind, language), text in sorted(wanted.items()):
        session.add(EventText(event_id=event_id, notification_kind=kind, language=language, text=text))
    session.flush()


def list_events(session: Session) -> list[Event]:
    return list(session.exec(select(Event).order_by(col(Event.starts_on).desc(), col(Event.slug))))
