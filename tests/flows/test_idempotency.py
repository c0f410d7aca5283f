"""Every flow is idempotent: run twice with the same input, the second run changes nothing.

One walk through the whole lifecycle of a small rueda and of a trade mission, on a real (temporary)
Prefect server: each flow runs once to do its step, then again, and the second run must leave every
table of the application database byte-identical and send no email. A flow added to the
deployments without a place in this walk fails `test_the_walk_covers_every_deployed_flow`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, select

from cli.data_cmd import write_demo_files
from flows import common
from flows.common import EventRef
from flows.deployments import FLOWS, build_deployments
from flows.lifecycle import (
    ImportParams,
    ScheduleParams,
    build_schedule_flow,
    close_registration_flow,
    close_requests_flow,
    compute_matches_flow,
    create_event_flow,
    end_event_flow,
    import_participants_flow,
)
from flows.mission import (
    ApplicationsParams,
    open_applications_flow,
    preparation_checklist_flow,
    select_delegation_flow,
)
from flows.notify import publish_agendas_flow, send_organizer_digests_flow
from flows.onsite import (
    CancellationParams,
    MeetingRef,
    add_late_registration_flow,
    handle_cancellation_flow,
    mark_no_show_flow,
    refill_from_waitlist_flow,
)
from flows.outcome import build_report_flow
from flows.reconcile import reconcile_events_flow
from flows.surveys import (
    FollowupParams,
    SurveyParams,
    send_followups_flow,
    send_survey_reminders_flow,
    send_surveys_flow,
)
from models import Meeting, MeetingRequest, MeetingStatus, RequestStatus
from models.schemas import EventDefinition
from notifications.sink import MailSink, read_index
from services.db import make_engine, transaction, upgrade_database
from services.files import read_mapping_file, write_table
from tests.services.test_missions import HEADINGS, MISSION, row

pytestmark = pytest.mark.integration

SLUG = "macrorrueda-demo"
WALKED: list[str] = []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, MailSink, Path]]:
    folder = tmp_path_factory.mktemp("idempotency")
    url = f"sqlite:///{folder / 'rueda.db'}"
    upgrade_database(url)
    sink = MailSink(folder / "mail", port=_free_port()).start()
    saved = dict(os.environ)
    os.environ.update(
        {
            "RUEDA_DATABASE__URL": url,
            "RUEDA_DATA_DIR": str(folder),
            "RUEDA_SMTP__HOST": "127.0.0.1",
            "RUEDA_SMTP__PORT": str(sink.port),
        }
    )
    common.engine.cache_clear()
    engine = make_engine(url)
    try:
        with prefect_test_harness(server_startup_timeout=120):
            yield engine, sink, folder
    finally:
        engine.dispose()
        common.engine.cache_clear()
        sink.stop()
        os.environ.clear()
        os.environ.update(saved)


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(r) for r in connection.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1'))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def twice(world: tuple[Engine, MailSink, Path], name: str, run: Callable[[], object]) -> None:
    """Run a flow for its step, then again: the second run must change nothing and send nothing."""
    engine, sink, _ = world
    run()
    before, mail = _snapshot(engine), len(read_index(sink.mailbox.directory))
    run()
    after = _snapshot(engine)
    changed = {table for table in before if before[table] != after[table]}
    assert changed == set(), f"{name}: a second run changed {sorted(changed)}"
    assert len(read_index(sink.mailbox.directory)) == mail, f"{name}: a second run sent email"
    WALKED.append(name)


def _first(engine: Engine, status: MeetingStatus, skip: int = 0) -> int:
    with Session(engine) as session:
        ids = session.exec(
            select(Meeting.id).where(Meeting.status == status).order_by(Meeting.id).offset(skip).limit(1)  # type: ignore[arg-type]
        ).all()
    assert ids and ids[0] is not None
    return ids[0]


def test_every_flow_changes_nothing_the_second_time(world: tuple[Engine, MailSink, Path]) -> None:
    engine, _, folder = world
    event_file, people_file = write_demo_files(
        folder / "demo",
        participants=40,
        seed=3,
        with_errors=False,
        file_format="csv",
        start_on=date(2027, 5, 19),
    )
    definition = EventDefinition.model_validate(read_mapping_file(event_file))
    ref = EventRef(event_slug=SLUG)

    twice(world, "create-event", lambda: create_event_flow(definition))
    twice(
        world,
        "import-participants",
        lambda: import_participants_flow(ImportParams(event_slug=SLUG, file_path=str(people_file))),
    )
    twice(world, "close-registration", lambda: close_registration_flow(ref))
    twice(world, "compute-matches", lambda: compute_matches_flow(ref))
    with transaction(engine) as session:  # every suggested request is accepted
        for request in session.exec(select(MeetingRequest)):
            request.status = RequestStatus.ACCEPTED
            session.add(request)
    twice(world, "close-requests", lambda: close_requests_flow(ref))
    twice(
        world,
        "build-schedule",
        lambda: build_schedule_flow(ScheduleParams(event_slug=SLUG, time_limit_seconds=5, publish=True)),
    )
    twice(world, "publish-agendas", lambda: publish_agendas_flow(ref))
    cancelled = _first(engine, MeetingStatus.SCHEDULED)
    twice(
        world,
        "handle-cancellation",
        lambda: handle_cancellation_flow(CancellationParams(event_slug=SLUG, meeting_id=cancelled)),
    )
    twice(
        world,
        "refill-from-waitlist",
        lambda: refill_from_waitlist_flow(MeetingRef(event_slug=SLUG, meeting_id=cancelled)),
    )
    missed = _first(engine, MeetingStatus.SCHEDULED)
    twice(world, "mark-no-show", lambda: mark_no_show_flow(MeetingRef(event_slug=SLUG, meeting_id=missed)))
    twice(world, "add-late-registration", lambda: add_late_registration_flow(ref))
    twice(world, "send-organizer-digests", lambda: send_organizer_digests_flow())
    twice(world, "end-event", lambda: end_event_flow(ref))
    twice(world, "send-surveys", lambda: send_surveys_flow(SurveyParams(event_slug=SLUG)))
    twice(world, "send-survey-reminders", lambda: send_survey_reminders_flow())
    twice(world, "send-followups", lambda: send_followups_flow(FollowupParams(event_slug=SLUG, months=3)))
    twice(world, "build-report", lambda: build_report_flow(ref))
    twice(world, "reconcile-events", lambda: reconcile_events_flow())

    mission = definition.model_dump(mode="json") | {
        "slug": "mision-alemania",
        "kind": "mission",
        "mission": MISSION,
    }
    mission.pop("registration_opens", None)
    create_event_flow(EventDefinition.model_validate(mission))
    applications = folder / "solicitudes.csv"
    rows = [
        row(n, **{"Años exportando": n % 6, "Liderada por mujeres": "sí" if n % 4 == 0 else "no"})
        for n in range(1, 9)
    ]
    write_table(applications, HEADINGS, [[r[h] for h in HEADINGS] for r in rows])
    m = EventRef(event_slug="mision-alemania")
    twice(
        world,
        "open-applications",
        lambda: open_applications_flow(
            ApplicationsParams(event_slug="mision-alemania", file_path=str(applications))
        ),
    )
    twice(world, "select-delegation", lambda: select_delegation_flow(m))
    twice(world, "preparation-checklist", lambda: preparation_checklist_flow(m))


def test_the_walk_covers_every_deployed_flow(world: tuple[Engine, MailSink, Path]) -> None:
    deployed = {d.flow_name for d in build_deployments()}
    assert deployed == {f.name for f in FLOWS} | {
        "reconcile-events",
        "send-organizer-digests",
        "send-survey-reminders",
    }
    assert sorted(deployed - set(WALKED)) == []
