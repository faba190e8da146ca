"""Route maps rendered to HTML (no browser): layers, data-driven styles, escaping, offline."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from routes._errors import RoutesError
from routes.cli import main
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.maps import (
    LAYER_NAMES,
    MapAnalyses,
    compare_map,
    external_references,
    map_html,
    route_map,
    write_map,
)
from routes.network import network_from_data

HANDWORKED = Path(__file__).parent / "data" / "handworked"
XSS = "<img src=x onerror=alert(1)>"
JINJA = "{{ 7*7 }} {% if 1 %}tpl{% endif %}"
SCRIPT_END = "</script><script>alert(2)</script>"

CROSSINGS = """\
id,name,country_a,country_b,lat,lon,mode,status,as_of,crossing_class,p_detect,upgrade_cost,p_detect_upgraded,source
x_mid,Middle post,AAA,BBB,0.0,1.0,road,open,2025-01-01,post,,,,hand-worked test case
x_north,{script_end},AAA,BBB,0.5,1.0,rail,restricted,2025-01-01,post,,,,{quoted_source}
x_south,South gate,AAA,BBB,-0.5,1.0,road,closed,2025-01-01,post,,,,hand-worked test case
"""
PLACES = """\
id,name,country,lat,lon,role,supply,demand,figure_source,source
p_west,{xss},AAA,0.0,0.0,origin,10,,test,hand-worked test case
p_stage,{jinja},AAA,0.6,0.4,staging,,,test,{xss}
p_east,East town,BBB,0.0,2.0,market,,4,test,hand-worked test case
p_port,Port B,BBB,-0.6,2.5,port,,,test,hand-worked test case
"""
CORRIDORS = """\
id,from_id,to_id,mode,source
c_west__mid,p_west,x_mid,road,hand-worked test case
c_mid__east,x_mid,p_east,road,hand-worked test case
c_west__stage,p_west,p_stage,track,hand-worked test case
c_stage__north,p_stage,x_north,rail,hand-worked test case
c_north__east,x_north,p_east,rail,hand-worked test case
c_east__port,p_east,p_port,road,hand-worked test case
c_west__south,p_west,x_south,road,hand-worked test case
"""


def write_dataset(folder: Path) -> Path:
    """A two-country dataset with hostile names: an <img onerror>, a Jinja tag, a </script>."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("countries.geojson", "cost_model.toml"):
        shutil.copy(HANDWORKED / name, folder / name)
    subs = {"xss": XSS, "jinja": JINJA, "script_end": SCRIPT_END,
            "quoted_source": '"src ""' + XSS + '"""'}
    (folder / "crossings.csv").write_text(CROSSINGS.format(**subs), encoding="utf-8")
    (folder / "places.csv").write_text(PLACES.format(**subs), encoding="utf-8")
    (folder / "corridors.csv").write_text(CORRIDORS, encoding="utf-8")
    return folder


def load_hostile(folder: Path):
    d = write_dataset(folder)
    cm = load_cost_model(d / "cost_model.toml")
    ds = load_dataset(d, classes=set(cm.classes))
    return ds, cm, network_from_data(ds, cm)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return load_hostile(tmp_path_factory.mktemp("hostile"))


def analyses_for(G: nx.DiGraph) -> MapAnalyses:
    """Hand-made analysis tables in the shapes the analysis modules return."""
    crossings = pd.DataFrame(
        {"flow_betweenness": [0.8, 0.2, 0.0], "priority_rank": [1, 7, None]},
        index=pd.Index(["x_mid", "x_north", "x_south"], name="crossing"))
    countries = pd.DataFrame({"transit_share": [0.6, 0.1]},
                             index=pd.Index(["AAA", "BBB"], name="iso3"))
    edges = pd.DataFrame({"u": ["p_west", "x_mid", "x_mid", "p_stage"],
                          "v": ["x_mid", "p_east", "p_west", "x_north"],
                          "flow": [6.0, 6.0, 2.0, 2.0]})
    routes = pd.DataFrame({"rank": [1, 2],
                           "path": [["p_west", "x_mid", "p_east"],
                                    ["p_west", "p_stage", "x_north", "p_east"]],
                           "cost": [12.5, 20.0]})
    return MapAnalyses(crossings=crossings, countries=countries, edges=edges, routes=routes)


