"""Scoring: exact component values on hand-made pairs, candidate pairs and their direction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.matching import MatchProfile, Role, Weights, score_pairs
from engine.matching.scoring import PairScores
from engine.matching.text import fold, tfidf_matrix, words

pytestmark = pytest.mark.unit

KEEP_ALL = Weights(min_score=-10.0)


def _seller(pid: str, **fields: object) -> MatchProfile:
    base = MatchProfile(pid, Role.SELLER, "CO", ("es",), max_meetings=5, free_slots=5)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def _buyer(pid: str, **fields: object) -> MatchProfile:
    base = MatchProfile(pid, Role.BUYER, "DE", ("es",), max_meetings=5, free_slots=5)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def _pairs(scores: PairScores) -> list[tuple[str, str]]:
    ids = [p.id for p in scores.profiles]
    return [(ids[s], ids[d]) for s, d in zip(scores.supplier, scores.demander, strict=True)]


def _components(scores: PairScores, supplier: str, demander: str) -> dict[str, float]:
    k = _pairs(scores).index((supplier, demander))
    names = ("hs", "sector", "market", "language", "certification", "text")
    return dict(zip(names, scores.components[k].tolist(), strict=True))


def test_score_pairs_specific_pair_gives_exact_components() -> None:
    seller = _seller(
        "s",
        languages=("en", "es"),
        offered_hs=("090111",),
        offered_sectors=("0127",),
        target_markets=("DE", "US"),
        certifications_held=("organic", "fair_trade"),
        offer_text="Café orgánico",
    )
    buyer = _buyer(
        "b",
        languages=("de", "en"),
        demanded_hs=("0901",),
        demanded_sectors=("0127",),
        certifications_required=("organic", "kosher"),
        demand_text="cafe organico",
    )
    scores = score_pairs([seller, buyer], KEEP_ALL)
    assert _pairs(scores) == [("s", "b")]
    got = _components(scores, "s", "b")
    assert got == pytest.approx(
        {"hs": 0.75, "sector": 1.0, "market": 1.0, "language": 1.0, "certification": 0.5, "text": 1.0},
        abs=1e-12,
    )
    # 0.3*0.75 + 0.1*1 + 0.15*1 + 0.15*1 + 0.1*0.5 + 0.2*1
    assert scores.score[0] == pytest.approx(0.875, abs=1e-12)


@pytest.mark.parametrize(
    ("offered", "demanded", "expected"),
    [
        (("090111",), ("090111",), 1.0),
        (("090111",), ("090121",), 0.75),
        (("090111",), ("0901",), 0.75),
        (("090111",), ("09",), 0.40),
        (("090111",), ("0902",), 0.40),
        (("09",), ("090111",), 0.40),
        (("090111",), ("18",), 0.0),
        (("0901", "180100"), ("1801", "09"), 0.75),
        (("180100", "090111"), ("090111", "18"), 1.0),
    ],
)
def test_score_pairs_hs_credit_follows_the_hierarchy(
    offered: tuple[str, ...], demanded: tuple[str, ...], expected: float
) -> None:
    scores = score_pairs([_seller("s", offered_hs=offered), _buyer("b", demanded_hs=demanded)], KEEP_ALL)
    assert _components(scores, "s", "b")["hs"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("offered", "demanded", "expected"),
    [
        (("1079",), ("1079",), 1.0),
        (("1079",), ("1071",), 0.5),
        (("1079",), ("0127",), 0.0),
        ((), ("0127",), 0.0),
    ],
)
def test_score_pairs_sector_credit(
    offered: tuple[str, ...], demanded: tuple[str, ...], expected: float
) -> None:
    scores = score_pairs(
        [_seller("s", offered_sectors=offered), _buyer("b", demanded_sectors=demanded)], KEEP_ALL
    )
    assert _components(scores, "s", "b")["sector"] == expected


def test_score_pairs_market_counts_only_the_buyers_country() -> None:
    seller = _seller("s", target_markets=("US", "MX"))
    scores = score_pairs([seller, _buyer("de", country="DE"), _buyer("mx", country="MX")], KEEP_ALL)
    assert _components(scores, "s", "de")["market"] == 0.0
    assert _components(scores, "s", "mx")["market"] == 1.0


def test_score_pairs_no_shared_language_is_penalised() -> None:
    seller = _seller("s", languages=("es",))
    scores = score_pairs(
        [seller, _buyer("pt", languages=("pt",)), _buyer("es", languages=("es", "pt"))], KEEP_ALL
    )
    assert _components(scores, "s", "pt")["language"] == 0.0
    assert _components(scores, "s", "es")["language"] == 1.0
    by_pair = dict(zip(_pairs(scores), scores.score.tolist(), strict=True))
    # Only certification (nothing required: 1) remains: 0.1 - 0.5 penalty; with a language: 0.1 + 0.15.
    assert by_pair[("s", "pt")] == pytest.approx(-0.4, abs=1e-12)
    assert by_pair[("s", "es")] == pytest.approx(0.25, abs=1e-12)


def test_score_pairs_certification_is_the_share_of_required_held() -> None:
    seller = _seller("s", certifications_held=("organic", "halal"))
    scores = score_pairs(
        [
            seller,
            _buyer("none", certifications_required=()),
            _buyer("half", certifications_required=("organic", "kosher")),
            _buyer("all", certifications_required=("halal",)),
            _buyer("zero", certifications_required=("kosher",)),
        ],
        KEEP_ALL,
    )
    got = {b: _components(scores, "s", b)["certification"] for b in ("none", "half", "all", "zero")}
    assert got == {"none": 1.0, "half": 0.5, "all": 1.0, "zero": 0.0}


def test_text_folding_and_stop_words() -> None:
    assert fold("Café Orgánico AÇAÍ") == "cafe organico acai"
    assert words("El café de la finca y the coffee") == ["cafe", "finca", "coffee"]


def test_tfidf_similarity_ignores_accents_and_case_and_is_zero_for_unrelated_text() -> None:
    matrix = tfidf_matrix(["Café Orgánico", "cafe organico", "rosas rojas", "de la y the", ""])
    similarity = (matrix @ matrix.T).toarray()
    assert similarity[0, 1] == pytest.approx(1.0, abs=1e-12)
    assert similarity[0, 2] == 0.0
    assert similarity[3].tolist() == [0.0] * 5  # only stop words: an empty row
    assert np.diag(similarity)[:3].tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-12)


def test_tfidf_similarity_rewards_shared_grams_across_spanish_and_portuguese() -> None:
    matrix = tfidf_matrix(["exportación de café", "exportação de café", "rosas"])
    similarity = (matrix @ matrix.T).toarray()
    assert 0.5 < similarity[0, 1] < 1.0
    assert similarity[0, 2] == 0.0


def test_score_pairs_candidates_are_buyer_seller_and_both_pairs_only() -> None:
    profiles = [
        _seller("s1"),
        _seller("s2"),
        _buyer("b1"),
        _buyer("b2"),
        MatchProfile("x", Role.BOTH, "CO", ("es",), max_meetings=5, free_slots=5),
    ]
    scores = score_pairs(profiles, KEEP_ALL)
    assert _pairs(scores) == [
        ("s1", "b1"),
        ("s1", "b2"),
        ("s1", "x"),
        ("s2", "b1"),
        ("s2", "b2"),
        ("s2", "x"),
        ("x", "b1"),
        ("x", "b2"),
    ]
    assert scores.candidate_counts.tolist() == [3, 3, 3, 3, 4]  # ids sorted: b1, b2, s1, s2, x


def test_score_pairs_both_both_keeps_the_better_direction() -> None:
    x = MatchProfile("x", Role.BOTH, "CO", ("es",), offered_hs=("0901",), max_meetings=5, free_slots=5)
    y = MatchProfile("y", Role.BOTH, "PE", ("es",), demanded_hs=("0901",), max_meetings=5, free_slots=5)
    assert _pairs(score_pairs([x, y], KEEP_ALL)) == [("x", "y")]
    assert _pairs(score_pairs([dataclasses.replace(x, id="z")], KEEP_ALL)) == []
    flipped = score_pairs([dataclasses.replace(x, id="z"), y], KEEP_ALL)
    assert _pairs(flipped) == [("z", "y")]


def test_score_pairs_same_role_pairs_only_as_extra_pairs() -> None:
    b1 = _buyer("b1", offered_hs=("0901",))
    b2 = _buyer("b2", demanded_hs=("0901",))
    assert _pairs(score_pairs([b1, b2], KEEP_ALL)) == []
    scores = score_pairs([b1, b2], KEEP_ALL, extra_pairs=[("b2", "b1"), ("b1", "nobody"), ("b1", "b1")])
    assert _pairs(scores) == [("b1", "b2")]  # both directions scored; b1 supplies coffee
    assert _components(scores, "b1", "b2")["hs"] == 0.75


def test_score_pairs_extra_pair_scores_like_a_candidate() -> None:
    seller = _seller("s", offered_hs=("090111",), target_markets=("DE",), offer_text="café verde")
    buyer = _buyer("b", demanded_hs=("09",), demand_text="green coffee café", certifications_required=("x",))
    candidate = score_pairs([seller, buyer], KEEP_ALL)
    extra = score_pairs([seller, buyer], Weights(min_score=5.0), extra_pairs=[("b", "s")])
    assert _pairs(extra) == [("s", "b")]
    assert extra.components[0].tolist() == pytest.approx(candidate.components[0].tolist(), abs=1e-12)
    assert extra.score.tolist() == pytest.approx(candidate.score.tolist(), abs=1e-12)


def test_score_pairs_threshold_is_inclusive() -> None:
    # market 0.15 + language 0.15 + certification 0.1 (nothing required) = 0.4 exactly.
    profiles = [_seller("s", target_markets=("DE",)), _buyer("b")]
    assert _pairs(score_pairs(profiles, Weights(min_score=0.4))) == [("s", "b")]
    assert _pairs(score_pairs(profiles, Weights(min_score=0.4001))) == []


def test_score_pairs_pruning_keeps_each_participants_best() -> None:
    buyer = _buyer("b", demanded_hs=("090111",))
    sellers = [_seller(f"s{i}", offered_hs=(code,)) for i, code in enumerate(["090111", "0901", "09"])]
    scores = score_pairs([buyer, *sellers], Weights(min_score=0.0, candidates_per_participant=1))
    # b's best is s0; s1 and s2 keep their only pair with b, as their own best.
    assert _pairs(scores) == [("s0", "b"), ("s1", "b"), ("s2", "b")]
    assert scores.candidate_counts.tolist() == [3, 1, 1, 1]
    lone = score_pairs([buyer, sellers[2]], Weights(min_score=0.0, candidates_per_participant=1))
    assert _pairs(lone) == [("s2", "b")]


def test_score_pairs_is_independent_of_input_order() -> None:
    profiles = [
        _seller("s1", offered_hs=("0901",), offer_text="café"),
        _seller("s2", offered_hs=("1801",), offer_text="cacao fino"),
        _buyer("b1", demanded_hs=("09",), demand_text="coffee"),
        MatchProfile("x", Role.BOTH, "PE", ("es",), offered_hs=("18",), demanded_hs=("0901",)),
    ]
    a = score_pairs(profiles, KEEP_ALL)
    b = score_pairs(list(reversed(profiles)), KEEP_ALL)
    assert _pairs(a) == _pairs(b)
    assert a.components.tolist() == b.components.tolist()
    assert a.score.tolist() == b.score.tolist()


def test_match_profile_rejects_bad_hs_codes() -> None:
    with pytest.raises(ValueError, match="HS code '901'"):
        _seller("s", offered_hs=("901",))


def test_score_pairs_no_shared_language_is_never_a_default_candidate() -> None:
    seller = _seller(
        "s", languages=("es",), offered_hs=("090111",), offered_sectors=("0127",), target_markets=("DE",),
        offer_text="organic coffee",
    )  # fmt: skip
    buyer = _buyer(
        "b", languages=("de",), demanded_hs=("090111",), demanded_sectors=("0127",), demand_text="organic coffee"
    )  # fmt: skip
    assert score_pairs([seller, buyer], KEEP_ALL).score.tolist() == pytest.approx([0.35], abs=1e-12)
    assert _pairs(score_pairs([seller, buyer])) == []
    assert _pairs(score_pairs([seller, dataclasses.replace(buyer, languages=("de", "es"))])) == [("s", "b")]
