"""The survey form driven over real HTTP with hostile answers (issue 13, items 1 and 3): whatever a
participant types into any field (numbers in other scripts, NaN, Infinity, huge or negative amounts,
rates of any kind, controls and direction marks in the free text, unknown choices), the portal
answers 200 with the answers saved or 422 with the form, never a 500; after a refusal the stored
answers are unchanged; whatever was saved is bounded and finite; the outcome report still builds;
and afterwards the dispatcher still delivers an unrelated message."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import SmtpSettings
from models import SurveyResponse, SurveyWave
from notifications.dispatcher import dispatch_due
from notifications.sink import MailSink
from services.db import run_in_transaction, transaction
from services.report import build_report
from services.surveys import MAX_AMOUNT_CENTS, create_invitations
from tests.notifications.seed import Seeded, queue_sample
from tests.portal.conftest import Portal, csrf_of
from tests.surveys.known_event import build_roundtable

pytestmark = pytest.mark.integration

numbers = st.one_of(
    st.sampled_from(
        [
            "",
            "NaN",
            "sNaN",
            "-Infinity",
            "Infinity",
            "1e999999999",
            "1e30",
            "-5",
            "٣٤٥",
            "１２",
            "0x10",
            "12.500,50",
        ]
    ),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30),
)
free_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["ok\r\nBcc: x@example.com", "\u202eevil", "nul\x00byte", "a" * 600, "bell\x07"]),
)
choices = st.one_of(
    st.sampled_from(["", "1", "3", "5", "10", "11", "-1", "yes", "no", "maybe"]), st.text(max_size=5)
)


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as session:
        rows = session.exec(select(SurveyResponse).order_by(col(SurveyResponse.id))).all()
        return [tuple(r.model_dump().values()) for r in rows]


def test_hostile_survey_answers_get_a_page_never_a_500(
    portal: Portal, smtp: SmtpSettings, sink: MailSink
) -> None:
    now = datetime.now(UTC)
    with transaction(portal.engine) as session:
        event_id, people, meetings = build_roundtable(session, now)
    links = run_in_transaction(
        portal.engine, lambda s: create_invitations(s, event_id, SurveyWave.POST_EVENT, now=now)
    )
    token = next(link.token for link in links if link.participant_id == people["B1"])
    m1, m2 = meetings["M1"], meetings["M2"]
    outcomes: list[int] = []

    @settings(
        max_examples=60,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        took=st.sampled_from(["yes", "no", "", "perhaps"]),
        amounts=st.lists(numbers, min_size=4, max_size=4),
        rate=numbers,
        currency=st.one_of(st.sampled_from(["USD", "EUR", "COP", "usd", "€€€", ""]), st.text(max_size=4)),
        interest=choices,
        satisfaction=choices,
        recommend=choices,
        next_steps=free_text,
        comments=free_text,
    )
    def answer(
        took: str,
        amounts: list[str],
        rate: str,
        currency: str,
        interest: str,
        satisfaction: str,
        recommend: str,
        next_steps: str,
        comments: str,
    ) -> None:
        before = _stored(portal.engine)
        with portal.client() as client:
            page = client.get("/survey", params={"t": token})
            assert page.status_code == 200
            form = {
                "t": token,
                "csrf_token": csrf_of(page.text),
                f"m{m1}_took_place": took,
                f"m{m1}_interest": interest,
                f"m{m1}_currency": currency,
                f"m{m1}_usd_rate": rate,
                f"m{m1}_next_steps": next_steps,
                f"m{m2}_took_place": "yes",
                "satisfaction": satisfaction,
                "recommend": recommend,
                "comments": comments,
            }
            for horizon, amount in zip(("immediate", "3m", "6m", "12m"), amounts, strict=True):
                form[f"m{m1}_expected_{horizon}"] = amount
            response = client.post("/survey", data=form)
        assert response.status_code in (200, 422), response.text[-800:]
        outcomes.append(response.status_code)
        if response.status_code == 422:
            assert 'class="error"' in response.text
            assert _stored(portal.engine) == before
        with Session(portal.engine) as session:
            for row in session.exec(select(SurveyResponse)).all():
                for cents in (
                    row.expected_immediate_cents,
                    row.expected_3m_cents,
                    row.expected_6m_cents,
                    row.expected_12m_cents,
                ):
                    assert cents is None or 0 <= cents <= MAX_AMOUNT_CENTS
                assert row.usd_rate is None or (math.isfinite(row.usd_rate) and row.usd_rate > 0)
            build_report(session, event_id, now=now)

    answer()
    # Both kinds of outcome were reached: the strategies are not all refused, nor all accepted.
    assert {200, 422} <= set(outcomes)
    # After all of it, an unrelated message still goes out.
    with Session(portal.engine) as session:
        key = queue_sample(
            session, Seeded(event_id, [people["S1"]]), kind="login.requested", index=0, due_at=now, now=now
        )
        session.commit()
    report = dispatch_due(portal.engine, smtp, calendar_domain="rueda.localhost", clock=lambda: now)
    assert (report.sent, report.failed) == (1, 0)
    assert len(sink.entries()) == 1 and key
