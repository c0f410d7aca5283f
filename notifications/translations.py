"""Message catalogs for es, en and pt: extraction from the templates, loading, and the completeness
check that CI runs (tests/notifications/test_translations.py).

The `.po` files under `notifications/i18n/<lang>/LC_MESSAGES/messages.po` are the source of truth;
they are compiled in memory when first loaded, so a stale `.mo` can never ship. English is the
source language: its catalog repeats each msgid, so that "complete" means the same for all three.

To add or change a string: edit the template, run `python -m notifications.translations`, which
rewrites the three `.po` files (keeping existing translations, adding empty entries for new strings,
dropping unused ones), then translate the empty entries. The test names every missing translation.

Cost: loading one catalog takes a few milliseconds, once per process.
"""

from __future__ import annotations

import gettext
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from notifications.catalog import LANGUAGES

I18N_DIR = Path(__file__).resolve().parent / "i18n"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
DOMAIN = "messages"
_JINJA_OPTIONS = {
    "extensions": "",
    "trimmed": "true",
    "newstyle_gettext": "true",
    "trim_blocks": "true",
    "lstrip_blocks": "true",
}
# Strings used from Python (calendar files); extraction cannot see them in the templates.
PYTHON_MESSAGES: tuple[str, ...] = ("Table", "Meeting with %(name)s", "Products", "Contact")

CATALOG_DATE = datetime(2026, 11, 23, tzinfo=UTC)

Translations = gettext.GNUTranslations


def po_path(language: str) -> Path:
    return I18N_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract_catalog() -> Catalog:
    """Every translatable string of the templates and of `PYTHON_MESSAGES`."""
    catalog = Catalog(domain=DOMAIN, project="rueda", charset="utf-8")
    method_map = [("**.html", "jinja2"), ("**.txt", "jinja2")]
    options_map = {"**.html": _JINJA_OPTIONS, "**.txt": _JINJA_OPTIONS}
    for filename, lineno, message, comments, context in extract_from_dir(
        TEMPLATE_DIR, method_map=method_map, options_map=options_map
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for message in PYTHON_MESSAGES:
        catalog.add(message, None, [("notifications/ics.py", 0)])
    return catalog


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@cache
def load_translations(language: str) -> Translations:
    """The compiled catalog of `language` (compiled in memory from the `.po` file)."""
    buffer = BytesIO()
    write_mo(buffer, read_catalog(language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def update_catalogs() -> None:
    """Rewrite the `.po` files to hold exactly the extracted strings, keeping translations."""
    template = extract_catalog()
    for language in LANGUAGES:
        path = po_path(language)
        existing = read_catalog(language) if path.exists() else Catalog(locale=language, domain=DOMAIN)
        catalog = Catalog(
            locale=language,
            domain=DOMAIN,
            project="rueda",
            charset="utf-8",
            fuzzy=False,
            # Fixed header dates: regenerating must not change files whose strings did not change.
            creation_date=CATALOG_DATE,
            revision_date=CATALOG_DATE,
        )
        for message in template:
            if not message.id:
                continue
            old = existing.get(message.id, message.context)
            if old is not None and old.string:
                string = old.string
            elif language == "en":
                string = message.id
            else:
                string = ("", "") if isinstance(message.id, tuple) else ""
            catalog.add(message.id, string, message.locations, context=message.context)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True, no_location=True)


if __name__ == "__main__":
    update_catalogs()
