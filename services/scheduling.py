"""Building an event's schedule: accepted requests in, `engine.scheduling` in the middle, meetings,
seats and a waiting list out.

The database rows become an instance of the public format (`rueda.schedule-instance/1`, see
docs/schemas): slot codes, active table codes, hosts at their tables, unavailable slots, caps, one
meeting per accepted request with a priority from its origin. The result becomes `meeting` rows
(participant A is the host of the table when there is one), one `meeting_seat` per participant, and
a `waitlist_entry` for each request that found no place, with the solver's reason.
Idempotent: once an event is scheduled, running it again changes nothing.
Cost: the solver's time limit, plus a few seconds of bulk inserts for 12,000 meetings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from engine.scheduling.model import (
    Instance,
    MeetingSpec,
    ScheduleResult,
    Slot,
    Stats,
)
from engine.scheduling.model import Participant as EngineParticipant
from engine.scheduling.solver import solve
from models import (
    Event,
    EventStatus,
    EventTable,
    Meeting,
    MeetingRequest,
    MeetingSeat,
    MeetingStatus,
    Participant,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    TimeSlot,
    Unavailability,
    WaitlistEntry,
    WaitlistStatus,
)
from services.errors import DomainError
from services.lifecycle import advance, is_past
from services.matching import ACTIVE_PARTICIPANTS


def request_priority(request: MeetingRequest) -> int:
    """Organizer-forced 4, a participant's must 3, a participant's nice 2, a suggestion 1."""
    if request.origin is RequestOrigin.ORGANIZER:
        return 4
    if request.origin is RequestOrigin.PARTICIPANT:
        return 3 if request.priority is RequestPriority.MUST else 2
    return 1


@dataclass(frozen=True, slots=True)
class ScheduleSummary:
    event_id: int
    event_slug: str
    changed: bool
    participants: int
    requested: int
    stats: Stats | None
    waitlisted: int
    published: bool

    @property
    def breaks_per_participant(self) -> float:
        if self.stats is None or self.participants == 0:
            return 0.0
        return self.stats.breaks / self.participants

    def headline(self) -> str:
        if self.stats is None:
            return f"{self.event_slug}: already scheduled; nothing to do"
        s = self.stats
        return (
            f"{s.placed:,} of {self.requested:,} meetings placed, upper bound {s.upper_bound_placed:,}; "
            f"{self.breaks_per_participant:.2f} breaks per participant (lower bound {s.lower_bound_breaks:,} "
            f"in all); {self.waitlisted:,} on the waiting list; solved in {s.seconds:.1f} s"
        )


def build_instance(session: Session, event: Event) -> tuple[Instance, dict[str, MeetingRequest]]:
    """The event as a scheduling instance, and the request behind each meeting id."""
    slots = list(
        session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id).order_by(col(TimeSlot.ordinal)))
    )
    tables = list(
        session.exec(select(EventTable).where(EventTable.event_id == event.id).order_by(col(EventTable.id)))
    )
    table_code = {t.id: t.code for t in tables if t.is_active}
    slot_code = {s.id: s.code for s in slots}
    people: dict[int, Participant] = {
        p.id: p
        for p in session.exec(
            select(Participant).where(
                Participant.event_id == event.id, col(Participant.status).in_(ACTIVE_PARTICIPANTS)
            )
        )
        if p.id is not None
    }
    unavailable: dict[int, set[str]] = defaultdict(set)
    for u in session.exec(select(Unavailability).where(col(Unavailability.participant_id).in_(list(people)))):
        unavailable[u.participant_id].add(slot_code[u.slot_id])
    requests = [
        r
        for r in session.exec(
            select(MeetingRequest)
            .where(MeetingRequest.event_id == event.id, MeetingRequest.status == RequestStatus.ACCEPTED)
            .order_by(col(MeetingRequest.id))
        )
        if r.requester_id in people and r.target_id in people
    ]
    instance = Instance(
        name=event.slug,
        slots=tuple(
            Slot(
                id=s.code,
                day=f"d{s.day_index + 1}",
                session=s.session,
                start=s.starts_at.isoformat(),
                end=s.ends_at.isoformat(),
            )
            for s in slots
        ),
        tables=tuple(table_code.values()),
        participants=tuple(
            EngineParticipant(
                id=str(pid),
                unavailable=frozenset(unavailable[pid]),
                table=table_code.get(p.table_id) if p.table_id is not None else None,
                max_meetings=p.max_meetings if p.max_meetings is not None else event.max_meetings,
            )
            for pid, p in sorted(people.items())
        ),
        meetings=tuple(
            MeetingSpec(
                id=str(r.id),
                participants=(str(r.requester_id), str(r.target_id)),
                priority=request_priority(r),
            )
            for r in requests
        ),
    )
    return instance, {str(r.id): r for r in requests}


def build_schedule(
    session: Session, event: Event, *, now: datetime, time_limit: float, seed: int, publish: bool = True
) -> ScheduleSummary:
    assert event.id is not None
    if is_past(event, EventStatus.SCHEDULED):
        if publish and not is_past(event, EventStatus.PUBLISHED):
            return publish_schedule(session, event, now=now)
        return ScheduleSummary(
            event.id, event.slug, False, 0, 0, None, 0, is_past(event, EventStatus.PUBLISHED)
        )
    if not is_past(event, EventStatus.REQUESTS_CLOSED):
        raise DomainError(f"close requests of {event.slug!r} before scheduling (status {event.status.value})")
    instance, request_of = build_instance(session, event)
    result = solve(instance, time_limit=time_limit, seed=seed)
    waitlisted = write_schedule(session, event, instance, result, request_of, now=now)
    advance(
        session,
        event,
        EventStatus.SCHEDULED,
        "rueda.schedule.built",
        now=now,
        payload={"placed": result.stats.placed, "unplaced": result.stats.unplaced},
    )
    if publish:
        advance(session, event, EventStatus.PUBLISHED, "rueda.schedule.published", now=now)
    return ScheduleSummary(
        event.id,
        event.slug,
        True,
        len(instance.participants),
        len(instance.meetings),
        result.stats,
        waitlisted,
        publish,
    )


def publish_schedule(session: Session, event: Event, *, now: datetime) -> ScheduleSummary:
    assert event.id is not None
    if not is_past(event, EventStatus.SCHEDULED):
        raise DomainError(f"event {event.slug!r} has no schedule to publish")
    changed = advance(session, event, EventStatus.PUBLISHED, "rueda.schedule.published", now=now)
    return ScheduleSummary(event.id, event.slug, changed, 0, 0, None, 0, True)


def write_schedule(
    session: Session,
    event: Event,
    instance: Instance,
    result: ScheduleResult,
    request_of: dict[str, MeetingRequest],
    *,
    now: datetime,
) -> int:
    """Insert meetings, seats and waiting-list entries in bulk; returns how many were waitlisted."""
    slot_id = {s.code: s.id for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    table_id = {t.code: t.id for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))}
    host_of_table = {p.table: p.id for p in instance.participants if p.table is not None}
    rows = []
    for assignment in result.assignments:
        request = request_of[assignment.meeting]
        host = host_of_table.get(assignment.table)
        a, b = (request.target_id, request.requester_id)
        if host is not None and host == str(request.requester_id):
            a, b = request.requester_id, request.target_id
        rows.append(
            {
                "event_id": event.id,
                "request_id": request.id,
                "participant_a_id": a,
                "participant_b_id": b,
                "slot_id": slot_id[assignment.slot],
                "table_id": table_id[assignment.table],
                "status": MeetingStatus.SCHEDULED.value,
                "priority": request_priority(request),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    meeting_table = Meeting.__table__  # type: ignore[attr-defined]
    seats = []
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        ids = (
            session.execute(
                insert(meeting_table).returning(meeting_table.c.id, sort_by_parameter_order=True), chunk
            )
            .scalars()
            .all()
        )
        for meeting_id, row in zip(ids, chunk, strict=True):
            seats.append(
                {
                    "meeting_id": meeting_id,
                    "participant_id": row["participant_a_id"],
                    "slot_id": row["slot_id"],
                }
            )
            seats.append(
                {
                    "meeting_id": meeting_id,
                    "participant_id": row["participant_b_id"],
                    "slot_id": row["slot_id"],
                }
            )
    if seats:
        session.execute(insert(MeetingSeat.__table__), seats)  # type: ignore[attr-defined]
    entries = [
        {
            "event_id": event.id,
            "request_id": request_of[u.meeting].id,
            "status": WaitlistStatus.WAITING.value,
            "rank_score": float(request_priority(request_of[u.meeting])),
            "reason": u.reason.value,
            "created_at": now,
        }
        for u in result.unscheduled
    ]
    if entries:
        session.execute(insert(WaitlistEntry.__table__), entries)  # type: ignore[attr-defined]
    session.flush()
    return len(entries)
