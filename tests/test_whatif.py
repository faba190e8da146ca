"""The what-if page's data and HTML (no browser): weights per crossing state, escaping, CLI.

The page's numbers are checked against the CLI in a real browser (test_whatif_browser.py); here,
what the page computes on: every edge's weights in every state a crossing can take must be the
weights the Python network build gives that state.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from routes.cli import main
from routes.engine import quantize
from routes.maps import external_references, whatif_data, whatif_html, write_whatif
from routes.network import network_from_data, od_demand
from routes.scenario import BASELINE, Scenario
from test_maps import JINJA, SCRIPT_END, XSS, load_hostile

DATA_RE = re.compile(r'<script type="application/json" id="whatif-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return load_hostile(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def data(hostile):
    ds, cm, _ = hostile
    return whatif_data(ds, cm)


def page_data(page: str) -> dict:
    return json.loads(DATA_RE.search(page).group(1))


def built(ds, cm, crossings: dict) -> object:
    return network_from_data(ds, cm, replace(BASELINE, crossings=crossings))


def test_nodes_in_engine_order_with_their_states(data):
    ids = [n["id"] for n in data["nodes"]]
    assert ids == sorted(ids)
    x = {n["id"]: n for n in data["nodes"] if n["kind"] == "crossing"}
    assert {k: (v["start"], v["start_status"], v["reopen"]) for k, v in x.items()} == {
        "x_mid": ("open", "open", "open"),
        "x_north": ("open", "restricted", "restricted"),
        "x_south": ("closed", "closed", "open")}
    # the hand-worked cost model's post class: 0.5 -> 0.75 at cost 1
    assert {(v["p_detect"], v["p_detect_upgraded"], v["upgrade_cost"], v["upgradable"])
            for v in x.values()} == {(0.5, 0.75, 1.0, True)}
    assert data["params"] == {"k": 2, "theta": 1.0, "scale": 10**6, "weight": "cost"}


def test_pairs_are_the_od_demand_in_id_order(data, hostile):
    _, _, G = hostile
    ids = [n["id"] for n in data["nodes"]]
    assert [(ids[o], ids[m], f, onward) for o, m, f, onward in data["pairs"]] == [
        (o, m, f, int(G.nodes[o].get("role") != "origin"))
        for (o, m), f in sorted(od_demand(G).items())]


@pytest.mark.parametrize("upgraded", [(), ("x_mid",), ("x_mid", "x_north", "x_south")])
def test_edge_weights_are_the_network_builds_in_each_state(data, hostile, upgraded):
    """Closed x_south reopened, and any set of posts upgraded: the page's weights of each edge
    are exactly those of the network built from the scenario that says so."""
    ds, cm, _ = hostile
    changes: dict = {"x_south": {"status": "open"}}
    for x in upgraded:
        changes.setdefault(x, {})["upgraded"] = True  # as the downloaded file says it
    G = built(ds, cm, changes)
    assert all(G.nodes[x]["p_detect"] == 0.75 for x in upgraded)
    ids = [n["id"] for n in data["nodes"]]
    assert len(data["edges"]) == G.number_of_edges() == 14
    for u, v, corridor, mode, w, w_up in data["edges"]:
        a, b = ids[u], ids[v]
        d = G.edges[a, b]
        page = w_up if (b in upgraded and w_up is not None) else w
        assert page == [d["cost"], int(quantize([d["cost"]])[0]), d["risk"]]
        assert (corridor, mode) == (d["corridor_id"], d["mode"])
        assert (w_up is not None) == (b in ("x_mid", "x_north", "x_south"))


@pytest.mark.parametrize(("start_p", "upgradable"), [(0.6, True), (0.8, False)])
def test_an_upgrade_replaces_the_starting_scenarios_p_detect(hostile, start_p, upgradable):
    """The starting scenario sets x_mid's own p_detect and upgrades x_north. An upgrade on the
    page is the file's ``upgraded = true``, which replaces the starting p_detect: x_mid is
    upgradable (to 0.75) only when that is above the starting 0.6 / 0.8, and its upgraded
    weights are the network built from ``upgraded = true``; x_north, upgraded from the start,
    cannot be upgraded further."""
    ds, cm, _ = hostile
    sc = Scenario(name="s", crossings={"x_mid": {"p_detect": start_p, "delay_h": 3.0},
                                       "x_north": {"upgraded": True}})
    d = whatif_data(ds, cm, sc)
    assert d["scenario"]["crossings"] == {"x_mid": {"p_detect": start_p, "delay_h": 3.0},
                                          "x_north": {"upgraded": True}}
    x = {n["id"]: n for n in d["nodes"] if n["kind"] == "crossing"}
    assert {k: (v["p_detect"], v["p_detect_upgraded"], v["upgradable"])
            for k, v in x.items()} == {
        "x_mid": (start_p, 0.75 if upgradable else start_p, upgradable),
        "x_north": (0.75, 0.75, False), "x_south": (0.5, 0.75, True)}
    G = network_from_data(ds, cm, replace(sc, crossings={
        "x_mid": {"upgraded": True, "delay_h": 3.0}, "x_north": {"upgraded": True},
        "x_south": {"status": "open", "upgraded": True}}))
    ids = [n["id"] for n in d["nodes"]]
    for u, v, _, _, _w, w_up in d["edges"]:
        a, b = ids[u], ids[v]
        assert (w_up is not None) == (b == "x_south" or (b == "x_mid" and upgradable))
        if w_up is not None:
            e = G.edges[a, b]
            assert w_up == [e["cost"], int(quantize([e["cost"]])[0]), e["risk"]]


def test_upgrade_adds_the_restricted_risk_factor(data):
    """Upgrading 0.5 -> 0.75 adds -ln(0.25) + ln(0.5) = ln 2 to the edges entering the post;
    x_north is restricted (risk factor 3): 3 ln 2 = 2.0794."""
    ids = [n["id"] for n in data["nodes"]]
    rises = {ids[v]: round(w_up[2] - w[2], 4) for _, v, _, _, w, w_up in data["edges"]
             if w_up is not None}
    assert rises == {"x_mid": 0.6931, "x_north": 2.0794, "x_south": 0.6931}


def test_scenario_overlay_travels_with_the_page(hostile):
    ds, cm, _ = hostile
    sc = Scenario(name="s", description="d", as_of="2025-01-02", sources=("a", "b"),
                  crossings={"x_mid": {"delay_h": 3.0}}, places={"p_east": {"demand": 5.0}})
    d = whatif_data(ds, cm, sc)
    assert d["scenario"] == {"name": "s", "description": "d", "as_of": "2025-01-02",
                             "sources": ["a", "b"], "crossings": {"x_mid": {"delay_h": 3.0}},
                             "classes": {}, "places": {"p_east": {"demand": 5.0}}}
    assert d["pairs"][0][2] == 10.0 and d["meta"]["scenario"] == "s"


def test_page_is_self_contained_and_escaped(data):
    page = whatif_html({**data, "meta": {**data["meta"], "title": f"t {XSS}"}})
    assert external_references(page) == []
    for raw in (XSS, SCRIPT_END, "<script>alert(2)"):
        assert raw not in page
    assert "<title>t &lt;img src=x onerror=alert(1)&gt;</title>" in page
    names = {n["name"] for n in page_data(page)["nodes"]}
    assert {XSS, JINJA, SCRIPT_END} <= names  # the exact text survives as data


def test_script_writes_no_markup_from_data():
    from importlib import resources

    js = (resources.files("routes") / "static" / "whatif.js").read_text(encoding="utf-8")
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    assert not re.search(r"</script", js, re.I)


def test_write_whatif_and_cli(tmp_path, hostile):
    ds, cm, _ = hostile
    path = write_whatif(ds, cm, tmp_path / "a" / "w.html")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["w.html"]
    folder = tmp_path / "hostile"
    load_hostile(folder)
    out = tmp_path / "cli.html"
    assert main(["whatif", "--data", str(folder), "--output", str(out), "--offline"]) == 0
    assert out.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_shipped_network_page(dataset, cost_model, baseline):
    page = whatif_html(whatif_data(dataset, cost_model))
    d = page_data(page)
    assert len(d["nodes"]) == baseline.number_of_nodes()
    closed = {n for n, a in baseline.nodes(data=True) if a.get("status") == "closed"}
    # the page holds the edges of every closed crossing too (reopened: status as in the data)
    assert len(d["edges"]) > baseline.number_of_edges()
    assert {n["id"] for n in d["nodes"] if n.get("start") == "closed"} == closed
    assert len(page.encode()) < 2_000_000


def test_the_date_travels_with_the_page(dataset, cost_model):
    """Built as of a date: the crossings closed on that date start closed, and the downloaded
    scenario records the date (so the CLI reads back the same network); without a date asked
    for, it records none."""
    d = whatif_data(dataset, cost_model, as_of="2024-06-30")
    G = network_from_data(dataset, cost_model, as_of="2024-06-30")
    closed = {n for n, a in G.nodes(data=True) if a.get("status") == "closed"}
    assert {n["id"] for n in d["nodes"] if n.get("start") == "closed"} == closed
    assert d["scenario"]["as_of"] == d["meta"]["as_of"] == "2024-06-30"
    assert "x_kyzyl_art_kyzyl_art" in closed  # closed then, open at the end of the data
    # without a date asked for, the download carries none (read back at the default date)
    assert whatif_data(dataset, cost_model)["scenario"]["as_of"] == ""


def test_page_draws_the_offline_basemap_and_its_names(data, hostile):
    """The land and the place names of every offline map: the whole visible extent, the
    countries' names and the capitals (GeoNames, credited), the data's own countries too."""
    from routes.maps._assets import basemap_capitals, basemap_world

    ds, _, _ = hostile
    assert len(data["basemap"]["features"]) == len(basemap_world()) + len(ds.countries)
    labels = data["labels"]
    assert len(labels["capitals"]) == len(basemap_capitals())
    assert [c for c in labels["capitals"] if c[2] == "Kabul"][0][3] == 5.0
    assert {"Afghanistan", "Saudi Arabia"} <= {c[2] for c in labels["countries"]}
    assert set(ds.countries["name"]) <= {c[2] for c in labels["countries"]}
    assert labels["credit"] == "Capitals: GeoNames (CC BY 4.0)"


def test_page_names_its_cost_model_file_and_hash(hostile):
    """The page states the cost model (file, sha256); its download carries them."""
    from pathlib import Path

    ds, cm, _ = hostile
    d = whatif_data(ds, cm)
    assert d["meta"]["cost_model_sha256"] == cm.source_hash
    assert d["meta"]["cost_model_file"] == (Path(cm.path).name if cm.path else "")
    from routes.maps._whatif import _static

    js = _static("whatif.js")
    assert 'lines.push("cost_model_sha256 = "' in js
