"""Requests and organizer rules: the policy table, rejections with reasons, bonuses."""

from __future__ import annotations

import pytest

from engine.matching import (
    MatchProfile,
    OrganizerRules,
    Preference,
    PreferenceKind,
    RejectedRequest,
    RejectionReason,
    RequestPolicy,
    Role,
    Weights,
)
from engine.matching.preferences import may_request, request_bonus, resolve_preferences

pytestmark = pytest.mark.unit

B, S, X = Role.BUYER, Role.SELLER, Role.BOTH
MUST, NICE, NO = PreferenceKind.MUST, PreferenceKind.NICE, PreferenceKind.DO_NOT_MEET


@pytest.mark.parametrize(
    ("policy", "allowed"),
    [
        (RequestPolicy.SELLERS_TO_BUYERS, {(S, B), (S, X), (X, B), (X, X)}),
        (RequestPolicy.BUYERS_TO_SELLERS, {(B, S), (B, X), (X, S), (X, X)}),
        (RequestPolicy.BOTH_WAYS, {(S, B), (S, X), (X, B), (X, X), (B, S), (B, X), (X, S)}),
        (RequestPolicy.ANYONE, {(a, b) for a in (B, S, X) for b in (B, S, X)}),
    ],
)
def test_may_request_table(policy: RequestPolicy, allowed: set[tuple[Role, Role]]) -> None:
    got = {(a, b) for a in (B, S, X) for b in (B, S, X) if may_request(a, b, policy)}
    assert got == allowed


PROFILES = {
    pid: MatchProfile(pid, role, "CO") for pid, role in [("s1", S), ("s2", S), ("b1", B), ("b2", B), ("x", X)]
}


def test_resolve_preferences_rejects_with_reasons_and_keeps_the_rest() -> None:
    preferences = [
        Preference("s1", "b1", NICE),
        Preference("s1", "b1", MUST),  # the stronger kind wins
        Preference("s1", "b1", NICE),
        Preference("b1", "s1", NICE),  # buyers may not ask under sellers_to_buyers
        Preference("s1", "ghost", MUST),
        Preference("s1", "s1", MUST),
        Preference("s2", "b2", MUST),  # forbidden by the organizer
        Preference("s2", "b1", MUST),  # b1 declined s2
        Preference("b1", "s2", NO),
        Preference("x", "b2", NICE),
    ]
    rules = OrganizerRules(forbidden_pairs=(("b2", "s2"),))
    resolved = resolve_preferences(PROFILES, preferences, rules)
    assert resolved.requests == {("b1", "s1"): {"s1": MUST}, ("b2", "x"): {"x": NICE}}
    assert resolved.rejected == (
        RejectedRequest(Preference("b1", "s1", NICE), RejectionReason.POLICY),
        RejectedRequest(Preference("s1", "ghost", MUST), RejectionReason.UNKNOWN_PARTICIPANT),
        RejectedRequest(Preference("s1", "s1", MUST), RejectionReason.SELF_PAIR),
        RejectedRequest(Preference("s2", "b2", MUST), RejectionReason.FORBIDDEN),
        RejectedRequest(Preference("s2", "b1", MUST), RejectionReason.DO_NOT_MEET),
    )
    assert resolved.excluded == frozenset({("b2", "s2"), ("b1", "s2")})


def test_request_bonus_adds_each_side_and_the_mutual_bonus() -> None:
    weights = Weights(must_bonus=1.0, nice_bonus=0.25, mutual_bonus=0.5)
    assert request_bonus({"a": MUST}, weights) == 1.0
    assert request_bonus({"a": NICE}, weights) == 0.25
    assert request_bonus({"a": MUST, "b": NICE}, weights) == 1.75
    assert request_bonus({}, weights) == 0.0
