"""`rueda privacy list|erase|refuse`: participants' requests to delete their data, for the
organizer's data-protection officer (procedure: docs/privacy.md)."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlmodel import Session

from cli.common import console, database, handle_errors, load_settings, utc_now
from services.db import run_in_transaction, transaction
from services.erasure import (
    ErasureOutcome,
    ErasureRequest,
    carry_out_erasure,
    erase_files,
    erasure_options,
    find_participant,
    list_erasure_requests,
    record_files_erased,
    refuse_erasure,
)
from services.events import get_event_by_slug

app = typer.Typer(
    help="Participants' requests to delete their data (Ley 1581, GDPR Art. 17).", no_args_is_help=True
)

EVENT = typer.Option(..., "--event", "-e", help="The event's slug.")
WHO = typer.Argument(..., help="The participant's id or email address.")
BY = typer.Option(..., "--by", help="Who decides (your name or email): kept in the audit record.")


@app.command("list")
@handle_errors
def list_requests(event: str = EVENT) -> None:
    """List the event's erasure requests, pending first."""
    with database() as engine, transaction(engine) as session:
        found = list_erasure_requests(session, get_event_by_slug(session, event))
    if not found:
        console.print(f"no erasure requests in {event}")
        return
    table = Table("participant", "name", "email", "requested", "state", "decided", "by", "reason")
    for r in found:
        table.add_row(
            str(r.participant_id),
            r.name,
            r.email,
            f"{r.requested_at:%Y-%m-%d %H:%M}",
            r.state,
            f"{r.decided_at:%Y-%m-%d %H:%M}" if r.decided_at else "",
            r.decided_by or "",
            r.reason or "",
        )
    console.print(table)
    pending = sum(1 for r in found if r.state == "pending")
    console.print(f"{pending} pending of {len(found)}")


@app.command("erase")
@handle_errors
def erase(
    who: str = WHO,
    event: str = EVENT,
    by: str = BY,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Carry out an erasure: anonymise the participant everywhere in the event (also without a
    portal request, for one received by email or letter). It cannot be undone."""
    settings = load_settings()
    with database(settings) as engine:
        with transaction(engine) as session:
            person = find_participant(session, get_event_by_slug(session, event), who)
            label = f"{person.full_name} <{person.email}> (participant {person.id})"
        if not yes:
            typer.confirm(f"Erase {label} from {event}? This cannot be undone", abort=True)

        def work(session: Session) -> ErasureOutcome:
            found = get_event_by_slug(session, event)
            target = find_participant(session, found, who)
            assert target.id is not None
            return carry_out_erasure(
                session, found, target.id, by=by, now=utc_now(), options=erasure_options(settings, event)
            )

        outcome = run_in_transaction(engine, work)
        # The files after the commit: a failed erasure leaves the archive as it was.
        now = utc_now()
        done = erase_files(outcome, erasure_options(settings, event), now=now)
        if done:
            run_in_transaction(
                engine,
                lambda s: record_files_erased(
                    s, get_event_by_slug(s, event), outcome.participant_id, done, now=now
                ),
            )
    console.print(outcome.summary())
    console.print("the confirmation email is queued; it goes out with the next dispatch")


@app.command("refuse")
@handle_errors
def refuse(
    who: str = WHO,
    event: str = EVENT,
    by: str = BY,
    reason: str = typer.Option(
        ..., "--reason", help="The legal reason, told to the participant (10-1000 characters)."
    ),
) -> None:
    """Refuse a pending erasure request, recording the legal reason; the participant is told it."""
    with database() as engine:

        def work(session: Session) -> ErasureRequest:
            found = get_event_by_slug(session, event)
            target = find_participant(session, found, who)
            assert target.id is not None
            return refuse_erasure(session, found, target.id, by=by, reason=reason, now=utc_now())

        decided = run_in_transaction(engine, work)
    console.print(f"erasure of participant {decided.participant_id} refused: {decided.reason}")
