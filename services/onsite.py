"""On-site changes: arrivals and check-in, held meetings, cancellations, no-shows, and refilling
freed seats from the waiting list, with the smallest disruption.

Held is a state the desk sets (docs/portal.md, "The check-in desk"):
- a participant arrives once (`arrive`: participant.arrived_at); a scheduled meeting whose two
  sides have arrived before its slot ends is checked in, like the per-meeting `check_in`;
- `settle_meetings` marks held every checked-in meeting whose slot has ended, and every scheduled
  one whose two sides arrived before its slot ended; a no-show or cancelled meeting is never
  touched. A no-show is marked before the slot ends: a held meeting is final.
- The desk actions and `end_event` settle the event, and so does the organizer dashboard, so the
  figures follow the clock without a scheduled job.

Invariants:
- A cancelled or no-show meeting keeps its row (history, surveys) but gives back its seats, so its
  participants and its (slot, table) are free again; `version` grows on every change.
- A checked-in or held meeting is never moved or cancelled by the system.
- Refilling uses `engine.scheduling.waitlist.rank_waitlist` on the current schedule: the best
  waiting request that fits the freed cell (priority, then fewer added breaks) takes it; nobody
  else's agenda changes. The affected participants are returned, for `agenda.changed`.
Cost: one load of the event's meetings and waiting list; milliseconds at 12,000 meetings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.scheduling.model import (
    Assignment,
    Instance,
    ScheduleResult,
    Stats,
    Unscheduled,
    UnscheduledReason,
)
from engine.scheduling.waitlist import rank_waitlist
from models import (
    ACTIVE_MEETING_STATUSES,
    Event,
    EventStatus,
    EventTable,
    Meeting,
    MeetingRequest,
    MeetingSeat,
    MeetingStatus,
    Participant,
    ParticipantStatus,
    TimeSlot,
    WaitlistEntry,
    WaitlistStatus,
)
from notifications.catalog import ChangeKind
from services.agendas import ChangeNotice
from services.domain_events import record_fact
from services.errors import ConflictError, DomainError, NotFoundError
from services.lifecycle import is_past
from services.scheduling import build_instance, request_priority


@dataclass(frozen=True, slots=True)
class ChangeResult:
    event_slug: str
    changed: bool
    meeting_id: int | None
    affected_participants: tuple[int, ...]
    detail: str
    notices: tuple[ChangeNotice, ...] = ()


def get_meeting(session: Session, event: Event, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.event_id != event.id:
        raise NotFoundError(f"no meeting {meeting_id} in event {event.slug!r}")
    return meeting


def _release(
    session: Session, meeting: Meeting, status: MeetingStatus, reason: str | None, now: datetime
) -> None:
    meeting.status = status
    meeting.status_reason = reason
    meeting.version += 1
    meeting.updated_at = now
    session.add(meeting)
    session.execute(delete(MeetingSeat).where(col(MeetingSeat.meeting_id) == meeting.id))


def _fact(session: Session, event: Event, meeting: Meeting, name: str, now: datetime) -> None:
    assert event.id is not None and meeting.id is not None
    record_fact(
        session,
        name,
        resource=f"rueda.meeting.{meeting.id}",
        event_id=event.id,
        now=now,
        payload={
            "event_id": event.id,
            "event_slug": event.slug,
            "meeting_id": meeting.id,
            "slot_id": meeting.slot_id,
            "table_id": meeting.table_id,
            "version": meeting.version,
        },
        dedupe_key=f"meeting:{meeting.id}:v{meeting.version}",
    )


def cancel_meeting(
    session: Session,
    event: Event,
    meeting_id: int,
    *,
    reason: str | None,
    now: datetime,
    even_if_checked_in: bool = False,
) -> ChangeResult:
    """Cancel a scheduled meeting; its seat goes back to the waiting list (rueda.meeting.cancelled)."""
    meeting = get_meeting(session, event, meeting_id)
    people = (meeting.participant_a_id, meeting.participant_b_id)
    if meeting.status is MeetingStatus.CANCELLED:
        return ChangeResult(event.slug, False, meeting.id, people, "already cancelled; nothing to do")
    # A checked-in meeting is under way: the desk marks a no-show instead. Only an erasure cancels
    # one (`even_if_checked_in`), for a later slot the person's arrival had checked in ahead.
    allowed = (
        (MeetingStatus.SCHEDULED, MeetingStatus.CHECKED_IN)
        if even_if_checked_in
        else (MeetingStatus.SCHEDULED,)
    )
    if meeting.status not in allowed:
        raise ConflictError(
            f"meeting {meeting_id} is {meeting.status.value}; only a scheduled meeting can be cancelled"
        )
    _release(session, meeting, MeetingStatus.CANCELLED, reason, now)
    _fact(session, event, meeting, "rueda.meeting.cancelled", now)
    assert meeting.id is not None
    notice = ChangeNotice(meeting.id, ChangeKind.CANCELLED)
    return ChangeResult(event.slug, True, meeting.id, people, f"meeting {meeting_id} cancelled", (notice,))


def mark_no_show(session: Session, event: Event, meeting_id: int, *, now: datetime) -> ChangeResult:
    """One side did not come: the meeting is a no-show and the present side is free again."""
    meeting = get_meeting(session, event, meeting_id)
    people = (meeting.participant_a_id, meeting.participant_b_id)
    if meeting.status is MeetingStatus.NO_SHOW:
        result = ChangeResult(event.slug, False, meeting.id, people, "already a no-show; nothing to do")
    elif meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.CHECKED_IN):
        raise ConflictError(f"meeting {meeting_id} is {meeting.status.value}; it cannot be a no-show")
    else:
        _release(session, meeting, MeetingStatus.NO_SHOW, "no-show", now)
        _fact(session, event, meeting, "rueda.meeting.missed", now)
        result = ChangeResult(event.slug, True, meeting.id, people, f"meeting {meeting_id} marked a no-show")
    settle_meetings(session, event, now=now)
    return result


def _check_in(session: Session, event: Event, meeting: Meeting, now: datetime) -> None:
    meeting.status, meeting.updated_at = MeetingStatus.CHECKED_IN, now
    session.add(meeting)
    _fact(session, event, meeting, "rueda.meeting.checked_in", now)


def check_in(session: Session, event: Event, meeting_id: int, *, now: datetime) -> ChangeResult:
    """Both sides are at the table (the desk's per-meeting button)."""
    meeting = get_meeting(session, event, meeting_id)
    people = (meeting.participant_a_id, meeting.participant_b_id)
    if meeting.status in (MeetingStatus.CHECKED_IN, MeetingStatus.HELD):
        result = ChangeResult(event.slug, False, meeting.id, people, f"already {meeting.status.value}")
    elif meeting.status is not MeetingStatus.SCHEDULED:
        raise ConflictError(f"meeting {meeting_id} is {meeting.status.value}; it cannot be checked in")
    else:
        _check_in(session, event, meeting, now)
        result = ChangeResult(event.slug, True, meeting.id, people, f"meeting {meeting_id} checked in")
    settle_meetings(session, event, now=now)
    return result


def arrive(session: Session, event: Event, participant_id: int, *, now: datetime) -> ChangeResult:
    """The participant arrived at the desk (QR code or name search). Their scheduled meetings whose
    counterpart has arrived too, and whose slot has not ended, are checked in. Arriving twice keeps
    the first time."""
    person = session.get(Participant, participant_id)
    if person is None or person.event_id != event.id:
        raise NotFoundError(f"no participant {participant_id} in event {event.slug!r}")
    if person.status not in (ParticipantStatus.REGISTERED, ParticipantStatus.CONFIRMED):
        raise ConflictError(
            f"participant {participant_id} is {person.status.value}; they have no meetings to attend"
        )
    if person.arrived_at is not None:
        result = ChangeResult(event.slug, False, None, (participant_id,), "already arrived; nothing to do")
    else:
        person.arrived_at = person.updated_at = now
        session.add(person)
        other = aliased(Participant)
        rows = session.exec(
            select(Meeting)
            .join(TimeSlot, col(TimeSlot.id) == col(Meeting.slot_id))
            .join(
                other,
                or_(
                    and_(
                        col(Meeting.participant_a_id) == participant_id,
                        col(other.id) == col(Meeting.participant_b_id),
                    ),
                    and_(
                        col(Meeting.participant_b_id) == participant_id,
                        col(other.id) == col(Meeting.participant_a_id),
                    ),
                ),
            )
            .where(
                Meeting.event_id == event.id,
                Meeting.status == MeetingStatus.SCHEDULED,
                col(other.arrived_at).is_not(None),
                col(TimeSlot.ends_at) > now,
            )
            .order_by(col(Meeting.id))
        ).all()
        for meeting in rows:
            _check_in(session, event, meeting, now)
        result = ChangeResult(
            event.slug,
            True,
            None,
            (participant_id,),
            f"participant {participant_id} arrived; {len(rows)} meetings checked in",
        )
    settle_meetings(session, event, now=now)
    return result


def _unsettled(event: Event, now: datetime, *, event_over: bool = False) -> Any:
    host, visitor = aliased(Participant), aliased(Participant)
    query = (
        select(Meeting)
        .join(TimeSlot, col(TimeSlot.id) == col(Meeting.slot_id))
        .join(host, col(host.id) == col(Meeting.participant_a_id))
        .join(visitor, col(visitor.id) == col(Meeting.participant_b_id))
        .where(
            Meeting.event_id == event.id,
            or_(
                col(Meeting.status) == MeetingStatus.CHECKED_IN,
                and_(
                    col(Meeting.status) == MeetingStatus.SCHEDULED,
                    col(host.arrived_at) <= col(TimeSlot.ends_at),
                    col(visitor.arrived_at) <= col(TimeSlot.ends_at),
                ),
            ),
        )
        .order_by(col(Meeting.id))
    )
    # Once the event is over, a slot still running when it ended counts; one that never began does
    # not (an event ended early holds nothing of its afternoon).
    return query.where(col(TimeSlot.starts_at if event_over else TimeSlot.ends_at) <= now)


def has_unsettled_meetings(session: Session, event: Event, *, now: datetime) -> bool:
    """Whether `settle_meetings` would change anything (a read, for pages that read figures)."""
    return session.exec(_unsettled(event, now).limit(1)).first() is not None


def settle_meetings(
    session: Session, event: Event, *, now: datetime, event_over: bool = False
) -> tuple[int, ...]:
    """Mark held every meeting that took place: checked in, or scheduled with both sides arrived
    before its slot ended, and whose slot ended by `now` (once `event_over`: began by `now`). No-show
    and cancelled meetings are never touched; a second call changes nothing. Returns the ids."""
    held = list(session.exec(_unsettled(event, now, event_over=event_over)).all())
    for meeting in held:
        meeting.status, meeting.updated_at = MeetingStatus.HELD, now
        session.add(meeting)
        _fact(session, event, meeting, "rueda.meeting.held", now)
    if held:
        session.flush()
    return tuple(m.id or 0 for m in held)


def current_schedule(
    session: Session, event: Event
) -> tuple[Instance, ScheduleResult, dict[str, MeetingRequest]]:
    """The live schedule as the engine sees it: active meetings placed (checked-in and held locked),
    waiting requests unscheduled. Cancelled and no-show meetings are history, not candidates."""
    full, request_of = build_instance(session, event)
    slot_code = {s.id: s.code for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    table_code = {
        t.id: t.code for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))
    }
    active = list(
        session.exec(
            select(Meeting).where(
                Meeting.event_id == event.id, col(Meeting.status).in_(ACTIVE_MEETING_STATUSES)
            )
        )
    )
    waiting = {
        str(w.request_id)
        for w in session.exec(
            select(WaitlistEntry).where(
                WaitlistEntry.event_id == event.id, WaitlistEntry.status == WaitlistStatus.WAITING
            )
        )
    }
    assignments = tuple(
        Assignment(
            meeting=str(m.request_id),
            slot=slot_code[m.slot_id],
            table=table_code[m.table_id],
            is_locked=m.status is not MeetingStatus.SCHEDULED,
        )
        for m in active
        if m.request_id is not None and str(m.request_id) in request_of
    )
    placed = {a.meeting for a in assignments}
    keep = placed | waiting
    instance = Instance(
        slots=full.slots,
        tables=full.tables,
        participants=full.participants,
        meetings=tuple(m for m in full.meetings if m.id in keep),
        constraints=full.constraints,
        name=full.name,
    )
    unscheduled = tuple(
        Unscheduled(meeting=m, reason=UnscheduledReason.NO_COMMON_FREE_SLOT)
        for m in sorted(waiting - placed, key=int)
    )
    stats = Stats(
        placed=len(assignments),
        unplaced=len(unscheduled),
        placed_priority=0,
        breaks=0,
        max_breaks=0,
        upper_bound_placed=0,
        lower_bound_breaks=0,
        seconds=0.0,
    )
    return instance, ScheduleResult(assignments, unscheduled, stats), request_of


