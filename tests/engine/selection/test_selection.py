"""Delegation selection: eligibility with every failed rule, readiness scores, quotas served before
rank, capacity, wait-list order, and unmet quotas reported."""

from __future__ import annotations

import pytest

from engine.selection import Applicant, Decision, ScoringRules, readiness_score, select_delegation

pytestmark = pytest.mark.unit


def applicant(id: int, *groups: str, years: int = 2, plan: bool = True, **kw: object) -> Applicant:
    data: dict[str, object] = {
        "legally_registered": True,
        "product_ready": True,
        "export_sales_usd": 0,
        "certifications": 0,
        "targets_destination": False,
    }
    data.update(kw)
    return Applicant(
        id=id,
        groups=frozenset(groups),
        years_exporting=years,
        has_export_plan=plan,
        **data,  # type: ignore[arg-type]
    )


def test_readiness_score_adds_the_weighted_parts() -> None:
    rules = ScoringRules()
    full = applicant(1, years=5, export_sales_usd=1_000_000, certifications=3, targets_destination=True)
    assert readiness_score(full, rules) == 100.0
    none = applicant(2, years=0, plan=False)
    assert readiness_score(none, rules) == 0.0
    # 2 of 5 years (12) + plan (20) + 1 of 3 certifications (5) + log10(10,001)/log10(1,000,001) of 20
    partial = applicant(3, years=2, export_sales_usd=10_000, certifications=1)
    assert readiness_score(partial, rules) == 50.3


def test_quotas_take_seats_before_rank_and_the_rest_go_by_score() -> None:
    people = [
        applicant(1, years=5),  # 50
        applicant(2, years=4),  # 44
        applicant(3, years=3),  # 38
        applicant(4, "women_led", years=1),  # 26
        applicant(5, "women_led", years=0),  # 20
        applicant(6, legally_registered=False, product_ready=False, years=5),
    ]
    result = select_delegation(people, capacity=3, quotas={"women_led": 1})
    decisions = {o.applicant_id: o.decision for o in result.outcomes}
    assert decisions == {
        1: Decision.SELECTED,
        2: Decision.SELECTED,
        3: Decision.WAITLISTED,
        4: Decision.SELECTED,
        5: Decision.WAITLISTED,
        6: Decision.REJECTED,
    }
    by_id = {o.applicant_id: o for o in result.outcomes}
    assert by_id[4].reasons == (
        "selected for an inclusion seat: women-led (quota 1)",
        "readiness score 26.0/100",
    )
    assert by_id[1].reasons == ("selected on readiness: rank 1 of 5 eligible", "readiness score 50.0/100")
    assert by_id[3].reasons == (
        "wait-listed: capacity of 3 reached; rank 3 of 5",
        "readiness score 38.0/100",
    )
    assert by_id[6].reasons == (
        "not eligible",
        "not legally registered (a registered company is required)",
        "no export-ready product or service declared",
    )
    assert (by_id[6].eligible, by_id[6].rank) == (False, None)
    assert dict(result.quota_filled) == {"women_led": 1}
    assert dict(result.unmet_quotas) == {}
    assert result.selected == 3


def test_an_unmeetable_quota_is_reported_not_ignored() -> None:
    people = [applicant(1, "indigenous"), applicant(2), applicant(3)]
    result = select_delegation(people, capacity=3, quotas={"indigenous": 2, "peasant": 1})
    assert dict(result.quota_filled) == {"indigenous": 1, "peasant": 0}
    assert dict(result.unmet_quotas) == {
        "indigenous": "1 of 2 seats filled: only 1 eligible applicants",
        "peasant": "0 of 1 seats filled: only 0 eligible applicants",
    }
    assert result.selected == 3


def test_the_scarcest_group_is_served_first_so_overlaps_do_not_waste_seats() -> None:
    # Capacity 2, quotas women-led 1 and peasant 1. Firm 1 is women-led only and ranks first; firm 2
    # is both. Serving the scarcer group (peasant: one candidate) first selects firm 2, which also
    # fills the women-led seat, leaving a seat for the best-ranked firm.
    people = [
        applicant(1, "women_led", years=5),
        applicant(2, "women_led", "peasant", years=1),
        applicant(3, years=4),
    ]
    result = select_delegation(people, capacity=2, quotas={"women_led": 1, "peasant": 1})
    assert [o.applicant_id for o in result.outcomes if o.decision is Decision.SELECTED] == [1, 2]
    assert dict(result.unmet_quotas) == {}


def test_the_same_input_gives_the_same_selection_and_bad_input_is_refused() -> None:
    people = [applicant(i, years=i % 4) for i in range(1, 30)]
    assert select_delegation(people, capacity=7, quotas={}) == select_delegation(
        people, capacity=7, quotas={}
    )
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        select_delegation(people, capacity=0, quotas={})
    with pytest.raises(ValueError, match="applicant ids must be unique"):
        select_delegation([applicant(1), applicant(1)], capacity=1, quotas={})
