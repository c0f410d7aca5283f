"""Organizer text in the event file and in the setup service: validated by the shared free-text
rules (models/text.py), refused with the path named, stored as `event_text` rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import DomainEvent, Event, EventText
from models.schemas import ORGANIZER_TEXT_KINDS, EventDefinition
from notifications.catalog import KINDS
from services.db import transaction
from services.errors import DomainError
from services.event_setup import SetupError, setup_values, text_field, update_setup
from services.events import create_event, update_event
from services.files import parse_model, read_mapping_file
from tests.factories import event_definition

EVENT_FILE = '''
slug = "rueda-textos"
name = "Rueda con textos"
timezone = "America/Bogota"
languages = ["es", "en"]
tables = 2

[schedule]
slot_minutes = 30
[[schedule.days]]
date = "2027-05-19"
[[schedule.days.sessions]]
name = "am"
start = "08:00"
end = "10:00"

[organizer_text."agenda.published"]
es = """
Traiga tarjetas {{ 7*7 }} <script>alert(1)</script>.

{% include "base.txt" %}
"""
en = ""

[organizer_text."reminder.day-before"]
en = "See you tomorrow."
'''


def _texts(session: Session, event_id: int | None) -> list[tuple[str, str, str]]:
    rows = session.exec(
        select(EventText).where(EventText.event_id == event_id).order_by(col(EventText.id))
    ).all()
    return [(r.notification_kind, r.language, r.text) for r in rows]


def _facts(session: Session, name: str) -> int:
    return len(session.exec(select(DomainEvent).where(DomainEvent.name == name)).all())


@pytest.mark.unit
def test_every_organizer_text_kind_is_a_participant_email() -> None:
    assert set(ORGANIZER_TEXT_KINDS) <= set(KINDS)
    assert all(KINDS[kind].audience.value == "participant" for kind in ORGANIZER_TEXT_KINDS)


@pytest.mark.integration
def test_event_file_organizer_text_is_stored_replaced_and_kept(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    path = tmp_path / "event.toml"
    path.write_text(EVENT_FILE, encoding="utf-8")
    definition = parse_model(EventDefinition, read_mapping_file(path), str(path))
    hostile = 'Traiga tarjetas {{ 7*7 }} <script>alert(1)</script>.\n\n{% include "base.txt" %}'
    with transaction(engine) as session:
        event = create_event(session, definition, now=now)
        assert _texts(session, event.id) == [
            ("agenda.published", "es", hostile),
            ("reminder.day-before", "en", "See you tomorrow."),
        ]
        # A row no door writes (the sign-in email's) is not the file's to remove.
        session.add(
            EventText(event_id=event.id, notification_kind="login.requested", language="es", text="x")
        )
    with transaction(engine) as session:
        # The same file again changes nothing; a file without organizer_text keeps the texts.
        update_event(session, definition, now=now)
        update_event(session, definition.model_copy(update={"organizer_text": None}), now=now)
        assert _facts(session, "rueda.event.updated") == 0
        event_id = session.exec(select(Event.id).where(Event.slug == "rueda-textos")).one()
        assert len(_texts(session, event_id)) == 3
    changed = EventDefinition.model_validate(
        definition.model_dump() | {"organizer_text": {"agenda.published": {"en": "Bring cards."}}}
    )
    with transaction(engine) as session:
        update_event(session, changed, now=now)
        assert _texts(session, event_id) == [
            ("login.requested", "es", "x"),
            ("agenda.published", "en", "Bring cards."),
        ]
        assert _facts(session, "rueda.event.updated") == 1
        # The setup page shows what the file wrote.
        event = session.get(Event, event_id)
        assert event is not None
        values = setup_values(session, event)
        assert values[text_field("agenda.published", "en")] == "Bring cards."
        assert values[text_field("agenda.published", "es")] == ""
        assert text_field("agenda.published", "pt") not in values


@pytest.mark.unit
@pytest.mark.parametrize(
    ("organizer_text", "line"),
    [
        (
            {"agenda.publishd": {"es": "Hola"}},
            "  organizer_text.agenda.publishd.[key]: 'agenda.publishd' is not an email kind that shows"
            " organizer text (",
        ),
        (
            {"organizer.digest": {"es": "Hola"}},
            "  organizer_text.organizer.digest.[key]: 'organizer.digest' is not an email kind",
        ),
        (
            {"agenda.published": {"fr": "Salut"}},
            "  organizer_text.agenda.published.fr.[key]: 'fr' is not a supported language (es, en, pt)",
        ),
        (
            {"agenda.published": {"pt": "Olá"}},
            "  organizer_text: organizer_text.agenda.published.pt: 'pt' is not one of this event's"
            " languages (es, en)",
        ),
        (
            {"agenda.published": {"es": "Hola\x1b[31m"}},
            "  organizer_text.agenda.published.es: contains U+001B ESC at character 5",
        ),
        (
            {"agenda.published": {"es": "x" * 2001}},
            "  organizer_text.agenda.published.es: the text is 2001 characters long; the limit is 2000",
        ),
        (
            {"agenda.published": "Hola"},
            "  organizer_text.agenda.published: Input should be a valid dictionary",
        ),
    ],
)
def test_bad_organizer_text_in_the_file_names_its_path(organizer_text: object, line: str) -> None:
    data = event_definition().model_dump() | {"organizer_text": organizer_text}
    with pytest.raises(DomainError) as refused:
        parse_model(EventDefinition, data, "event.toml")
    lines = str(refused.value).splitlines()
    assert lines[0] == "event.toml: invalid definition:"
    assert len(lines) == 2 and lines[1].startswith(line), lines


# Characters no multi-line field may hold (models/text.py), with letters around them so that the
# stripping of the ends (some C0 and C1 characters are whitespace to str.strip) cannot remove them.
FORBIDDEN = st.sampled_from(
    [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))]
    + ["\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
)
LETTERS = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20)


@pytest.mark.integration
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=LETTERS, bad=FORBIDDEN, suffix=LETTERS, kind=st.sampled_from(ORGANIZER_TEXT_KINDS))
def test_setup_refuses_a_control_character_beside_its_box(
    engine: Engine, now: datetime, prefix: str, bad: str, suffix: str, kind: str
) -> None:
    with Session(engine) as session:
        event = session.exec(select(Event).where(Event.slug == "rueda-test")).first()
        if event is None:
            event = create_event(session, event_definition(), now=now)
            session.commit()
        form = {k: str(v) for k, v in setup_values(session, event).items()}
        field = text_field(kind, "en")
        with pytest.raises(SetupError) as refused:
            update_setup(session, event, form | {field: prefix + bad + suffix}, now=now)
        assert list(refused.value.errors) == [field]
        message = refused.value.errors[field]
        assert message.startswith("contains ") and f"U+{ord(bad):04X}" in message, message
        assert f" at character {len(prefix) + 1};" in message, message
        session.rollback()
        assert _texts(session, event.id) == []
