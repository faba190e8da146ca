"""The report's maps as a planner reads them (Chromium): a clear legend, short popups, one palette.

The maps of the shipped-data report (built once per session, :func:`test_report.shipped_report`),
opened on their own; every request is routed through the test and nothing may leave the
report folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import MAP_READY, visit
from routes.maps._palette import PALETTE
from test_report import shipped_report

# The shared report is built once per worker: these tests run where test_report's do.
pytestmark = pytest.mark.xdist_group("report")

ISLAM_QALA = "Islam Qala - Dogharoun"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return shipped_report(tmp_path_factory)


def _open(browser, path: Path, width: int, height: int, ready: str = MAP_READY):
    v = visit(browser, path, ready=ready, local=path.parent.as_uri() + "/",
              viewport={"width": width, "height": height})
    v.page.wait_for_timeout(300)
    return v


COVERED_JS = """() => {
  const e = Object.values(routes.registry)[0], m = e.map, c = m.getContainer();
  const boxes = [c.querySelector('.routes-legend'),
                 c.querySelector('.leaflet-control-layers-expanded')]
    .filter(x => x).map(x => x.getBoundingClientRect());
  const out = [], seen = [];
  ['markets', 'origins'].forEach(k => e.layers[k].eachLayer(l => {
    const p = m.latLngToContainerPoint(l.getLatLng());
    const r = c.getBoundingClientRect(), x = p.x + r.left, y = p.y + r.top;
    seen.push(l.feature.properties.n);
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) {
      out.push(['off', l.feature.properties.n]); }
    boxes.forEach(b => { if (x >= b.left && x <= b.right && y >= b.top && y <= b.bottom) {
      out.push(['under', l.feature.properties.n]); } });
  }));
  const lg = boxes[0];
  return {covered: out, n: seen.length, boxes: boxes.length,
          legend: [lg.top, lg.bottom, innerHeight]};
}"""


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (1024, 768)])
def test_legend_and_layer_control_cover_no_market_or_origin(browser, report: Path, width: int,
                                                           height: int):
    with _open(browser, report / "map.html", width, height) as v:
        got = v.page.evaluate(COVERED_JS)
        assert v.errors == [] and v.outside == []
    assert got["n"] > 20
    assert got["boxes"] == 2     # the legend and the open layer control
    assert got["covered"] == []
    top, bottom, window = got["legend"]
    assert 0 <= top and bottom <= window   # the legend's bottom is on screen


def _popup_of(page, name: str) -> dict:
    return page.evaluate("""(name) => {
      const e = Object.values(routes.registry)[0];
      const item = e.index.find(it => it.name === name);
      routes.openFeature(e.map, item, item.layer.getLatLng());
      const p = document.querySelector('.leaflet-popup .routes-popup');
      const first = [...p.querySelectorAll(':scope > table tr:not(.routes-popup-help) th')]
        .map(th => th.textContent);
      const more = p.querySelector('details.routes-popup-more');
      const helps = [...p.querySelectorAll('.routes-popup-help')].map(h => h.textContent);
      const labels = [...p.querySelectorAll('tr:not(.routes-popup-help) th')]
        .map(th => th.textContent);
      return {first, more: more ? more.open : null, helps, labels,
              kind: p.querySelector('.routes-popup-kind').textContent};
    }""", name)


def test_crossing_popup_shows_a_few_figures_first(browser, report: Path):
    with _open(browser, report / "map.html", 1400, 900) as v:
        got = _popup_of(v.page, ISLAM_QALA)
    assert got["first"][:2] == ["border", "status"]
    assert len(got["first"]) <= 6
    assert "priority rank" in got["first"]
    assert got["more"] is False                  # the rest folded behind "more"
    assert len(got["labels"]) > 15
    # every rank in the popup explained in words, each once
    ranks = [label for label in got["labels"] if "rank" in label]
    assert len(ranks) >= 3
    assert len(got["helps"]) >= len(ranks)
    assert all(h.split(":")[0] for h in got["helps"])
    assert len(got["labels"]) == len(set(got["labels"]))   # no label twice
    assert "cost model" in got["kind"]


def test_every_page_reads_the_one_palette(browser, report: Path):
    """One colour definition (palette.json), inlined into every page and read by its script."""
    pages = {"map.html": MAP_READY, "timeline.html": MAP_READY,
             "whatif.html": "window.whatif !== undefined"}
    for name, ready in pages.items():
        with _open(browser, report / name, 1400, 900, ready=ready) as v:
            pal = v.page.evaluate("() => window.ROUTES_PALETTE")
            common = v.page.evaluate("() => window.routesCommon.palette === window.ROUTES_PALETTE")
            assert v.errors == [] and v.outside == []
        assert pal == PALETTE, name
        assert common, name
    # The route map's legend samples: origin, market and status fills from the palette,
    # and no status sample in a priority colour.
    html = (report / "map.html").read_text(encoding="utf-8")
    assert PALETTE["roles"]["origin"] in html and PALETTE["roles"]["market"] in html
    priority = {c for _, c, _ in PALETTE["priority"]}
    status_fills = {s["fillColor"] for s in PALETTE["status"].values()}
    assert not priority & status_fills
