"""Every word of the participant pages exists in es, en and pt, with the same placeholders; the
page's language comes from the profile, else the visitor's choice, else the browser, else the
configured default."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from portal import messages
from portal.forms import FIELD_MESSAGES, GENERIC
from portal.i18n import catalog, parse_accept_language, translate
from portal.web import _CSRF_TEXT, _ERROR_TEXT, TEMPLATE_DIR
from tests.portal.conftest import Portal, csrf_of, open_event

PORTAL_DIR = Path(__file__).resolve().parents[2] / "portal"
_CALL = re.compile(r"""_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_PYTHON_CALL = re.compile(r"""translate\(\s*[\w().]+\s*,\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def _participant_strings() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATE_DIR.rglob("*.html"):
        if "organizer" not in path.relative_to(TEMPLATE_DIR).parts:
            found |= {_literal(m) for m in _CALL.findall(path.read_text(encoding="utf-8"))}
    for path in PORTAL_DIR.glob("*.py"):
        found |= {_literal(m) for m in _PYTHON_CALL.findall(path.read_text(encoding="utf-8"))}
    return found | set(FIELD_MESSAGES.values()) | {GENERIC, _CSRF_TEXT} | set(_ERROR_TEXT.values())


def _literal(quoted: str) -> str:
    return str(eval(quoted))  # a plain string literal found by the regex above


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.unit
def test_every_participant_string_is_in_the_catalog() -> None:
    strings = _participant_strings()
    assert len(strings) > 150
    assert sorted(s for s in strings if s not in catalog()) == []


@pytest.mark.unit
@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_translation_is_filled_with_the_same_placeholders(language: str) -> None:
    column = 0 if language == "es" else 1
    entries = {**messages.MESSAGES, **messages.SERVICE_MESSAGES}
    problems = [
        text
        for text, translations in entries.items()
        if not translations[column].strip() or _fields(translations[column]) != _fields(text)
    ]
    assert problems == []


@pytest.mark.unit
def test_translate_fills_placeholders_and_falls_back_to_english() -> None:
    assert translate("es", "Requests: {count}", count=3) == "Solicitudes: 3"
    assert translate("pt", "Requests: {count}", count=3) == "Solicitações: 3"
    assert translate("en", "Requests: {count}", count=3) == "Requests: 3"
    assert translate("es", "not in the catalog") == "not in the catalog"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", ["pt", "en"]),
        ("de-DE,de;q=0.9,en;q=0.5,es;q=0.7", ["es", "en"]),
        ("fr", []),
        ("en;q=0, es", ["es"]),
        (None, []),
    ],
)
def test_accept_language_ranks_supported_languages(header: str | None, expected: list[str]) -> None:
    assert parse_accept_language(header) == expected


@pytest.mark.integration
def test_page_language_from_browser_then_choice(portal: Portal) -> None:
    open_event(portal.engine)
    with portal.client() as client:
        page = client.get("/e/rueda-test/register", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
        assert '<html lang="pt">' in page.text
        assert "Inscrição em Rueda de prueba" in page.text
        chosen = client.post(
            "/language",
            data={"lang": "es", "next": "/e/rueda-test/register", "csrf_token": csrf_of(page.text)},
        )
        assert (chosen.status_code, chosen.headers["location"]) == (303, "/e/rueda-test/register")
        page = client.get("/e/rueda-test/register", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
        assert '<html lang="es">' in page.text
        assert "Inscripción en Rueda de prueba" in page.text
        # An outside address is never a redirect target.
        away = client.post(
            "/language", data={"lang": "en", "next": "//evil.example", "csrf_token": csrf_of(page.text)}
        )
        assert away.headers["location"] == "/"
    with portal.client() as client:
        page = client.get("/e/rueda-test/register")  # no Accept-Language: the configured default
        assert '<html lang="en">' in page.text
