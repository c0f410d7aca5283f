"""Free text at every door goes through one validator (models/text.py): control characters, line
breaks in one-line fields and direction overrides are refused with the character and place named,
and nothing is written; every other character of every script is kept. Field limits come from the
table models, so no door accepts what PostgreSQL refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from config.settings import SmtpSettings
from models import Event, Participant
from models.schemas import EventDefinition, ParticipantImport
from models.text import TextError, clean_text
from notifications.dispatcher import dispatch_due
from notifications.sink import MailSink
from services.errors import DomainError
from services.files import parse_model, read_mapping_file
from tests.factories import event_definition
from tests.portal.conftest import Portal, open_event, register, registration_form

FORBIDDEN = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]] + [
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
]
ONE_LINE_ONLY = ["\n", "\r"]
# Every other character: letters of every script, marks, symbols, emoji, joiners, NBSP.
ALLOWED = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs"),
        blacklist_characters="\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    min_size=0,
    max_size=40,
)


@st.composite
def hostile(draw: st.DrawFn, *, one_line: bool = True) -> tuple[str, str, int]:
    """(text, the forbidden character, its 1-based position). It ends in a letter: some forbidden
    characters count as white space, and a field's edges are stripped before it is checked."""
    head, tail = draw(ALLOWED), draw(ALLOWED) + "z"
    char = draw(st.sampled_from(FORBIDDEN + (ONE_LINE_ONLY if one_line else [])))
    return head + char + tail, char, len(head) + 1


@given(ALLOWED)
def test_every_allowed_character_is_kept(text: str) -> None:
    assert clean_text(text) == text
    assert clean_text(text, multiline=True) == text


@given(hostile())
def test_a_forbidden_character_is_named_with_its_position(case: tuple[str, str, int]) -> None:
    text, char, position = case
    with pytest.raises(TextError) as refused:
        clean_text(text)
    assert f"U+{ord(char):04X}" in str(refused.value)
    assert f"at character {position}" in str(refused.value)


def test_multi_line_text_keeps_its_lines_and_one_line_text_its_tabs_as_spaces() -> None:
    assert clean_text("uno\r\ndos\rtres\n\tcuatro", multiline=True) == "uno\ndos\ntres\n\tcuatro"
    assert clean_text("Ana\tGómez") == "Ana Gómez"


def _row(**overrides: str) -> dict[str, str]:
    return {
        "email": "ana@cafe.example",
        "full_name": "Ana Gómez",
        "organization": "Café Andino SAS",
        "role": "seller",
        "country": "CO",
        "consent": "yes",
        **overrides,
    }


@given(
    field=st.sampled_from(["full_name", "organization", "job_title", "city", "offer_description"]),
    case=hostile(one_line=False),
)
def test_an_imported_row_names_the_field(field: str, case: tuple[str, str, int]) -> None:
    text, char, _ = case
    with pytest.raises(ValueError) as refused:
        ParticipantImport.model_validate(_row(**{field: "Ab" + text}))
    [error] = refused.value.errors()  # type: ignore[attr-defined]
    assert error["loc"] == (field,)
    assert f"U+{ord(char):04X}" in error["msg"]


def test_limits_come_from_the_tables() -> None:
    for field, limit in (("job_title", 120), ("phone", 40), ("city", 100), ("website", 200), ("tax_id", 40)):
        kept = ParticipantImport.model_validate(_row(**{field: "x" * limit}))
        assert getattr(kept, field) == "x" * limit
        with pytest.raises(ValueError, match=f"at most {limit} characters"):
            ParticipantImport.model_validate(_row(**{field: "x" * (limit + 1)}))
    with pytest.raises(ValueError, match="at most 1000 characters"):
        ParticipantImport.model_validate(_row(offer_description="x" * 100_000))


def test_an_event_file_names_the_field() -> None:
    data = event_definition().model_dump(mode="json")
    with pytest.raises(DomainError) as refused:
        parse_model(EventDefinition, {**data, "name": "Rueda \x1b[31mroja"}, "event.yaml")
    assert str(refused.value) == (
        "event.yaml: invalid definition:\n  name: contains U+001B ESC at character 7; remove it "
        "(control and direction-override characters are not allowed)"
    )
    with pytest.raises(DomainError, match="tables"):
        parse_model(EventDefinition, {**data, "tables": True}, "event.yaml")


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Participant)).one())