_LAYER_RE = re.compile(r"routes\.dataLayer\(\w+, (\{.*?\}), (\{.*\})\);$", re.MULTILINE)


def layers_of(page: str) -> dict[str, tuple[dict, dict]]:
    """key -> (layer config, FeatureCollection), parsed back from the page's scripts."""
    out = {}
    for cfg_text, fc_text in _LAYER_RE.findall(page):
        cfg = json.loads(cfg_text)
        out[cfg["key"]] = (cfg, json.loads(fc_text))
    return out


def feature_named(layer: tuple[dict, dict], name: str) -> tuple[dict, dict]:
    cfg, fc = layer
    f = next(f for f in fc["features"] if f["properties"]["n"] == name)
    return cfg["styles"][f["properties"]["s"]], dict(zip(cfg["fields"], f["properties"]["v"]))


# --------------------------------------------------------------------------- layers
def test_layers_match_the_network(hostile):
    ds, _, G = hostile
    page = map_html(route_map(G, countries=ds.countries))
    layers = layers_of(page)
    assert set(layers) == {"countries", "corridors", "crossings", "origins", "markets", "places"}
    n = {k: len(fc["features"]) for k, (_, fc) in layers.items()}
    assert n == {"countries": 2, "corridors": 6, "crossings": 3, "origins": 1, "markets": 1,
                 "places": 2}
    # one line per corridor (both directed edges), the closed crossing's corridor is gone
    assert n["corridors"] == G.number_of_edges() // 2
    assert n["crossings"] + n["origins"] + n["markets"] + n["places"] == G.number_of_nodes()
    for key in layers:
        assert LAYER_NAMES[key] in page  # listed in the layer control


def test_network_alone_has_plain_styles(hostile):
    ds, _, G = hostile
    layers = layers_of(map_html(route_map(G, countries=ds.countries)))
    style, values = feature_named(layers["crossings"], "Middle post")
    # no priority drawn: the status's fill (from the palette), never a priority colour
    from routes.maps._palette import PALETTE

    assert style["radius"] == 6.0
    assert style["fillColor"] == PALETTE["status"]["open"]["fillColor"]
    assert values["status"] == "open" and values["border"] == "AAA \u2192 BBB"
    assert {s["weight"] for s in layers["corridors"][0]["styles"]} == {2.0}


def test_styles_come_from_the_analyses(hostile):
    ds, _, G = hostile
    page = map_html(route_map(G, countries=ds.countries, analyses=analyses_for(G)))
    layers = layers_of(page)
    mid, mid_v = feature_named(layers["crossings"], "Middle post")
    north, _ = feature_named(layers["crossings"], SCRIPT_END)
    south, south_v = feature_named(layers["crossings"], "South gate")
    # radius 4 + 12 * sqrt(b / bmax): 16 for the top, 4 + 12 * sqrt(1/4) = 10 for 0.2
    assert (mid["radius"], north["radius"], south["radius"]) == (16.0, 10.0, 4.0)
    assert (mid["fillColor"], north["fillColor"], south["fillColor"]) == (
        "#99000d", "#e31a1c", "#bdbdbd")
    assert mid_v["flow betweenness"] == 0.8 and mid_v["priority rank"] == 1
    # status: restricted thick purple outline, closed hollow and dashed
    assert north["color"] == "#6a3d9a" and north["weight"] == 3
    assert south["fillOpacity"] == 0.0 and south["dashArray"] == "3 3"
    assert south_v["status"] == "closed"
    # corridor width: both directions add up (8 on west-mid, the max -> 12 px)
    w_mid, v_mid = feature_named(layers["corridors"], f"{XSS} \u2013 Middle post")
    assert v_mid["assigned flow (both ways)"] == 8.0 and w_mid["weight"] == 12.0
    w_east, _ = feature_named(layers["corridors"], "East town \u2013 Middle post")
    assert w_east["weight"] == 10.5  # 1.5 + 10.5 * sqrt(6 / 8) = 10.59, to 0.5 px
    w_port, v_port = feature_named(layers["corridors"], "East town \u2013 Port B")
    assert v_port["assigned flow (both ways)"] == 0.0 and w_port["weight"] == 1.5
    # countries shaded by transit share
    aaa, aaa_v = feature_named(layers["countries"], "West")
    bbb, _ = feature_named(layers["countries"], "East")
    assert (aaa["fillColor"], bbb["fillColor"]) == ("#31a354", "#d9f0a3")  # >50%, 5-15%
    assert aaa_v["transit share"] == 0.6
    # the k best routes, drawn along their paths
    cfg, fc = layers["routes"]
    assert [f["geometry"]["coordinates"] for f in fc["features"]] == [
        [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], [[0.0, 0.0], [0.4, 0.6], [1.0, 0.5], [2.0, 0.0]]]
    assert cfg["fields"] == ["rank", "cost"]
    assert "Transit share (countries)" in page and "width: assigned flow" in page


