"""Event definitions become events, slots and tables; updates keep what is in use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from models import ChecklistItem, EventStatus, EventTable, TimeSlot, Unavailability
from models.schemas import EventDefinition
from services.db import transaction
from services.errors import ConflictError, DomainError
from services.events import build_slots, create_event, update_event
from services.files import parse_model, read_mapping_file
from tests.factories import event_definition, make_event, make_participant


@pytest.mark.unit
def test_build_slots_skips_breaks_and_numbers_per_day() -> None:
    definition = event_definition(
        schedule={
            "slot_minutes": 30,
            "gap_minutes": 5,
            "days": [
                {
                    "date": "2027-05-19",
                    "sessions": [
                        {
                            "name": "am",
                            "start": "08:00",
                            "end": "10:00",
                            "breaks": [{"start": "09:10", "end": "09:20"}],
                        },
                        {"name": "pm", "start": "14:00", "end": "15:00"},
                    ],
                },
                {"date": "2027-05-20", "sessions": [{"name": "am", "start": "08:00", "end": "08:30"}]},
            ],
        }
    )
    slots = build_slots(definition)
    assert [(s.code, s.ordinal, s.day_index, s.session) for s in slots] == [
        ("d1s01", 0, 0, "am"),
        ("d1s02", 1, 0, "am"),
        ("d1s03", 2, 0, "am"),
        ("d1s04", 3, 0, "pm"),
        ("d2s01", 4, 1, "am"),
    ]
    # Bogotá is UTC-5: 08:00 local is 13:00 UTC. 08:35 + 30 min would cross the 09:10 break,
    # so the third slot starts when the break ends.
    assert [(s.starts_at, s.ends_at) for s in slots[:3]] == [
        (datetime(2027, 5, 19, 13, 0, tzinfo=UTC), datetime(2027, 5, 19, 13, 30, tzinfo=UTC)),
        (datetime(2027, 5, 19, 13, 35, tzinfo=UTC), datetime(2027, 5, 19, 14, 5, tzinfo=UTC)),
        (datetime(2027, 5, 19, 14, 20, tzinfo=UTC), datetime(2027, 5, 19, 14, 50, tzinfo=UTC)),
    ]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "Bad Slug"}, "slug: String should match pattern"),
        ({"timezone": "America/Medellin"}, "timezone: 'America/Medellin' is not an IANA time zone"),
        ({"languages": ["es", "fr"]}, "languages.1: 'fr' is not a supported language (es, en, pt)"),
        ({"tables": 0}, "tables: the table count must be between 1 and 5000"),
        (
            {"rules": {"min_meetings": 5, "max_meetings": 3}},
            "rules: min_meetings (5) exceeds max_meetings (3)",
        ),
        ({"kind": "mission"}, "(top level): a mission needs a [mission] section"),
        (
            {
                "schedule": {
                    "slot_minutes": 30,
                    "days": [
                        {"date": "2027-05-19", "sessions": [{"name": "am", "start": "10:00", "end": "09:00"}]}
                    ],
                }
            },
            "schedule.days.0.sessions.0: session 'am' ends at 09:00:00 before it starts at 10:00:00",
        ),
    ],
)
def test_invalid_definition_names_the_field(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    import json

    data = event_definition().model_dump(mode="json")
    data.update(changes)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DomainError) as caught:
        parse_model(EventDefinition, read_mapping_file(path), str(path))
    assert message in str(caught.value)


@pytest.mark.unit
def test_definition_files_in_toml_and_yaml_are_equivalent(tmp_path: Path) -> None:
    toml = tmp_path / "event.toml"
    toml.write_text(
        'slug = "rueda-test"\nname = "Rueda de prueba"\ntimezone = "America/Bogota"\nlanguages = ["es", "en"]\n'
        "tables = 3\n[schedule]\nslot_minutes = 30\n"
        '[[schedule.days]]\ndate = 2027-05-19\nsessions = [{name = "am", start = 08:00:00, end = 10:00:00}]\n'
        '[[schedule.days]]\ndate = 2027-05-20\nsessions = [{name = "am", start = 08:00:00, end = 09:00:00}]\n'
    )
    yaml = tmp_path / "event.yaml"
    yaml.write_text(
        "slug: rueda-test\nname: Rueda de prueba\ntimezone: America/Bogota\nlanguages: [es, en]\ntables: 3\n"
        "schedule:\n  slot_minutes: 30\n  days:\n"
        "    - {date: 2027-05-19, sessions: [{name: am, start: '08:00', end: '10:00'}]}\n"
        "    - {date: 2027-05-20, sessions: [{name: am, start: '08:00', end: '09:00'}]}\n"
    )
    from_toml = parse_model(EventDefinition, read_mapping_file(toml), "toml")
    from_yaml = parse_model(EventDefinition, read_mapping_file(yaml), "yaml")
    assert from_toml == from_yaml == event_definition()


@pytest.mark.integration
def test_create_event_builds_slots_and_tables(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        event = make_event(session, now, tables=["A1", "A2"], registration_opens="2027-03-01T08:00:00")
        assert event.status is EventStatus.REGISTRATION_OPEN
        assert event.registration_opens_at == datetime(2027, 3, 1, 13, 0, tzinfo=UTC)
        codes = session.exec(
            select(TimeSlot.code).where(TimeSlot.event_id == event.id).order_by(TimeSlot.ordinal)
        ).all()
        tables = session.exec(
            select(EventTable.code).where(EventTable.event_id == event.id).order_by(EventTable.code)
        ).all()
    assert codes == ["d1s01", "d1s02", "d1s03", "d1s04", "d2s01", "d2s02"]
    assert tables == ["A1", "A2"]


@pytest.mark.integration
def test_creating_the_same_slug_twice_is_a_conflict(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        make_event(session, now)
    with (
        pytest.raises(ConflictError, match="event 'rueda-test' already exists"),
        transaction(engine) as session,
    ):
        make_event(session, now)


@pytest.mark.integration
def test_update_keeps_slot_ids_and_refuses_to_drop_a_used_slot(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        event = make_event(session, now)
        before = {s.code: s.id for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
        make_participant(session, event, now, "a@cafe.co", unavailable=["d2s02"])
    longer = event_definition(
        name="Rueda ampliada",
        schedule={
            "slot_minutes": 30,
            "days": [
                {"date": "2027-05-19", "sessions": [{"name": "am", "start": "08:00", "end": "10:30"}]},
                {"date": "2027-05-20", "sessions": [{"name": "am", "start": "08:00", "end": "09:00"}]},
            ],
        },
    )
    with transaction(engine) as session:
        update_event(session, longer, now=now)
        after = {s.code: s.id for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    assert {code: after[code] for code in before} == before
    assert sorted(set(after) - set(before)) == ["d1s05"]
    shorter = event_definition(
        schedule={
            "slot_minutes": 30,
            "days": [
                {"date": "2027-05-19", "sessions": [{"name": "am", "start": "08:00", "end": "10:00"}]},
                {"date": "2027-05-20", "sessions": [{"name": "am", "start": "08:00", "end": "08:30"}]},
            ],
        }
    )
    with pytest.raises(ConflictError, match="slot d2s02 is used"), transaction(engine) as session:
        update_event(session, shorter, now=now)
    with transaction(engine) as session:
        assert len(session.exec(select(Unavailability)).all()) == 1


@pytest.mark.integration
def test_mission_checklist_is_stored_in_utc(engine: Engine, now: datetime) -> None:
    mission = {
        "destination_country": "Alemania",
        "capacity": 20,
        "quotas": {"women_led": 6},
        "checklist": [{"code": "samples", "title": "Enviar muestras", "due": "2027-04-15T17:00:00"}],
    }
    with transaction(engine) as session:
        event = create_event(session, event_definition(kind="mission", mission=mission), now=now)
        items = session.exec(select(ChecklistItem).where(ChecklistItem.event_id == event.id)).all()
        assert event.mission is not None and event.mission["destination_country"] == "DE"
    assert [(i.code, i.due_at) for i in items] == [("samples", datetime(2027, 4, 15, 22, 0, tzinfo=UTC))]
