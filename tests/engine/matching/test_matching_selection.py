"""Selection on hand-made cases with known optima, rules, and the reasons for shortfalls."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.matching import (
    Component,
    MatchProfile,
    MatchResult,
    OrganizerRules,
    Preference,
    PreferenceKind,
    RejectedForcedPair,
    RejectedRequest,
    RejectionReason,
    RequestPolicy,
    Role,
    Shortfall,
    ShortfallReason,
    Weights,
    compute_matches,
    score_pairs,
    select_meetings,
)
from engine.matching.scoring import PairScores

pytestmark = pytest.mark.unit


def _profile(pid: str, role: Role, cap: int, free_slots: int | None = None) -> MatchProfile:
    return MatchProfile(
        pid, role, "CO", ("es",), max_meetings=cap, free_slots=cap if free_slots is None else free_slots
    )


def hand_scores(
    profiles: list[MatchProfile], pairs: dict[tuple[str, str], float], weights: Weights
) -> PairScores:
    """PairScores with given scores for (supplier, demander) pairs; components all zero but language."""
    ordered = tuple(sorted(profiles, key=lambda p: p.id))
    index = {p.id: i for i, p in enumerate(ordered)}
    supplier = np.array([index[s] for s, _ in pairs], dtype=np.int64)
    demander = np.array([index[d] for _, d in pairs], dtype=np.int64)
    score = np.array(list(pairs.values()), dtype=np.float64)
    components = np.zeros((len(pairs), 6))
    components[:, 3] = 1.0
    above = score >= weights.min_score
    counts = np.bincount(np.concatenate([supplier[above], demander[above]]), minlength=len(ordered))
    return PairScores(ordered, supplier, demander, components, score, counts.astype(np.int64), weights)


def _pairs(result: MatchResult) -> list[tuple[str, str]]:
    return [(m.supplier_id, m.demander_id) for m in result.meetings]


S1, S2 = _profile("s1", Role.SELLER, 2), _profile("s2", Role.SELLER, 1)
B1, B2 = _profile("b1", Role.BUYER, 1), _profile("b2", Role.BUYER, 1)
FAIRNESS_CASE = {("s1", "b1"): 0.9, ("s1", "b2"): 0.9, ("s2", "b1"): 0.4, ("s2", "b2"): 0.45}


def test_select_meetings_puts_the_minimum_before_utility() -> None:
    weights = Weights(min_meetings=1)
    result = select_meetings(hand_scores([S1, S2, B1, B2], FAIRNESS_CASE, weights))
    # Utility alone would give s1 both buyers (1.8) and s2 nothing.
    assert _pairs(result) == [("s1", "b1"), ("s2", "b2")]
    assert result.total_utility == pytest.approx(1.35, abs=1e-12)
    assert result.shortfalls == ()
    assert result.meetings_per_participant == (("b1", 1), ("b2", 1), ("s1", 1), ("s2", 1))


def test_select_meetings_without_minimum_maximises_utility() -> None:
    result = select_meetings(hand_scores([S1, S2, B1, B2], FAIRNESS_CASE, Weights(min_meetings=0)))
    assert _pairs(result) == [("s1", "b1"), ("s1", "b2")]
    assert result.total_utility == pytest.approx(1.8, abs=1e-12)


@pytest.mark.parametrize(("max_meetings", "free_slots", "expected"), [(3, 10, 3), (3, 2, 2), (0, 10, 0)])
def test_select_meetings_respects_max_meetings_and_free_slots(
    max_meetings: int, free_slots: int, expected: int
) -> None:
    buyer = MatchProfile("b", Role.BUYER, "CO", max_meetings=max_meetings, free_slots=free_slots)
    sellers = [_profile(f"s{i}", Role.SELLER, 1) for i in range(5)]
    pairs = {(f"s{i}", "b"): 0.9 - 0.1 * i for i in range(5)}
    result = select_meetings(hand_scores([buyer, *sellers], pairs, Weights(min_meetings=0)))
    assert _pairs(result) == [(f"s{i}", "b") for i in range(expected)]


def test_select_meetings_reports_each_shortfall_reason() -> None:
    profiles = [
        _profile("b1", Role.BUYER, 1),
        _profile("b2", Role.BUYER, 5),
        _profile("s1", Role.SELLER, 2),
        _profile("s2", Role.SELLER, 2),
        _profile("s3", Role.SELLER, 2, free_slots=0),
        _profile("s4", Role.SELLER, 2),
        _profile("s5", Role.SELLER, 2),
        _profile("s6", Role.SELLER, 2),
        _profile("s7", Role.SELLER, 2),
    ]
    pairs = {
        ("s1", "b1"): 0.9,
        ("s2", "b1"): 0.8,
        ("s3", "b2"): 0.9,
        ("s4", "b2"): 0.1,
        ("s5", "b2"): 0.7,
        ("s6", "b2"): 0.7,
        ("s7", "b2"): 0.6,
    }
    weights = Weights(min_meetings=1)
    rules = OrganizerRules(forbidden_pairs=(("s5", "b2"),))
    preferences = [Preference("b2", "s6", PreferenceKind.DO_NOT_MEET)]
    result = select_meetings(hand_scores(profiles, pairs, weights), preferences, rules)
    assert _pairs(result) == [("s1", "b1"), ("s7", "b2")]
    assert result.shortfalls == (
        Shortfall("s2", 0, 1, ShortfallReason.CANDIDATES_FULL, 1),
        Shortfall("s3", 0, 1, ShortfallReason.NO_FREE_SLOTS, 1),
        Shortfall("s4", 0, 1, ShortfallReason.NOT_ENOUGH_CANDIDATES, 0),
        Shortfall("s5", 0, 1, ShortfallReason.EXCLUDED_BY_RULES, 0),
        Shortfall("s6", 0, 1, ShortfallReason.EXCLUDED_BY_RULES, 0),
    )


def test_select_meetings_places_forced_pairs_first_and_counts_them() -> None:
    profiles = [
        _profile("b1", Role.BUYER, 1),
        _profile("b2", Role.BUYER, 2),
        _profile("s1", Role.SELLER, 3),
        _profile("s2", Role.SELLER, 3),
    ]
    pairs = {("s1", "b1"): 0.9, ("s2", "b1"): 0.1, ("s1", "b2"): 0.8, ("s2", "b2"): 0.2}
    rules = OrganizerRules(
        forced_pairs=(("b1", "s2"), ("s1", "b1"), ("s2", "b2"), ("s2", "ghost"), ("s1", "s1")),
        forbidden_pairs=(("s2", "b2"),),
    )
    result = select_meetings(hand_scores(profiles, pairs, Weights(min_meetings=0)), (), rules)
    # Sorted, ("b1", "s1") comes first and fills b1; ("b1", "s2") no longer fits.
    assert _pairs(result) == [("s1", "b1"), ("s1", "b2")]
    assert [m.is_forced for m in result.meetings] == [True, False]
    assert result.meetings[0].reasons[0] == (Component.FORCED, "")
    assert result.rejected_forced_pairs == (
        RejectedForcedPair(("b1", "s2"), RejectionReason.CAPACITY),
        RejectedForcedPair(("b2", "s2"), RejectionReason.FORBIDDEN),
        RejectedForcedPair(("ghost", "s2"), RejectionReason.UNKNOWN_PARTICIPANT),
        RejectedForcedPair(("s1", "s1"), RejectionReason.SELF_PAIR),
    )


def test_select_meetings_forced_pair_below_threshold_is_placed() -> None:
    profiles = [_profile("b1", Role.BUYER, 1), _profile("s1", Role.SELLER, 1), _profile("s2", Role.SELLER, 1)]
    pairs = {("s1", "b1"): 0.9, ("s2", "b1"): 0.05}
    rules = OrganizerRules(forced_pairs=(("s2", "b1"),))
    result = select_meetings(hand_scores(profiles, pairs, Weights(min_meetings=0)), (), rules)
    assert _pairs(result) == [("s2", "b1")]
    assert result.meetings[0].score == 0.05


def test_select_meetings_forced_pair_that_was_never_scored() -> None:
    profiles = [_profile("b1", Role.BUYER, 1), _profile("s1", Role.SELLER, 1)]
    rules = OrganizerRules(forced_pairs=(("b1", "s1"),))
    result = select_meetings(hand_scores(profiles, {}, Weights(min_meetings=0)), (), rules)
    assert _pairs(result) == [("s1", "b1")]
    assert result.meetings[0].explanation == "set by the organizer"


COFFEE_SELLER = MatchProfile(
    "s1",
    Role.SELLER,
    "CO",
    ("en", "es"),
    offered_hs=("090111",),
    target_markets=("DE",),
    max_meetings=3,
    free_slots=3,
)
COFFEE_BUYER = MatchProfile(
    "b1", Role.BUYER, "DE", ("de", "en"), demanded_hs=("0901",), max_meetings=3, free_slots=3
)
# hs 0.3*0.75 + market 0.15 + language 0.15 + certification 0.1 = 0.625
COFFEE_SCORE = 0.625


def test_compute_matches_do_not_meet_removes_the_pair() -> None:
    assert _pairs(compute_matches([COFFEE_SELLER, COFFEE_BUYER])) == [("s1", "b1")]
    # With a minimum of 2, one candidate was never enough: the rules are not the reason.
    declined = [Preference("b1", "s1", PreferenceKind.DO_NOT_MEET)]
    result = compute_matches([COFFEE_SELLER, COFFEE_BUYER], declined, weights=Weights(min_meetings=2))
    assert [s.reason for s in result.shortfalls] == [ShortfallReason.NOT_ENOUGH_CANDIDATES] * 2
    for requester, target in [("b1", "s1"), ("s1", "b1")]:
        preferences = [Preference(requester, target, PreferenceKind.DO_NOT_MEET)]
        result = compute_matches([COFFEE_SELLER, COFFEE_BUYER], preferences, weights=Weights(min_meetings=1))
        assert result.meetings == ()
        assert [s.reason for s in result.shortfalls] == [ShortfallReason.EXCLUDED_BY_RULES] * 2


def test_compute_matches_mutual_request_bonus() -> None:
    preferences = [Preference("s1", "b1", PreferenceKind.MUST), Preference("b1", "s1", PreferenceKind.NICE)]
    rules = OrganizerRules(request_policy=RequestPolicy.BOTH_WAYS)
    weights = Weights(must_bonus=1.0, nice_bonus=0.25, mutual_bonus=0.5)
    result = compute_matches([COFFEE_SELLER, COFFEE_BUYER], preferences, rules, weights)
    (meeting,) = result.meetings
    assert meeting.score == pytest.approx(COFFEE_SCORE, abs=1e-12)
    assert meeting.utility == pytest.approx(COFFEE_SCORE + 1.75, abs=1e-12)
    assert meeting.is_mutual
    assert meeting.explanation == (
        "both asked to meet; both trade HS 0901 coffee; buyer in Germany is in the seller's target markets; "
        "both speak English"
    )


def test_compute_matches_rejects_requests_against_the_policy() -> None:
    preferences = [Preference("b1", "s1", PreferenceKind.MUST)]
    result = compute_matches([COFFEE_SELLER, COFFEE_BUYER], preferences)
    assert result.rejected_requests == (RejectedRequest(preferences[0], RejectionReason.POLICY),)
    assert result.meetings[0].utility == pytest.approx(COFFEE_SCORE, abs=1e-12)


def test_compute_matches_two_buyers_meet_only_on_request_under_anyone() -> None:
    buyers = [
        MatchProfile("b1", Role.BUYER, "DE", ("en",), max_meetings=2, free_slots=2),
        MatchProfile("b2", Role.BUYER, "US", ("en",), max_meetings=2, free_slots=2),
    ]
    request = [Preference("b1", "b2", PreferenceKind.NICE)]
    anyone = compute_matches(buyers, request, OrganizerRules(request_policy=RequestPolicy.ANYONE))
    assert _pairs(anyone) == [("b1", "b2")]
    assert anyone.meetings[0].reasons[0] == (Component.NICE_REQUEST, "seller")
    both_ways = compute_matches(buyers, request, OrganizerRules(request_policy=RequestPolicy.BOTH_WAYS))
    assert both_ways.meetings == ()
    assert both_ways.rejected_requests == (RejectedRequest(request[0], RejectionReason.POLICY),)


def test_compute_matches_both_role_triangle_is_fully_matched() -> None:
    # s -> x, x -> b and s -> b form a triangle (not bipartite); caps of 2 allow all three meetings.
    x = dataclasses.replace(COFFEE_SELLER, id="x", role=Role.BOTH, demanded_hs=("0901",), country="PE")
    s = dataclasses.replace(COFFEE_SELLER, target_markets=("DE", "PE"))
    result = compute_matches([s, x, COFFEE_BUYER], (), OrganizerRules(), Weights(min_meetings=2))
    assert _pairs(result) == [("s1", "b1"), ("s1", "x"), ("x", "b1")]
    assert result.shortfalls == ()


def test_select_meetings_both_participant_takes_its_scarce_side() -> None:
    # x (both, cap 1) could demand from s1 (0.6) or supply b1 (0.5). Taking s1 would cost b1 its
    # meeting with s1 (0.55): the optimum is x -> b1 and s1 -> b1, 1.05 against 0.6. x has more
    # pairs as a demander (s2 too), so a split by pair counts would give its one place to demand.
    profiles = [
        _profile("x", Role.BOTH, 1),
        _profile("s1", Role.SELLER, 1),
        _profile("s2", Role.SELLER, 1),
        _profile("b1", Role.BUYER, 2),
    ]
    pairs = {("s1", "x"): 0.6, ("s2", "x"): 0.3, ("s1", "b1"): 0.55, ("x", "b1"): 0.5}
    result = select_meetings(hand_scores(profiles, pairs, Weights(min_meetings=0)))
    assert _pairs(result) == [("s1", "b1"), ("x", "b1")]
    assert result.total_utility == pytest.approx(1.05, abs=1e-12)


def test_compute_matches_worked_example_of_the_docs() -> None:
    """docs/algorithms/matching.md, "Worked example": keep the two in step."""
    p = MatchProfile
    profiles = [
        p(
            "cafe-andino", Role.SELLER, "CO", ("es", "en"), offered_hs=("090111",), offered_sectors=("0127",),
            target_markets=("DE", "US"), certifications_held=("organic",),
            offer_text="Café especial orgánico de origen, tostado o verde", max_meetings=2, free_slots=8,
        ),
        p(
            "flores-sabana", Role.SELLER, "CO", ("es",), offered_hs=("060311",), offered_sectors=("0119",),
            target_markets=("US",), offer_text="Rosas y claveles cortados", max_meetings=2, free_slots=8,
        ),
        p(
            "kaffeehaus", Role.BUYER, "DE", ("de", "en"), demanded_hs=("0901",), demanded_sectors=("0127",),
            certifications_required=("organic",), demand_text="organic specialty coffee, green beans",
            max_meetings=2, free_slots=8,
        ),
        p(
            "bloom-usa", Role.BUYER, "US", ("en", "es"), demanded_hs=("0603",),
            demand_text="cut roses and carnations", max_meetings=2, free_slots=8,
        ),
        p(
            "tostadora-lima", Role.BOTH, "PE", ("es",), offered_hs=("210111",), demanded_hs=("090111",),
            target_markets=("US",), offer_text="extracto de café", demand_text="café verde de especialidad",
            max_meetings=2, free_slots=1,
        ),
    ]  # fmt: skip
    preferences = [
        Preference("flores-sabana", "bloom-usa", PreferenceKind.MUST),
        Preference("bloom-usa", "flores-sabana", PreferenceKind.NICE),
        Preference("kaffeehaus", "cafe-andino", PreferenceKind.MUST),
    ]
    result = compute_matches(profiles, preferences)
    assert [
        (m.supplier_id, m.demander_id, round(m.score, 3), round(m.utility, 3)) for m in result.meetings
    ] == [
        ("cafe-andino", "kaffeehaus", 0.772, 0.772),
        ("cafe-andino", "tostadora-lima", 0.639, 0.639),
        ("flores-sabana", "bloom-usa", 0.634, 1.634),
    ]
    assert [m.explanation for m in result.meetings] == [
        "both trade HS 0901 coffee; buyer in Germany is in the seller's target markets; both speak English",
        "both trade HS 090111 coffee; both speak Spanish; offer and demand descriptions are similar (0.45)",
        "the seller asked to meet (must); both trade HS 0603 cut flowers; "
        "buyer in United States is in the seller's target markets; both speak Spanish",
    ]
    assert [r.reason for r in result.rejected_requests] == [RejectionReason.POLICY] * 2
    assert [(s.participant_id, s.reason, s.candidates) for s in result.shortfalls] == [
        ("bloom-usa", ShortfallReason.NOT_ENOUGH_CANDIDATES, 1),
        ("flores-sabana", ShortfallReason.NOT_ENOUGH_CANDIDATES, 1),
        ("kaffeehaus", ShortfallReason.NOT_ENOUGH_CANDIDATES, 1),
        ("tostadora-lima", ShortfallReason.NO_FREE_SLOTS, 1),
    ]
    # Market, language and certification alone: 0.40, below the default threshold of 0.45.
    everything = score_pairs(profiles, Weights(min_score=-1.0))
    ids = [q.id for q in everything.profiles]
    pairs = zip(everything.supplier, everything.demander, everything.score, strict=True)
    scored = {(ids[a], ids[b]): round(float(c), 3) for a, b, c in pairs}
    assert scored[("cafe-andino", "bloom-usa")] == 0.4


def test_compute_matches_empty_and_lonely_inputs() -> None:
    empty = compute_matches([])
    assert (empty.meetings, empty.shortfalls, empty.meetings_per_participant) == ((), (), ())
    alone = compute_matches([_profile("b1", Role.BUYER, 2)])
    assert alone.shortfalls == (Shortfall("b1", 0, 2, ShortfallReason.NOT_ENOUGH_CANDIDATES, 0),)
