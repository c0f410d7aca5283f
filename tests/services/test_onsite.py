"""On-site changes on a tiny event whose outcome is known by hand: one buyer hosting table T1 in
two slots, three sellers who all asked for her. One request waits; a freed seat goes to it."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import (
    EventStatus,
    Meeting,
    MeetingRequest,
    MeetingSeat,
    MeetingStatus,
    Participant,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from services.db import transaction
from services.errors import ConflictError
from services.events import get_event_by_slug
from services.onsite import cancel_meeting, check_in, mark_no_show, refill_from_waitlist
from services.scheduling import build_schedule
from tests.factories import make_event, make_participant

pytestmark = pytest.mark.integration

ONE_HOUR = {
    "slot_minutes": 30,
    "days": [{"date": "2027-05-19", "sessions": [{"name": "am", "start": "08:00", "end": "09:00"}]}],
}


def _scheduled(engine: Engine, now: datetime) -> dict[str, int]:
    with transaction(engine) as session:
        event = make_event(session, now, schedule=ONE_HOUR, tables=["T1", "T2"])
        buyer = make_participant(
            session, event, now, "bea@buyer.us", role="buyer", country="US", host_table="T1"
        )
        sellers = [
            make_participant(session, event, now, f"s{n}@cafe.co", organization=f"Café {n}")
            for n in (1, 2, 3)
        ]
        for n, seller in enumerate(sellers):
            session.add(
                MeetingRequest(
                    event_id=event.id,
                    requester_id=seller.id,
                    target_id=buyer.id,
                    priority=RequestPriority.MUST if n == 0 else RequestPriority.NICE,
                    origin=RequestOrigin.PARTICIPANT,
                    status=RequestStatus.ACCEPTED,
                    created_at=now,
                )
            )
        event.status = EventStatus.REQUESTS_CLOSED
        session.add(event)
    with transaction(engine) as session:
        summary = build_schedule(
            session, get_event_by_slug(session, "rueda-test"), now=now, time_limit=2, seed=0
        )
        assert summary.stats is not None and (summary.stats.placed, summary.waitlisted) == (2, 1)
        ids = {p.email: p.id for p in session.exec(select(Participant))}
        return {k: v for k, v in ids.items() if v is not None}


def _meetings(session: Session, ids: dict[str, int]) -> list[tuple[str, str, MeetingStatus, int]]:
    email = {v: k for k, v in ids.items()}
    return sorted(
        (email[m.participant_b_id], email[m.participant_a_id], m.status, m.version)
        for m in session.exec(select(Meeting))
    )


def test_cancel_then_refill_places_the_waiting_request(engine: Engine, now: datetime) -> None:
    ids = _scheduled(engine, now)
    with transaction(engine) as session:
        placed = _meetings(session, ids)
        waiting = session.exec(select(WaitlistEntry)).one()
        waiting_request = session.get(MeetingRequest, waiting.request_id)
        assert waiting_request is not None
        # The must-meet request (s1) is placed; one of the nice ones waits.
        email = {v: k for k, v in ids.items()}
        assert placed[0][0] == "s1@cafe.co"
        assert sorted([p[0] for p in placed] + [email[waiting_request.requester_id]]) == [
            "s1@cafe.co",
            "s2@cafe.co",
            "s3@cafe.co",
        ]
        victim = session.exec(select(Meeting).where(Meeting.participant_b_id != ids["s1@cafe.co"])).one()
        freed = (victim.slot_id, victim.table_id)
    with transaction(engine) as session:
        result = cancel_meeting(
            session, get_event_by_slug(session, "rueda-test"), victim.id or 0, reason="flight", now=now
        )
    assert (result.changed, result.detail) == (True, f"meeting {victim.id} cancelled")
    with transaction(engine) as session:
        again = cancel_meeting(
            session, get_event_by_slug(session, "rueda-test"), victim.id or 0, reason="x", now=now
        )
        assert again.changed is False
        assert session.exec(select(MeetingSeat).where(MeetingSeat.meeting_id == victim.id)).all() == []
    with transaction(engine) as session:
        refill = refill_from_waitlist(session, get_event_by_slug(session, "rueda-test"), *freed, now=now)
    assert refill.changed is True
    assert set(refill.affected_participants) == {ids["bea@buyer.us"], waiting_request.requester_id}
    with transaction(engine) as session:
        new = session.get(Meeting, refill.meeting_id)
        assert new is not None and (new.slot_id, new.table_id, new.status) == (
            *freed,
            MeetingStatus.SCHEDULED,
        )
        assert new.participant_a_id == ids["bea@buyer.us"]
        assert session.exec(select(WaitlistEntry.status)).one() is WaitlistStatus.PLACED
        statuses = sorted(m.status.value for m in session.exec(select(Meeting)))
    assert statuses == ["cancelled", "scheduled", "scheduled"]
    with transaction(engine) as session:
        nothing = refill_from_waitlist(session, get_event_by_slug(session, "rueda-test"), *freed, now=now)
    assert nothing.changed is False and nothing.detail.endswith("is taken; nothing to do")
    # The cancelled meeting's request is history, not a late registration: nothing to place.
    from services.onsite import add_late_registrations

    with transaction(engine) as session:
        late = add_late_registrations(session, get_event_by_slug(session, "rueda-test"), now=now)
    assert late.changed is False
    # Once the event has started, a freed seat is not refilled into the past.
    from datetime import timedelta

    with transaction(engine) as session:
        during = refill_from_waitlist(
            session, get_event_by_slug(session, "rueda-test"), *freed, now=now + timedelta(days=60)
        )
    assert (during.changed, during.detail.endswith("has already started; nothing to refill")) == (False, True)


def test_checked_in_meeting_cannot_be_cancelled_but_can_be_a_no_show(engine: Engine, now: datetime) -> None:
    ids = _scheduled(engine, now)
    with transaction(engine) as session:
        meeting = session.exec(select(Meeting).where(Meeting.participant_b_id == ids["s1@cafe.co"])).one()
        event = get_event_by_slug(session, "rueda-test")
        assert check_in(session, event, meeting.id or 0, now=now).changed is True
    with (
        pytest.raises(ConflictError, match="is checked_in; only a scheduled meeting can be cancelled"),
        transaction(engine) as s,
    ):
        cancel_meeting(s, get_event_by_slug(s, "rueda-test"), meeting.id or 0, reason=None, now=now)
    with transaction(engine) as session:
        result = mark_no_show(session, get_event_by_slug(session, "rueda-test"), meeting.id or 0, now=now)
        assert result.changed is True
        stored = session.get(Meeting, meeting.id)
        assert stored is not None and (stored.status, stored.version) == (MeetingStatus.NO_SHOW, 2)


NINETY_MINUTES = {
    "slot_minutes": 30,
    "days": [{"date": "2027-05-19", "sessions": [{"name": "am", "start": "08:00", "end": "09:30"}]}],
}


def test_late_registration_moves_one_meeting_to_make_room(engine: Engine, now: datetime) -> None:
    from models import TimeSlot
    from services.onsite import add_late_registrations

    with transaction(engine) as session:
        event = make_event(session, now, schedule=NINETY_MINUTES, tables=["T1", "T2"])
        buyer = make_participant(
            session, event, now, "bea@buyer.us", role="buyer", country="US", host_table="T1"
        )
        for n in (1, 2):
            seller = make_participant(session, event, now, f"s{n}@cafe.co", organization=f"Café {n}")
            session.add(
                MeetingRequest(
                    event_id=event.id,
                    requester_id=seller.id,
                    target_id=buyer.id,
                    priority=RequestPriority.NICE,
                    origin=RequestOrigin.PARTICIPANT,
                    status=RequestStatus.ACCEPTED,
                    created_at=now,
                )
            )
        event.status = EventStatus.REQUESTS_CLOSED
        session.add(event)
    with transaction(engine) as session:
        build_schedule(session, get_event_by_slug(session, "rueda-test"), now=now, time_limit=2, seed=0)
    with transaction(engine) as session:
        slots = {s.id: s.code for s in session.exec(select(TimeSlot))}
        taken = {m.slot_id: m for m in session.exec(select(Meeting))}
        free = next(code for sid, code in slots.items() if sid not in taken)
        first, second = sorted(taken)
        # The late seller can only come in the slot of the second meeting: that one has to move.
        late = make_participant(
            session,
            get_event_by_slug(session, "rueda-test"),
            now,
            "late@cafe.co",
            organization="Café Tarde",
            unavailable=[free, slots[first]],
        )
        session.add(
            MeetingRequest(
                event_id=late.event_id,
                requester_id=late.id,
                target_id=taken[first].participant_a_id,
                priority=RequestPriority.NICE,
                origin=RequestOrigin.PARTICIPANT,
                status=RequestStatus.ACCEPTED,
                created_at=now,
            )
        )
        moved_seller = taken[second].participant_b_id
        moved_id = taken[second].id
    with transaction(engine) as session:
        summary = add_late_registrations(session, get_event_by_slug(session, "rueda-test"), now=now)
    assert (summary.added, summary.moved, summary.waitlisted) == (1, 1, 0)
    assert set(summary.affected_participants) == {taken[first].participant_a_id, moved_seller, late.id}
    with transaction(engine) as session:
        moved = session.get(Meeting, moved_id)
        assert moved is not None and (slots[moved.slot_id], moved.version) == (free, 2)
        new = session.exec(select(Meeting).where(Meeting.participant_b_id == late.id)).one()
        assert new.slot_id == second
        seats = sorted((s.participant_id, s.slot_id) for s in session.exec(select(MeetingSeat)))
        assert len(seats) == 6 and len(set(seats)) == 6
    with transaction(engine) as session:
        again = add_late_registrations(session, get_event_by_slug(session, "rueda-test"), now=now)
    assert again.changed is False


def test_agenda_changed_goes_to_the_affected_only_and_reminders_follow(engine: Engine, now: datetime) -> None:
    from datetime import timedelta

    from models import Notification, TimeSlot
    from services.agendas import notify_agenda_changes, publish_agendas
    from services.onsite import add_late_registrations

    with transaction(engine) as session:
        event = make_event(session, now, schedule=NINETY_MINUTES, tables=["T1", "T2"])
        buyer = make_participant(
            session, event, now, "bea@buyer.us", role="buyer", country="US", host_table="T1"
        )
        other = make_participant(
            session, event, now, "otto@buyer.de", role="buyer", country="DE", host_table="T2"
        )
        for n, target in ((1, buyer), (2, buyer), (3, other)):
            seller = make_participant(session, event, now, f"s{n}@cafe.co", organization=f"Café {n}")
            session.add(
                MeetingRequest(
                    event_id=event.id,
                    requester_id=seller.id,
                    target_id=target.id,
                    priority=RequestPriority.NICE,
                    origin=RequestOrigin.PARTICIPANT,
                    status=RequestStatus.ACCEPTED,
                    created_at=now,
                )
            )
        event.status = EventStatus.REQUESTS_CLOSED
        session.add(event)
    lead = timedelta(minutes=30)
    with transaction(engine) as session:
        event = get_event_by_slug(session, "rueda-test")
        build_schedule(session, event, now=now, time_limit=2, seed=0)
        published = publish_agendas(
            session, event, now=now, agenda_url="http://x/agenda", first_meeting_lead=lead
        )
        assert (published.participants, published.queued) == (5, 5)
    with transaction(engine) as session:
        slots = {s.id: s for s in session.exec(select(TimeSlot))}
        taken = {
            m.slot_id: m for m in session.exec(select(Meeting).where(Meeting.participant_a_id == buyer.id))
        }
        free = next(s.code for sid, s in slots.items() if sid not in taken)
        first, second = sorted(taken, key=lambda sid: slots[sid].ordinal)
        late = make_participant(
            session,
            get_event_by_slug(session, "rueda-test"),
            now,
            "late@cafe.co",
            organization="Café Tarde",
            unavailable=[free, slots[first].code],
        )
        session.add(
            MeetingRequest(
                event_id=late.event_id,
                requester_id=late.id,
                target_id=buyer.id,
                priority=RequestPriority.NICE,
                origin=RequestOrigin.PARTICIPANT,
                status=RequestStatus.ACCEPTED,
                created_at=now,
            )
        )
        moved_seller = taken[second].participant_b_id
    with transaction(engine) as session:
        event = get_event_by_slug(session, "rueda-test")
        summary = add_late_registrations(session, event, now=now)
        queued = notify_agenda_changes(
            session,
            event,
            list(summary.notices),
            now=now,
            agenda_url="http://x/agenda",
            first_meeting_lead=lead,
        )
        again = notify_agenda_changes(
            session,
            event,
            list(summary.notices),
            now=now,
            agenda_url="http://x/agenda",
            first_meeting_lead=lead,
        )
    assert (queued, again) == (3, 0)
    with transaction(engine) as session:
        changed = session.exec(select(Notification).where(Notification.kind == "agenda.changed")).all()
        recipients = sorted(n.participant_id or 0 for n in changed)
        assert recipients == sorted([buyer.id or 0, moved_seller, late.id or 0])
        kinds = {n.participant_id: [c["change"] for c in n.context["changes"]] for n in changed}
        assert (
            kinds[buyer.id] == ["moved", "added"]
            and kinds[moved_seller] == ["moved"]
            and kinds[late.id] == ["added"]
        )
        # Otto and his seller were not touched: no message for them.
        assert other.id not in recipients
        reminder = session.exec(
            select(Notification).where(
                Notification.idempotency_key == f"reminder.first-meeting:p{moved_seller}:m{taken[second].id}"
            )
        ).one()
        moved = session.get(Meeting, taken[second].id)
        assert moved is not None
        assert reminder.not_after == slots[moved.slot_id].starts_at
        assert reminder.due_at == slots[moved.slot_id].starts_at - lead