def refill_from_waitlist(
    session: Session, event: Event, slot_id: int, table_id: int, *, now: datetime
) -> ChangeResult:
    """Offer a freed (slot, table) to the best waiting request that fits it, and place it."""
    if not is_past(event, EventStatus.SCHEDULED):
        raise DomainError(f"event {event.slug!r} has no schedule yet")
    slot = session.get(TimeSlot, slot_id)
    table = session.get(EventTable, table_id)
    if slot is None or table is None or slot.event_id != event.id or table.event_id != event.id:
        raise NotFoundError(f"no slot {slot_id} or table {table_id} in event {event.slug!r}")
    if slot.starts_at <= now:
        return ChangeResult(
            event.slug, False, None, (), f"{slot.code} has already started; nothing to refill"
        )
    instance, result, request_of = current_schedule(session, event)
    if any(a.slot == slot.code and a.table == table.code for a in result.assignments):
        return ChangeResult(
            event.slug, False, None, (), f"{slot.code} at {table.code} is taken; nothing to do"
        )
    ranked = rank_waitlist(instance, result, slot.code, table.code)
    if not ranked:
        return ChangeResult(
            event.slug, False, None, (), f"nobody on the waiting list fits {slot.code} at {table.code}"
        )
    request = request_of[ranked[0].meeting]
    host = next((p for p in instance.participants if p.table == table.code), None)
    a, b = request.target_id, request.requester_id
    if host is not None and host.id == str(request.requester_id):
        a, b = b, a
    meeting = Meeting(
        event_id=event.id,
        request_id=request.id,
        participant_a_id=a,
        participant_b_id=b,
        slot_id=slot_id,
        table_id=table_id,
        priority=request_priority(request),
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    session.add(MeetingSeat(meeting_id=meeting.id, participant_id=a, slot_id=slot_id))
    session.add(MeetingSeat(meeting_id=meeting.id, participant_id=b, slot_id=slot_id))
    entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.request_id == request.id)).one()
    entry.status, entry.offered_at = WaitlistStatus.PLACED, now
    session.add(entry)
    _fact(session, event, meeting, "rueda.meeting.scheduled", now)
    notice = ChangeNotice(meeting.id, ChangeKind.ADDED)
    return ChangeResult(
        event.slug,
        True,
        meeting.id,
        (a, b),
        f"request {request.id} from the waiting list placed at {slot.code}, table {table.code}",
        (notice,),
    )


