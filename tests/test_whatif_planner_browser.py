"""The what-if page as a planner uses it (Chromium, 1400x900): find, legend, popups that stay true.

The page of the shipped data; every request is routed through the test and nothing may
leave the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routes.maps import whatif_data, whatif_html
from test_whatif_browser import click_crossing, open_whatif

ISLAM_QALA = "x_islam_qala_dogharoun"


@pytest.fixture(scope="module")
def shipped_page(tmp_path_factory, dataset, cost_model) -> Path:
    path = tmp_path_factory.mktemp("whatif_planner") / "whatif.html"
    path.write_text(whatif_html(whatif_data(dataset, cost_model)), encoding="utf-8")
    return path


@pytest.fixture
def page(browser, shipped_page):
    with open_whatif(browser, shipped_page) as v:
        yield v
        assert v.outside == [] and v.errors == [] and v.dialogs == []


def _popup(w) -> dict:
    return w.evaluate("""() => { const p = document.querySelector('.leaflet-popup .whatif-popup');
        if (!p) { return null; }
        const rows = {};
        p.querySelectorAll('tr').forEach(r => { rows[r.cells[0].textContent] =
                                                  r.cells[1].textContent; });
        return {rows, buttons: [...p.querySelectorAll('button')].map(b => b.textContent)}; }""")


def _open_popup_by_click(w, crossing: str) -> dict:
    """Click the crossing's marker with the mouse; return its popup's rows and buttons."""
    xy = w.evaluate(
        """(id) => { const m = Object.values(whatif.markers).find(k => k.whatifId === id);
             whatif.map.closePopup(); whatif.map.setView(m.getLatLng(), 9, {animate: false});
             const p = whatif.map.latLngToContainerPoint(m.getLatLng());
             const r = whatif.map.getContainer().getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""", crossing)
    w.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    w.mouse.click(*xy)
    w.locator(".leaflet-popup .whatif-popup").wait_for(state="visible", timeout=3000)
    return _popup(w)


def test_reset_then_reopen_shows_the_current_state(page):
    """Close Islam Qala from its popup, close the popup, press Reset, open it again: the popup
    says open and offers Close (it used to keep the copy made while it was closed)."""
    w = page.page
    after = click_crossing(w, ISLAM_QALA, "closed")
    assert after["changes"] == [[ISLAM_QALA, "closed"]]
    assert _popup(w)["rows"]["state"].startswith("closed")
    w.evaluate("() => { whatif.map.closePopup(); }")
    w.click("#whatif-reset")
    assert w.evaluate("whatif.summary().changes") == []
    got = _open_popup_by_click(w, ISLAM_QALA)
    assert got["rows"]["state"] == "open"
    assert "Close" in got["buttons"] and "Reopen" not in got["buttons"]


def test_an_open_popup_follows_a_reset(page):
    """The popup stays open while Reset is pressed in the panel: it is redrawn at once."""
    w = page.page
    click_crossing(w, ISLAM_QALA, "closed")
    w.click("#whatif-reset")
    got = _popup(w)
    assert got is not None and got["rows"]["state"] == "open"
    assert "Reopen" not in got["buttons"]
    assert "cost model" in got["rows"] and "flow over the k best routes" in got["rows"]


def test_search_finds_a_crossing_and_opens_it(page):
    w = page.page
    w.fill(".routes-search-input", "islam q")
    hits = w.locator(".routes-search-hit").all_inner_texts()
    assert hits and hits[0].startswith("Islam Qala - Dogharoun")
    w.locator(".routes-search-hit").first.click()
    w.locator(".leaflet-popup .whatif-popup").wait_for(state="visible", timeout=3000)
    assert w.inner_text(".leaflet-popup .whatif-popup-title") == "Islam Qala - Dogharoun"
    assert w.evaluate("whatif.map.getZoom()") >= 7


def test_legend_shows_without_scrolling(page):
    w = page.page
    box = w.evaluate("""() => { const r = document.querySelector('.whatif-legend')
                                  .getBoundingClientRect();
        return [r.top, r.bottom, r.left, r.right, innerHeight, innerWidth,
                document.querySelector('.whatif-legend').open]; }""")
    top, bottom, left, right, height, width, is_open = box
    assert is_open and 0 <= top and bottom <= height and 0 <= left and right <= width
    text = w.inner_text(".whatif-legend")
    assert "origin" in text and "market" in text and "crossing closed" in text


def test_page_reads_the_shared_palette(page):
    """The page's colours are the palette's (palette.json), the one definition."""
    from routes.maps._palette import PALETTE

    w = page.page
    got = w.evaluate("""() => ({pal: window.ROUTES_PALETTE,
        legend: [...document.querySelectorAll('.whatif-legend circle')].map(
            c => c.getAttribute('fill'))})""")
    assert got["pal"] == PALETTE
    assert PALETTE["roles"]["origin"] in got["legend"]
    assert PALETTE["roles"]["market"] in got["legend"]
    assert PALETTE["status"]["upgraded"]["fillColor"] in got["legend"]
