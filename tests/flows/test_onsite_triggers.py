"""A cancellation at the desk: the handle-cancellation deployment cancels the meeting, its event
triggers refill-from-waitlist, and the waiting request takes the freed seat."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from cli.stack import Stack
from models import EventStatus, Meeting, MeetingStatus, Participant, WaitlistEntry, WaitlistStatus
from services.db import make_engine, transaction
from services.events import get_event_by_slug
from services.scheduling import build_schedule
from tests.conftest import NOW
from tests.flows.conftest import deployments_ready, wait
from tests.services.test_onsite import ONE_HOUR

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _scheduled_desk_event(engine: Engine, slug: str, tables: list[str], staff: str | None = None) -> Meeting:
    """One buyer hosting at the first table and three sellers whose accepted requests do not all
    fit (one waits), scheduled; `staff` gets the staff role. Returns the first meeting."""
    from models import MeetingRequest, MemberRole, RequestOrigin, RequestPriority, RequestStatus
    from services.accounts import create_user, grant_role
    from tests.factories import make_event, make_participant
    from tests.portal.api.seed import PASSWORD

    with transaction(engine) as session:
        event = make_event(session, NOW, slug=slug, schedule=ONE_HOUR, tables=tables)
        buyer = make_participant(
            session, event, NOW, f"buyer@{slug}.us", role="buyer", country="US", host_table=tables[0]
        )
        for n in (1, 2, 3):
            seller = make_participant(session, event, NOW, f"s{n}@{slug}.co", organization=f"Café {slug} {n}")
            session.add(
                MeetingRequest(
                    event_id=event.id,
                    requester_id=seller.id,
                    target_id=buyer.id,
                    priority=RequestPriority.NICE,
                    origin=RequestOrigin.PARTICIPANT,
                    status=RequestStatus.ACCEPTED,
                    created_at=NOW,
                )
            )
        event.status = EventStatus.REQUESTS_CLOSED
        session.add(event)
        if staff is not None:
            user = create_user(session, email=staff, full_name="Desk", password=PASSWORD, now=NOW)
            grant_role(session, user, event, MemberRole.STAFF)
    with transaction(engine) as session:
        build_schedule(session, get_event_by_slug(session, slug), now=NOW, time_limit=2, seed=0)
        event_id = get_event_by_slug(session, slug).id
        first = session.exec(select(Meeting).where(Meeting.event_id == event_id).order_by(Meeting.id)).first()  # type: ignore[arg-type]
        assert first is not None and first.id is not None
        return first


def test_cancellation_triggers_refill_from_the_waiting_list(stack: Stack) -> None:
    from prefect.deployments import run_deployment

    engine = make_engine(os.environ["RUEDA_DATABASE__URL"])
    victim = _scheduled_desk_event(engine, "desk-rueda", ["D1", "D2"])
    event_id = victim.event_id
    deployments_ready(stack)
    run = run_deployment(
        "handle-cancellation/rueda",
        parameters={
            "params": {"event_slug": "desk-rueda", "meeting_id": victim.id, "reason": "flight delayed"}
        },
        timeout=120,
    )
    assert run.state is not None and run.state.is_completed()

    def placed() -> bool:
        with Session(engine) as session:
            entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.event_id == event_id)).one()
            return entry.status is WaitlistStatus.PLACED

    wait(placed, stack, 180, "refill-from-waitlist, triggered by rueda.meeting.cancelled")
    with Session(engine) as session:
        meetings = session.exec(
            select(Meeting).where(Meeting.event_id == event_id).order_by(Meeting.id)
        ).all()  # type: ignore[arg-type]
        sellers = {p.id for p in session.exec(select(Participant).where(Participant.role == "seller"))}
    assert [m.status for m in meetings] == [
        MeetingStatus.CANCELLED,
        MeetingStatus.SCHEDULED,
        MeetingStatus.SCHEDULED,
    ]
    assert (meetings[2].slot_id, meetings[2].table_id) == (victim.slot_id, victim.table_id)
    assert meetings[2].participant_b_id in sellers - {victim.participant_b_id, meetings[1].participant_b_id}
    engine.dispose()


def test_a_desk_no_show_reaches_prefect_at_once_and_refills(stack: Stack, tmp_path: Path) -> None:
    """Issue 14, item 7: the desk's no-show button (the portal over HTTP) emits its domain event to
    Prefect itself, before it answers, so refill-from-waitlist starts at once, not when
    reconcile-events next runs."""
    import re

    from models import DomainEvent, DomainEventEmission
    from tests.portal.api.seed import PASSWORD, TestClient, build_app, portal_settings

    assert os.environ.get("PREFECT_API_URL")
    engine = make_engine(os.environ["RUEDA_DATABASE__URL"])
    first = _scheduled_desk_event(engine, "desk-no-show", ["N1", "N2"], staff="desk@camara.example")
    event_id = first.event_id
    deployments_ready(stack)
    settings = portal_settings(tmp_path, os.environ["RUEDA_DATABASE__URL"])
    with TestClient(build_app(settings, engine), follow_redirects=False) as desk:

        def csrf(path: str) -> str:
            found = re.search(r'name="csrf_token" value="([^"]+)"', desk.get(path).text)
            assert found is not None
            return found.group(1)

        signed = desk.post(
            "/organizer/login",
            data={
                "email": "desk@camara.example",
                "password": PASSWORD,
                "csrf_token": csrf("/organizer/login"),
            },
        )
        assert signed.status_code == 303
        page = f"/organizer/events/desk-no-show/checkin/{first.participant_b_id}"
        marked = desk.post(
            f"/organizer/events/desk-no-show/meetings/{first.id}/no-show",
            data={"participant_id": str(first.participant_b_id), "csrf_token": csrf(page)},
        )
        assert (marked.status_code, marked.headers["location"]) == (303, page)
    # Emitted by the request itself: the emission is recorded when the desk's answer arrives.
    with Session(engine) as session:
        emitted = session.exec(
            select(DomainEventEmission.emitted_at)
            .join(DomainEvent, DomainEvent.id == DomainEventEmission.domain_event_id)  # type: ignore[arg-type]
            .where(DomainEvent.name == "rueda.meeting.missed")
            .where(DomainEvent.resource_id == f"rueda.meeting.{first.id}")
        ).all()
    assert len(emitted) == 1

    def placed() -> bool:
        with Session(engine) as session:
            entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.event_id == event_id)).one()
            return entry.status is WaitlistStatus.PLACED

    wait(placed, stack, 180, "refill-from-waitlist, triggered by the desk's rueda.meeting.missed")
    engine.dispose()
