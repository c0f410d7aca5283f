"""Erasure requests through the doors people use (issue 13, item 5): the participant asks on their
page, the organizer sees it on the dashboard and carries it out or refuses it on the privacy page,
the confirmation arrives at a real SMTP sink; then no table and no archived email names the person.
The CLI does the same for an officer, and the report's figures survive it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from cli.main import app as cli_app
from config import Settings
from models import (
    DomainEvent,
    Event,
    EventStatus,
    MemberRole,
    Notification,
    Participant,
    ParticipantStatus,
)
from notifications.dispatcher import dispatch_due
from notifications.sink import ERASED_SUBJECT, MailSink, SinkEntry, load_message, read_index
from services.accounts import create_user, grant_role
from services.db import transaction
from services.events import get_event_by_slug
from services.report import build_report
from tests.portal.api.seed import PASSWORD
from tests.portal.conftest import (
    Portal,
    csrf_of,
    free_port,
    open_event,
    portal_settings,
    register,
    registration_form,
    serve,
)
from tests.portal.helpers import latest_link, participant_id, post_form, sign_in

pytestmark = pytest.mark.integration

ANA = {"full_name": "Ana Gómez Restrepo", "email": "ana.gomez@andino.example", "phone": "+57 310 555 0101"}
BRUNO = {"full_name": "Bruno Schäfer", "email": "bruno@hamburg.example"}


def database_text(engine: Engine) -> str:
    """Every value of every table, as one text: what a copy of the database would reveal."""
    rows = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                rows.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(rows)


def archive_text(directory: Path) -> str:
    return "\n".join(
        (directory / e.file).read_bytes().decode("utf-8", "replace") + plain_text(directory, e)
        for e in read_index(directory)
    )


def plain_text(directory: Path, entry: SinkEntry) -> str:
    body = load_message(directory, entry).get_body(("plain",))
    return "" if body is None else str(body.get_content())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return portal_settings(tmp_path / "data", free_port())


@pytest.fixture
def running(engine: Engine, settings: Settings) -> Iterator[tuple[Portal, MailSink]]:
    with MailSink(settings.data_dir / "mail", port=settings.smtp.port) as sink:
        server = serve(settings, engine)
        try:
            yield next(server), sink
        finally:
            next(server, None)


def dispatch(engine: Engine, settings: Settings) -> None:
    report = dispatch_due(engine, settings.smtp, calendar_domain=settings.portal.uid_domain)
    assert report.failed == 0


def organizer_sign_in(portal: Portal, client: httpx.Client, slug: str) -> None:
    with transaction(portal.engine) as session:
        user = create_user(
            session,
            email="dpo@camara.example",
            full_name="Dora Pérez",
            password=PASSWORD,
            now=datetime.now(UTC),
        )
        grant_role(session, user, get_event_by_slug(session, slug), MemberRole.ORGANIZER)
    page = client.get("/organizer/login")
    signed = client.post(
        "/organizer/login",
        data={"email": "dpo@camara.example", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert signed.status_code == 303, signed.text[:300]


def test_erasure_and_refusal_through_the_portal(
    engine: Engine, settings: Settings, running: tuple[Portal, MailSink]
) -> None:
    portal, _sink = running
    open_event(engine)
    mail = settings.data_dir / "mail"
    ana, bruno = portal.client(), portal.client()
    with ana, bruno:
        for client, who in ((ana, ANA), (bruno, BRUNO)):
            form = registration_form(
                who["email"], full_name=who["full_name"], organization="Solo " + who["full_name"]
            )
            if "phone" in who:
                form["phone"] = who["phone"]
            done = register(client, "rueda-test", form)
            assert done.status_code == 200 and 'class="error"' not in done.text, done.text[-1500:]
            sign_in(client, latest_link(engine, who["email"]))
        dispatch(engine, settings)  # the registration confirmations reach the sink, names and all
        assert ANA["full_name"] in archive_text(mail)
        for client in (ana, bruno):
            asked = post_form(client, "/me/data", "/me/data/erase", {})
            assert (asked.status_code, asked.headers["location"]) == (303, "/me/data")
        ana_id, bruno_id = participant_id(engine, ANA["email"]), participant_id(engine, BRUNO["email"])

        with portal.client() as office:
            organizer_sign_in(portal, office, "rueda-test")
            dashboard = office.get("/organizer/events/rueda-test")
            assert "2 data deletion requests are waiting for a decision." in dashboard.text
            page = office.get("/organizer/events/rueda-test/privacy")
            assert page.status_code == 200
            assert [m for m in re.findall(r'id="erasure-(\d+)"', page.text)] == [str(ana_id), str(bruno_id)]
            token = csrf_of(page.text)
            refused = office.post(
                f"/organizer/events/rueda-test/privacy/{bruno_id}/refuse",
                data={"reason": "", "csrf_token": token},
            )
            assert refused.status_code == 422
            assert (
                f'<p class="error" id="reason-error-{bruno_id}">reason: state the legal reason in 10 to 1000 '
                "characters</p>" in refused.text
            )
            reason = "The funder audits attendance lists until 2031 (Decreto 1377 de 2013 art. 9)."
            refused = office.post(
                f"/organizer/events/rueda-test/privacy/{bruno_id}/refuse",
                data={"reason": reason, "csrf_token": token},
            )
            assert (refused.status_code, refused.headers["location"]) == (
                303,
                "/organizer/events/rueda-test/privacy",
            )
            unconfirmed = office.post(
                f"/organizer/events/rueda-test/privacy/{ana_id}/erase", data={"csrf_token": token}
            )
            assert unconfirmed.status_code == 422
            assert (
                f'<p class="error" id="confirm-error-{ana_id}">Tick the box to confirm: an erasure cannot be '
                "undone.</p>" in unconfirmed.text
            )
            with Session(engine) as session:
                assert session.get(Participant, ana_id).full_name == ANA["full_name"]  # type: ignore[union-attr]
            erased = office.post(
                f"/organizer/events/rueda-test/privacy/{ana_id}/erase",
                data={"csrf_token": token, "confirm": "yes"},
            )
            assert (erased.status_code, erased.headers["location"]) == (
                303,
                "/organizer/events/rueda-test/privacy",
            )
            after = office.get("/organizer/events/rueda-test/privacy").text
            assert f"Participant {ana_id} was erased; the confirmation email is queued." in after
            assert ANA["full_name"] not in after and f"Erased participant {ana_id}" in after
            assert "data deletion requests are waiting" not in office.get("/organizer/events/rueda-test").text

        # Her session ended with her data; Bruno's goes on.
        assert ana.get("/me").headers["location"] == "/signin"
        assert bruno.get("/me").status_code == 200

    dispatch(engine, settings)
    entries = read_index(mail)
    to_ana = [e for e in entries if e.rcpt_tos == [ANA["email"]]]
    assert [e.subject for e in to_ana] == ["Your data for Rueda de prueba has been deleted"]
    to_bruno = [e for e in entries if e.rcpt_tos == [BRUNO["email"]]]
    assert [e.subject for e in to_bruno][-1] == "Your request to delete your data for Rueda de prueba"
    assert reason in plain_text(mail, to_bruno[-1])
    # Her registration confirmation was replaced by a tombstone; the confirmation names nobody.
    assert [e.subject for e in entries].count(ERASED_SUBJECT) == 1
    confirmation = archive_text(mail)
    assert ANA["full_name"] not in confirmation and ANA["phone"] not in confirmation
    # The sink keeps her address only in the confirmation that had to reach her.
    assert [e.file for e in entries if ANA["email"] in (mail / e.file).read_text("utf-8", "replace")] == [
        to_ana[0].file
    ]

    text = database_text(engine)
    for value in ANA.values():
        assert value not in text
    assert BRUNO["full_name"] in text
    with Session(engine) as session:
        person = session.get(Participant, ana_id)
        assert person is not None
        assert (person.full_name, person.email, person.phone, person.status) == (
            f"Erased participant {ana_id}",
            f"erased-{ana_id}@erased.invalid",
            None,
            ParticipantStatus.WITHDRAWN,
        )
        facts = {
            f.name: f.payload
            for f in session.exec(select(DomainEvent).where(DomainEvent.name.startswith("rueda.erasure.")))  # type: ignore[attr-defined]
        }
        assert facts["rueda.erasure.refused"] == {
            "participant_id": bruno_id,
            "by": "dpo@camara.example",
            "reason": reason,
        }
        done = facts["rueda.erasure.completed"]
        assert (done["participant_id"], done["by"]) == (ana_id, "dpo@camara.example")
        assert done["changed"]["participant anonymised"] == 1
        assert done["changed"]["organization anonymised"] == 1
        assert facts["rueda.erasure.archived"] == {
            "participant_id": ana_id,
            "changed": {"archived emails erased": 1},
        }
        assert done["changed"]["sign-in links deleted"] >= 1
        sent = session.exec(
            select(Notification.recipient_email).where(Notification.kind == "privacy.erasure-decided")
        ).all()
        assert sorted(sent) == sorted([f"erased-{ana_id}@erased.invalid", BRUNO["email"]])


def test_cli_erasure_of_an_ended_event_keeps_the_report(
    engine: Engine, db_url: str, now: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.surveys.known_event import build_known_event

    known = build_known_event(engine, now)
    with transaction(engine) as session:
        event = session.get(Event, known.event_id)
        assert event is not None
        event.status = EventStatus.ENDED
        session.add(event)
    with Session(engine) as session:
        before = build_report(session, known.event_id, now=now)
        status_before = session.get(Participant, known.people["S2"]).status  # type: ignore[union-attr]
    monkeypatch.setenv("RUEDA_DATABASE__URL", db_url)
    monkeypatch.setenv("RUEDA_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    target = known.people["S2"]
    listed = runner.invoke(cli_app, ["privacy", "list", "--event", "rueda-resultados"])
    assert (listed.exit_code, listed.output.strip()) == (0, "no erasure requests in rueda-resultados")
    refused = runner.invoke(
        cli_app,
        [
            "privacy",
            "refuse",
            str(target),
            "--event",
            "rueda-resultados",
            "--by",
            "dpo",
            "--reason",
            "an audit obligation",
        ],
    )
    assert refused.exit_code == 1
    assert refused.output.strip() == f"error: participant {target} has not asked for their data to be deleted"
    done = runner.invoke(
        cli_app, ["privacy", "erase", "s2@example.org", "--event", "rueda-resultados", "--by", "dpo", "--yes"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0].startswith(f"participant {target} erased: ")
    assert "survey free-text answers cleared 1" in done.output
    again = runner.invoke(
        cli_app, ["privacy", "erase", str(target), "--event", "rueda-resultados", "--by", "dpo", "--yes"]
    )
    assert (again.exit_code, again.output.strip()) == (1, f"error: participant {target} was already erased")
    listed = runner.invoke(cli_app, ["privacy", "list", "--event", "rueda-resultados"])
    assert listed.exit_code == 0 and "0 pending of 1" in listed.output and "completed" in listed.output

    with Session(engine) as session:
        after = build_report(session, known.event_id, now=now)
        person = session.get(Participant, target)
        assert person is not None
        # After the event the person stays in its figures (the status counts in the funnel).
        assert (person.full_name, person.status) == (f"Erased participant {target}", status_before)
    # Every figure survives; only the free text naming the person is gone.
    for figure in ("funnel", "agenda", "responses", "satisfaction", "expected", "breakdowns", "currencies"):
        assert getattr(after, figure) == getattr(before, figure), figure
    assert "Send samples" not in database_text(engine)
