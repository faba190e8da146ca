"""Map sizes, write times and headless load times, online and offline.

Maps: the baseline network of the shipped data (the hand-worked test data while the shipped
data is missing) and a synthetic network of 50,000 two-way corridors. For each, online and
offline: the HTML file size, the time to build and write it, and the time headless chromium
takes to load it until every layer is drawn. Online pages get Leaflet from the installed
package and blank tiles through Playwright's routing (no internet here). The last table puts
our GeoJSON layers beside folium's one-object-per-feature drawing of the same 50k corridors.

Run with ``make bench`` or ``python -m benchmarks maps``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import folium
import networkx as nx

from benchmarks._synthetic import synthetic_network
from benchmarks._timing import row
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.maps import route_map, write_map
from routes.network import network_from_data
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HANDWORKED = Path(__file__).resolve().parents[1] / "tests" / "data" / "handworked"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
N_CORRIDORS = 50_000


def baseline_inputs():
    shipped = all((DATA_DIR / f).exists() for f in ("crossings.csv", "places.csv",
                                                   "corridors.csv"))
    data, cmp = (DATA_DIR, DEFAULT_COST_MODEL) if shipped else (
        HANDWORKED, HANDWORKED / "cost_model.toml")
    cm = load_cost_model(cmp)
    ds = load_dataset(data, classes=set(cm.classes))
    label = "baseline (shipped data)" if shipped else "baseline (hand-worked data: no shipped)"
    return label, network_from_data(ds, cm), ds.countries, cm


def map_analyses(G, cm):
    try:
        from routes.cli.map import map_analyses as run
    except ImportError:  # pragma: no cover
        return None
    try:
        return run(G, cm)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
        print(f"   (analyses skipped: {type(exc).__name__}: {exc})")
        return None


def write_time(make, path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    write_map(make(), path)
    return time.perf_counter() - t0, path.stat().st_size


def load_time(browser, path: Path) -> tuple[float, int, int]:
    """Seconds from navigation until every layer is drawn; (time, features drawn, outside)."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    leaflet = Path(__import__("js_lib_leaflet").__file__).parent / "static" / "js_lib_leaflet"
    outside = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
            return
        outside.append(url)
        if "/leaflet@" in url and url.endswith(("leaflet.js", "leaflet.css")):
            name = url.rsplit("/", 1)[1]
            r.fulfill(status=200, body=(leaflet / name).read_bytes(),
                      content_type="text/css" if name.endswith("css") else "text/javascript")
        elif "tile" in url:
            r.fulfill(status=200, content_type="image/png", body=PNG)
        else:  # folium's jQuery, Bootstrap, fonts (per-feature baseline): not needed to draw
            r.abort()

    page.route("**/*", route)
    t0 = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load", timeout=600_000)
    # every vector feature on every map of the page, after the next frame is painted
    drawn = page.evaluate("""() => new Promise(done => requestAnimationFrame(() => {
        let n = 0;
        for (const el of document.querySelectorAll('.folium-map'))
          window[el.id].eachLayer(l => { if (l instanceof L.Path) n++; });
        done(n);
    }))""")
    dt = time.perf_counter() - t0
    page.close()
    return dt, drawn, len(outside)


def per_feature_folium(G: nx.DiGraph) -> folium.Map:
    """The naive drawing: one folium object per corridor and per node (no popups)."""
    m = folium.Map(tiles=None, prefer_canvas=True, location=(42.0, 47.0), zoom_start=4)
    seen = set()
    for u, v, d in G.edges(data=True):
        if d["corridor_id"] in seen:
            continue
        seen.add(d["corridor_id"])
        a, b = G.nodes[u], G.nodes[v]
        folium.PolyLine([(a["lat"], a["lon"]), (b["lat"], b["lon"])], weight=2,
                        tooltip=d["corridor_id"]).add_to(m)
    for _, d in G.nodes(data=True):
        folium.CircleMarker((d["lat"], d["lon"]), radius=4, tooltip=d["name"]).add_to(m)
    return m


def main() -> None:
    from playwright.sync_api import sync_playwright

    label, G0, countries, cm = baseline_inputs()
    an = map_analyses(G0, cm)
    t0 = time.perf_counter()
    G50 = synthetic_network(N_CORRIDORS, seed=0)
    print(f"synthetic network: {G50.number_of_nodes()} nodes, {G50.number_of_edges()} directed "
          f"edges ({N_CORRIDORS} corridors), built in {time.perf_counter() - t0:.1f} s")
    print(f"{label}: {G0.number_of_nodes()} nodes, {G0.number_of_edges()} directed edges")
    cases = [
        (label.split(" (")[0], "online", lambda: route_map(G0, countries=countries, analyses=an)),
        (label.split(" (")[0], "offline",
         lambda: route_map(G0, countries=countries, analyses=an, offline=True)),
        ("synthetic 50k", "online", lambda: route_map(G50, countries=countries)),
        ("synthetic 50k", "offline", lambda: route_map(G50, countries=countries, offline=True)),
    ]
    print(f"\n{'map':<16} {'mode':<8} {'size MB':>9} {'write s':>9} {'load s':>9} "
          f"{'drawn':>8} {'outside requests':>17}")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, mode, make in cases:
            path = Path(tmp) / f"{name.replace(' ', '_')}_{mode}.html"
            wt, size = write_time(make, path)
            lt, drawn, outside = load_time(browser, path)
            print(f"{name:<16} {mode:<8} {size / 1e6:9.2f} {wt:9.2f} {lt:9.2f} {drawn:8d} "
                  f"{outside:17d}", flush=True)
        # folium one object per feature vs one GeoJSON layer per kind, same 50k corridors
        path_a, path_b = Path(tmp) / "per_feature.html", Path(tmp) / "geojson.html"
        base_t, base_size = write_time(lambda: per_feature_folium(G50), path_a)
        ours_t, ours_size = write_time(lambda: route_map(G50, offline=True, tiles=None), path_b)
        base_l, _, _ = load_time(browser, path_a)
        ours_l, _, _ = load_time(browser, path_b)
        browser.close()
    print(f"\n{'50k corridors: folium per feature vs routes GeoJSON':<52} {'folium':>12} "
          f"{'routes':>12} {'ratio':>8}")
    print(row("write time", base_t, ours_t, width=52))
    print(row("headless load time (base: CDN Leaflet served locally)", base_l, ours_l, width=52))
    print(f"{'file size (MB)':<52} {base_size / 1e6:10.1f} MB {ours_size / 1e6:10.1f} MB "
          f"{base_size / ours_size:8.1f}x")


if __name__ == "__main__":
    main()