@pytest.mark.integration
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["full_name", "organization", "job_title"]), case=hostile())
def test_the_registration_form_refuses_and_writes_nothing(
    portal: Portal, field: str, case: tuple[str, str, int]
) -> None:
    with Session(portal.engine) as session:
        opened = session.exec(select(Event.id)).first() is not None
    if not opened:  # the first example opens the event
        open_event(portal.engine)
    text, _, _ = case
    with portal.client() as client:
        response = register(
            client, "rueda-test", registration_form("ana@cafe.example", **{field: "Ab" + text})
        )
    assert response.status_code == 422
    assert (
        f'<p class="error" id="{field}-error">'
        "Remove line breaks, control characters and direction marks from this field.</p>"
    ) in response.text
    assert _count(portal.engine) == 0


@pytest.mark.integration
@pytest.mark.postgres
def test_a_long_job_title_on_postgresql_is_a_form_error_not_a_500(
    pg_engine: Engine, make_portal: Callable[..., Portal], now: datetime
) -> None:
    portal = make_portal(pg_engine)
    open_event(pg_engine)
    with portal.client() as client:
        response = register(client, "rueda-test", registration_form("ana@cafe.example", job_title="x" * 500))
    assert response.status_code == 422
    assert '<p class="error" id="job_title-error">Use at most 120 characters.</p>' in response.text
    assert _count(pg_engine) == 0


@given(
    where=st.sampled_from(["usd_rates", "weights"]),
    value=st.sampled_from([float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "inf"]),
)
def test_an_event_file_refuses_rates_and_weights_that_are_not_finite(where: str, value: object) -> None:
    data = event_definition().model_dump(mode="json")
    if where == "usd_rates":
        data["usd_rates"] = {"COP": value}
    else:
        data["rules"] = {**data["rules"], "weights": {"hs": value}}
    with pytest.raises(DomainError) as refused:
        parse_model(EventDefinition, data, "event.json")
    path = "usd_rates.COP" if where == "usd_rates" else "rules.weights.hs"
    assert f"\n  {path}: Input should be a finite number" in str(refused.value)


def test_an_event_file_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(DomainError) as refused:
        read_mapping_file(path)
    assert str(refused.value) == f"{path}: cannot parse: nested too deeply"


@pytest.mark.integration
def test_after_hostile_registrations_and_profiles_mail_still_goes_out(
    portal: Portal, smtp: SmtpSettings, sink: MailSink
) -> None:
    """Issue 13's standing property for the registration and profile doors: after any refused
    input, the dispatcher still delivers an unrelated message."""
    from tests.portal.helpers import latest_link, post_form, sign_in

    open_event(portal.engine)
    with portal.client() as client:
        assert register(client, "rueda-test", registration_form("ana@cafe.example")).status_code == 200
        sign_in(client, latest_link(portal.engine, "ana@cafe.example"))

        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(field=st.sampled_from(["full_name", "organization", "job_title"]), case=hostile())
        def refused(field: str, case: tuple[str, str, int]) -> None:
            text, _, _ = case
            with portal.client() as stranger:
                form = registration_form("bob@cafe.example", **{field: "Ab" + text})
                assert register(stranger, "rueda-test", form).status_code == 422
            if field != "organization":
                profile = post_form(client, "/me", "/me", {"full_name": "Ana", field: "Ab" + text})
                assert profile.status_code == 422

        refused()
    assert _count(portal.engine) == 1
    report = dispatch_due(portal.engine, smtp, calendar_domain="rueda.localhost")
    assert (report.sent, report.failed) == (1, 0)  # Ana's registration confirmation (her sign-in link)
    assert [e.rcpt_tos for e in sink.entries()] == [["ana@cafe.example"]]
    with Session(portal.engine) as session:
        assert session.exec(select(Participant.full_name)).all() == ["Ana Gómez"]
