"""`rueda up` runs the whole stack on one machine; `rueda demo` also drives a generated macrorrueda
through the lifecycle, by deployments and events, as organizers and participants would."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlmodel import Session, select

from cli.common import console, err_console, handle_errors, load_settings, utc_now
from cli.data_cmd import write_demo_files
from cli.stack import Stack, stop_on_sigterm
from models import Event, EventStatus, MeetingRequest, RequestStatus
from services.db import make_engine, run_in_transaction, upgrade_database
from services.errors import DomainError
from services.events import get_event_by_slug
from services.files import read_mapping_file
from services.lifecycle import is_past
from services.matching import respond_to_request


def _print_urls(stack: Stack) -> None:
    ui = stack.api_url.removesuffix("/api")
    console.print(f"  Prefect UI:   {ui}")
    console.print(f"  deployments:  {ui}/deployments")
    if stack.mail_dir is not None:
        console.print(
            f"  mail sink:    127.0.0.1:{stack.settings.smtp.port}, stored in {stack.mail_dir} (rueda mail ls)"
        )
    if stack.portal_url is not None:
        console.print(f"  portal:       {stack.portal_url} (organizers: {stack.portal_url}/organizer)")
    console.print(f"  logs:         {stack.log_dir}")


@handle_errors
def up(
    production_check: bool = typer.Option(
        False,
        "--production-check",
        help="Check this configuration against docs/deployment.md (each check with a fix); start nothing.",
    ),
) -> None:
    """Start the stack: the Prefect server (unless PREFECT_API_URL points to one) and every deployment.

    The lifecycle deployments are served with their event triggers. Ctrl-C stops everything cleanly;
    starting again is safe (deployments are updated in place, the server's database is kept)."""
    settings = load_settings()
    if production_check:
        import os

        from cli.production_check import production_check as run_production_check

        raise typer.Exit(run_production_check(settings, os.environ))
    upgrade_database(settings.database_url)
    stack = Stack(settings)
    stop_on_sigterm()
    try:
        with console.status("starting the Prefect server (about 20 s)..."):
            stack.start_prefect()
        stack.start_mail_sink()
        stack.start_portal()
        stack.start_serve()
        stack.start_clock()
        console.print("[bold green]rueda is up[/bold green]")
        _print_urls(stack)
        console.print("  press Ctrl-C to stop")
        while True:
            stack.check()
            time.sleep(1.0)
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        stack.stop()


@handle_errors
def reminder_clock() -> None:
    """Run the reminder clock: send each outbox message when it falls due (rueda up runs it)."""
    from notifications.clock import ReminderClock

    settings = load_settings()
    engine = make_engine(settings.database_url)
    clock = ReminderClock(engine, settings.smtp, calendar_domain=settings.portal.uid_domain)
    stop_on_sigterm()
    clock.start()
    console.print("reminder clock running (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        clock.shutdown()
        engine.dispose()
        console.print(f"reminder clock stopped: {clock.totals.summary()}")


def _wait_for(description: str, check: Callable[[], bool], stack: Stack, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        stack.check()
        time.sleep(1.0)
    raise DomainError(f"timed out after {timeout:.0f} s waiting for {description}; see {stack.log_dir}")


def _run(stack: Stack, name: str, parameters: dict[str, Any]) -> None:
    """Run a deployment and wait for it; a failed run stops the demo with its state."""
    import os

    os.environ.update({k: v for k, v in stack.environment().items() if k.startswith("PREFECT_")})
    from prefect.deployments import run_deployment

    run = run_deployment(f"{name}/rueda", parameters=parameters, timeout=600)
    if run.state is None or not run.state.is_completed():
        state = run.state.name if run.state else "unknown"
        raise DomainError(f"deployment {name} ended {state}; see the run in the Prefect UI ({run.id})")


@handle_errors
def demo(
    participants: int = typer.Option(
        300, "--participants", "-n", min=10, max=20_000, help="Size of the rueda."
    ),
    seed: int = typer.Option(1, "--seed", "-s", help="Random seed of the generated data and answers."),
    exit_when_done: bool = typer.Option(False, "--exit", help="Stop the stack when the lifecycle is done."),
) -> None:
    """Run the demo: the stack of `rueda up`, a generated macrorrueda, and its whole lifecycle.

    Steps run through the deployments and their events; participants' answers are simulated.
    `--exit` stops when the lifecycle is done (for scripts and CI)."""
    settings = load_settings()
    slug = "macrorrueda-demo"
    folder = settings.data_dir / "demo"
    event_file, people_file = write_demo_files(
        folder,
        participants=participants,
        seed=seed,
        with_errors=False,
        file_format="xlsx",
        start_on=date(2027, 5, 19),
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    stack = Stack(settings)
    stop_on_sigterm()
    timings: list[tuple[str, float]] = []
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=err_console,
        ) as progress:
            steps = progress.add_task("starting the Prefect server", total=15)

            def step(label: str, work: Callable[[], None]) -> None:
                progress.update(steps, description=label)
                started = time.perf_counter()
                work()
                timings.append((label, time.perf_counter() - started))
                progress.advance(steps)

            step(
                "starting the Prefect server, the mail sink and the portal",
                lambda: (stack.start_prefect(), stack.start_mail_sink(), stack.start_portal()),
            )
            step(
                "serving the deployments",
                lambda: (stack.start_serve(), stack.start_clock(), _wait_for_deployments(stack)),
            )
            step(
                "create-event",
                lambda: _run(stack, "create-event", {"definition": read_mapping_file(event_file)}),
            )
            step("the organizer's portal account", lambda: _organizer_account(engine, slug))
            step(
                "import-participants",
                lambda: _run(
                    stack,
                    "import-participants",
                    {"params": {"event_slug": slug, "file_path": str(people_file)}},
                ),
            )
            step(
                "close-registration -> compute-matches (event trigger)",
                lambda: (
                    _run(stack, "close-registration", {"params": {"event_slug": slug}}),
                    _wait_for(
                        "compute-matches",
                        # "past", not "equal": a second demo in the same data directory finds the
                        # event further along, and every step is then a no-op.
                        lambda: _reached(engine, slug, EventStatus.REQUESTS_OPEN),
                        stack,
                        timeout=600,
                    ),
                ),
            )
            step("participants answer requests", lambda: _answer_requests(engine, slug, seed))
            step(
                "close-requests -> build-schedule (event trigger)",
                lambda: (
                    _run(stack, "close-requests", {"params": {"event_slug": slug}}),
                    _wait_for(
                        "build-schedule",
                        lambda: _reached(engine, slug, EventStatus.PUBLISHED),
                        stack,
                        timeout=900,
                    ),
                    _wait_for(
                        "the last facts to be emitted", lambda: _all_emitted(engine), stack, timeout=120
                    ),
                ),
            )
            step(
                "publish-agendas (event trigger) -> every agenda at the mail sink",
                lambda: _wait_for(
                    "the agenda emails", lambda: _agendas_delivered(engine, slug), stack, timeout=900
                ),
            )
            step(
                "on-site changes: handle-cancellation, mark-no-show -> refill-from-waitlist",
                lambda: _onsite_changes(stack, engine, slug),
            )
            step("the event day: meetings held or missed", lambda: _simulate_event_day(engine, slug, seed))
            expected: dict[int, int] = {}
            step(
                "end-event -> send-surveys (event trigger); participants answer by their links",
                lambda: (
                    _run(stack, "end-event", {"params": {"event_slug": slug}}),
                    _wait_for(
                        "the survey emails",
                        lambda: _sent_all(engine, slug, "survey.invited"),
                        stack,
                        timeout=600,
                    ),
                    expected.update(_answer_surveys(stack, engine, slug, seed)),
                ),
            )
            mark: list[int] = []
            step(
                "send-followups (3 months, run now) and their answers",
                lambda: (
                    mark.append(_last_seq(stack)),
                    _run(stack, "send-followups", {"params": {"event_slug": slug, "months": 3}}),
                    _answer_followups(stack, engine, slug, seed, expected, after=mark[-1]),
                ),
            )
            step(
                "build-report",
                lambda: (
                    _run(stack, "build-report", {"params": {"event_slug": slug}}),
                    _wait_for("the last flow runs to finish", _no_active_runs, stack, timeout=300),
                ),
            )
        console.print(f"[bold green]demo done[/bold green]: {participants} participants")
        for label, seconds in timings:
            console.print(f"  {seconds:7.1f} s  {label}")
        _print_urls(stack)
        console.print(f"  report:       {settings.data_dir / 'reports' / slug / 'report.html'}")
        console.print(f"  organizer:    {DEMO_ORGANIZER} / {DEMO_PASSWORD} (demo only)")
        if not exit_when_done:
            console.print("  press Ctrl-C to stop")
            while True:
                stack.check()
                time.sleep(1.0)
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        stack.stop()
        engine.dispose()


def _wait_for_deployments(stack: Stack) -> None:
    import asyncio
    import os

    os.environ.update({k: v for k, v in stack.environment().items() if k.startswith("PREFECT_")})
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async def registered() -> bool:
        async with get_client() as client:
            try:
                await client.read_deployment_by_name("build-schedule/rueda")
                await client.read_deployment_by_name("create-event/rueda")
            except ObjectNotFound:
                return False
            return True

    _wait_for("the deployments to register", lambda: asyncio.run(registered()), stack, timeout=180)


def _reached(engine: Any, slug: str, status: EventStatus) -> bool:
    """Whether the event is at `status` or beyond it in the lifecycle."""
    with Session(engine) as session:
        return is_past(get_event_by_slug(session, slug), status)


def _no_active_runs() -> bool:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    async def count() -> int:
        # Pending and running only: the reconcile deployment keeps future runs SCHEDULED on purpose.
        active = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING]))
        async with get_client() as client:
            return len(await client.read_flow_runs(flow_run_filter=FlowRunFilter(state=active), limit=5))

    return asyncio.run(count()) == 0


