"""Rendering: snapshots of every kind in es and en, the recipient's time zone and language, Babel
formats, organizer text as data, and inlined styles."""

from __future__ import annotations

import dataclasses
import re

import pytest
from jinja2 import UndefinedError

from notifications.catalog import KINDS, Money, Recipient
from notifications.render import STYLES, UnknownStyleError, environment, inline_styles, render_message
from notifications.samples import sample_contexts
from tests.notifications.snapshots import assert_snapshot

pytestmark = pytest.mark.unit

ORGANIZER_TEXT = {
    "es": "Traiga tarjetas de presentación.\n\nEl parqueadero <gratis> está en el sótano. {{ 7 * 7 }}",
    "en": "Bring business cards.\n\nFree <parking> is in the basement. {{ 7 * 7 }}",
}


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_render_matches_snapshot(kind: str, language: str) -> None:
    text = ORGANIZER_TEXT[language] if kind in ("agenda.published", "reminder.day-before") else None
    rendered = render_message(kind, sample_contexts()[kind], language, organizer_text=text)
    assert_snapshot(f"{kind}.{language}.txt", f"Subject: {rendered.subject}\n\n{rendered.text}")
    assert_snapshot(f"{kind}.{language}.html", rendered.html)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_render_portuguese_translates_every_subject(kind: str) -> None:
    english = render_message(kind, sample_contexts()[kind], "en")
    portuguese = render_message(kind, sample_contexts()[kind], "pt")
    assert portuguese.subject != english.subject
    assert "Olá, " in portuguese.text
    assert '<html lang="pt">' in portuguese.html


def test_render_uses_the_recipient_time_zone() -> None:
    context = sample_contexts()["reminder.first-meeting"]
    in_madrid = dataclasses.replace(context, recipient=Recipient(name="Lucía", timezone="Europe/Madrid"))
    assert render_message("reminder.first-meeting", context, "es").subject == (
        "Su primera reunión empieza a las 8:00, mesa T12"
    )
    rendered = render_message("reminder.first-meeting", in_madrid, "es")
    assert rendered.subject == "Su primera reunión empieza a las 15:00, mesa T12"
    assert "Las horas están en hora de España (Madrid)." in rendered.text


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "125.000,00\xa0US$"), ("en", "$125,000.00"), ("pt", "US$\xa0125.000,00")],
)
def test_render_formats_money_with_babel(language: str, expected: str) -> None:
    rendered = render_message("followup.invited", sample_contexts()["followup.invited"], language)
    assert expected in rendered.text
    assert expected in rendered.html


def test_render_money_uses_the_currency_precision() -> None:
    context = dataclasses.replace(
        sample_contexts()["followup.invited"], reported_business=Money(amount_minor=1_500_000, currency="COP")
    )
    assert "COP 15.000,00" not in render_message("followup.invited", context, "es").text
    assert "15.000,00\xa0COP" in render_message("followup.invited", context, "es").text


def test_render_organizer_text_is_data_never_a_template() -> None:
    rendered = render_message(
        "agenda.published", sample_contexts()["agenda.published"], "en", organizer_text=ORGANIZER_TEXT["en"]
    )
    assert "Free <parking> is in the basement. {{ 7 * 7 }}" in rendered.text
    assert "Free &lt;parking&gt; is in the basement. {{ 7 * 7 }}</p>" in rendered.html
    assert "basement. 49" not in rendered.text


def test_render_escapes_context_values_in_html() -> None:
    rendered = render_message("agenda.published", sample_contexts()["agenda.published"], "en")
    assert "John O&#39;Brien &amp; Sons" in rendered.html
    assert "Dublin &lt;Fine&gt; Foods" in rendered.html
    assert "John O'Brien & Sons · Dublin <Fine> Foods (Ireland)" in rendered.text


def test_render_inlines_a_style_for_every_class() -> None:
    rendered = render_message("agenda.changed", sample_contexts()["agenda.changed"], "es")
    classes = re.findall(r' class="([a-z0-9 -]+)"( style="[^"]+")?', rendered.html)
    assert len(classes) > 20
    assert all(style for _, style in classes)
    assert f'class="btn" style="{STYLES["btn"]}"' in rendered.html


def test_inline_styles_refuses_an_unknown_class() -> None:
    with pytest.raises(UnknownStyleError, match="no style for class buton"):
        inline_styles('<a class="buton">x</a>')


def test_environment_is_strict_and_autoescapes_html() -> None:
    with pytest.raises(UndefinedError):
        environment().from_string("{{ missing }}").render()
    assert environment().autoescape("agenda.published/message.html") is True  # type: ignore[operator]
    assert environment().autoescape("agenda.published/message.txt") is False  # type: ignore[operator]


def test_render_refuses_a_language_without_catalog() -> None:
    with pytest.raises(ValueError, match="no catalog for language 'fr'"):
        render_message("survey.invited", sample_contexts()["survey.invited"], "fr")


def test_render_plural_forms() -> None:
    context = sample_contexts()["agenda.published"]
    one = dataclasses.replace(context, meetings=context.meetings[:1])
    assert render_message("agenda.published", one, "es").subject == (
        "Su agenda de Macrorrueda Pacífico 2027: 1 reunión"
    )
    assert render_message("agenda.published", context, "es").subject == (
        "Su agenda de Macrorrueda Pacífico 2027: 3 reuniones"
    )
    empty = dataclasses.replace(context, meetings=())
    assert (
        "We could not schedule meetings for you this time."
        in render_message("agenda.published", empty, "en").text
    )