def test_routes_from_a_geodataframe(hostile):
    ds, _, G = hostile
    routes = gpd.GeoDataFrame({"name": ["r1"], "probability": [0.25]},
                              geometry=[LineString([(0, 0), (1, 0), (2, 0)])], crs="EPSG:4326")
    layers = layers_of(map_html(route_map(G, analyses={"routes": routes})))
    cfg, fc = layers["routes"]
    assert fc["features"][0]["properties"]["n"] == "r1"
    assert cfg["fields"] == ["name", "probability"]


def test_edge_flows_by_corridor_id(hostile):
    ds, _, G = hostile
    edges = pd.DataFrame({"assigned_flow": [3.0, 1.0]},
                         index=pd.Index(["c_mid__east", "c_east__port"], name="corridor_id"))
    layers = layers_of(map_html(route_map(G, analyses={"edges": edges})))
    _, v = feature_named(layers["corridors"], "East town \u2013 Port B")
    assert v["assigned flow (both ways)"] == 1.0


def test_bad_analyses_are_refused(hostile):
    _, _, G = hostile
    with pytest.raises(RoutesError, match="unknown map analyses"):
        route_map(G, analyses={"nodes": pd.DataFrame()})
    with pytest.raises(RoutesError, match="flow"):
        route_map(G, analyses={"edges": pd.DataFrame({"u": ["p_west"], "v": ["x_mid"]})})


def test_empty_graph_renders():
    page = map_html(route_map(nx.DiGraph(), offline=True))
    assert layers_of(page)["corridors"][1]["features"] == []


# --------------------------------------------------------------------------- escaping
def test_data_text_never_reaches_the_page_as_markup(hostile):
    ds, _, G = hostile
    for offline in (False, True):
        page = map_html(route_map(G, countries=ds.countries, offline=offline,
                                  title=f"title {XSS}"))
        for raw in (XSS, SCRIPT_END, "<script>alert(2)"):
            assert raw not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page  # legend and <title>, escaped
        assert "49" not in re.findall(r"\d+", JINJA)  # sanity
        names = {f["properties"]["n"] for _, fc in layers_of(page).values()
                 for f in fc["features"]}
        # the exact text survives as data, Jinja tags included (never rendered as a template)
        assert {XSS, JINJA, SCRIPT_END} <= names


@settings(max_examples=40)
@given(st.text(min_size=1, max_size=30))
def test_any_name_round_trips_as_text(name):
    # A mark the page holds nowhere else, so that a name as short as "<" cannot be found in
    # the page's own markup.
    name = "\u2603" + name
    G = nx.DiGraph()
    G.add_node("p_a", kind="place", name=name, country="AAA", lat=0.0, lon=0.0, role="origin",
               supply=1.0, demand=0.0, source=name)
    page = map_html(route_map(G, offline=True))
    cfg, fc = layers_of(page)["origins"]
    props = fc["features"][0]["properties"]
    assert props["n"] == name and props["v"][-1] == name
    assert "<" not in name or name not in page


# --------------------------------------------------------------------------- offline
def test_offline_page_is_self_contained(hostile):
    ds, _, G = hostile
    page = map_html(route_map(G, countries=ds.countries, offline=True))
    assert external_references(page) == []
    assert 't.version="1.9.4"' in page  # Leaflet inlined
    assert "data:image/png;base64," in page  # its images too
    assert "sourceMappingURL" not in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert layers_of(page)["basemap"][0]["popups"] is False
    assert "openstreetmap" not in page.lower()


