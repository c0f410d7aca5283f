"""Matching: who should meet whom at a rueda, and why.

Problem: from participant profiles, explicit requests and organizer rules, suggest the meetings to
schedule: everyone gets at least the event's minimum where possible, nobody more than their cap, and
the total compatibility is as high as possible. See docs/algorithms/matching.md.

Pipeline (each step usable on its own):
1. `score_pairs` scores candidate pairs (scoring.py);
2. `select_meetings` applies requests and rules and solves a min-cost flow (preferences.py,
   selection.py); explanations come from explain.py.
`compute_matches` runs both, scoring the requested, forced and excluded pairs too.

Invariants: pure and deterministic: the same input gives the same result, whatever its order.
Cost: a few seconds at 2,400 participants (docs/benchmarks.md (Matching)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.matching.scoring import PairScores, score_pairs
from engine.matching.selection import select_meetings
from engine.matching.types import (
    Component,
    MatchProfile,
    MatchResult,
    Meeting,
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
)

__all__ = [
    "Component",
    "MatchProfile",
    "MatchResult",
    "Meeting",
    "OrganizerRules",
    "PairScores",
    "Preference",
    "PreferenceKind",
    "RejectedForcedPair",
    "RejectedRequest",
    "RejectionReason",
    "RequestPolicy",
    "Role",
    "Shortfall",
    "ShortfallReason",
    "Weights",
    "compute_matches",
    "score_pairs",
    "select_meetings",
]


def compute_matches(
    profiles: Sequence[MatchProfile],
    preferences: Iterable[Preference] = (),
    rules: OrganizerRules = OrganizerRules(),
    weights: Weights = Weights(),
) -> MatchResult:
    """Score, apply preferences and rules, and select the meetings."""
    preferences = tuple(preferences)
    extra_pairs = [
        *((p.requester, p.target) for p in preferences),
        *rules.forced_pairs,
        *rules.forbidden_pairs,
    ]
    scores = score_pairs(profiles, weights, extra_pairs=extra_pairs)
    return select_meetings(scores, preferences, rules)
