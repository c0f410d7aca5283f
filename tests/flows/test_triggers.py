"""On a real Prefect server: domain events chain the lifecycle by deployment triggers, and
re-emitting the same event starts nothing new. One server and one `serve` for the module."""

from __future__ import annotations

import asyncio
import os
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from cli.data_cmd import write_demo_files
from cli.stack import Stack
from models import DomainEvent, DomainEventEmission, EventStatus, Meeting, MeetingRequest, RequestStatus
from models.schemas import EventDefinition
from services.db import make_engine, run_in_transaction
from services.events import create_event, get_event_by_slug
from services.files import parse_model, read_mapping_file, read_sheet
from services.lifecycle import close_registration, close_requests
from services.matching import respond_to_request
from services.participants import import_participants
from tests.conftest import NOW
from tests.flows.conftest import deployments_ready, wait

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SLUG = "macrorrueda-demo"


def _flow_runs(name: str) -> list[str]:
    """States of this test's event's runs of flow `name` (other tests share the server)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterName

    async def read() -> list[str]:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"{name} {SLUG}"])),
            )
            return [r.state_name or "" for r in runs]

    return asyncio.run(read())


def _emails_with_meetings(engine: object) -> set[str]:
    """Emails of this test's event's participants who have a meeting."""
    from sqlalchemy import Engine

    from models import Participant

    assert isinstance(engine, Engine)
    with Session(engine) as session:
        event_id = get_event_by_slug(session, SLUG).id
        meetings = session.exec(select(Meeting).where(Meeting.event_id == event_id)).all()
        ids = {m.participant_a_id for m in meetings} | {m.participant_b_id for m in meetings}
        return {p.email for p in session.exec(select(Participant)) if p.id in ids}


def _emit_pending() -> int:
    """What every flow does after its commit; here the test plays the organizer's side."""
    from flows.common import emit_facts

    return int(emit_facts.fn())


def test_events_chain_matching_and_scheduling(stack: Stack, tmp_path: Path) -> None:
    engine = make_engine(os.environ["RUEDA_DATABASE__URL"])
    event_file, people_file = write_demo_files(
        tmp_path, participants=40, seed=3, with_errors=False, file_format="xlsx", start_on=date(2027, 5, 19)
    )
    definition = parse_model(EventDefinition, read_mapping_file(event_file), "event")
    run_in_transaction(engine, lambda s: create_event(s, definition, now=NOW))
    sheet = read_sheet(people_file)
    run_in_transaction(
        engine, lambda s: import_participants(s, get_event_by_slug(s, SLUG), sheet, source="p", now=NOW)
    )
    run_in_transaction(engine, lambda s: close_registration(s, get_event_by_slug(s, SLUG), now=NOW))
    deployments_ready(stack)
    _emit_pending()

    def status() -> EventStatus:
        with Session(engine) as session:
            return get_event_by_slug(session, SLUG).status

    wait(lambda: status() is EventStatus.REQUESTS_OPEN, stack, 180, "compute-matches, triggered by the event")
    wait(
        lambda: _flow_runs("compute-matches") == ["Completed"],
        stack,
        60,
        "the compute-matches run to complete",
    )
    # Re-emitting the same fact (same id) must not start a second run.
    with Session(engine) as session:
        fact = session.exec(
            select(DomainEvent).where(
                DomainEvent.name == "rueda.registration.closed",
                DomainEvent.event_id == get_event_by_slug(session, SLUG).id,
            )
        ).one()
    from prefect.events import emit_event

    emit_event(
        event=fact.name, resource={"prefect.resource.id": fact.resource_id}, payload=fact.payload, id=fact.id
    )

    def answer(session: Session) -> None:
        event_id = get_event_by_slug(session, SLUG).id
        requested = select(MeetingRequest).where(
            MeetingRequest.status == RequestStatus.REQUESTED, MeetingRequest.event_id == event_id
        )
        for request in session.exec(requested):
            respond_to_request(session, request, request.target_id, accept=True, now=NOW)

    run_in_transaction(engine, answer)
    run_in_transaction(engine, lambda s: close_requests(s, get_event_by_slug(s, SLUG), now=NOW))
    _emit_pending()
    wait(lambda: status() is EventStatus.PUBLISHED, stack, 240, "build-schedule, triggered by the event")
    wait(
        lambda: _flow_runs("build-schedule") == ["Completed"], stack, 60, "the build-schedule run to complete"
    )
    with Session(engine) as session:
        event_id = get_event_by_slug(session, SLUG).id
        accepted = session.exec(
            select(func.count())
            .select_from(MeetingRequest)
            .where(MeetingRequest.status == RequestStatus.ACCEPTED, MeetingRequest.event_id == event_id)
        ).one()
        meetings = session.exec(
            select(func.count()).select_from(Meeting).where(Meeting.event_id == event_id)
        ).one()
        emitted = select(DomainEventEmission.domain_event_id)
        pending = session.exec(
            select(func.count())
            .select_from(DomainEvent)
            .where(DomainEvent.event_id == event_id, DomainEvent.id.not_in(emitted))  # type: ignore[attr-defined]
        ).one()
    assert meetings == accepted > 0
    assert pending == 0
    # publish-agendas followed rueda.schedule.published by itself: every agenda is at the mail sink.
    from notifications.sink import read_index

    expected = _emails_with_meetings(engine)

    def agendas() -> list[str]:
        assert stack.mail_dir is not None
        return sorted(r for e in read_index(stack.mail_dir) for r in e.rcpt_tos if r in expected)

    wait(
        lambda: agendas() == sorted(expected), stack, 240, "one agenda email per participant at the mail sink"
    )
    assert stack.mail_dir is not None
    entries = [e for e in read_index(stack.mail_dir) if set(e.rcpt_tos) & expected]
    assert len({e.message_id for e in entries}) == len(entries) == len(expected) > 0
    # The run ends a moment after its last email reaches the sink (it still records its facts).
    wait(
        lambda: _flow_runs("publish-agendas") == ["Completed"],
        stack,
        60,
        "the publish-agendas run to complete",
    )
    # Still exactly one matching run, although its event was emitted twice.
    assert _flow_runs("compute-matches") == ["Completed"]
    engine.dispose()  # type: ignore[attr-defined]
