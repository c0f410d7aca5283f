"""Selecting a trade-mission delegation: eligibility, export-readiness scoring, and selection under a
capacity with minimum seats for inclusion groups, with the reasons for every decision.

The problem: an agency has `capacity` seats and more applicants. It must take the most export-ready
eligible firms, while guaranteeing inclusion goals (at least k women-led firms, peasant
associations, indigenous communities, victims of the armed conflict), and it must be able to tell
every applicant why.

The method (deterministic, O(n log n)):
1. Ineligible applicants are rejected, each with every rule they fail.
2. Eligible applicants are ranked by score (ties: lower id first, i.e. earlier application).
3. Quota seats first: groups are served from the scarcest (fewest eligible candidates per seat
   asked) to the most plentiful; each takes its best-ranked unselected members until its quota
   counts as met. A firm selected for one group counts towards every group it belongs to.
4. The remaining seats go by rank. The rest are wait-listed in rank order.
A quota that cannot be met (too few eligible members, or quotas adding up to more than capacity)
is reported, never silently ignored.

Guarantee: if the quotas can be met together within the capacity by distinct firms, one per seat,
this meets them whenever no firm belongs to two quota groups; with overlapping groups it meets them
whenever serving the scarcest group first does (the report says which quotas were not met).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Decision(StrEnum):
    SELECTED = "selected"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Applicant:
    id: int
    groups: frozenset[str]
    legally_registered: bool
    product_ready: bool
    years_exporting: int
    export_sales_usd: int
    has_export_plan: bool
    certifications: int
    targets_destination: bool


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """Eligibility thresholds and readiness weights (points out of 100)."""

    min_years_operating_exports: int = 0
    require_product_ready: bool = True
    w_experience: float = 30.0  # full points at `full_experience_years` of exporting
    full_experience_years: int = 5
    w_sales: float = 20.0  # log scale: full points at `full_sales_usd`
    full_sales_usd: int = 1_000_000
    w_plan: float = 20.0
    w_certifications: float = 15.0  # full points at 3 certifications
    w_destination: float = 15.0


@dataclass(frozen=True, slots=True)
class Outcome:
    applicant_id: int
    eligible: bool
    score: float
    decision: Decision
    rank: int | None  # among the eligible, 1 = best
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    outcomes: tuple[Outcome, ...]
    capacity: int
    quotas: Mapping[str, int]
    quota_filled: Mapping[str, int]
    unmet_quotas: Mapping[str, str] = field(default_factory=dict)

    @property
    def selected(self) -> int:
        return sum(1 for o in self.outcomes if o.decision is Decision.SELECTED)


def eligibility_failures(a: Applicant, rules: ScoringRules) -> list[str]:
    failures = []
    if not a.legally_registered:
        failures.append("not legally registered (a registered company is required)")
    if rules.require_product_ready and not a.product_ready:
        failures.append("no export-ready product or service declared")
    if a.years_exporting < rules.min_years_operating_exports:
        failures.append(
            f"{a.years_exporting} years exporting, below the minimum of {rules.min_years_operating_exports}"
        )
    return failures


def readiness_score(a: Applicant, rules: ScoringRules) -> float:
    """0-100, rounded to 0.1: experience, export sales (log scale), export plan, certifications,
    and whether the destination is one of the firm's target markets."""
    experience = min(a.years_exporting, rules.full_experience_years) / rules.full_experience_years
    sales = (
        min(1.0, math.log10(1 + a.export_sales_usd) / math.log10(1 + rules.full_sales_usd))
        if a.export_sales_usd > 0
        else 0.0
    )
    score = (
        rules.w_experience * experience
        + rules.w_sales * sales
        + rules.w_plan * a.has_export_plan
        + rules.w_certifications * min(a.certifications, 3) / 3
        + rules.w_destination * a.targets_destination
    )
    return round(score, 1)


def select_delegation(
    applicants: Sequence[Applicant],
    *,
    capacity: int,
    quotas: Mapping[str, int],
    rules: ScoringRules = ScoringRules(),
) -> Selection:
    if capacity < 1:
        raise ValueError("capacity must be at least 1")
    if any(v < 0 for v in quotas.values()):
        raise ValueError("quotas cannot be negative")
    by_id = {a.id: a for a in applicants}
    if len(by_id) != len(applicants):
        raise ValueError("applicant ids must be unique")
    failures = {a.id: eligibility_failures(a, rules) for a in applicants}
    scores = {a.id: readiness_score(a, rules) for a in applicants}
    ranked = sorted((a for a in applicants if not failures[a.id]), key=lambda a: (-scores[a.id], a.id))
    rank = {a.id: i + 1 for i, a in enumerate(ranked)}

    chosen: dict[int, str] = {}  # id -> why
    unmet: dict[str, str] = {}
    wanted = {g: n for g, n in quotas.items() if n > 0}
    if sum(wanted.values()) > capacity:
        unmet["capacity"] = (
            f"quotas add up to {sum(wanted.values())} seats, more than the capacity of {capacity}"
        )

    def members(group: str) -> list[Applicant]:
        return [a for a in ranked if group in a.groups]

    def filled(group: str) -> int:
        return sum(1 for i in chosen if group in by_id[i].groups)

    order = sorted(wanted, key=lambda g: (len(members(g)) / wanted[g], g))
    for group in order:
        for a in members(group):
            if filled(group) >= wanted[group] or len(chosen) >= capacity:
                break
            if a.id not in chosen:
                chosen[a.id] = (
                    f"selected for an inclusion seat: {group.replace('_', '-')} (quota {wanted[group]})"
                )
        if filled(group) < wanted[group]:
            eligible_members = len(members(group))
            unmet[group] = (
                f"{filled(group)} of {wanted[group]} seats filled: only {eligible_members} eligible applicants"
                if eligible_members < wanted[group]
                else f"{filled(group)} of {wanted[group]} seats filled: capacity reached"
            )
    for a in ranked:
        if len(chosen) >= capacity:
            break
        if a.id not in chosen:
            chosen[a.id] = f"selected on readiness: rank {rank[a.id]} of {len(ranked)} eligible"

    outcomes = []
    for a in sorted(applicants, key=lambda a: a.id):
        score_note = f"readiness score {scores[a.id]:.1f}/100"
        if failures[a.id]:
            outcomes.append(
                Outcome(a.id, False, scores[a.id], Decision.REJECTED, None, ("not eligible", *failures[a.id]))
            )
        elif a.id in chosen:
            outcomes.append(
                Outcome(a.id, True, scores[a.id], Decision.SELECTED, rank[a.id], (chosen[a.id], score_note))
            )
        else:
            outcomes.append(
                Outcome(
                    a.id,
                    True,
                    scores[a.id],
                    Decision.WAITLISTED,
                    rank[a.id],
                    (
                        f"wait-listed: capacity of {capacity} reached; rank {rank[a.id]} of {len(ranked)}",
                        score_note,
                    ),
                )
            )
    return Selection(
        outcomes=tuple(outcomes),
        capacity=capacity,
        quotas=dict(wanted),
        quota_filled={g: filled(g) for g in wanted},
        unmet_quotas=unmet,
    )
