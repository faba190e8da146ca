"""The time-slider map in a real headless browser (Debian's chromium driven by Playwright).

Every request is routed through the test: anything but the file itself is recorded and refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import Visit, visit
from routes.changes.timeline import timeline_events, timeline_snapshots
from routes.geodata import coverage
from routes.maps import timeline_map, write_map

D19, D23 = "2019-06-30", "2023-06-30"
TORKHAM = "x_torkham_torkham"  # closed from 2025-10-12 (status_history.csv)


@pytest.fixture(scope="module")
def page_file(dataset, cost_model, tmp_path_factory) -> tuple[Path, list[str]]:
    last = coverage(dataset)[1].isoformat()
    dates = [D19, D23, last]
    snaps = timeline_snapshots(dataset, cost_model, dates=dates)
    events = timeline_events(dataset, dates)
    m = timeline_map(snaps, events, countries=dataset.countries, offline=True)
    path = write_map(m, tmp_path_factory.mktemp("timeline") / "timeline.html")
    return path, dates


def open_timeline(browser, path: Path) -> Visit:
    """Open the time-slider map; every request outside the file is recorded and refused."""
    return visit(browser, path,
                 ready="window.routes && window.routes.timelines "
                       "&& window.routes.timelines.length === 1")


def slide(page, i: int) -> None:
    page.eval_on_selector(".routes-tl-slider", "(e, i) => { e.value = String(i); "
                          "e.dispatchEvent(new Event('input')); }", i)


def drawn_flows(page) -> list[str]:
    return page.eval_on_selector_all("path.routes-tl-flow",
                                     "els => els.map(e => e.getAttribute('stroke-width'))")


def status_of(page, cid: str) -> dict:
    return page.eval_on_selector(
        f'path[data-id="{cid}"]',
        "e => ({status: e.getAttribute('data-status'), dash: e.getAttribute('stroke-dasharray'),"
        " fill: e.getAttribute('fill'), closed: e.classList.contains('routes-tl-closed')})")


def test_slider_changes_the_flows_and_the_date(browser, page_file):
    path, dates = page_file
    with open_timeline(browser, path) as v:
        page = v.page
        assert page.text_content(".routes-tl-date") == dates[-1]  # opens on the last date
        last = drawn_flows(page)
        slide(page, 0)
        assert page.text_content(".routes-tl-date") == dates[0]
        first = drawn_flows(page)
        assert len(first) == len(last) > 0
        assert first != last
        assert page.eval_on_selector(".routes-tl-slider", "e => e.value") == "0"


def test_crossing_closed_in_2025_is_drawn_closed_then_and_open_in_2019(browser, page_file):
    path, dates = page_file
    with open_timeline(browser, path) as v:
        page = v.page
        closed = status_of(page, TORKHAM)
        assert closed == {"status": "closed", "dash": "3 3", "fill": "#ffffff", "closed": True}
        assert "Torkham" in page.text_content(".routes-tl-events")  # an event since the last date
        slide(page, dates.index(D19))
        opened = status_of(page, TORKHAM)
        assert opened["status"] == "open" and not opened["closed"]
        assert opened["dash"] in (None, "none", "") and opened["fill"] != "#ffffff"


def test_play_steps_through_the_dates(browser, page_file):
    path, dates = page_file
    with open_timeline(browser, path) as v:
        page = v.page
        page.evaluate("""() => { window._seen = [];
            new MutationObserver(() => window._seen.push(
                document.querySelector('.routes-tl-date').textContent))
            .observe(document.querySelector('.routes-tl-date'), {childList: true,
                                                                 characterData: true,
                                                                 subtree: true}); }""")
        page.click(".routes-tl-play")  # from the last date the player restarts at the first
        page.wait_for_function("window._seen.length >= 3", polling=200, timeout=30000)
        assert page.evaluate("window._seen.slice(0, 3)") == dates


UNDER_CONTROLS_JS = """() => {
  const c = document.querySelector('.leaflet-container');
  const boxes = [...c.querySelectorAll('.leaflet-bottom.leaflet-left > .leaflet-control')]
    .map(e => e.getBoundingClientRect());
  const out = [];
  const marks = [...c.querySelectorAll('path.routes-tl-origin, path.routes-tl-market')];
  marks.forEach((e, i) => {
    const r = e.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) { out.push(['off', i]); }
    boxes.forEach(b => { if (x >= b.left && x <= b.right && y >= b.top && y <= b.bottom) {
      out.push(['under', i]); } });
  });
  const names = [...c.querySelectorAll('.leaflet-bottom.leaflet-left > .leaflet-control')]
    .map(e => e.classList[0]);
  return {covered: out, marks: marks.length, names: names};
}"""


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (1024, 768)])
def test_slider_and_legend_cover_no_origin_or_market(browser, page_file, width, height):
    """The first view fits the network beside the controls at the bottom left."""
    path, _ = page_file
    with visit(browser, path, ready="window.routes && window.routes.timelines "
               "&& window.routes.timelines.length === 1",
               viewport={"width": width, "height": height}) as v:
        got = v.page.evaluate(UNDER_CONTROLS_JS)
        assert v.errors == []
    assert got["marks"] > 20
    assert {"routes-tl", "routes-legend"} <= set(got["names"]), got   # slider and legend
    assert got["covered"] == []


def test_offline_map_makes_no_outside_request_and_no_error(browser, page_file):
    path, _ = page_file
    with open_timeline(browser, path) as v:
        v.page.wait_for_timeout(300)
        assert v.outside == []
        assert v.errors == []
        assert v.dialogs == []
        size_mb = path.stat().st_size / 1e6
        print(f"\ntimeline map: {size_mb:.2f} MB, loaded headless in {v.seconds:.2f} s")
        assert size_mb < 3.0
