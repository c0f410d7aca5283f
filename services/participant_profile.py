"""A participant's own profile in the portal: contact details, language and time zone, what they
offer and seek (HS codes and words), and the slots in which they cannot meet.

Rules:
- Language and time zone can change at any time (they only change how things are shown and sent).
- Offers, demands and availability feed matching and scheduling, so they can change until the
  schedule is built; after that a change would silently invalidate meetings, and is refused.
- Saving replaces the offer and demand lines' codes and words, and keeps what only organizers'
  imports set (target markets, certifications, sectors).
Cost: a few indexed queries and writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from models import (
    Event,
    EventStatus,
    Organization,
    Participant,
    TimeSlot,
    TradeDirection,
    TradeLine,
    Unavailability,
)
from models.portal import ProfileUpdate
from services.errors import DomainError
from services.lifecycle import is_past
from services.portal_accounts import get_active_participant


@dataclass(frozen=True, slots=True)
class SlotChoice:
    code: str
    starts_at: datetime
    ends_at: datetime
    is_unavailable: bool


@dataclass(frozen=True, slots=True)
class ProfileView:
    participant: Participant
    organization: Organization
    event: Event
    offer_hs: tuple[str, ...]
    offer_description: str
    demand_hs: tuple[str, ...]
    demand_description: str
    slots: tuple[SlotChoice, ...]
    can_change_matching: bool


def can_change_matching(event: Event) -> bool:
    return not is_past(event, EventStatus.SCHEDULED)


def load_profile(session: Session, participant_id: int) -> ProfileView:
    me = get_active_participant(session, participant_id)
    event = session.get(Event, me.event_id)
    org = session.get(Organization, me.organization_id)
    assert event is not None and org is not None
    lines = session.exec(select(TradeLine).where(TradeLine.participant_id == me.id)).all()
    offers = [line for line in lines if line.direction is TradeDirection.OFFER]
    demands = [line for line in lines if line.direction is TradeDirection.DEMAND]
    unavailable = set(
        session.exec(select(Unavailability.slot_id).where(Unavailability.participant_id == me.id)).all()
    )
    slots = session.exec(
        select(TimeSlot).where(TimeSlot.event_id == event.id).order_by(col(TimeSlot.ordinal))
    ).all()
    return ProfileView(
        participant=me,
        organization=org,
        event=event,
        offer_hs=tuple(dict.fromkeys(c for line in offers for c in line.hs_codes)),
        offer_description=" ".join(line.description for line in offers if line.description),
        demand_hs=tuple(dict.fromkeys(c for line in demands for c in line.hs_codes)),
        demand_description=" ".join(line.description for line in demands if line.description),
        slots=tuple(SlotChoice(s.code, s.starts_at, s.ends_at, s.id in unavailable) for s in slots),
        can_change_matching=can_change_matching(event),
    )


def update_profile(
    session: Session, participant_id: int, update: ProfileUpdate, *, now: datetime
) -> Participant:
    view = load_profile(session, participant_id)
    me, event = view.participant, view.event
    assert me.id is not None
    wanted_unavailable = sorted(set(update.unavailable))
    current_unavailable = sorted(s.code for s in view.slots if s.is_unavailable)
    matching_changed = (
        tuple(dict.fromkeys(update.offer_hs)) != view.offer_hs
        or tuple(dict.fromkeys(update.demand_hs)) != view.demand_hs
        or update.offer_description.strip() != view.offer_description
        or update.demand_description.strip() != view.demand_description
        or wanted_unavailable != current_unavailable
    )
    if matching_changed and not view.can_change_matching:
        raise DomainError("the schedule is built: offers, demands and availability can no longer change")
    slot_ids = {s.code: s.id for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    unknown = [code for code in wanted_unavailable if code not in slot_ids]
    if unknown:
        raise DomainError(f"unavailable: no slot {unknown[0]!r} in this event")
    me.full_name = update.full_name
    me.job_title, me.phone = update.job_title, update.phone
    me.language, me.timezone = update.language, update.timezone
    me.spoken_languages = list(dict.fromkeys(update.spoken_languages)) or [update.language]
    me.updated_at = now
    session.add(me)
    if matching_changed:
        _replace_line(session, me.id, TradeDirection.OFFER, update.offer_hs, update.offer_description)
        _replace_line(session, me.id, TradeDirection.DEMAND, update.demand_hs, update.demand_description)
        session.execute(delete(Unavailability).where(col(Unavailability.participant_id) == me.id))
        for code in wanted_unavailable:
            slot_id = slot_ids[code]
            assert slot_id is not None
            session.add(Unavailability(participant_id=me.id, slot_id=slot_id))
    session.flush()
    return me


def _replace_line(
    session: Session, participant_id: int, direction: TradeDirection, codes: list[str], text: str
) -> None:
    lines = list(
        session.exec(
            select(TradeLine)
            .where(TradeLine.participant_id == participant_id, TradeLine.direction == direction)
            .order_by(col(TradeLine.id))
        )
    )
    codes = list(dict.fromkeys(codes))
    text = text.strip()
    if not lines and not codes and not text:
        return
    first = lines[0] if lines else TradeLine(participant_id=participant_id, direction=direction)
    for extra in lines[1:]:
        session.delete(extra)
    first.hs_codes, first.description = codes, text
    session.add(first)


def change_hs_code(
    session: Session,
    participant_id: int,
    direction: TradeDirection,
    code: str,
    *,
    add: bool,
    now: datetime,
) -> ProfileView:
    """Add an HS code to (or remove it from) the participant's offers or demands: the picker's
    buttons. The code is validated like the profile form's."""
    view = load_profile(session, participant_id)
    me = view.participant
    offers, demands = list(view.offer_hs), list(view.demand_hs)
    target = offers if direction is TradeDirection.OFFER else demands
    if add and code not in target:
        target.append(code)
    elif not add and code in target:
        target.remove(code)
    update = ProfileUpdate(
        full_name=me.full_name,
        job_title=me.job_title,
        phone=me.phone,
        language=me.language,
        timezone=me.timezone,
        spoken_languages=list(me.spoken_languages),
        offer_hs=offers,
        offer_description=view.offer_description,
        demand_hs=demands,
        demand_description=view.demand_description,
        unavailable=[s.code for s in view.slots if s.is_unavailable],
    )
    update_profile(session, participant_id, update, now=now)
    return load_profile(session, participant_id)
