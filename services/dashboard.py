"""Read models for the organizer dashboard and the JSON API: one event's registrations, requests,
meetings, schedule grid, waiting list, no-shows, email state and survey answers.

The problem: organizers watch an event live (a macrorrueda has 2,300 participants and 12,000
meetings) and integrations page through its rows. Every function here reads one event, chosen by
the caller after the authorization check (services.accounts.require_access); an id that belongs to
another event is "not found", exactly like an id that does not exist.

Invariants:
- Pages are ordered by id, so limit/offset pagination is stable; `total` is the exact count of the
  filtered rows (one COUNT query with the same filters).
- Figures have one written definition each (docs/api.md): the acceptance rate is accepted requests
  over decided requests (accepted + declined + expired), pending requests left out; an empty seat
  is a (slot, active table) cell without an active meeting.
- Read only: nothing here writes, commits or reads the clock.

Cost: a handful of aggregate queries for the summary; the grid reads one day's meetings; pages
read `limit` rows plus one count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from models import (
    ACTIVE_MEETING_STATUSES,
    Event,
    EventTable,
    Meeting,
    MeetingRequest,
    MeetingStatus,
    Notification,
    NotificationStatus,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    RequestOrigin,
    RequestPriority,
    RequestStatus,
    SurveyInvitation,
    SurveyResponse,
    SurveyResponseKind,
    SurveyWave,
    TimeSlot,
    WaitlistEntry,
    WaitlistStatus,
)
from notifications.outbox import count_by_status
from services.checkin import search_participants
from services.errors import NotFoundError

T = TypeVar("T")

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    id: int
    full_name: str
    email: str
    job_title: str | None
    phone: str | None
    organization: str
    country: str
    role: ParticipantRole
    status: ParticipantStatus
    language: str
    timezone: str
    table: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    requester_id: int
    target_id: int
    priority: RequestPriority
    origin: RequestOrigin
    status: RequestStatus
    score: float | None
    note: str | None
    created_at: datetime
    responded_at: datetime | None


@dataclass(frozen=True, slots=True)
class MeetingRow:
    id: int
    request_id: int | None
    slot: str
    starts_at: datetime
    ends_at: datetime
    table: str
    host_id: int
    visitor_id: int
    status: MeetingStatus
    version: int


@dataclass(frozen=True, slots=True)
class ResponseRow:
    id: int
    participant_id: int
    wave: SurveyWave
    kind: SurveyResponseKind
    meeting_id: int | None
    took_place: bool | None
    interest: int | None
    currency: str
    usd_rate: float | None
    expected_immediate_cents: int | None
    expected_3m_cents: int | None
    expected_6m_cents: int | None
    expected_12m_cents: int | None
    satisfaction: int | None
    recommend: int | None
    hs_code: str | None
    actual_closed_cents: int | None
    actual_exported_cents: int | None
    next_steps: str | None
    comments: str | None
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class Registrations:
    total: int
    by_status: dict[str, int]
    by_role: dict[str, int]


@dataclass(frozen=True, slots=True)
class RequestFigures:
    total: int
    by_status: dict[str, int]
    acceptance_rate: float | None


@dataclass(frozen=True, slots=True)
class MeetingFigures:
    total: int
    by_status: dict[str, int]
    seats: int
    empty_seats: int


@dataclass(frozen=True, slots=True)
class EmailFigures:
    by_status: dict[str, int]
    failed: int


@dataclass(frozen=True, slots=True)
class EventSummary:
    event_id: int
    slug: str
    registrations: Registrations
    requests: RequestFigures
    meetings: MeetingFigures
    waiting: int
    emails: EmailFigures


@dataclass(frozen=True, slots=True)
class GridCell:
    meeting_id: int | None
    host: str | None
    visitor: str | None
    status: MeetingStatus | None


@dataclass(frozen=True, slots=True)
class GridRow:
    slot: str
    starts_at: datetime
    cells: tuple[GridCell, ...]
    empty: int


@dataclass(frozen=True, slots=True)
class ScheduleGrid:
    days: tuple[date, ...]
    day: date | None
    tables: tuple[str, ...]  # the columns shown: one page of tables, or the participant's
    rows: tuple[GridRow, ...]  # `empty` counts every table of the slot, shown or not
    empty_seats: int  # of the whole day
    total_tables: int = 0
    first: int = 0  # 1-based position of the first column shown among the active tables (0: none)
    page_size: int = 0
    who: str = ""  # the participant filter, as typed


@dataclass(frozen=True, slots=True)
class WaitingRow:
    request_id: int
    requester: str
    target: str
    status: WaitlistStatus
    reason: str | None
    rank_score: float


@dataclass(frozen=True, slots=True)
class NoShowRow:
    meeting_id: int
    slot: str
    starts_at: datetime
    table: str
    host: str
    visitor: str


@dataclass(frozen=True, slots=True)
class FailedEmail:
    notification_id: int
    kind: str
    recipient_email: str
    attempts: int
    reason: str


def _clamp(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, MAX_PAGE)), max(0, offset)


def _page(session: Session, query: Any, limit: int, offset: int) -> tuple[list[Any], int, int, int]:
    limit, offset = _clamp(limit, offset)
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    rows = list(session.exec(query.limit(limit).offset(offset)).all())
    return rows, int(total), limit, offset


def _participant_query(event_id: int) -> Any:
    return (
        select(Participant, Organization.legal_name, Organization.country, EventTable.code)
        .join(Organization, col(Organization.id) == col(Participant.organization_id))
        .outerjoin(EventTable, col(EventTable.id) == col(Participant.table_id))
        .where(Participant.event_id == event_id)
    )


def _participant_row(row: Any) -> ParticipantRow:
    p, organization, country, table = row
    assert p.id is not None
    return ParticipantRow(
        id=p.id,
        full_name=p.full_name,
        email=p.email,
        job_title=p.job_title,
        phone=p.phone,
        organization=organization,
        country=country,
        role=p.role,
        status=p.status,
        language=p.language,
        timezone=p.timezone,
        table=table,
        created_at=p.created_at,
    )


def _like(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_participants(
    session: Session,
    event_id: int,
    *,
    status: ParticipantStatus | None = None,
    role: ParticipantRole | None = None,
    country: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ParticipantRow]:
    """The event's participants, filtered; `search` matches name, email or organization."""
    query = _participant_query(event_id)
    if status is not None:
        query = query.where(Participant.status == status)
    if role is not None:
        query = query.where(Participant.role == role)
    if country is not None:
        query = query.where(Organization.country == country.upper())
    if search and search.strip():
        pattern = _like(search)
        query = query.where(
            or_(
                func.lower(Participant.full_name).like(pattern, escape="\\"),
                func.lower(Participant.email).like(pattern, escape="\\"),
                func.lower(Organization.legal_name).like(pattern, escape="\\"),
            )
        )
    rows, total, limit, offset = _page(session, query.order_by(col(Participant.id)), limit, offset)
    return Page(tuple(_participant_row(r) for r in rows), total, limit, offset)


