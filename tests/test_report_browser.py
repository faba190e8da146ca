"""The report in a real headless browser: Debian's chromium driven by Playwright.

These tests never skip: without chromium they fail and say how to install it (`make browser`).
Every request is routed through the test, so anything loaded from outside the report folder
is seen and refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import Visit, visit
from test_report import XSS, compare_report, hostile_report, shipped_report

# The reports are built once per worker: these tests run where test_report's do.
pytestmark = pytest.mark.xdist_group("report")


def open_report(browser, index: Path) -> Visit:
    """Open a report's ``index.html``; requests outside its folder are recorded and refused."""
    return visit(browser, index, local=index.parent.as_uri() + "/",
                 viewport={"width": 1280, "height": 900})


def map_frame(page, *, maps: int = 1):
    """The embedded map's frame, once Leaflet has drawn it and its ``maps`` maps have
    registered (then 300 ms more for the page to settle)."""
    frame = page.frame_locator("#map iframe.map")
    frame.locator(".leaflet-container").first.wait_for(state="attached", timeout=20000)
    found = next(f for f in page.frames if f.url.endswith("/map.html"))
    found.wait_for_function(f"window.routes && Object.keys(window.routes.registry).length "
                            f">= {maps}")
    page.wait_for_timeout(300)
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return shipped_report(tmp_path_factory)


def test_report_opens_without_errors(browser, report: Path) -> None:
    with open_report(browser, report / "index.html") as v:
        page = v.page
        frame = map_frame(page)
        assert v.errors == []
        assert v.outside == []
        assert v.dialogs == []
        assert any(u.endswith("/map.html") for u in v.requests)
        # every chart is a loaded image
        images = page.eval_on_selector_all(
            "img.chart", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])")
        assert len(images) >= 5
        assert all(done and width > 0 for _, done, width in images), images
        # the navigation reaches every section
        ids = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
        for href in ids:
            assert page.locator(href).count() == 1, href
        # the map drew its layers (markers and lines) inside the frame
        n = frame.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
        assert n > 100


def test_report_tables_show_the_data(browser, report: Path) -> None:
    with open_report(browser, report / "index.html") as v:
        rows = v.page.locator("#crossings table").first.locator("tbody tr")
        assert rows.count() == 15
        first = rows.first.locator("td").all_inner_texts()
        assert first[0] == "1" and first[1].startswith("x_")


@pytest.mark.xdist_group("hostile_report")   # its own report, built once on one worker
def test_hostile_text_runs_nothing(browser, tmp_path_factory) -> None:
    out = hostile_report(tmp_path_factory)
    with open_report(browser, out / "index.html") as v:
        page = v.page
        frame = map_frame(page)
        assert v.dialogs == []
        assert v.errors == []
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"], script:not([src])')"
                             ".length") == 0
        assert XSS in page.inner_text("#crossings")  # shown as text
        assert frame.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0


@pytest.mark.xdist_group("compare_report")   # its own report, built once on one worker
def test_compare_report_opens_without_errors(browser, tmp_path_factory) -> None:
    out = compare_report(tmp_path_factory)
    with open_report(browser, out / "index.html") as v:
        frame = map_frame(v.page, maps=2)
        assert v.errors == []
        assert v.outside == []
        assert frame.evaluate("document.querySelectorAll('.folium-map').length") == 2
