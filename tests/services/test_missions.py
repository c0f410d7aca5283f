"""Trade missions: the call for applications (all rows or none, a repeat changes nothing), the
delegation selected with reasons under capacity and quotas, matching only the selected, and the
checklist reminders (queued 7 and 1 days ahead, cancelled when the task is done)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import (
    ApplicationDecision,
    DomainEvent,
    EventStatus,
    MissionApplication,
    Notification,
    NotificationStatus,
    Participant,
    ParticipantStatus,
)
from services.db import transaction
from services.errors import ConflictError, DomainError, InputFileError, RowError
from services.events import get_event_by_slug
from services.files import Sheet
from services.matching import load_profiles
from services.missions import (
    complete_checklist_item,
    import_applications,
    open_applications,
    queue_checklist_reminders,
    select_mission_delegation,
)
from tests.factories import make_event

pytestmark = pytest.mark.integration

HEADINGS = [
    "Correo electrónico",
    "Nombre completo",
    "Empresa",
    "Rol",
    "País",
    "Autorización de datos",
    "NIT",
    "Liderada por mujeres",
    "Indígena",
    "Certificaciones",
    "Mercados objetivo",
    "HS oferta",
    "Registro legal",
    "Producto exportable",
    "Años exportando",
    "Exportaciones USD",
    "Plan exportador",
]
MISSION = {
    "destination_country": "DE",
    "capacity": 3,
    "quotas": {"women_led": 1, "indigenous": 1},
    "checklist": [
        {"code": "samples", "title": "Enviar muestras", "due": "2027-04-20T17:00:00"},
        {"code": "visa", "title": "Visa Schengen", "due": "2027-04-05T17:00:00"},
    ],
}


def row(n: int, **kw: Any) -> dict[str, Any]:
    data = {
        "Correo electrónico": f"exportador{n}@example.co",
        "Nombre completo": f"Persona {n}",
        "Empresa": f"Exportadora {n} SAS",
        "Rol": "vendedor",
        "País": "CO",
        "Autorización de datos": "sí",
        "NIT": f"900{n:06d}",
        "Liderada por mujeres": "no",
        "Indígena": "no",
        "Certificaciones": "",
        "Mercados objetivo": "DE",
        "HS oferta": "0901",
        "Registro legal": "sí",
        "Producto exportable": "sí",
        "Años exportando": 2,
        "Exportaciones USD": 0,
        "Plan exportador": "sí",
    }
    data.update(kw)
    return data


def sheet(rows: list[dict[str, Any]]) -> Sheet:
    return Sheet(HEADINGS, [(i + 2, r) for i, r in enumerate(rows)])


APPLICANTS = [
    row(1, **{"Años exportando": 5}),  # 30 + 20 + 15 destination = 65
    row(2, **{"Años exportando": 4}),  # 24 + 20 + 15 = 59
    row(3, **{"Años exportando": 3}),  # 53
    row(4, **{"Años exportando": 1, "Liderada por mujeres": "sí"}),  # 41
    row(5, **{"Años exportando": 0, "Indígena": "sí"}),  # 35
    row(6, **{"Registro legal": "no"}),
]


def _mission(session: Session, now: datetime) -> Any:
    return make_event(session, now, slug="mision-alemania", kind="mission", mission=MISSION)


def test_applications_then_selection_with_reasons(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        event = _mission(session, now)
        assert open_applications(session, event, now=now).detail == "call for applications open"
        assert event.status is EventStatus.REGISTRATION_OPEN
        result = import_applications(session, event, sheet(APPLICANTS), source="solicitudes.csv", now=now)
        assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    with transaction(engine) as session:
        event = get_event_by_slug(session, "mision-alemania")
        again = import_applications(session, event, sheet(APPLICANTS), source="solicitudes.csv", now=now)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
        assert open_applications(session, event, now=now).changed is False
        summary = select_mission_delegation(session, event, now=now)
    assert summary.headline() == (
        "mision-alemania: 3 of 3 seats filled from 6 applications (2 wait-listed, 1 not eligible); "
        "quotas indigenous 1/1, women_led 1/1"
    )
    assert [(r["organization"], r["decision"], r["score"], r["rank"]) for r in summary.rows] == [
        ("Exportadora 1 SAS", "selected", 65.0, 1),
        ("Exportadora 2 SAS", "waitlisted", 59.0, 2),
        ("Exportadora 3 SAS", "waitlisted", 53.0, 3),
        ("Exportadora 4 SAS", "selected", 41.0, 4),
        ("Exportadora 5 SAS", "selected", 35.0, 5),
        ("Exportadora 6 SAS", "rejected", 47.0, None),
    ]
    with Session(engine) as session:
        people = {p.email: p for p in session.exec(select(Participant))}
        decisions = [
            (a.decision, a.decision_reasons)
            for a in session.exec(select(MissionApplication).order_by(col(MissionApplication.id)))
        ]
        event = get_event_by_slug(session, "mision-alemania")
        profiles = {p.id for p in load_profiles(session, event)}
    assert decisions == [
        (
            ApplicationDecision.SELECTED,
            ["selected on readiness: rank 1 of 5 eligible", "readiness score 65.0/100"],
        ),
        (
            ApplicationDecision.WAITLISTED,
            ["wait-listed: capacity of 3 reached; rank 2 of 5", "readiness score 59.0/100"],
        ),
        (
            ApplicationDecision.WAITLISTED,
            ["wait-listed: capacity of 3 reached; rank 3 of 5", "readiness score 53.0/100"],
        ),
        (
            ApplicationDecision.SELECTED,
            ["selected for an inclusion seat: women-led (quota 1)", "readiness score 41.0/100"],
        ),
        (
            ApplicationDecision.SELECTED,
            ["selected for an inclusion seat: indigenous (quota 1)", "readiness score 35.0/100"],
        ),
        (
            ApplicationDecision.REJECTED,
            ["not eligible", "not legally registered (a registered company is required)"],
        ),
    ]
    statuses = [people[f"exportador{n}@example.co"].status for n in range(1, 7)]
    assert statuses == [
        ParticipantStatus.CONFIRMED,
        ParticipantStatus.REGISTERED,
        ParticipantStatus.REGISTERED,
        ParticipantStatus.CONFIRMED,
        ParticipantStatus.CONFIRMED,
        ParticipantStatus.REJECTED,
    ]
    # Only the selected applicants are matched with buyers.
    assert profiles == {str(people[f"exportador{n}@example.co"].id) for n in (1, 4, 5)}
    # Selecting again changes nothing and records nothing.
    with transaction(engine) as session:
        facts = len(session.exec(select(DomainEvent)).all())
        repeat = select_mission_delegation(session, get_event_by_slug(session, "mision-alemania"), now=now)
        assert repeat.changed is False
        assert len(session.exec(select(DomainEvent)).all()) == facts


def test_a_bad_application_file_names_row_and_column_and_writes_nothing(
    engine: Engine, now: datetime
) -> None:
    with transaction(engine) as session:
        event = _mission(session, now)
        open_applications(session, event, now=now)
    bad = [row(1), row(2, **{"Años exportando": "muchos"}), row(3, **{"Producto exportable": None})]
    with pytest.raises(InputFileError) as caught, transaction(engine) as session:
        import_applications(
            session, get_event_by_slug(session, "mision-alemania"), sheet(bad), source="s.csv", now=now
        )
    assert caught.value.errors == [
        RowError(
            3, "Años exportando", "Input should be a valid integer, unable to parse string as an integer"
        ),
        RowError(4, "Producto exportable", "Field required"),
    ]
    with Session(engine) as session:
        assert session.exec(select(Participant)).all() == []
        assert session.exec(select(MissionApplication)).all() == []


def test_applications_are_refused_once_the_call_is_closed_and_roundtables_have_none(
    engine: Engine, now: datetime
) -> None:
    with transaction(engine) as session:
        roundtable = make_event(session, now)
        with pytest.raises(DomainError, match="'rueda-test' is not a trade mission"):
            open_applications(session, roundtable, now=now)
        event = _mission(session, now)
        event.status = EventStatus.REGISTRATION_CLOSED
        with pytest.raises(ConflictError, match="the call for applications of 'mision-alemania' is closed"):
            import_applications(session, event, sheet([row(1)]), source="s.csv", now=now)


def test_checklist_reminders_are_queued_ahead_and_cancelled_when_done(engine: Engine, now: datetime) -> None:
    # now = 2027-04-01 15:00 UTC; visa due 2027-04-05 22:00 UTC (1-day reminder only: 7 days is past),
    # samples due 2027-04-20 22:00 UTC (both reminders).
    with transaction(engine) as session:
        event = _mission(session, now)
        open_applications(session, event, now=now)
        import_applications(session, event, sheet(APPLICANTS), source="s.csv", now=now)
        select_mission_delegation(session, event, now=now)
        summary = queue_checklist_reminders(session, event, now=now, checklist_url="http://portal/checklist")
    assert summary.headline() == (
        "mision-alemania: 0 of 6 checklist tasks done for 3 delegates, 0 overdue; 9 reminders queued"
    )
    with transaction(engine) as session:
        event = get_event_by_slug(session, "mision-alemania")
        again = queue_checklist_reminders(session, event, now=now, checklist_url="http://portal/checklist")
        assert again.queued == 0
        first = session.exec(select(Participant).where(Participant.email == "exportador1@example.co")).one()
        assert complete_checklist_item(session, event, participant_id=first.id or 0, code="samples", now=now)
        assert not complete_checklist_item(
            session, event, participant_id=first.id or 0, code="samples", now=now
        )
    with Session(engine) as session:
        rows = session.exec(
            select(Notification).where(Notification.kind == "mission.deadline-approaching")
        ).all()
    by_status: dict[NotificationStatus, int] = {}
    for n in rows:
        by_status[n.status] = by_status.get(n.status, 0) + 1
    assert by_status == {NotificationStatus.PENDING: 7, NotificationStatus.SKIPPED: 2}
    due = sorted({(n.due_at, n.not_after) for n in rows})
    visa, samples = datetime(2027, 4, 5, 22, tzinfo=UTC), datetime(2027, 4, 20, 22, tzinfo=UTC)
    assert due == [
        (visa - timedelta(days=1), visa),
        (samples - timedelta(days=7), samples),
        (samples - timedelta(days=1), samples),
    ]
    later = datetime(2027, 4, 10, tzinfo=UTC)
    with transaction(engine) as session:
        event = get_event_by_slug(session, "mision-alemania")
        late = queue_checklist_reminders(session, event, now=later, checklist_url="http://portal/checklist")
    assert (late.done, late.overdue, late.queued) == (1, 3, 0)