def test_online_page_loads_leaflet_and_tiles_only(hostile):
    ds, _, G = hostile
    page = map_html(route_map(G, countries=ds.countries))
    assert external_references(page) == [
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"]
    assert "tile.openstreetmap.org" in page and "OpenStreetMap" in page  # tiles + attribution
    assert "basemap" not in layers_of(page)


def test_offline_refuses_a_plugin_without_local_copy(hostile, tmp_path):
    ds, _, G = hostile
    m = route_map(G, offline=True)
    folium.plugins.Fullscreen().add_to(m)
    out = tmp_path / "map.html"
    with pytest.raises(RoutesError, match="no local copy"):
        write_map(m, out)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # atomic: nothing left
    online = route_map(G)
    folium.plugins.Fullscreen().add_to(online)
    assert any("fullscreen" in u for u in external_references(map_html(online)))


def test_external_references_finds_loads_only():
    page = ('<link rel="stylesheet" href="//cdn.x/a.css"><img src="http://y/i.png">'
            '<a href="https://z/">z</a><style>@import "https://w/b.css";</style>')
    assert external_references(page) == ["//cdn.x/a.css", "http://y/i.png", "https://w/b.css"]


def test_compare_map(hostile):
    ds, cm, G = hostile
    H = G.copy()
    H.graph["scenario"] = "other"
    fig = compare_map(G, H, countries=ds.countries, analyses=[analyses_for(G), None],
                      offline=True)
    page = map_html(fig)
    assert external_references(page) == []
    assert page.count('class="folium-map"') == 2
    names = re.findall(r'class="folium-map" id="(\w+)"', page)
    assert f"routes.sync([{names[0]}, {names[1]}]);" in page
    assert page.count('t.version="1.9.4"') == 1  # Leaflet inlined once for both maps
    assert "routes: baseline" in page and "routes: other" in page
    with pytest.raises(RoutesError, match="two"):
        compare_map(G, H, analyses=[None])


def test_same_map_same_bytes(hostile):
    ds, _, G = hostile
    pages = [map_html(route_map(G, countries=ds.countries, analyses=analyses_for(G)))
             for _ in range(2)]
    assert pages[0] == pages[1]
    m = route_map(G, countries=ds.countries, offline=True)
    first, second = map_html(m), map_html(m)  # rendering again draws nothing twice
    assert second.count("routes.dataLayer(") == first.count("routes.dataLayer(") == 7
    assert second.count("routes.search()") == 1 and second.count('t.version="1.9.4"') == 1
    H = G.copy()
    H.graph["scenario"] = "other"
    figs = [map_html(compare_map(G, H, offline=True)) for _ in range(2)]
    assert figs[0] == figs[1]


def test_write_map_is_atomic_and_utf8(hostile, tmp_path):
    ds, _, G = hostile
    out = write_map(route_map(G, countries=ds.countries, offline=True), tmp_path / "m.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and XSS not in text
    assert [p.name for p in tmp_path.iterdir()] == ["m.html"]


# --------------------------------------------------------------------------- CLI
def test_cli_map(tmp_path, capsys):
    data = write_dataset(tmp_path / "data")
    out = tmp_path / "map.html"
    assert main(["map", "--data", str(data), "--output", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(external_references(out.read_text(encoding="utf-8"))) == 2
    off = tmp_path / "off.html"
    assert main(["map", "--data", str(data), "--offline", "-o", str(off)]) == 0
    assert external_references(off.read_text(encoding="utf-8")) == []


def test_cli_compare(tmp_path, capsys):
    data = write_dataset(tmp_path / "data")
    sc = tmp_path / "close_mid.toml"
    sc.write_text('[scenario]\nname = "close-mid"\n[crossings.x_mid]\nstatus = "closed"\n',
                  encoding="utf-8")
    out = tmp_path / "cmp.html"
    assert main(["map", "--data", str(data), "--compare", "baseline", str(sc), "--offline",
                 "-o", str(out)]) == 0
    assert "baseline vs close-mid" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert external_references(page) == [] and "routes.sync(" in page


def test_cli_bad_scenario_is_one_message(tmp_path, capsys):
    data = write_dataset(tmp_path / "data")
    assert main(["map", "--data", str(data), "--scenario", str(tmp_path / "nope.toml"),
                 "-o", str(tmp_path / "m.html")]) == 2
    assert "routes map: error" in capsys.readouterr().err


# --------------------------------------------------------------------------- shipped data
@pytest.fixture(scope="module")
def shipped_map_page(_baseline, dataset, cost_model):
    from routes.cli.map import map_analyses

    an = map_analyses(_baseline, cost_model)
    return map_html(route_map(_baseline, countries=dataset.countries, analyses=an,
                              offline=True)), an


def test_shipped_baseline_map(_baseline, shipped_map_page):
    page, an = shipped_map_page
    G = _baseline
    layers = layers_of(page)
    n = {k: len(fc["features"]) for k, (_, fc) in layers.items()}
    corridors = {d["corridor_id"] for _, _, d in G.edges(data=True)}
    assert n["corridors"] == len(corridors)
    assert sum(n[k] for k in ("crossings", "origins", "markets", "places")) == len(G)
    assert n["routes"] == len(an.routes) > 0
    assert external_references(page) == []
    # the top priority crossing is the darkest and the largest betweenness the largest circle
    top = an.crossings["priority_rank"].idxmin()
    style, values = feature_named(layers["crossings"], G.nodes[top]["name"])
    assert style["fillColor"] == "#99000d" and values["priority rank"] == 1
    biggest = an.crossings["flow_betweenness"].idxmax()
    assert feature_named(layers["crossings"], G.nodes[biggest]["name"])[0]["radius"] == 16.0
    # every closed crossing is drawn hollow
    closed = [d["name"] for _, d in G.nodes(data=True) if d.get("status") == "closed"]
    assert all(feature_named(layers["crossings"], c)[0]["fillOpacity"] == 0.0 for c in closed)


def test_cli_map_on_shipped_data_runs_the_analyses(tmp_path, capsys):
    out = tmp_path / "map.html"
    assert main(["map", "--offline", "-o", str(out)]) == 0
    layers = layers_of(out.read_text(encoding="utf-8"))
    assert {"routes", "crossings", "corridors", "countries"} <= set(layers)
    assert "flow betweenness" in layers["crossings"][0]["fields"]
    assert "transit share" in layers["countries"][0]["fields"]


def test_cli_map_never_overwrites_another_commands_output(tmp_path, capsys, monkeypatch):
    """``routes map`` after ``routes report`` leaves the report's offline map.html alone."""
    import routes.cli.map as cli_map

    data = write_dataset(tmp_path / "data")
    monkeypatch.setattr(cli_map, "REPORTS_DIR", tmp_path / "reports")
    report_map = tmp_path / "reports" / "baseline" / "map.html"
    report_map.parent.mkdir(parents=True)
    write_map(route_map(nx.DiGraph(), offline=True), report_map, generator="routes report")
    before = report_map.read_bytes()
    # the default output is not the report's map
    assert main(["map", "--data", str(data), "--no-analyses"]) == 0
    assert report_map.read_bytes() == before
    online = tmp_path / "reports" / "baseline" / "map_online.html"
    assert online.is_file() and external_references(online.read_text(encoding="utf-8"))
    assert main(["map", "--data", str(data), "--no-analyses", "--offline"]) == 0
    assert (online.parent / "map_offline.html").is_file()
    # naming the report's map refuses, with the path and the way out; --force replaces it
    capsys.readouterr()
    assert main(["map", "--data", str(data), "--no-analyses", "-o", str(report_map)]) == 2
    err = capsys.readouterr().err
    assert str(report_map) in err and "`routes report`" in err and "--force" in err
    assert report_map.read_bytes() == before
    # a file written by hand is not replaced either
    mine = tmp_path / "mine.html"
    mine.write_text("my notes", encoding="utf-8")
    assert main(["map", "--data", str(data), "--no-analyses", "-o", str(mine)]) == 2
    assert mine.read_text(encoding="utf-8") == "my notes"
    # its own earlier output is replaced without a word
    assert main(["map", "--data", str(data), "--no-analyses", "-o", str(online)]) == 0
    assert main(["map", "--data", str(data), "--no-analyses", "-o", str(report_map),
                 "--force"]) == 0
    assert report_map.read_bytes() != before


def test_cli_map_compare_default_name(tmp_path, capsys, monkeypatch):
    """``map --compare`` writes under the same ``compare_<A>_vs_<B>`` name as compare/report."""
    import routes.cli.map as cli_map

    data = write_dataset(tmp_path / "data")
    monkeypatch.setattr(cli_map, "REPORTS_DIR", tmp_path / "reports")
    sc = tmp_path / "close_mid.toml"
    sc.write_text('[scenario]\nname = "close-mid"\n[crossings.x_mid]\nstatus = "closed"\n',
                  encoding="utf-8")
    assert main(["map", "--data", str(data), "--compare", "baseline", str(sc), "--offline",
                 "--no-analyses"]) == 0
    assert (tmp_path / "reports" / "compare_baseline_vs_close_mid" / "map_offline.html").is_file()


def test_one_palette_per_meaning():
    """Crossing priority in reds, route rank in blues, transit share in yellow-greens."""
    import colorsys

    from routes.maps._translate import RANK_CLASSES, ROUTE_COLOURS, SHARE_CLASSES

    def hue(c: str) -> float:
        r, g, b = (int(c[i:i + 2], 16) / 255 for i in (1, 3, 5))
        return colorsys.rgb_to_hsv(r, g, b)[0] * 360

    priority = [c for _, c, _ in RANK_CLASSES]
    share = [c for _, c in SHARE_CLASSES]
    assert all(h < 50 or h > 340 for h in map(hue, priority))
    assert all(190 <= h <= 250 for h in map(hue, ROUTE_COLOURS))
    assert all(55 <= h <= 150 for h in map(hue, share))


def test_popup_labels_are_readable():
    from routes.maps._translate import field_format

    assert field_format("p_detect") == ("detection probability", "pct")
    assert field_format("transit_share") == ("transit share", "pct")
    assert field_format("cost_rise_pct") == ("cost rise if closed", "pct100")
    for col in ("delay_h", "crossing_risk", "upgrade_cost", "p_detect_upgraded", "as_of"):
        assert "_" not in field_format(col)[0]


def test_offline_basemap_covers_the_visible_extent():
    """Whole countries, not the study window: Arabia, North Africa, India and China south of
    20N are land (issue 13, item 14)."""
    import shapely
    from shapely.geometry import Point, shape

    from routes.maps._assets import basemap_world
    from routes.maps._translate import basemap_layer
    from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

    ds = load_dataset(DATA_DIR, classes=set(load_cost_model(DEFAULT_COST_MODEL).classes))
    layer = basemap_layer(ds.countries, world=basemap_world())
    land = shapely.union_all([shape(f["geometry"]) for f in layer.features])
    for lon, lat, where in ((45.0, 24.0, "Arabia"), (10.0, 28.0, "Algeria"),
                            (30.0, 26.0, "Egypt"), (78.0, 15.0, "India south of 20N"),
                            (110.0, 25.0, "China south of 20N"), (-5.0, 40.0, "Spain"),
                            (100.0, 60.0, "Siberia")):
        assert land.contains(Point(lon, lat)), where
    assert not land.contains(Point(18.0, 35.0))    # the Mediterranean stays sea


_CAPITALS_RE = re.compile(r"routes\.capitals\(\w+, (\[.*?\])\);")


def test_offline_maps_name_the_capitals_and_credit_geonames(hostile):
    """Every map on the offline basemap names the capitals, and credits GeoNames (CC BY 4.0);
    online, the tiles name the places (issue 13, item 14)."""
    ds, _, G = hostile
    page = map_html(route_map(G, countries=ds.countries, offline=True))
    [found] = _CAPITALS_RE.findall(page)
    names = {c[2]: c for c in json.loads(found)}
    assert {"Kabul", "Tashkent", "Dushanbe", "Tehran", "Ankara", "Moscow", "Berlin"} <= set(names)
    assert names["Kabul"][3] == 5.0
    assert "Capitals: GeoNames (CC BY 4.0)" in page
    both = map_html(compare_map(G, G.copy(), countries=ds.countries, offline=True))
    assert len(_CAPITALS_RE.findall(both)) == 2
    assert _CAPITALS_RE.findall(map_html(route_map(G, countries=ds.countries))) == []
    assert _CAPITALS_RE.findall(map_html(route_map(G, offline=True))) == []   # no basemap
