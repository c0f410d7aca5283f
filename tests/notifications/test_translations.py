"""The CI check that the catalogs are complete: es, en and pt hold exactly the strings the templates
use, every one translated, no fuzzy entry, and the same placeholders as the source."""

from __future__ import annotations

import pytest

from notifications.catalog import LANGUAGES
from notifications.translations import extract_catalog, read_catalog

pytestmark = pytest.mark.unit


def _ids(catalog: object) -> set[object]:
    return {m.id for m in catalog if m.id}  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_holds_exactly_the_template_strings(language: str) -> None:
    expected = _ids(extract_catalog())
    actual = _ids(read_catalog(language))
    assert sorted(map(str, expected - actual)) == [], "missing: run `python -m notifications.translations`"
    assert sorted(map(str, actual - expected)) == [], "unused: run `python -m notifications.translations`"
    assert len(actual) == 85


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_translated_without_fuzzy_entries(language: str) -> None:
    catalog = read_catalog(language)
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_placeholders_match_the_source(language: str) -> None:
    problems = [(m.id, [str(e) for e in errors]) for m, errors in read_catalog(language).check() if errors]
    assert problems == []