def get_participant_row(session: Session, event_id: int, participant_id: int) -> ParticipantRow:
    row = session.exec(_participant_query(event_id).where(Participant.id == participant_id)).first()
    if row is None:
        raise NotFoundError(f"no participant {participant_id} in this event")
    return _participant_row(row)


def list_requests(
    session: Session,
    event_id: int,
    *,
    status: RequestStatus | None = None,
    participant_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[RequestRow]:
    """The event's meeting requests; `participant_id` matches either side."""
    query = select(MeetingRequest).where(MeetingRequest.event_id == event_id)
    if status is not None:
        query = query.where(MeetingRequest.status == status)
    if participant_id is not None:
        query = query.where(
            or_(MeetingRequest.requester_id == participant_id, MeetingRequest.target_id == participant_id)
        )
    rows, total, limit, offset = _page(session, query.order_by(col(MeetingRequest.id)), limit, offset)
    items = tuple(
        RequestRow(
            id=r.id,
            requester_id=r.requester_id,
            target_id=r.target_id,
            priority=r.priority,
            origin=r.origin,
            status=r.status,
            score=r.score,
            note=r.note,
            created_at=r.created_at,
            responded_at=r.responded_at,
        )
        for r in rows
    )
    return Page(items, total, limit, offset)


def list_meetings(
    session: Session,
    event_id: int,
    *,
    slot: str | None = None,
    table: str | None = None,
    participant_id: int | None = None,
    status: MeetingStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[MeetingRow]:
    """The event's meetings in slot order; filters by slot code, table code, either participant."""
    query = (
        select(Meeting, TimeSlot, EventTable.code)
        .join(TimeSlot, col(TimeSlot.id) == col(Meeting.slot_id))
        .join(EventTable, col(EventTable.id) == col(Meeting.table_id))
        .where(Meeting.event_id == event_id)
    )
    if slot is not None:
        query = query.where(TimeSlot.code == slot)
    if table is not None:
        query = query.where(EventTable.code == table)
    if participant_id is not None:
        query = query.where(
            or_(Meeting.participant_a_id == participant_id, Meeting.participant_b_id == participant_id)
        )
    if status is not None:
        query = query.where(Meeting.status == status)
    query = query.order_by(col(TimeSlot.ordinal), col(EventTable.code), col(Meeting.id))
    rows, total, limit, offset = _page(session, query, limit, offset)
    items = tuple(
        MeetingRow(
            id=m.id,
            request_id=m.request_id,
            slot=s.code,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            table=table_code,
            host_id=m.participant_a_id,
            visitor_id=m.participant_b_id,
            status=m.status,
            version=m.version,
        )
        for m, s, table_code in rows
    )
    return Page(items, total, limit, offset)


def list_survey_responses(
    session: Session,
    event_id: int,
    *,
    wave: SurveyWave | None = None,
    kind: SurveyResponseKind | None = None,
    meeting_id: int | None = None,
    participant_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ResponseRow]:
    query = (
        select(SurveyResponse, SurveyInvitation.participant_id, SurveyInvitation.wave)
        .join(SurveyInvitation, col(SurveyInvitation.id) == col(SurveyResponse.invitation_id))
        .where(SurveyInvitation.event_id == event_id)
    )
    if wave is not None:
        query = query.where(SurveyInvitation.wave == wave)
    if kind is not None:
        query = query.where(SurveyResponse.kind == kind)
    if meeting_id is not None:
        query = query.where(SurveyResponse.meeting_id == meeting_id)
    if participant_id is not None:
        query = query.where(SurveyInvitation.participant_id == participant_id)
    rows, total, limit, offset = _page(session, query.order_by(col(SurveyResponse.id)), limit, offset)
    items = tuple(
        ResponseRow(
            id=r.id,
            participant_id=participant,
            wave=SurveyWave(wave_value),
            kind=r.kind,
            meeting_id=r.meeting_id,
            took_place=r.took_place,
            interest=r.interest,
            currency=r.currency,
            usd_rate=r.usd_rate,
            expected_immediate_cents=r.expected_immediate_cents,
            expected_3m_cents=r.expected_3m_cents,
            expected_6m_cents=r.expected_6m_cents,
            expected_12m_cents=r.expected_12m_cents,
            satisfaction=r.satisfaction,
            recommend=r.recommend,
            hs_code=r.hs_code,
            actual_closed_cents=r.actual_closed_cents,
            actual_exported_cents=r.actual_exported_cents,
            next_steps=r.next_steps,
            comments=r.comments,
            submitted_at=r.submitted_at,
        )
        for r, participant, wave_value in rows
    )
    return Page(items, total, limit, offset)


def _counts(session: Session, column: Any, model: Any, event_id: int) -> Counter[str]:
    rows = session.exec(
        select(column, func.count()).select_from(model).where(model.event_id == event_id).group_by(column)
    ).all()
    return Counter({str(getattr(value, "value", value)): int(n) for value, n in rows})


def acceptance_rate(by_status: Counter[str]) -> float | None:
    """Accepted over decided (accepted + declined + expired); None before any request is decided."""
    decided = sum(
        by_status[s.value] for s in (RequestStatus.ACCEPTED, RequestStatus.DECLINED, RequestStatus.EXPIRED)
    )
    return None if decided == 0 else by_status[RequestStatus.ACCEPTED.value] / decided


def _active_cells(session: Session, event_id: int) -> tuple[int, int]:
    """(seats, empty seats) over the whole event: every (slot, active table) cell is a seat."""
    slots = session.exec(
        select(func.count()).select_from(TimeSlot).where(TimeSlot.event_id == event_id)
    ).one()
    tables = session.exec(
        select(func.count())
        .select_from(EventTable)
        .where(EventTable.event_id == event_id, EventTable.is_active == True)  # noqa: E712 (SQL)
    ).one()
    taken = session.exec(
        select(func.count())
        .select_from(Meeting)
        .join(EventTable, col(EventTable.id) == col(Meeting.table_id))
        .where(
            Meeting.event_id == event_id,
            col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
            EventTable.is_active == True,  # noqa: E712 (SQL)
        )
    ).one()
    seats = int(slots) * int(tables)
    return seats, seats - int(taken)


def load_summary(session: Session, event: Event) -> EventSummary:
    """The dashboard's figures for one event."""
    assert event.id is not None
    participants = _counts(session, Participant.status, Participant, event.id)
    roles = _counts(session, Participant.role, Participant, event.id)
    requests = _counts(session, MeetingRequest.status, MeetingRequest, event.id)
    meetings = _counts(session, Meeting.status, Meeting, event.id)
    waiting = session.exec(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(WaitlistEntry.event_id == event.id, WaitlistEntry.status == WaitlistStatus.WAITING)
    ).one()
    emails = count_by_status(session, event_id=event.id)
    seats, empty = _active_cells(session, event.id)
    return EventSummary(
        event_id=event.id,
        slug=event.slug,
        registrations=Registrations(
            total=sum(participants.values()),
            by_status={s.value: participants[s.value] for s in ParticipantStatus},
            by_role={r.value: roles[r.value] for r in ParticipantRole},
        ),
        requests=RequestFigures(
            total=sum(requests.values()),
            by_status={s.value: requests[s.value] for s in RequestStatus},
            acceptance_rate=acceptance_rate(requests),
        ),
        meetings=MeetingFigures(
            total=sum(meetings.values()),
            by_status={s.value: meetings[s.value] for s in MeetingStatus},
            seats=seats,
            empty_seats=empty,
        ),
        waiting=int(waiting),
        emails=EmailFigures(
            by_status={s.value: emails[s] for s in NotificationStatus},
            failed=emails[NotificationStatus.FAILED],
        ),
    )


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(
        select(Participant.id, Participant.full_name, Organization.legal_name)
        .join(Organization, col(Organization.id) == col(Participant.organization_id))
        .where(col(Participant.id).in_(ids))
    ).all()
    return {pid: f"{name} ({org})" for pid, name, org in rows if pid is not None}


GRID_PAGE = 30  # table columns per page: readable on a laptop, and a page stays light at 700 tables


def build_grid(
    session: Session,
    event: Event,
    day: date | None = None,
    *,
    first: int = 1,
    page_size: int = GRID_PAGE,
    who: str = "",
) -> ScheduleGrid:
    """The schedule of one day (the first by default) as slot rows × table columns: `page_size`
    active tables from position `first`, or, with `who` (part of a name, email or company), the
    tables where those participants meet that day. Empty-seat counts cover every table."""
    assert event.id is not None
    days: tuple[date, ...] = tuple(
        session.exec(
            select(col(TimeSlot.day_on))
            .where(TimeSlot.event_id == event.id)
            .distinct()
            .order_by(col(TimeSlot.day_on))
        ).all()
    )
    chosen = day if day in days else (days[0] if days else None)
    tables = session.exec(
        select(EventTable)
        .where(EventTable.event_id == event.id, EventTable.is_active == True)  # noqa: E712 (SQL)
        .order_by(func.length(EventTable.code), col(EventTable.code))
    ).all()
    slots = session.exec(
        select(TimeSlot)
        .where(TimeSlot.event_id == event.id, TimeSlot.day_on == chosen)
        .order_by(col(TimeSlot.ordinal))
    ).all()
    slot_ids = [s.id for s in slots]
    meetings = session.exec(
        select(Meeting).where(
            Meeting.event_id == event.id,
            col(Meeting.slot_id).in_(slot_ids),
            col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
        )
    ).all()
    at = {(m.slot_id, m.table_id): m for m in meetings}
    busy_per_slot: dict[int, int] = {}
    active_ids = {t.id for t in tables}
    for m in meetings:
        if m.table_id in active_ids:  # a meeting at a table taken out of service holds no active seat
            busy_per_slot[m.slot_id] = busy_per_slot.get(m.slot_id, 0) + 1
    who = who.strip()[:100]
    page_size = max(1, min(page_size, 200))
    if who:
        people = {p.id for p in search_participants(session, event, who, limit=200)}
        wanted = {m.table_id for m in meetings if {m.participant_a_id, m.participant_b_id} & people}
        shown = [t for t in tables if t.id in wanted]
        first = 1 if shown else 0
    else:
        first = max(1, min(first, len(tables)))
        shown = list(tables[first - 1 : first - 1 + page_size])
        first = first if shown else 0
    visible = [m for m in meetings if m.table_id in {t.id for t in shown}]
    names = _names(session, {p for m in visible for p in (m.participant_a_id, m.participant_b_id)})
    rows = []
    for s in slots:
        cells = []
        for t in shown:
            found = at.get((s.id or 0, t.id or 0))
            cells.append(
                GridCell(None, None, None, None)
                if found is None
                else GridCell(
                    found.id,
                    names.get(found.participant_a_id),
                    names.get(found.participant_b_id),
                    found.status,
                )
            )
        rows.append(GridRow(s.code, s.starts_at, tuple(cells), len(tables) - busy_per_slot.get(s.id or 0, 0)))
    return ScheduleGrid(
        days=days,
        day=chosen,
        tables=tuple(t.code for t in shown),
        rows=tuple(rows),
        empty_seats=sum(r.empty for r in rows),
        total_tables=len(tables),
        first=first,
        page_size=page_size,
        who=who,
    )


def list_waiting(session: Session, event: Event, *, limit: int = 100) -> list[WaitingRow]:
    """Accepted requests that found no place, best ranked first."""
    requester, target = aliased(Participant), aliased(Participant)
    rows = session.exec(
        select(WaitlistEntry, requester.full_name, target.full_name)
        .join(MeetingRequest, col(MeetingRequest.id) == col(WaitlistEntry.request_id))
        .join(requester, requester.id == MeetingRequest.requester_id)  # type: ignore[arg-type]
        .join(target, target.id == MeetingRequest.target_id)  # type: ignore[arg-type]
        .where(
            WaitlistEntry.event_id == event.id,
            col(WaitlistEntry.status).in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
        )
        .order_by(col(WaitlistEntry.rank_score).desc(), col(WaitlistEntry.id))
        .limit(limit)
    ).all()
    return [WaitingRow(w.request_id, a, b, w.status, w.reason, w.rank_score) for w, a, b in rows]


def list_no_shows(session: Session, event: Event, *, limit: int = 100) -> list[NoShowRow]:
    rows = session.exec(
        select(Meeting, TimeSlot, EventTable.code)
        .join(TimeSlot, col(TimeSlot.id) == col(Meeting.slot_id))
        .join(EventTable, col(EventTable.id) == col(Meeting.table_id))
        .where(Meeting.event_id == event.id, Meeting.status == MeetingStatus.NO_SHOW)
        .order_by(col(TimeSlot.ordinal), col(Meeting.id))
        .limit(limit)
    ).all()
    names = _names(session, {p for m, _, _ in rows for p in (m.participant_a_id, m.participant_b_id)})
    return [
        NoShowRow(m.id or 0, s.code, s.starts_at, code, names[m.participant_a_id], names[m.participant_b_id])
        for m, s, code in rows
    ]


def list_skipped_emails(session: Session, event: Event) -> list[tuple[str, int]]:
    """Why the event's skipped messages were not sent, with how many each: (reason, count)."""
    rows = session.exec(
        select(Notification.last_error, func.count())
        .where(Notification.event_id == event.id)
        .where(Notification.status == NotificationStatus.SKIPPED)
        .group_by(Notification.last_error)
        .order_by(func.count().desc())
    ).all()
    return [(reason or "skipped", int(count)) for reason, count in rows]


def list_failed_emails(session: Session, event: Event, *, limit: int = 100) -> list[FailedEmail]:
    """Messages that failed for good, newest first, with the reason the server gave."""
    rows = session.exec(
        select(Notification)
        .where(Notification.event_id == event.id, Notification.status == NotificationStatus.FAILED)
        .order_by(col(Notification.id).desc())
        .limit(limit)
    ).all()
    return [FailedEmail(n.id or 0, n.kind, n.recipient_email, n.attempts, n.last_error or "") for n in rows]


def slot_codes(session: Session, event_id: int) -> Sequence[str]:
    return session.exec(
        select(TimeSlot.code).where(TimeSlot.event_id == event_id).order_by(col(TimeSlot.ordinal))
    ).all()