DEMO_ORGANIZER = "organizer@example.org"
DEMO_PASSWORD = "rueda-demo-organizer"


def _organizer_account(engine: Any, slug: str) -> None:
    """The demo's organizer, to sign in to the portal's dashboard (a fixed password: demo only)."""
    from models import MemberRole
    from services.accounts import create_user, get_user_by_email, grant_role

    def work(session: Session) -> None:
        user = get_user_by_email(session, DEMO_ORGANIZER) or create_user(
            session, email=DEMO_ORGANIZER, full_name="Demo Organizer", password=DEMO_PASSWORD, now=utc_now()
        )
        grant_role(session, user, get_event_by_slug(session, slug), MemberRole.ORGANIZER)

    run_in_transaction(engine, work)


def _onsite_changes(stack: Stack, engine: Any, slug: str) -> None:
    """Two meetings are cancelled and two missed, through the deployments an organizer's desk uses;
    each starts refill-from-waitlist by its event, which tells the affected people only."""
    from models import Meeting, MeetingStatus

    with Session(engine) as session:
        event = get_event_by_slug(session, slug)
        ids = list(
            session.exec(
                select(Meeting.id)
                .where(Meeting.event_id == event.id, Meeting.status == MeetingStatus.SCHEDULED)
                .order_by(Meeting.id)  # type: ignore[arg-type]
                .limit(4)
            )
        )
    for meeting_id in ids[:2]:
        _run(stack, "handle-cancellation", {"params": {"event_slug": slug, "meeting_id": meeting_id}})
    for meeting_id in ids[2:]:
        _run(stack, "mark-no-show", {"params": {"event_slug": slug, "meeting_id": meeting_id}})
    time.sleep(20)  # the triggers fire about 15 s after their events
    _wait_for("the refill runs to finish", _no_active_runs, stack, timeout=300)


