"""On-site changes as flows: cancellations and no-shows (from the check-in desk or the portal), and
the refill of a freed seat from the waiting list, which their events trigger."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import Field
from sqlmodel import Session

from config import get_settings
from flows.common import EventRef, emit_facts, run_for_event, session_scope, utc_now
from flows.notify import agenda_url, deliver_due_mail
from models import Event, Meeting
from services.agendas import notify_agenda_changes
from services.errors import NotFoundError
from services.onsite import (
    ChangeResult,
    RescheduleSummary,
    add_late_registrations,
    cancel_meeting,
    mark_no_show,
    refill_from_waitlist,
)

R = TypeVar("R", ChangeResult, RescheduleSummary)


def with_notices(session: Session, event: Event, result: R) -> R:
    """In the same transaction, tell the affected participants (and only them) what changed."""
    lead = timedelta(minutes=get_settings().defaults.first_meeting_reminder_minutes)
    notify_agenda_changes(
        session, event, list(result.notices), now=utc_now(), agenda_url=agenda_url(), first_meeting_lead=lead
    )
    return result


class MeetingRef(EventRef):
    meeting_id: int = Field(ge=1, description="The meeting's id (see the agenda export or the portal).")


class CancellationParams(MeetingRef):
    reason: str | None = Field(
        default=None, max_length=200, description="Shown to staff, not to participants."
    )


@flow(
    name="handle-cancellation",
    flow_run_name="handle-cancellation {params.event_slug} meeting {params.meeting_id}",
)
def handle_cancellation_flow(params: CancellationParams) -> str:
    """Cancel a meeting; its seat is refilled from the waiting list (rueda.meeting.cancelled)."""
    result = run_for_event(
        params.event_slug,
        lambda s, e: with_notices(
            s, e, cancel_meeting(s, e, params.meeting_id, reason=params.reason, now=utc_now())
        ),
    )
    emit_facts()
    deliver_due_mail()
    get_run_logger().info("%s: %s", params.event_slug, result.detail)
    return result.detail


@flow(name="mark-no-show", flow_run_name="mark-no-show {params.event_slug} meeting {params.meeting_id}")
def mark_no_show_flow(params: MeetingRef) -> str:
    """Mark a meeting a no-show; the present side's seat is refilled (rueda.meeting.missed)."""
    result = run_for_event(
        params.event_slug, lambda s, e: mark_no_show(s, e, params.meeting_id, now=utc_now())
    )
    emit_facts()
    get_run_logger().info("%s: %s", params.event_slug, result.detail)
    return result.detail


@flow(
    name="refill-from-waitlist",
    flow_run_name="refill-from-waitlist {params.event_slug} after meeting {params.meeting_id}",
)
def refill_from_waitlist_flow(params: MeetingRef) -> str:
    """Give the seat of a cancelled or no-show meeting to the best waiting request that fits it."""
    with session_scope() as session:
        freed = session.get(Meeting, params.meeting_id)
        if freed is None:
            raise NotFoundError(f"no meeting {params.meeting_id}")
        cell = (freed.slot_id, freed.table_id)
    result = run_for_event(
        params.event_slug, lambda s, e: with_notices(s, e, refill_from_waitlist(s, e, *cell, now=utc_now()))
    )
    emit_facts()
    deliver_due_mail()
    create_markdown_artifact(
        key=f"refill-{params.event_slug}-{params.meeting_id}",
        markdown=f"## Waiting list\n\n{result.detail}\n\nAffected participants: {len(result.affected_participants)}\n",
    )
    get_run_logger().info("%s: %s", params.event_slug, result.detail)
    return result.detail


@flow(name="add-late-registration", flow_run_name="add-late-registration {params.event_slug}")
def add_late_registration_flow(params: EventRef) -> str:
    """Place requests accepted after the schedule (late registrations), moving as few meetings as possible."""
    result = run_for_event(
        params.event_slug, lambda s, e: with_notices(s, e, add_late_registrations(s, e, now=utc_now()))
    )
    emit_facts()
    deliver_due_mail()
    summary = result.headline()
    if result.changed:
        create_markdown_artifact(
            key=f"late-{params.event_slug}", markdown=f"## Late registrations\n\n{summary}\n"
        )
    get_run_logger().info("%s: %s", params.event_slug, summary)
    return summary
