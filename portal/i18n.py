"""The portal's words in es, en and pt, and how a page's language is chosen.

The catalog is a plain dictionary: the English text is the key, and each entry gives the Spanish
and the Portuguese translations. Templates call `_("Text with {name}", name=value)`; the result is
plain text, so Jinja2 escapes it like any other value. English needs no entry of its own.
`tests/portal/test_i18n.py` extracts every `_("...")` of the templates (and `PYTHON_MESSAGES`
below) and fails on a string missing from the catalog, an empty translation or a placeholder that
differs from the source; add new strings to the catalog of the module that uses them
(`portal/messages.py` holds the participant pages' strings; organizer pages can add their own
dictionary with `register_messages`).

Language of a page, first that applies: the logged-in participant's profile language (kept in the
session at login), the language the visitor picked (`session["lang"]`), the browser's
`Accept-Language`, the configured default.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

LANGUAGES: tuple[str, ...] = ("es", "en", "pt")
LANGUAGE_NAMES: dict[str, str] = {"es": "Español", "en": "English", "pt": "Português"}

# English text -> (Spanish, Portuguese).
_CATALOG: dict[str, tuple[str, str]] = {}


def register_messages(messages: Mapping[str, tuple[str, str]]) -> None:
    """Add translations (English -> (es, pt)). Called at import by the modules that own them."""
    for text, translations in messages.items():
        if text in _CATALOG and _CATALOG[text] != translations:
            raise ValueError(f"two different translations of {text!r}")
        _CATALOG[text] = translations


def catalog() -> dict[str, tuple[str, str]]:
    return dict(_CATALOG)


def translate(language: str, text: str, **values: object) -> str:
    """`text` in `language`, with `{name}` placeholders filled. Unknown text falls back to English."""
    if language != "en":
        entry = _CATALOG.get(text)
        if entry is not None:
            text = entry[0] if language == "es" else entry[1]
    return text.format(**values) if values else text


def parse_accept_language(header: str | None) -> list[str]:
    """Supported languages in the order of the browser's preference (`pt-BR,pt;q=0.9,en;q=0.8`)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        piece, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = piece.strip().lower().split("-")[0]
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, position, code))
    return list(dict.fromkeys(code for _, _, code in sorted(ranked)))


def choose_language(request: Request, default: str) -> str:
    session = request.scope.get("session") or {}
    for candidate in (session.get("profile_lang"), session.get("lang")):
        if candidate in LANGUAGES:
            return str(candidate)
    preferred = parse_accept_language(request.headers.get("accept-language"))
    if preferred:
        return preferred[0]
    return default if default in LANGUAGES else "es"
