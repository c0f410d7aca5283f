"""Survey numbers: what a person types into an amount, a rate or a small number either becomes a
bounded, finite value or a sentence beside the field; never NaN, infinity or an overflow stored, and
a rate stored before the bounds were checked never breaks the US$ conversion of the report."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from portal.participant import _cents, _rate, _small_int
from services.surveys import (
    MAX_AMOUNT_CENTS,
    MeetingAnswer,
    RateSource,
    to_usd_cents,
    usd_rate_for,
    validate_meeting_answer,
)

NOT_NUMBERS = [
    "NaN",
    "nan",
    "sNaN",
    "-sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e999999999",
    "1E30",
    "١٢٣",
    "²",
    "0x10",
]
TYPED = st.one_of(
    st.sampled_from(NOT_NUMBERS),
    st.text(max_size=30),
    st.from_regex(r"-?[0-9]{1,25}([.,][0-9]{1,4})?", fullmatch=True),
    st.floats().map(str),
)


@given(TYPED)
def test_an_amount_is_bounded_whole_cents_or_a_sentence(text: str) -> None:
    cents, problem = _cents(text)
    if problem is None:
        assert cents is None or (isinstance(cents, int) and 0 <= cents <= MAX_AMOUNT_CENTS)
    else:
        assert cents is None
        assert problem in (
            "Write an amount with digits only, like 25000.",
            "cannot be negative",
            "is implausibly large; check the number of digits",
        )


def test_the_named_amounts() -> None:
    assert _cents("12.500,50") == (1_250_050, None)
    assert _cents("25000") == (2_500_000, None)
    for text in NOT_NUMBERS:
        assert _cents(text)[1] in (
            "Write an amount with digits only, like 25000.",
            "is implausibly large; check the number of digits",
        ), text
    assert _cents("100000000001") == (None, "is implausibly large; check the number of digits")


@given(TYPED)
def test_a_small_number_is_three_ascii_digits_or_nothing(text: str) -> None:
    value = _small_int(text)
    assert value is None or 0 <= value <= 999


@given(TYPED)
def test_a_rate_that_is_not_finite_and_bounded_is_refused_naming_the_field(text: str) -> None:
    rate = _rate(text)
    answer = MeetingAnswer(meeting_id=1, took_place=True, currency="COP", usd_rate=rate)
    errors = validate_meeting_answer(answer, {}, prefix="m1")
    usable = rate is not None and math.isfinite(rate) and 0 < rate <= 1_000_000
    assert [e.field for e in errors] == ([] if usable else ["m1.usd_rate"])


def test_a_rate_refused_on_a_us_dollar_answer_too() -> None:
    answer = MeetingAnswer(meeting_id=1, took_place=True, currency="USD", usd_rate=math.inf)
    assert [e.field for e in validate_meeting_answer(answer, {}, prefix="m1")] == ["m1.usd_rate"]


@given(st.sampled_from([math.inf, -math.inf, math.nan, 1e30, 0.0, -1.0]))
def test_a_stored_rate_that_is_not_usable_counts_as_missing(rate: float) -> None:
    assert usd_rate_for("COP", rate, {}) == (None, RateSource.MISSING)
    assert usd_rate_for("COP", None, {"COP": rate}) == (None, RateSource.MISSING)


def test_a_huge_stored_amount_converts_without_overflow() -> None:
    assert to_usd_cents(10**20, Decimal(1_000_000)) == 10**26


@given(
    st.sampled_from(["\x00", "\x1b", "\x7f", "\u202e", "\u2028"]), st.sampled_from(["next_steps", "comments"])
)
def test_survey_free_text_goes_through_the_one_validator(char: str, field: str) -> None:
    answer = MeetingAnswer(meeting_id=1, took_place=True, **{field: f"Enviar{char} muestras"})
    assert [(e.field, e.message) for e in validate_meeting_answer(answer, {}, prefix="m1")] == [
        (f"m1.{field}", "remove control characters and direction marks")
    ]
    lines = MeetingAnswer(meeting_id=1, took_place=True, comments="Dos\r\ncontenedores\n\tal mes")
    assert validate_meeting_answer(lines, {}, prefix="m1") == []
