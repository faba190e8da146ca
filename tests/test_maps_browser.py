"""Route maps in a real headless browser: Debian's chromium driven by Playwright.

These tests never skip: without chromium they fail and say how to install it (`make browser`).
Each page is opened with every request routed through the test, so a request to anything but
the file itself is seen (and answered locally or refused).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from benchmarks._synthetic import synthetic_network

from browser_support import MAP_READY, Visit, visit
from routes.maps import compare_map, route_map, write_map
from test_maps import SCRIPT_END, XSS, analyses_for, load_hostile

LEAFLET_DIR = (Path(__import__("js_lib_leaflet").__file__).parent / "static" / "js_lib_leaflet")
# a 1x1 transparent PNG, standing in for tiles
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def leaflet_and_tiles(url: str) -> tuple[str, bytes] | None:
    """Answer the Leaflet CDN from the installed package and tiles with a blank PNG."""
    if "cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/" in url:
        name = url.rsplit("/", 1)[1]
        ctype = "text/css" if name.endswith(".css") else "application/javascript"
        return ctype, (LEAFLET_DIR / name).read_bytes()
    if "tile.openstreetmap.org" in url:
        return "image/png", PNG
    return None


def open_map(browser, path: Path, *, online: bool = False, **page_options) -> Visit:
    """Open a route map; requests outside the file are recorded and refused (online: the
    Leaflet CDN and the tiles are answered locally)."""
    return visit(browser, path, ready=MAP_READY, answer=leaflet_and_tiles if online else None,
                 **page_options)


COUNT_JS = """(name) => {
  const m = window[name]; const out = {points: 0, lines: 0, byKind: {}};
  m.eachLayer(l => {
    if (!l._routesKind) return;
    out.byKind[l._routesKind] = (out.byKind[l._routesKind] || 0) + 1;
    if (l instanceof L.CircleMarker) out.points++;
    else if (l._routesKind === 'corridors') out.lines++;
  });
  return out;
}"""


def map_names(page) -> list[str]:
    return page.eval_on_selector_all(".folium-map", "els => els.map(e => e.id)")


def counts(page, name: str) -> dict:
    return page.evaluate(COUNT_JS, name)


def screen_point(page, name: str, lat: float, lon: float) -> tuple[float, float]:
    return tuple(page.evaluate(
        """([name, lat, lon]) => { const m = window[name];
             const p = m.latLngToContainerPoint([lat, lon]);
             const r = m.getContainer().getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""", [name, lat, lon]))


def click_feature(page, name: str, lat: float, lon: float, *, zoom: int):
    """Centre the map on a feature, click it with the mouse, return the open popup.

    The view is set and two frames are let paint before the click; a click that opened no
    popup (the page was still busy) is tried again, at most three times in all.
    """
    popup = page.locator(".leaflet-popup-content")
    for attempt in range(3):
        set_view(page, name, lat, lon, zoom)
        page.mouse.click(*screen_point(page, name, lat, lon))
        try:
            popup.wait_for(state="visible", timeout=3000)
            return popup
        except Exception:
            if attempt == 2:
                raise
    return popup


def open_more(page) -> None:
    """Open the popup's "more" toggle (a crossing's figures after the first few)."""
    page.click(".leaflet-popup-content details.routes-popup-more summary")
    assert page.evaluate("document.querySelector('.leaflet-popup-content "
                         "details.routes-popup-more').open")


def set_view(page, name: str, lat: float, lon: float, zoom: int) -> None:
    """Set the view, close any popup, and let two frames paint."""
    page.evaluate("""([n, lat, lon, z]) => new Promise(done => {
        window[n].closePopup(); window[n].setView([lat, lon], z, {animate: false});
        requestAnimationFrame(() => requestAnimationFrame(done)); })""", [name, lat, lon, zoom])


def hover_feature(page, name: str, lat: float, lon: float, *, zoom: int, text: str):
    """Move the mouse onto a feature; return its tooltip, the one showing ``text``.

    (Passing over a country on the way leaves that country's sticky tooltip open too.)
    Tried up to three times.
    """
    tip = page.locator(".leaflet-tooltip", has_text=text)
    for attempt in range(3):
        set_view(page, name, lat, lon, zoom)
        page.mouse.move(*screen_point(page, name, lat, lon), steps=3)
        try:
            tip.wait_for(state="visible", timeout=3000)
            return tip
        except Exception:
            if attempt == 2:
                raise
    return tip


def network_counts(G: nx.DiGraph) -> tuple[int, int]:
    corridors = {d.get("corridor_id") or frozenset((u, v)) for u, v, d in G.edges(data=True)}
    return G.number_of_nodes(), len(corridors)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return load_hostile(tmp_path_factory.mktemp("hostile_browser"))


@pytest.fixture(scope="module")
def offline_file(hostile, tmp_path_factory):
    ds, _, G = hostile
    path = tmp_path_factory.mktemp("maps") / "offline.html"
    write_map(route_map(G, countries=ds.countries, analyses=analyses_for(G), offline=True,
                        title=f"hostile {XSS}"), path)
    return path


# --------------------------------------------------------------------------- offline
def test_offline_map_makes_no_request_outside_the_file(browser, offline_file, hostile):
    with open_map(browser, offline_file) as v:
        v.page.wait_for_timeout(300)
        assert v.outside == []
        assert v.requests == [offline_file.as_uri()]
        assert v.errors == [] and v.dialogs == []
        # the basemap is drawn from the country polygons
        name = map_names(v.page)[0]
        from routes.maps._assets import basemap_world

        # the whole visible extent (shipped basemap), and the data's own two countries
        assert counts(v.page, name)["byKind"]["basemap"] == len(basemap_world()) + 2


def test_drawn_features_match_the_network(browser, offline_file, hostile):
    _, _, G = hostile
    with open_map(browser, offline_file) as v:
        name = map_names(v.page)[0]
        c = counts(v.page, name)
        assert (c["points"], c["lines"]) == network_counts(G) == (7, 6)
        assert c["byKind"]["crossings"] == 3 and c["byKind"]["routes"] == 2
        assert v.errors == []


def test_popup_opens_on_click_and_shows_escaped_text(browser, offline_file):
    with open_map(browser, offline_file) as v:
        page = v.page
        name = map_names(page)[0]
        popup = click_feature(page, name, 0.5, 1.0, zoom=9)  # x_north, named with </script>
        assert XSS not in popup.inner_text()   # the source is behind "more", folded
        open_more(page)
        text = popup.inner_text()
        assert SCRIPT_END in text and "restricted" in text and XSS in text  # source field
        assert page.locator(".leaflet-popup-content img").count() == 0
        assert v.dialogs == [] and v.errors == [] and v.outside == []


def test_hostile_names_show_as_text_in_tooltip_search_and_legend(browser, offline_file):
    with open_map(browser, offline_file) as v:
        page = v.page
        name = map_names(page)[0]
        # p_west, named <img src=x onerror=alert(1)>
        tip = hover_feature(page, name, 0.0, 0.0, zoom=9, text="onerror")
        assert tip.inner_text() == XSS
        # search: the hit shows the literal text; choosing it opens the popup
        page.fill(".routes-search-input", "onerror")
        hit = page.locator(".routes-search-hit").first
        assert hit.inner_text().startswith(XSS)
        hit.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible", timeout=5000)
        assert XSS in popup.inner_text()
        assert f"hostile {XSS}" in page.locator(".routes-legend h4").inner_text()
        assert page.locator(".leaflet-container img").count() == 0
        page.wait_for_timeout(300)
        assert v.dialogs == [] and v.errors == [] and v.outside == []
        assert not any(r.endswith("/x") for r in v.requests)


def test_layer_toggles_off_and_on(browser, offline_file):
    with open_map(browser, offline_file) as v:
        page = v.page
        name = map_names(page)[0]
        before = counts(page, name)
        label = page.locator(".leaflet-control-layers-overlays label", has_text="Border crossings")
        label.click()
        after = counts(page, name)
        assert "crossings" not in after["byKind"]
        assert after["points"] == before["points"] - before["byKind"]["crossings"]
        label.click()
        assert counts(page, name) == before
        assert v.errors == []


def test_fullscreen_button_and_scale_bar(browser, offline_file):
    with open_map(browser, offline_file) as v:
        page = v.page
        assert page.locator(".leaflet-control-scale").count() == 1
        assert page.locator(".routes-legend").count() == 1
        page.click(".routes-fullscreen-button")
        assert page.locator(".folium-map.routes-is-fullscreen").count() == 1
        page.click(".routes-fullscreen-button")
        assert page.locator(".folium-map.routes-is-fullscreen").count() == 0
        assert v.errors == [] and v.outside == []


# --------------------------------------------------------------------------- online
def test_online_map_asks_only_leaflet_and_tiles(browser, hostile, tmp_path):
    ds, _, G = hostile
    path = write_map(route_map(G, countries=ds.countries), tmp_path / "online.html")
    with open_map(browser, path, online=True) as v:
        v.page.wait_for_timeout(500)
        hosts = {u.split("/")[2] for u in v.outside}
        assert hosts and hosts <= {"cdn.jsdelivr.net", "tile.openstreetmap.org"}
        assert any("tile.openstreetmap.org" in u for u in v.outside)
        name = map_names(v.page)[0]
        c = counts(v.page, name)
        assert (c["points"], c["lines"]) == network_counts(G)
        assert "basemap" not in c["byKind"]
        assert "OpenStreetMap" in v.page.locator(".leaflet-control-attribution").inner_text()
        assert v.errors == [] and v.dialogs == []


# --------------------------------------------------------------------------- compare
def test_compare_views_stay_in_step(browser, hostile, tmp_path):
    ds, _, G = hostile
    H = G.copy()
    H.remove_edges_from(list(H.in_edges("x_mid")) + list(H.out_edges("x_mid")))
    H.graph["scenario"] = "closed mid"
    path = write_map(compare_map(G, H, countries=ds.countries, offline=True),
                     tmp_path / "compare.html")
    with open_map(browser, path) as v:
        page = v.page
        left, right = map_names(page)
        assert counts(page, left)["lines"] == 6 and counts(page, right)["lines"] == 4
        # drag the left map; the right one follows
        page.mouse.move(300, 420)
        page.mouse.down()
        page.mouse.move(200, 350, steps=8)
        page.mouse.up()
        page.evaluate("(n) => window[n].setZoom(window[n].getZoom() + 1, {animate: false})",
                      left)
        page.wait_for_timeout(200)
        view = "(n) => [window[n].getCenter().lat, window[n].getCenter().lng, window[n].getZoom()]"
        a, b = page.evaluate(view, left), page.evaluate(view, right)
        assert a[2] == b[2] and a[0] == pytest.approx(b[0], abs=1e-6)
        assert a[1] == pytest.approx(b[1], abs=1e-6)
        assert v.outside == [] and v.errors == [] and v.dialogs == []


# --------------------------------------------------------------------------- large
def test_large_network_draws_every_feature_on_canvas(browser, tmp_path):
    G = synthetic_network(5000, seed=1)
    path = write_map(route_map(G, offline=True), tmp_path / "large.html")
    with open_map(browser, path) as v:
        name = map_names(v.page)[0]
        c = counts(v.page, name)
        assert (c["points"], c["lines"]) == network_counts(G)
        assert c["lines"] == 5000
        assert v.page.locator("canvas.leaflet-zoom-animated").count() >= 1  # canvas renderer
        assert v.errors == [] and v.outside == []


# --------------------------------------------------------------------------- shipped data
@pytest.fixture(scope="module")
def shipped(_baseline, dataset, cost_model, tmp_path_factory):
    from routes.cli.map import map_analyses

    an = map_analyses(_baseline, cost_model)
    path = tmp_path_factory.mktemp("shipped") / "baseline_offline.html"
    write_map(route_map(_baseline, countries=dataset.countries, analyses=an, offline=True),
              path)
    return _baseline, an, path


def test_shipped_baseline_in_the_browser(browser, shipped):
    G, an, path = shipped
    with open_map(browser, path) as v:
        page = v.page
        name = map_names(page)[0]
        c = counts(page, name)
        assert (c["points"], c["lines"]) == network_counts(G)
        assert c["byKind"]["routes"] == len(an.routes)
        # click the top-priority crossing: its popup shows its name and rank
        top = an.crossings["priority_rank"].idxmin()
        lat, lon = G.nodes[top]["lat"], G.nodes[top]["lon"]
        popup = click_feature(page, name, lat, lon, zoom=11)
        text = popup.inner_text()
        assert G.nodes[top]["name"] in text and "priority rank" in text
        # the routes layer toggles
        page.locator(".leaflet-control-layers-overlays label", has_text="k best routes").click()
        assert "routes" not in counts(page, name)["byKind"]
        page.wait_for_timeout(200)
        assert v.outside == [] and v.errors == [] and v.dialogs == []


# --------------------------------------------------------------------------- issue 13, item 14
def test_search_opens_and_highlights_the_found_feature(browser, offline_file):
    with open_map(browser, offline_file) as v:
        page = v.page
        page.fill(".routes-search-input", "Middle")
        page.locator(".routes-search-hit", has_text="Middle post").first.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible", timeout=5000)
        assert "Middle post" in popup.inner_text()
        found = page.locator("path.routes-found")
        assert found.count() == 1 and found.get_attribute("stroke") == "#00bcd4"
        page.evaluate("(n) => window[n].closePopup()", map_names(page)[0])
        assert page.locator("path.routes-found").count() == 0   # highlight ends with the popup
        assert v.errors == [] and v.outside == []


def test_popups_show_readable_labels_and_percents(browser, offline_file):
    with open_map(browser, offline_file) as v:
        page = v.page
        name = map_names(page)[0]
        popup = click_feature(page, name, 0.0, 1.0, zoom=9)   # Middle post
        open_more(page)
        text = popup.inner_text()
        assert "Middle post" in text and "detection probability" in text
        assert "50.0%" in text                                       # p_detect 0.5, as a percent
        labels = page.eval_on_selector_all(".leaflet-popup-content th",
                                           "els => els.map(e => e.textContent)")
        assert labels and not [t for t in labels if "_" in t]
        assert v.errors == []


def test_clicking_a_country_draws_no_focus_rectangle(browser, offline_file):
    with open_map(browser, offline_file) as v:
        page = v.page
        name = map_names(page)[0]
        click_feature(page, name, -0.3, 0.3, zoom=8)     # inside country AAA, off every line
        outline = page.evaluate("""() => { const e = document.activeElement;
            const s = getComputedStyle(e); return [e.tagName, s.outlineStyle, s.outlineWidth]; }""")
        assert outline[0].lower() != "path" or outline[1] == "none" or outline[2] == "0px", outline
        assert v.errors == []


def test_legend_leaves_the_controls_free_on_a_short_map(browser, offline_file):
    """In the report's 640 px frame the legend starts collapsed and never covers fullscreen."""
    with open_map(browser, offline_file, viewport={"width": 1100, "height": 640}) as v:
        page = v.page
        assert page.locator(".routes-legend details[open]").count() == 0
        page.click(".routes-legend summary")           # opened by hand: still below the buttons
        legend = page.locator(".routes-legend").bounding_box()
        button = page.locator(".routes-fullscreen-button").bounding_box()
        assert legend["y"] >= button["y"] + button["height"], (legend, button)


def test_compare_map_legends_start_collapsed(browser, hostile, tmp_path):
    ds, _, G = hostile
    path = write_map(compare_map(G, G.copy(), countries=ds.countries, offline=True),
                     tmp_path / "compare.html")
    with open_map(browser, path) as v:
        assert v.page.locator(".routes-legend").count() == 2
        assert v.page.locator(".routes-legend details[open]").count() == 0


def test_offline_map_names_the_countries(browser, offline_file, hostile):
    ds, _, _ = hostile
    with open_map(browser, offline_file) as v:
        labels = v.page.eval_on_selector_all(".routes-country-label",
                                             "els => els.map(e => e.textContent)")
        assert set(ds.countries["name"]) <= set(labels)
        assert {"Saudi Arabia", "India", "Egypt", "Spain"} <= set(labels)
        assert v.outside == []


# (a label taken off the map fades out for 200 ms before it leaves the page)
CAPITAL_LABELS_JS = """() => Array.from(document.querySelectorAll('.routes-capital-label'))
    .filter(e => e.style.opacity !== '0').map(e => e.textContent)"""


def test_offline_map_names_the_capitals_from_zoom_5(browser, offline_file):
    """Capitals are small labelled points on the offline basemap, from zoom 5 on (at the
    opening zoom of the route maps, 4, only the countries are named), with GeoNames credited;
    the page still asks for nothing outside itself."""
    with open_map(browser, offline_file) as v:
        page = v.page
        name = map_names(page)[0]
        set_view(page, name, 34.5, 69.2, 4)
        assert page.evaluate(CAPITAL_LABELS_JS) == []
        assert "Afghanistan" in page.eval_on_selector_all(".routes-country-label",
                                                          "els => els.map(e => e.textContent)")
        set_view(page, name, 34.5, 69.2, 5)
        shown = page.evaluate(CAPITAL_LABELS_JS)
        assert {"Kabul", "Dushanbe", "Tashkent", "Tehran"} <= set(shown)
        kabul = page.locator(".routes-capital-label", has_text="Kabul")
        assert kabul.is_visible()
        # the label sits just right of its point
        box = kabul.bounding_box()
        x, y = screen_point(page, name, 34.52813, 69.17233)
        assert 0 <= box["x"] - x <= 12 and box["y"] <= y <= box["y"] + box["height"]
        assert "GeoNames (CC BY 4.0)" in page.inner_text(".leaflet-control-attribution")
        page.wait_for_timeout(200)
        assert v.outside == [] and v.requests == [offline_file.as_uri()]
        assert v.errors == [] and v.dialogs == []


def test_capital_labels_stay_under_the_legend(browser, offline_file):
    """A capital's label under the open legend is covered by it, never drawn over it."""
    with open_map(browser, offline_file) as v:
        page = v.page
        name = map_names(page)[0]
        set_view(page, name, 34.52813, 69.17233, 6)
        legend = page.locator(".routes-legend")
        if page.locator(".routes-legend details[open]").count() == 0:
            page.click(".routes-legend summary")
        lb = legend.bounding_box()
        # move the map so that Kabul's label lies in the middle of the legend
        x, y = screen_point(page, name, 34.52813, 69.17233)
        page.evaluate("""([n, dx, dy]) => new Promise(done => {
            window[n].panBy([dx, dy], {animate: false});
            requestAnimationFrame(() => requestAnimationFrame(done)); })""",
                      [name, x - (lb["x"] + lb["width"] / 2), y - (lb["y"] + lb["height"] / 2)])
        label = page.locator(".routes-capital-label", has_text="Kabul").bounding_box()
        cx, cy = label["x"] + label["width"] / 2, label["y"] + label["height"] / 2
        assert lb["x"] <= cx <= lb["x"] + lb["width"] and lb["y"] <= cy <= lb["y"] + lb["height"]
        # labels let the mouse through (pointer-events: none), which would hide them from
        # elementFromPoint: made hit-testable, the topmost element there is still the legend
        on_top = page.evaluate("""([x, y]) => {
            const labels = document.querySelectorAll('.routes-capital-label');
            labels.forEach(e => { e.style.pointerEvents = 'auto'; });
            const top = document.elementFromPoint(x, y);
            labels.forEach(e => { e.style.pointerEvents = ''; });
            return [!!top.closest('.routes-legend'), top.className]; }""", [cx, cy])
        assert on_top[0], on_top


def test_capital_names_are_text(browser, hostile, tmp_path, monkeypatch):
    """A capital's name from the data file is put on the page as text, never as markup."""
    import geopandas as gpd
    from shapely.geometry import Point

    import routes.maps._build as build

    ds, _, G = hostile
    caps = gpd.GeoDataFrame({"iso3": ["AAA"], "name": [XSS + SCRIPT_END]},
                            geometry=[Point(0.2, -0.2)], crs="EPSG:4326")
    monkeypatch.setattr(build, "basemap_capitals", lambda: caps)
    path = write_map(route_map(G, countries=ds.countries, offline=True), tmp_path / "m.html")
    with open_map(browser, path) as v:
        page = v.page
        set_view(page, map_names(page)[0], 0.0, 0.5, 8)
        assert page.evaluate(CAPITAL_LABELS_JS) == [XSS + SCRIPT_END]
        assert page.locator(".routes-capital-label img").count() == 0
        page.wait_for_timeout(200)
        assert v.dialogs == [] and v.errors == [] and v.outside == []
