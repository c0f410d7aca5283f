"""The agenda email in a real browser engine (headless Chromium via Playwright): the layout fits a
phone and a desktop without horizontal scrolling, the inlined styles apply, the table numbers show.
With RUEDA_UPDATE_SNAPSHOTS=1 it also refreshes the screenshot in docs/images/agenda-email.png."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from notifications.render import render_message
from notifications.samples import sample_contexts
from tests.notifications.snapshots import UPDATE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "agenda-email.png"
ORGANIZER_TEXT = (
    "Traiga tarjetas de presentación.\n\nEl parqueadero está en el sótano, entrada por la Calle 38."
)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _check_layout(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") == width
    assert page.locator(".table-code").all_inner_texts() == ["Mesa T12", "Mesa T13", "Mesa T14"]
    assert page.locator(".header").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(15, 118, 110)"
    container = page.locator(".container").bounding_box()
    assert container is not None
    assert container["width"] == min(600, width - 16)
    button = page.get_by_role("link", name="Ver mi agenda")
    assert button.is_visible()
    assert button.get_attribute("href") == "https://rueda.example.org/e/macrorrueda-2027/agenda"


def test_agenda_email_renders_in_headless_chromium(tmp_path: Path) -> None:
    rendered = render_message(
        "agenda.published", sample_contexts()["agenda.published"], "es", organizer_text=ORGANIZER_TEXT
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            for width in (375, 700):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.set_content(rendered.html, wait_until="load")
                assert page.title() == "Su agenda de Macrorrueda Pacífico 2027: 3 reuniones"
                _check_layout(page, width)
                png = page.screenshot(full_page=True)
                shot_width, shot_height = _png_size(png)
                assert shot_width == width
                assert shot_height > 900 if width == 375 else shot_height >= 900
                (tmp_path / f"agenda-{width}.png").write_bytes(png)
                if UPDATE and width == 700:
                    SCREENSHOT.write_bytes(png)
                page.close()
        finally:
            browser.close()