def _simulate_event_day(engine: Any, slug: str, seed: int) -> None:
    """Every meeting still on the agenda is held or missed (simulated check-ins)."""
    from services.report_demo import simulate_meeting_outcomes

    def simulate(session: Session) -> None:
        event = get_event_by_slug(session, slug)
        assert event.id is not None
        simulate_meeting_outcomes(session, event.id, seed=seed, now=utc_now())

    run_in_transaction(engine, simulate)


def _sent_all(engine: Any, slug: str, kind: str) -> bool:
    """Some `kind` emails were queued for the event, and none is still waiting to go."""
    from sqlalchemy import func

    from models import Notification, NotificationStatus

    with Session(engine) as session:
        event = get_event_by_slug(session, slug)
        rows = dict(
            session.exec(
                select(Notification.status, func.count())
                .where(Notification.event_id == event.id, Notification.kind == kind)
                .group_by(Notification.status)
            ).all()
        )
    waiting = rows.get(NotificationStatus.PENDING, 0) + rows.get(NotificationStatus.SENDING, 0)
    return bool(sum(rows.values()) > 0 and waiting == 0)


def _last_seq(stack: Stack) -> int:
    from notifications.sink import read_index

    assert stack.mail_dir is not None
    return max((entry.seq for entry in read_index(stack.mail_dir)), default=0)


