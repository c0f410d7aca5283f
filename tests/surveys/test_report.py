"""The known event's report, figure by figure (see known_event.py for the story behind each number).

The section tests share one report built on SQLite (building the event takes a second); the last
test builds it again on each backend of the `engine` fixture and runs every section's checks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from models import MeetingStatus, SurveyWave
from services.db import transaction
from services.report import (
    AgendaQuality,
    BreakdownRow,
    FunnelStage,
    HorizonAmounts,
    MeetingFeedback,
    OutcomeReport,
    ProductRow,
    ReportInput,
    Satisfaction,
    WaveResponse,
    build_report,
    compute_report,
)
from services.surveys import AmountTolerance, DisagreementKind, RateSource
from tests.conftest import NOW
from tests.surveys.known_event import KnownEvent, build_known_event

pytestmark = pytest.mark.integration


Known = tuple[KnownEvent, OutcomeReport]


def test_report_funnel_counts_each_stage_in_its_unit(known: Known) -> None:
    _, report = known
    assert report.funnel.stages == (
        FunnelStage("registered", "Registered", "participants", 7),
        FunnelStage("matched", "Matched", "participants", 6),
        FunnelStage("requested", "Requested", "meeting requests", 8),
        FunnelStage("accepted", "Accepted", "meeting requests", 6),
        FunnelStage("scheduled", "Scheduled", "meetings", 6),
        FunnelStage("held", "Held", "meetings", 4),
    )
    assert (report.funnel.held, report.funnel.no_show, report.funnel.cancelled) == (4, 1, 1)
    assert report.funnel.no_show_rate == 0.2


def test_report_agenda_quality_counts_meetings_breaks_and_the_minimum(
    known: Known,
) -> None:
    _, report = known
    # B1 idles in d1s02 between d1s01 and d1s03, B2 in d1s03 between d1s02 and d1s04: one break each.
    # S3 has one meeting (the cancelled one does not count), S4 none: both below the minimum of 2.
    assert report.agenda == AgendaQuality(
        participants=6,
        min_meetings_rule=2,
        meetings_min=0,
        meetings_median=2.0,
        meetings_max=3,
        breaks_min=0,
        breaks_median=0.0,
        breaks_max=1,
        breaks_total=2,
        with_breaks=2,
        below_minimum=2,
        meetings_histogram=((0, 1), (1, 1), (2, 3), (3, 1)),
    )


def test_report_response_rates_per_wave(known: Known) -> None:
    _, report = known
    assert report.responses == (
        WaveResponse(
            SurveyWave.POST_EVENT, "Post-event", invited=5, responded=5, completed=4, response_rate=0.8
        ),
        WaveResponse(
            SurveyWave.FOLLOWUP_3M,
            "Follow-up 3 months",
            invited=4,
            responded=2,
            completed=2,
            response_rate=0.5,
        ),
        WaveResponse(
            SurveyWave.FOLLOWUP_6M,
            "Follow-up 6 months",
            invited=4,
            responded=0,
            completed=0,
            response_rate=0.0,
        ),
        WaveResponse(
            SurveyWave.FOLLOWUP_12M,
            "Follow-up 12 months",
            invited=0,
            responded=0,
            completed=0,
            response_rate=None,
        ),
    )
    assert report.feedback == MeetingFeedback(
        meetings=5, with_any_answer=5, with_both_answers=4, any_rate=1.0, both_rate=0.8
    )


def test_report_satisfaction_and_nps(known: Known) -> None:
    _, report = known
    # Recommend 10, 9 (promoters), 6, 3 (detractors): NPS 0.
    assert report.satisfaction == Satisfaction(
        respondents=4,
        satisfaction_mean=3.5,
        nps_respondents=4,
        promoters=2,
        passives=0,
        detractors=2,
        nps=0.0,
    )


def test_report_expected_business_conservative_and_declared(known: Known) -> None:
    _, report = known
    # Conservative: M1 and M2 (both sides confirmed), lower side per horizon.
    #   M1: min(10,000, 8,000) now, min(20,000, 30,000) at 3 months; M2: min(5,500, 5,400) now,
    #   min(0, 10,400) at 12 months.
    assert report.expected.conservative == HorizonAmounts(1_340_000, 2_000_000, 0, 0)
    assert report.expected.conservative.total == 3_340_000
    assert report.expected.conservative_meetings == 2
    # Declared: M1, M2, M3, M5 (at least one side says held), higher side per horizon.
    assert report.expected.declared == HorizonAmounts(1_650_000, 3_000_000, 200_000, 1_040_000)
    assert report.expected.declared.total == 5_890_000
    assert report.expected.declared_meetings == 4
    assert "lower of the two sides" in report.expected.conservative_method
    assert "higher of the amounts" in report.expected.declared_method
    assert "event's configured rate" in report.expected.currency_method


def test_report_flags_disagreements_without_averaging(known: Known) -> None:
    k, report = known
    flags = [(d.meeting_id, d.kind, d.horizons, d.detail) for d in report.disagreements]
    assert flags == [
        (
            k.meetings["M1"],
            DisagreementKind.AMOUNT,
            ("3m",),
            "3m: host US$ 20,000.00, visitor US$ 30,000.00",
        ),
        (
            k.meetings["M2"],
            DisagreementKind.AMOUNT,
            ("12m",),
            "12m: host US$ 0.00, visitor US$ 10,400.00",
        ),
        (
            k.meetings["M3"],
            DisagreementKind.TOOK_PLACE,
            (),
            "host says it took place, visitor says it did not take place",
        ),
    ]
    rows = {r.meeting_id: r for r in report.meetings}
    assert [rows[k.meetings[m]].flags for m in ("M1", "M2", "M3", "M4", "M5", "M6")] == [
        ("amount",),
        ("amount",),
        ("took_place",),
        (),
        (),
        (),
    ]
    assert [rows[k.meetings[m]].is_confirmed_by_both for m in ("M1", "M2", "M3", "M4", "M5", "M6")] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert rows[k.meetings["M2"]].host_expected_usd_cents == (550_000, 0, 0, 0)
    assert rows[k.meetings["M2"]].visitor_expected_usd_cents == (540_000, 0, 0, 1_040_000)
    assert rows[k.meetings["M6"]].status is MeetingStatus.CANCELLED
    assert rows[k.meetings["M6"]].host_took_place is None


def test_report_tolerance_changes_which_amounts_are_flagged(
    known_input: tuple[KnownEvent, ReportInput],
) -> None:
    event, data = known_input
    report = compute_report(data, now=NOW, tolerance=AmountTolerance(relative=0.6))
    # 30,000 vs 20,000 is within 60% of the larger; 10,400 vs nothing is not.
    assert [(d.meeting_id, d.kind) for d in report.disagreements] == [
        (event.meetings["M2"], DisagreementKind.AMOUNT),
        (event.meetings["M3"], DisagreementKind.TOOK_PLACE),
    ]


def test_report_converts_currencies_at_the_events_rate_else_the_stated_one(
    known: Known,
) -> None:
    _, report = known
    assert [
        (c.currency, c.rate, c.source, c.answers, c.original_cents, c.usd_cents) for c in report.currencies
    ] == [
        ("USD", Decimal(1), RateSource.USD, 6, 8_300_000, 8_300_000),
        # 6,320,000,000 COP cents at the stated 0.00025: US$ 15,800.
        ("COP", Decimal("0.00025"), RateSource.STATED, 1, 6_320_000_000, 1_580_000),
        # The event's 1.10 wins over the stated 1.05: 6,000 EUR = US$ 6,600.
        ("EUR", Decimal("1.1"), RateSource.EVENT, 2, 600_000, 660_000),
    ]


def test_report_breakdowns_by_buyer_country_sector_chapter_region_and_group(
    known: Known,
) -> None:
    _, report = known
    by = {b.dimension: b for b in report.breakdowns}
    assert [b.dimension for b in report.breakdowns] == [
        "buyer_country",
        "sector",
        "hs_chapter",
        "region",
        "inclusion_group",
    ]
    assert by["buyer_country"].rows == (
        BreakdownRow("US", "United States (US)", 2, 2, 2, 3_340_000, 5_590_000),
        BreakdownRow("DE", "Germany (DE)", 3, 2, 0, 0, 300_000),
    )
    assert by["sector"].rows == (
        BreakdownRow("0111", "0111", 2, 2, 1, 2_800_000, 4_200_000),
        BreakdownRow("1030", "1030", 2, 2, 1, 540_000, 1_690_000),
        BreakdownRow("1410", "1410", 1, 0, 0, 0, 0),
    )
    assert by["hs_chapter"].rows == (
        BreakdownRow("09", "09 coffee, tea and spices", 4, 4, 2, 3_340_000, 5_890_000),
        BreakdownRow("61", "61 knitted apparel", 1, 0, 0, 0, 0),
    )
    assert by["region"].rows == (
        BreakdownRow("Antioquia", "Antioquia", 3, 2, 1, 2_800_000, 4_200_000),
        BreakdownRow("Valle del Cauca", "Valle del Cauca", 2, 2, 1, 540_000, 1_690_000),
    )
    assert by["inclusion_group"].rows == (
        BreakdownRow("women_led", "Women-led", 2, 2, 1, 2_800_000, 4_200_000),
        BreakdownRow("peasant", "Peasant", 2, 2, 1, 540_000, 1_690_000),
        BreakdownRow("indigenous", "Indigenous", 2, 2, 1, 540_000, 1_690_000),
        BreakdownRow("conflict_victim", "Conflict victim", 0, 0, 0, 0, 0),
        BreakdownRow("none", "None of these", 1, 0, 0, 0, 0),
    )
    for dimension in ("buyer_country", "sector", "hs_chapter", "region"):
        rows = by[dimension].rows
        assert sum(r.conservative_usd_cents for r in rows) == report.expected.conservative.total
        assert sum(r.declared_usd_cents for r in rows) == report.expected.declared.total
        assert sum(r.meetings for r in rows) == 5


def test_report_followups_compare_actuals_with_expectations(known: Known) -> None:
    _, report = known
    three, six, twelve = report.followups
    assert (three.wave, three.invited, three.completed, three.response_rate) == (
        SurveyWave.FOLLOWUP_3M,
        4,
        2,
        0.5,
    )
    # S1: US$ 5,000 + 1,000 EUR at 1.10; B1: US$ 3,000.
    assert (three.closed_usd_cents, three.exported_usd_cents) == (910_000, 400_000)
    # Their own declarations up to 3 months: S1 8,000 + 30,000; B1 10,000 + 20,000 + 5,500.
    assert three.expected_by_respondents_usd_cents == 7_350_000
    assert three.closed_vs_expected == 910_000 / 7_350_000
    assert (three.conservative_to_horizon_usd_cents, three.declared_to_horizon_usd_cents) == (
        3_340_000,
        4_650_000,
    )
    assert three.products == (ProductRow("090111", 800_000, 400_000), ProductRow("0901", 110_000, 0))
    assert (six.invited, six.completed, six.response_rate, six.closed_usd_cents, six.products) == (
        4,
        0,
        0.0,
        0,
        (),
    )
    assert (six.expected_by_respondents_usd_cents, six.closed_vs_expected) == (0, None)
    assert (six.conservative_to_horizon_usd_cents, six.declared_to_horizon_usd_cents) == (
        3_340_000,
        4_850_000,
    )
    assert (twelve.invited, twelve.response_rate) == (0, None)
    assert (twelve.conservative_to_horizon_usd_cents, twelve.declared_to_horizon_usd_cents) == (
        3_340_000,
        5_890_000,
    )


def test_report_of_a_roundtable_has_no_mission_section(known: Known) -> None:
    _, report = known
    assert report.mission is None
    assert (report.slug, report.kind.value) == ("rueda-resultados", "roundtable")


def test_report_figures_are_the_same_on_every_backend(engine: Engine, now: datetime) -> None:
    event = build_known_event(engine, now)
    with transaction(engine) as session:
        report = build_report(session, event.event_id, now=now)
    pair = (event, report)
    for check in (
        test_report_funnel_counts_each_stage_in_its_unit,
        test_report_agenda_quality_counts_meetings_breaks_and_the_minimum,
        test_report_response_rates_per_wave,
        test_report_satisfaction_and_nps,
        test_report_expected_business_conservative_and_declared,
        test_report_flags_disagreements_without_averaging,
        test_report_converts_currencies_at_the_events_rate_else_the_stated_one,
        test_report_breakdowns_by_buyer_country_sector_chapter_region_and_group,
        test_report_followups_compare_actuals_with_expectations,
        test_report_of_a_roundtable_has_no_mission_section,
    ):
        check(pair)
