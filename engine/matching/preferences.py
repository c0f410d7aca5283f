"""Explicit requests and organizer rules: which requests count, which pairs may never meet.

Problem: participants ask to meet (must, nice) or not to meet others; the organizer forbids pairs,
forces pairs, and says who may request whom. Turn that into data selection can use, and say what was
refused and why instead of dropping it silently.

Rules, in order, for each must/nice request:
1. both ids are registered participants, and they differ;
2. the event's `RequestPolicy` lets the requester ask the target ("both" participants count as
   buyers and as sellers; `anyone` allows every pair, even two buyers);
3. the organizer did not forbid the pair;
4. neither side said "do not meet" about the other.
A do-not-meet is never subject to the policy: anyone may decline anyone. When one requester asks for
the same target twice, the stronger kind (must) is kept.

Invariants: excluded pairs are exactly the forbidden pairs plus the pairs with a do-not-meet from
either side; no accepted request is for an excluded pair. Pairs are unordered, stored sorted.

Cost: linear in the number of preferences and rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.matching.types import (
    Component,
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

Pair = tuple[str, str]


def pair_key(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True, slots=True)
class ResolvedPreferences:
    """Accepted requests per pair (requester -> kind), excluded pairs, and refused requests."""

    requests: Mapping[Pair, Mapping[str, PreferenceKind]]
    forbidden: frozenset[Pair]
    do_not_meet: frozenset[Pair]
    rejected: tuple[RejectedRequest, ...]

    @property
    def excluded(self) -> frozenset[Pair]:
        return self.forbidden | self.do_not_meet


def may_request(requester: Role, target: Role, policy: RequestPolicy) -> bool:
    """Whether the policy lets a participant with role `requester` ask one with role `target`."""
    sells = {Role.SELLER, Role.BOTH}
    buys = {Role.BUYER, Role.BOTH}
    seller_asks_buyer = requester in sells and target in buys
    buyer_asks_seller = requester in buys and target in sells
    if policy is RequestPolicy.SELLERS_TO_BUYERS:
        return seller_asks_buyer
    if policy is RequestPolicy.BUYERS_TO_SELLERS:
        return buyer_asks_seller
    if policy is RequestPolicy.BOTH_WAYS:
        return seller_asks_buyer or buyer_asks_seller
    return True


def resolve_preferences(
    profiles: Mapping[str, MatchProfile], preferences: Iterable[Preference], rules: OrganizerRules
) -> ResolvedPreferences:
    """Check every request against the rules in the module docstring."""
    preferences = tuple(preferences)
    forbidden = frozenset(pair_key(a, b) for a, b in rules.forbidden_pairs)
    do_not_meet = frozenset(
        pair_key(p.requester, p.target)
        for p in preferences
        if p.kind is PreferenceKind.DO_NOT_MEET and p.requester != p.target
    )
    requests: dict[Pair, dict[str, PreferenceKind]] = {}
    rejected: list[RejectedRequest] = []
    for preference in preferences:
        reason = _rejection(preference, profiles, rules.request_policy, forbidden, do_not_meet)
        if reason is not None:
            rejected.append(RejectedRequest(preference, reason))
        elif preference.kind is not PreferenceKind.DO_NOT_MEET:
            kinds = requests.setdefault(pair_key(preference.requester, preference.target), {})
            if kinds.get(preference.requester) is not PreferenceKind.MUST:
                kinds[preference.requester] = preference.kind
    return ResolvedPreferences(requests, forbidden, do_not_meet, tuple(rejected))


def _rejection(
    preference: Preference,
    profiles: Mapping[str, MatchProfile],
    policy: RequestPolicy,
    forbidden: frozenset[Pair],
    do_not_meet: frozenset[Pair],
) -> RejectionReason | None:
    requester = profiles.get(preference.requester)
    target = profiles.get(preference.target)
    if requester is None or target is None:
        return RejectionReason.UNKNOWN_PARTICIPANT
    if requester.id == target.id:
        return RejectionReason.SELF_PAIR
    if preference.kind is PreferenceKind.DO_NOT_MEET:
        return None
    if not may_request(requester.role, target.role, policy):
        return RejectionReason.POLICY
    key = pair_key(requester.id, target.id)
    if key in forbidden:
        return RejectionReason.FORBIDDEN
    if key in do_not_meet:
        return RejectionReason.DO_NOT_MEET
    return None


def request_bonus(kinds: Mapping[str, PreferenceKind], weights: Weights) -> float:
    """The utility a pair gains from its accepted requests: each side's own bonus, plus mutual."""
    bonus = sum(
        weights.must_bonus if k is PreferenceKind.MUST else weights.nice_bonus for k in kinds.values()
    )
    return bonus + (weights.mutual_bonus if len(kinds) == 2 else 0.0)


def request_reasons(kinds: Mapping[str, PreferenceKind], supplier_id: str) -> list[tuple[Component, str]]:
    """Structured reasons for a pair's requests; the detail is "seller", "buyer" or "both"."""
    if len(kinds) == 2:
        return [(Component.MUTUAL_REQUEST, "both")]
    return [
        (
            Component.MUST_REQUEST if kind is PreferenceKind.MUST else Component.NICE_REQUEST,
            "seller" if requester == supplier_id else "buyer",
        )
        for requester, kind in kinds.items()
    ]