def _links_at_sink(stack: Stack, engine: Any, slug: str, *, after: int = 0) -> dict[int, str]:
    """participant id -> survey token, from the newest survey email each participant received
    after the sink's message number `after`."""
    import re

    from models import Participant
    from notifications.sink import load_message, read_index

    assert stack.mail_dir is not None, "the demo reads the links from the local mail sink"
    pattern = re.compile(r"/survey\?t=([A-Za-z0-9_-]+)")
    newest: dict[str, str] = {}
    for entry in read_index(stack.mail_dir):
        if entry.seq <= after:
            continue
        message = load_message(stack.mail_dir, entry)
        body = message.get_body(preferencelist=("plain",))
        found = pattern.search(body.get_content() if body is not None else "")
        if found:
            for recipient in entry.rcpt_tos:
                newest[recipient.lower()] = found.group(1)
    with Session(engine) as session:
        event = get_event_by_slug(session, slug)
        ids = dict(
            session.exec(
                select(Participant.email, Participant.id).where(Participant.event_id == event.id)
            ).all()
        )
    return {ids[email]: token for email, token in newest.items() if email in ids and ids[email] is not None}


def _answer_surveys(stack: Stack, engine: Any, slug: str, seed: int) -> dict[int, int]:
    """About 70% of the invited answer through the link in their email."""
    from services.report_demo import answer_post_event_surveys

    tokens = _links_at_sink(stack, engine, slug)

    def answer(session: Session) -> dict[int, int]:
        event = get_event_by_slug(session, slug)
        assert event.id is not None
        _, expected = answer_post_event_surveys(session, event.id, tokens, seed=seed, now=utc_now())
        return expected

    expected = run_in_transaction(engine, answer)
    _emit_now(engine)
    return expected


def _answer_followups(
    stack: Stack, engine: Any, slug: str, seed: int, expected: dict[int, int], *, after: int
) -> None:
    from services.report_demo import answer_followups

    _wait_for("the follow-up emails", lambda: _sent_all(engine, slug, "followup.invited"), stack, timeout=300)
    tokens = _links_at_sink(stack, engine, slug, after=after)

    def answer(session: Session) -> None:
        event = get_event_by_slug(session, slug)
        assert event.id is not None
        answer_followups(session, event.id, tokens, expected, seed=seed, now=utc_now())

    run_in_transaction(engine, answer)
    _emit_now(engine)


def _emit_now(engine: Any) -> None:
    """Emit the facts the simulated participants' answers recorded, as the portal does after a write
    (the Prefect settings are in the environment: see `_run`)."""
    from prefect.events import emit_event

    from services.domain_events import emit_pending, event_fields

    with Session(engine) as session:
        emit_pending(session, lambda fact: emit_event(**event_fields(fact)), now=utc_now())


def _agendas_delivered(engine: Any, slug: str) -> bool:
    """Every participant with a meeting has had the agenda email sent (the outbox says so)."""
    from sqlalchemy import func, or_

    from models import Meeting, Notification, NotificationStatus

    with Session(engine) as session:
        event = get_event_by_slug(session, slug)
        people = (
            select(Meeting.participant_a_id)
            .where(Meeting.event_id == event.id)
            .union(select(Meeting.participant_b_id).where(Meeting.event_id == event.id))
        )
        expected = session.exec(select(func.count()).select_from(people.subquery())).one()
        sent = session.exec(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.event_id == event.id,
                Notification.kind == "agenda.published",
                or_(
                    Notification.status == NotificationStatus.SENT,
                    Notification.status == NotificationStatus.FAILED,
                ),
            )
        ).one()
    return bool(expected > 0 and sent == expected)


def _all_emitted(engine: Any) -> bool:
    from sqlalchemy import func

    from models import DomainEvent, DomainEventEmission

    with Session(engine) as session:
        facts = session.exec(select(func.count()).select_from(DomainEvent)).one()
        emitted = session.exec(select(func.count()).select_from(DomainEventEmission)).one()
    return bool(facts == emitted)


def _answer_requests(engine: Any, slug: str, seed: int) -> None:
    """Participants accept about 85% of the requests they receive, decline 5%, and leave the rest."""
    rng = random.Random(seed)

    def answer(session: Session) -> None:
        event: Event = get_event_by_slug(session, slug)
        for request in session.exec(
            select(MeetingRequest)
            .where(MeetingRequest.event_id == event.id, MeetingRequest.status == RequestStatus.REQUESTED)
            .order_by(MeetingRequest.id)  # type: ignore[arg-type]
        ):
            draw = rng.random()
            if draw < 0.90:
                respond_to_request(session, request, request.target_id, accept=draw < 0.85, now=utc_now())

    run_in_transaction(engine, answer)
