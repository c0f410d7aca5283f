"""Rows stored before the survey checked its numbers: a rate of infinity, NaN or none, an amount of
1e30 or infinity (SQLite keeps them as floats in an integer column; PostgreSQL only takes a bigint
far over the bound), written straight into the table of the known event. The report never fails
because of them: it counts the answer as if it had no amounts and names it, with its reason, in
every output; `rueda report` writes the files; the API's disagreement list answers 200.

The known event (tests/surveys/known_event.py) reports US$ 33,400 conservative and US$ 58,900
declared. Excluding S2's COP answer on M2 and B2's answers on M3 and M5 leaves US$ 28,000
conservative (M1 8,000 + 20,000; M2 immediate min(5,500, 0)) and US$ 45,500 declared (M1 40,000,
M2 5,500)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.report_cmd import report_command
from models import SurveyInvitation, SurveyResponse, SurveyResponseKind, SurveyWave
from services.db import transaction
from services.report import OutcomeReport, build_report
from services.report_render import render_report_html, render_report_markdown
from services.surveys import AMOUNT_FIELDS
from tests.portal.api.seed import Seeded, seed
from tests.portal.conftest import Portal

pytestmark = pytest.mark.integration

RATE = "no usable rate to US$ for COP: stated"
AMOUNT = "not whole cents from 0 to 10^13"


def _row(
    session: Session,
    seeded: Seeded,
    who: str,
    wave: SurveyWave,
    *,
    meeting: str | None = None,
    hs: str | None = None,
) -> int:
    query = (
        select(SurveyResponse.id)
        .join(SurveyInvitation, col(SurveyInvitation.id) == col(SurveyResponse.invitation_id))
        .where(SurveyInvitation.participant_id == seeded.people[who], SurveyInvitation.wave == wave)
    )
    if meeting is not None:
        query = query.where(SurveyResponse.meeting_id == seeded.meetings[meeting])
    if hs is not None:
        query = query.where(SurveyResponse.kind == SurveyResponseKind.FOLLOWUP, SurveyResponse.hs_code == hs)
    found = session.exec(query).one()
    assert found is not None
    return found


def _corrupt(engine: Engine, seeded: Seeded) -> dict[str, tuple[int, str]]:
    """Write the bad values; answer {name: (response id, expected reason)} of the excluded rows."""
    on_sqlite = engine.dialect.name == "sqlite"
    big: Any = 1e30 if on_sqlite else 10**18
    big_text = "1e+30" if on_sqlite else "1000000000000000000"
    post, followup = SurveyWave.POST_EVENT, SurveyWave.FOLLOWUP_3M
    with transaction(engine) as session:
        rows = {
            "S2/M2": _row(session, seeded, "S2", post, meeting="M2"),
            "B2/M5": _row(session, seeded, "B2", post, meeting="M5"),
            "B2/M3": _row(session, seeded, "B2", post, meeting="M3"),
            "S1/090111": _row(session, seeded, "S1", followup, hs="090111"),
            "B1/M1": _row(session, seeded, "B1", post, meeting="M1"),
        }
        writes: dict[str, dict[str, Any]] = {
            "S2/M2": {"usd_rate": math.inf},
            "B2/M5": {"expected_immediate_cents": big},
            # Infinity in an integer column on SQLite; a COP answer with a NaN rate on PostgreSQL.
            "B2/M3": {"expected_6m_cents": math.inf}
            if on_sqlite
            else {"currency": "COP", "usd_rate": math.nan},
            "S1/090111": {"actual_exported_cents": big},
            # A US$ answer needs no rate: a NaN one excludes nothing (SQLite stores NaN as NULL).
            "B1/M1": {"usd_rate": math.nan},
        }
        for name, values in writes.items():
            session.execute(
                update(SurveyResponse).where(col(SurveyResponse.id) == rows[name]).values(**values)
            )
    b2_m3 = f"expected_6m_cents stored as inf: {AMOUNT}" if on_sqlite else f"{RATE} nan"
    return {
        "S2/M2": (rows["S2/M2"], f"{RATE} inf"),
        "B2/M5": (rows["B2/M5"], f"expected_immediate_cents stored as {big_text}: {AMOUNT}"),
        "B2/M3": (rows["B2/M3"], b2_m3),
        "S1/090111": (rows["S1/090111"], f"actual_exported_cents stored as {big_text}: {AMOUNT}"),
    }


def _report(engine: Engine, seeded: Seeded, now: datetime) -> OutcomeReport:
    with transaction(engine) as session:
        return build_report(session, seeded.event_a, now=now)


@pytest.fixture
def seeded(engine: Engine, now: datetime) -> Seeded:
    return seed(engine, now)


def test_bad_stored_answers_are_excluded_and_named(engine: Engine, seeded: Seeded, now: datetime) -> None:
    expected = _corrupt(engine, seeded)
    report = _report(engine, seeded, now)
    p = seeded.people
    organizations = {
        p["S2"]: "Frutas del Valle SAS",
        p["B2"]: "Hamburg Kaffee GmbH",
        p["S1"]: "Café Andino SAS",
    }
    assert [(x.response_id, x.reason) for x in report.excluded] == sorted(expected.values())
    assert [(x.participant_id, x.organization) for x in report.excluded] == [
        (pid, organizations[pid]) for pid in (x.participant_id for x in report.excluded)
    ]
    by_id = {x.response_id: x for x in report.excluded}
    assert (by_id[expected["S2/M2"][0]].wave, by_id[expected["S2/M2"][0]].meeting_id) == (
        SurveyWave.POST_EVENT,
        seeded.meetings["M2"],
    )
    assert (by_id[expected["S1/090111"][0]].wave, by_id[expected["S1/090111"][0]].kind) == (
        SurveyWave.FOLLOWUP_3M,
        SurveyResponseKind.FOLLOWUP,
    )
    assert (report.expected.conservative.total, report.expected.declared.total) == (2_800_000, 4_550_000)
    # Only good amounts in the currency table (B2 on M5 and M3 and S1's line are out); a COP answer
    # with no usable rate stays there as "not converted" (on PostgreSQL B2's M3 answer is one too).
    cop_answers, cop_cents = (1, 6_320_000_000) if engine.dialect.name == "sqlite" else (2, 6_320_200_000)
    assert [
        (c.currency, c.source.value, c.answers, c.original_cents, c.usd_cents) for c in report.currencies
    ] == [
        ("USD", "usd", 3, 7_100_000, 7_100_000),
        ("COP", "missing", cop_answers, cop_cents, None),
        ("EUR", "event", 2, 600_000, 660_000),
    ]

    markdown = render_report_markdown(report).splitlines()
    assert "| Answers excluded from the US$ figures | 4 |" in markdown
    assert "| Conservative expected business | US$ 28,000 |" in markdown
    assert "| Declared expected business | US$ 45,500 |" in markdown
    assert "**Answers excluded from the US$ figures: 4**" in markdown
    s2 = f"- Frutas del Valle SAS (participant {p['S2']}), Post-event, meeting {seeded.meetings['M2']}: {RATE} inf"
    s1 = (
        f"- Café Andino SAS (participant {p['S1']}), Follow-up 3 months, followup: {expected['S1/090111'][1]}"
    )
    assert s2 in markdown and s1 in markdown
    assert len([line for line in markdown if line.startswith("- ")]) == 4
    html = render_report_html(report)
    assert "Answers excluded from the US$ figures: 4</h3>" in html
    assert html.count('<td class="flag">no usable rate') + html.count(f"{AMOUNT}</td>") == 4

    # The figures are those of the same answers without their amounts: excluded means "as if empty".
    with transaction(engine) as session:
        ids = [row_id for row_id, _ in expected.values()]
        session.execute(
            update(SurveyResponse)
            .where(col(SurveyResponse.id).in_(ids))
            .values(**dict.fromkeys(AMOUNT_FIELDS), usd_rate=None, currency="USD")
        )
    emptied = _report(engine, seeded, now)
    assert emptied.excluded == ()
    assert (report.expected, report.breakdowns, report.followups) == (
        emptied.expected,
        emptied.breakdowns,
        emptied.followups,
    )


def test_rueda_report_and_the_api_go_on(
    engine: Engine,
    db_url: str,
    seeded: Seeded,
    make_portal: Callable[..., Portal],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = _corrupt(engine, seeded)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUEDA_DATA_DIR", raising=False)
    monkeypatch.setenv("RUEDA_DATABASE__URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    app = typer.Typer()
    app.command()(report_command)
    result = CliRunner().invoke(app, ["--event", "rueda-resultados"])
    assert result.exit_code == 0, result.output
    assert "US$ 28,000 conservative, US$ 45,500 declared" in result.output
    html = (tmp_path / "report-rueda-resultados" / "report.html").read_text(encoding="utf-8")
    assert "Answers excluded from the US$ figures: 4</h3>" in html
    for _, reason in expected.values():
        assert f'<td class="flag">{reason}</td>' in html, reason
    summary = (tmp_path / "report-rueda-resultados" / "csv" / "summary.csv").read_text(encoding="utf-8-sig")
    assert "Answers excluded from the US$ figures,4" in summary.splitlines()

    portal = make_portal(engine)
    headers = {"Authorization": f"Bearer {seeded.tokens['ana']}"}
    m = seeded.meetings
    with portal.client() as client:
        response = client.get("/api/v1/events/rueda-resultados/survey-disagreements", headers=headers)
        assert response.status_code == 200
        # M2's COP side counts as empty now: its 12-month amount no longer differs, its immediate does.
        assert [(d["meeting_id"], d["kind"], d["horizons"]) for d in response.json()] == [
            (m["M1"], "amount", ["3m"]),
            (m["M2"], "amount", ["immediate"]),
            (m["M3"], "took_place", []),
        ]
        assert response.json()[1]["detail"] == (
            f"immediate: host US$ 5,500.00, visitor US$ 0.00 (visitor's amounts excluded: {RATE} inf)"
        )
        # The raw listing shows a number JSON cannot carry, or a float in an integer column, as null.
        listed = client.get(
            "/api/v1/events/rueda-resultados/survey-responses", params={"limit": 500}, headers=headers
        )
        assert listed.status_code == 200
    items = {item["id"]: item for item in listed.json()["items"]}
    on_sqlite = engine.dialect.name == "sqlite"
    assert items[expected["S2/M2"][0]]["usd_rate"] is None
    assert items[expected["B2/M5"][0]]["expected_immediate_cents"] == (None if on_sqlite else 10**18)
    assert items[expected["S1/090111"][0]]["actual_exported_cents"] == (None if on_sqlite else 10**18)
    assert items[expected["S1/090111"][0]]["actual_closed_cents"] == 500_000