@dataclass(frozen=True, slots=True)
class RescheduleSummary:
    event_slug: str
    changed: bool
    added: int
    moved: int
    waitlisted: int
    affected_participants: tuple[int, ...]
    notices: tuple[ChangeNotice, ...] = ()

    def headline(self) -> str:
        if not self.changed:
            return f"{self.event_slug}: no new accepted request to place; nothing to do"
        return (
            f"{self.added} meetings added, {self.moved} moved, {self.waitlisted} to the waiting list; "
            f"{len(self.affected_participants)} agendas changed"
        )


def add_late_registrations(session: Session, event: Event, *, now: datetime) -> RescheduleSummary:
    """Place the accepted requests that arrived after the schedule (late registrations, new
    acceptances) with minimal disruption: existing meetings move only to make room, checked-in and
    held ones never. Requests that still find no place join the waiting list."""
    from engine.scheduling.reschedule import ChangeKind as EngineChange
    from engine.scheduling.reschedule import Changes, reschedule

    if not is_past(event, EventStatus.SCHEDULED):
        raise DomainError(f"event {event.slug!r} has no schedule yet; build it first")
    assert event.id is not None
    event_id = event.id
    full, request_of = build_instance(session, event)
    instance, current, _ = current_schedule(session, event)
    started = [
        s.code
        for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event_id))
        if s.starts_at <= now
    ]
    if started:
        raise DomainError(
            f"event {event.slug!r} has started (slot {min(started)}); during the event, freed seats go to the "
            "waiting list (refill-from-waitlist) instead of rescheduling"
        )
    # A request that ever had a meeting (even a cancelled or no-show one) or a waiting-list entry is
    # not new: placing it again would resurrect what was cancelled, or duplicate its entry.
    history = {
        str(r) for r in session.exec(select(Meeting.request_id).where(Meeting.event_id == event_id)) if r
    }
    history |= {
        str(r)
        for r in session.exec(select(WaitlistEntry.request_id).where(WaitlistEntry.event_id == event_id))
    }
    known = {m.id for m in instance.meetings} | history
    new = tuple(m for m in full.meetings if m.id not in known)
    if not new:
        return RescheduleSummary(event.slug, False, 0, 0, 0, ())
    outcome = reschedule(instance, current, Changes(new_meetings=new))
    slot_id = {s.code: s.id or 0 for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event_id))}
    table_id = {
        t.code: t.id or 0 for t in session.exec(select(EventTable).where(EventTable.event_id == event_id))
    }
    by_request = {
        str(m.request_id): m
        for m in session.exec(
            select(Meeting).where(
                Meeting.event_id == event.id, col(Meeting.status).in_(ACTIVE_MEETING_STATUSES)
            )
        )
    }
    moved = [c for c in outcome.changes if c.kind is EngineChange.MOVED and c.after is not None]
    slot_start = {
        s.code: s.starts_at for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event_id))
    }
    notices: list[ChangeNotice] = []
    # Moves may swap cells. Free the moved meetings' cells and seats first, so that no unique index
    # sees a half-done swap; the transaction hides the intermediate state. Do not "simplify" this
    # into in-place updates.
    for change in moved:
        meeting = by_request[change.meeting]
        session.execute(delete(MeetingSeat).where(col(MeetingSeat.meeting_id) == meeting.id))
        meeting.status = MeetingStatus.CANCELLED
        session.add(meeting)
    session.flush()
    placed: list[Meeting] = []
    for change in moved:
        assert change.after is not None
        meeting = by_request[change.meeting]
        meeting.slot_id, meeting.table_id = slot_id[change.after[0]], table_id[change.after[1]]
        meeting.status, meeting.version, meeting.updated_at = (
            MeetingStatus.SCHEDULED,
            meeting.version + 1,
            now,
        )
        session.add(meeting)
        placed.append(meeting)
        assert meeting.id is not None and change.before is not None
        notices.append(
            ChangeNotice(meeting.id, ChangeKind.MOVED, slot_start[change.before[0]], change.before[1])
        )
    session.flush()
    hosts = {p.table: p.id for p in outcome.instance.participants if p.table is not None}
    added = 0
    for change in outcome.changes:
        if change.kind is not EngineChange.ADDED or change.after is None:
            continue
        request = request_of[change.meeting]
        a, b = request.target_id, request.requester_id
        if hosts.get(change.after[1]) == str(request.requester_id):
            a, b = b, a
        meeting = Meeting(
            event_id=event.id,
            request_id=request.id,
            participant_a_id=a,
            participant_b_id=b,
            slot_id=slot_id[change.after[0]],
            table_id=table_id[change.after[1]],
            priority=request_priority(request),
            created_at=now,
            updated_at=now,
        )
        session.add(meeting)
        placed.append(meeting)
        added += 1
    session.flush()
    for meeting in placed:
        assert meeting.id is not None
        if meeting.version == 1:
            notices.append(ChangeNotice(meeting.id, ChangeKind.ADDED))
        for person in (meeting.participant_a_id, meeting.participant_b_id):
            session.add(MeetingSeat(meeting_id=meeting.id, participant_id=person, slot_id=meeting.slot_id))
    placed_ids = {c.meeting for c in outcome.changes if c.kind is EngineChange.ADDED}
    waitlisted = 0
    for spec in new:
        if spec.id in placed_ids:
            continue
        reason = next((u.reason.value for u in outcome.result.unscheduled if u.meeting == spec.id), None)
        session.add(
            WaitlistEntry(
                event_id=event.id,
                request_id=int(spec.id),
                rank_score=float(spec.priority),
                reason=reason,
                created_at=now,
            )
        )
        waitlisted += 1
    session.flush()
    affected = tuple(sorted(int(p) for p in outcome.affected))
    assert event.id is not None
    record_fact(
        session,
        "rueda.schedule.changed",
        resource=f"rueda.event.{event.id}",
        event_id=event.id,
        now=now,
        payload={
            "event_id": event.id,
            "event_slug": event.slug,
            "added": added,
            "moved": len(moved),
            "affected_participants": list(affected),
        },
    )
    return RescheduleSummary(event.slug, True, added, len(moved), waitlisted, affected, tuple(notices))
