"""The demo event's report: simulated answers agree with the figures, and the HTML renders in
headless Chromium with every chart; its screenshot is docs/images/report.png (the README shows it).
The known event's page is opened too, to check the figures a reader sees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.db import make_engine, transaction
from services.report import OutcomeReport, build_report
from services.report_demo import SimulatedOutcome
from services.report_render import ReportFiles, render_report_html
from tests.conftest import NOW
from tests.screenshots import screenshot_dir
from tests.surveys.demo_event import build_demo_event

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOT = screenshot_dir() / "report.png"


@pytest.fixture(scope="module")
def demo(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SimulatedOutcome, OutcomeReport]:
    path = tmp_path_factory.mktemp("demo") / "rueda.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        event_id, outcome = build_demo_event(engine, NOW)
        with transaction(engine) as session:
            report = build_report(session, event_id, now=NOW)
    finally:
        engine.dispose()
    return outcome, report


@pytest.mark.integration
def test_demo_report_agrees_with_the_simulated_answers(demo: tuple[SimulatedOutcome, OutcomeReport]) -> None:
    outcome, report = demo
    stages = {s.key: s.count for s in report.funnel.stages}
    assert (stages["held"], report.funnel.no_show) == (outcome.held, outcome.no_show)
    post_event, three, *_ = report.responses
    assert (post_event.invited, post_event.completed) == (outcome.invited, outcome.respondents)
    assert three.completed == outcome.followup_respondents
    assert 0.5 < (post_event.response_rate or 0) < 0.9
    assert 0 < report.expected.conservative.total < report.expected.declared.total
    assert {"took_place", "amount"} <= {d.kind.value for d in report.disagreements}
    assert {c.currency for c in report.currencies} == {"USD", "COP", "EUR"}


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make browser)")
def test_report_renders_in_chromium_with_every_chart(
    demo: tuple[SimulatedOutcome, OutcomeReport], known_files: ReportFiles, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(render_report_html(demo[1]), encoding="utf-8")
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1500})
            page.on("request", lambda request: requests.append(request.url))
            for source, title, conservative in (
                (known_files.html, "Rueda de prueba", "US$ 33,400"),
                (page_file, "Macrorrueda de Negocios Demo", None),
            ):
                page.goto(source.as_uri(), wait_until="load")
                charts = page.locator("img.chart")
                assert charts.count() == 10
                for index in range(charts.count()):
                    chart = charts.nth(index)
                    assert chart.get_attribute("alt")
                    assert chart.evaluate("img => img.complete && img.naturalWidth > 300"), (
                        chart.get_attribute("alt")
                    )
                assert page.locator("h1").inner_text() == title
                if conservative is not None:
                    assert page.locator(".card .value").first.inner_text() == conservative
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    # Self-contained: only the pages themselves were fetched (data: URIs are not requests).
    assert [url for url in requests if not url.startswith("data:")] == [
        known_files.html.as_uri(),
        page_file.as_uri(),
    ]
