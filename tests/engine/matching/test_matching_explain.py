"""Explanations: exact English text and the structured reasons behind it."""

from __future__ import annotations

import pytest

from engine.matching import Component, MatchProfile, Role, Weights
from engine.matching.explain import (
    best_hs_match,
    country_name,
    explanation,
    hs_name,
    language_name,
    score_reasons,
    sentence,
)

pytestmark = pytest.mark.unit

SELLER = MatchProfile(
    "s",
    Role.SELLER,
    "CO",
    ("en", "es"),
    offered_hs=("090111",),
    target_markets=("DE",),
    certifications_held=("organic",),
)
BUYER = MatchProfile("b", Role.BUYER, "DE", ("de", "en"), demanded_hs=("0901",))


def test_score_reasons_give_the_issue_example_exactly() -> None:
    # hs 0.75, sector 0, market 1, language 1, certification 1 (nothing required), text 0.1
    reasons = score_reasons(SELLER, BUYER, [0.75, 0.0, 1.0, 1.0, 1.0, 0.1], Weights())
    assert reasons == [(Component.HS, "0901"), (Component.MARKET, "DE"), (Component.LANGUAGE, "en")]
    assert explanation(reasons) == (
        "both trade HS 0901 coffee; buyer in Germany is in the seller's target markets; both speak English"
    )


def test_score_reasons_mention_required_certifications_and_a_missing_language() -> None:
    buyer = MatchProfile("b", Role.BUYER, "JP", ("ja",), certifications_required=("organic", "kosher"))
    reasons = score_reasons(SELLER, buyer, [0.0, 0.0, 0.0, 0.0, 0.5, 0.3], Weights())
    assert reasons == [
        (Component.TEXT, "0.30"),
        (Component.CERTIFICATION, "organic"),
        (Component.NO_SHARED_LANGUAGE, ""),
    ]
    assert explanation(reasons) == (
        "offer and demand descriptions are similar (0.30); seller holds the required organic certification; "
        "no shared language"
    )


def test_sentences_for_requests_and_rules() -> None:
    reasons = [(Component.FORCED, ""), (Component.MUTUAL_REQUEST, "both"), (Component.MUST_REQUEST, "buyer")]
    assert explanation(reasons) == "set by the organizer; both asked to meet; the buyer asked to meet (must)"
    assert sentence(Component.NICE_REQUEST, "seller") == "the seller asked to meet"
    assert sentence(Component.LANGUAGE, "en,es,pt") == "both speak English, Spanish and Portuguese"
    assert sentence(Component.SECTOR, "1079") == "both work in ISIC 1079"
    assert sentence(Component.HS, "9999") == "both trade HS 9999"
    assert sentence(Component.CERTIFICATION, "halal,organic") == (
        "seller holds the required halal and organic certifications"
    )


@pytest.mark.parametrize(
    ("offered", "demanded", "expected"),
    [
        (("090111",), ("0901",), "0901"),
        (("090111", "180100"), ("18", "090111"), "090111"),
        (("0902",), ("0901",), "09"),
        (("0902",), ("18",), None),
    ],
)
def test_best_hs_match(offered: tuple[str, ...], demanded: tuple[str, ...], expected: str | None) -> None:
    assert best_hs_match(offered, demanded) == expected


def test_names_of_codes() -> None:
    assert hs_name("090111") == "coffee"
    assert hs_name("0902") == "tea"
    assert hs_name("18") == "cocoa and cocoa preparations"
    assert hs_name("99") == ""
    assert country_name("KR") == "South Korea"
    assert country_name("XX") == "XX"
    assert language_name("pt") == "Portuguese"
    assert language_name("zz") == "zz"
