"""The pure rules behind surveys and the report: conversion, tolerance, reconciliation, breaks,
reminder selection, and conservative never above declared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import MeetingStatus, SurveyInvitation, SurveyWave
from services.errors import DomainError
from services.report import compute_expected, conservative_amounts, count_breaks, declared_amounts
from services.surveys import (
    AmountTolerance,
    Disagreement,
    DisagreementKind,
    MeetingSides,
    RateSource,
    SideAnswer,
    find_disagreements,
    select_due_reminders,
    to_usd_cents,
    usd_rate_for,
)

pytestmark = pytest.mark.unit

SENT_AT = datetime(2027, 5, 21, 12, tzinfo=UTC)


def _side(took_place: bool | None, *amounts: int, participant_id: int = 1) -> SideAnswer:
    padded = (*amounts, 0, 0, 0, 0)[:4]
    return SideAnswer(
        participant_id, took_place, None, (padded[0], padded[1], padded[2], padded[3]), "USD", RateSource.USD
    )


def _meeting(
    host: SideAnswer | None, visitor: SideAnswer | None, status: MeetingStatus = MeetingStatus.HELD
) -> MeetingSides:
    return MeetingSides(7, status, host, visitor)


@pytest.mark.parametrize(
    ("currency", "stated", "expected"),
    [
        ("USD", 3.0, (Decimal(1), RateSource.USD)),
        ("EUR", 1.05, (Decimal("1.1"), RateSource.EVENT)),
        ("COP", 0.00025, (Decimal("0.00025"), RateSource.STATED)),
        ("COP", None, (None, RateSource.MISSING)),
    ],
)
def test_usd_rate_prefers_the_events_rate_then_the_stated_one(
    currency: str, stated: float | None, expected: tuple[Decimal | None, RateSource]
) -> None:
    assert usd_rate_for(currency, stated, {"EUR": 1.10}) == expected


@pytest.mark.parametrize(
    ("cents", "rate", "usd_cents"),
    [(100, "1.1", 110), (5, "0.5", 3), (15, "0.1", 2), (14, "0.1", 1), (2_160_000_000, "0.00025", 540_000)],
)
def test_conversion_rounds_half_up_to_the_cent(cents: int, rate: str, usd_cents: int) -> None:
    assert to_usd_cents(cents, Decimal(rate)) == usd_cents


@pytest.mark.parametrize(
    ("first", "second", "agrees"),
    [
        (0, 10_000, True),  # within the absolute US$ 100
        (0, 10_001, False),
        (100_000, 75_000, True),  # exactly 25% of the larger
        (100_000, 74_999, False),
        (0, 0, True),
    ],
)
def test_tolerance_is_the_larger_of_absolute_and_relative(first: int, second: int, agrees: bool) -> None:
    tolerance = AmountTolerance(relative=0.25, absolute_cents=10_000)
    assert tolerance.agrees(first, second) is agrees
    assert tolerance.agrees(second, first) is agrees


def test_reconciliation_flags_each_kind_and_skips_one_sided_answers() -> None:
    meetings = [
        MeetingSides(1, MeetingStatus.HELD, _side(True, 100_000), _side(False)),
        MeetingSides(2, MeetingStatus.HELD, _side(True, 100_000, 0, 0, 50_000), _side(True, 90_000, 0, 0, 0)),
        MeetingSides(3, MeetingStatus.NO_SHOW, _side(True), _side(True)),
        MeetingSides(4, MeetingStatus.HELD, _side(False), _side(False)),
        MeetingSides(5, MeetingStatus.SCHEDULED, _side(False), _side(False)),
        MeetingSides(6, MeetingStatus.HELD, _side(True, 1), None),
        MeetingSides(7, MeetingStatus.NO_SHOW, _side(False), _side(False)),
    ]
    assert find_disagreements(meetings, AmountTolerance()) == [
        Disagreement(
            1, DisagreementKind.TOOK_PLACE, "host says it took place, visitor says it did not take place"
        ),
        Disagreement(2, DisagreementKind.AMOUNT, "12m: host US$ 500.00, visitor US$ 0.00", ("12m",)),
        Disagreement(3, DisagreementKind.STATUS, "both sides say it took place; recorded as no_show"),
        Disagreement(4, DisagreementKind.STATUS, "both sides say it did not take place; recorded as held"),
    ]


def test_conservative_takes_the_lower_side_of_confirmed_meetings_only() -> None:
    both = _meeting(_side(True, 100, 50, 0, 7), _side(True, 80, 60, 5, 0))
    assert conservative_amounts(both) == (80, 50, 0, 0)
    assert declared_amounts(both) == (100, 60, 5, 7)
    one_side = _meeting(_side(True, 100), _side(False))
    assert conservative_amounts(one_side) is None
    assert declared_amounts(one_side) == (100, 0, 0, 0)
    assert declared_amounts(_meeting(_side(False), None)) is None


amounts = st.tuples(*[st.integers(0, 10**9)] * 4)
sides = st.one_of(
    st.none(),
    st.builds(
        lambda took, a: SideAnswer(1, took, None, a, "USD", RateSource.USD),
        st.sampled_from([True, False, None]),
        amounts,
    ),
)


@given(st.lists(st.tuples(sides, sides), max_size=12))
def test_conservative_never_exceeds_declared(
    pairs: list[tuple[SideAnswer | None, SideAnswer | None]],
) -> None:
    expected = compute_expected([MeetingSides(i, MeetingStatus.HELD, h, v) for i, (h, v) in enumerate(pairs)])
    for low, high in zip(expected.conservative.as_tuple(), expected.declared.as_tuple(), strict=True):
        assert low <= high
    assert expected.conservative_meetings <= expected.declared_meetings


@pytest.mark.parametrize(
    ("busy", "breaks"),
    [
        (set(), 0),
        ({0}, 0),
        ({0, 1, 2}, 0),
        ({0, 2}, 1),
        ({0, 3}, 1),  # one run of two idle slots is one break
        ({0, 2, 4}, 1),  # day 1 has one break; a single meeting on day 2 has none
        ({3, 4}, 0),  # the last slot of day 1 and the first of day 2 are not one agenda
        ({2, 5}, 0),
        ({0, 2, 4, 6}, 2),
    ],
)
def test_breaks_are_idle_runs_between_the_first_and_last_meeting_of_a_day(
    busy: set[int], breaks: int
) -> None:
    assert count_breaks(busy, {0: [0, 1, 2, 3], 1: [4, 5, 6]}) == breaks


def _invitation(**fields: object) -> SurveyInvitation:
    data: dict[str, object] = {
        "id": 1,
        "event_id": 1,
        "participant_id": 1,
        "wave": SurveyWave.POST_EVENT,
        "token_hash": "x",
        "created_at": SENT_AT,
        "sent_at": SENT_AT,
    }
    data.update(fields)
    return SurveyInvitation(**data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "at", "is_due"),
    [
        ({}, SENT_AT + timedelta(days=3), True),
        ({}, SENT_AT + timedelta(days=2, hours=23), False),
        ({"sent_at": None}, SENT_AT + timedelta(days=5), False),
        ({"completed_at": SENT_AT}, SENT_AT + timedelta(days=5), False),
        ({"reminders_sent": 2}, SENT_AT + timedelta(days=9), False),
        (
            {"reminders_sent": 1, "last_reminded_at": SENT_AT + timedelta(days=4)},
            SENT_AT + timedelta(days=6),
            False,
        ),
        (
            {"reminders_sent": 1, "last_reminded_at": SENT_AT + timedelta(days=4)},
            SENT_AT + timedelta(days=7),
            True,
        ),
        ({}, SENT_AT + timedelta(days=30), False),
    ],
)
def test_reminder_selection(fields: dict[str, object], at: datetime, is_due: bool) -> None:
    due = select_due_reminders(
        [_invitation(**fields)], now=at, max_reminders=2, spacing=timedelta(days=3), window=timedelta(days=30)
    )
    assert bool(due) is is_due


def test_reminder_settings_cannot_be_negative() -> None:
    with pytest.raises(DomainError, match="cannot be negative"):
        select_due_reminders(
            [], now=SENT_AT, max_reminders=-1, spacing=timedelta(days=1), window=timedelta(days=1)
        )
