"""The what-if page in a real headless browser (Debian's chromium, Playwright), against the CLI.

The page computes routes, flows and the detected share in JavaScript (routes/static/whatif.js);
here every figure it shows is checked against the Python engine: through the CLI itself
(`routes paths`, `routes priorities --budget 0`, `routes compare` on the scenario the page
downloads) and through the library on random small graphs full of ties. These tests never skip:
without chromium they fail and say how to install it (`make browser`).
"""

from __future__ import annotations

import random
import re
import statistics
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from browser_support import Visit, visit
from routes.cli import main
from routes.engine import Engine, quantize
from routes.maps import whatif_data, whatif_html
from routes.network import network_from_data
from routes.priorities.interdiction import evaluate_upgrades, interdict
from routes.routing.flows import assign_flows
from routes.scenario import BASELINE, Scenario, load_scenario
from test_maps import SCRIPT_END, XSS, load_hostile

TOL = 1e-9


def near(x: float) -> object:
    """Equal to 1e-9, absolute or relative (the CLI writes 10 significant digits to CSV)."""
    return pytest.approx(x, rel=TOL, abs=TOL)

#: A generous bound on one update (recompute + redraw); the exact figure is printed and
#: measured by `make bench` (benchmarks/bench_whatif.py).
UPDATE_BOUND_MS = 2000.0
HAIRATAN = "x_hairatan_termez"
UPGRADES = ("x_islam_qala_dogharoun", "x_sher_khan_bandar_panji_poyon")


def open_whatif(browser, path: Path) -> Visit:
    """Open a what-if page; every request outside the file is recorded and refused."""
    return visit(browser, path, ready="window.whatif !== undefined",
                 viewport={"width": 1400, "height": 900}, accept_downloads=True)


@pytest.fixture(scope="module")
def shipped_page(tmp_path_factory, dataset, cost_model) -> Path:
    path = tmp_path_factory.mktemp("whatif") / "whatif.html"
    path.write_text(whatif_html(whatif_data(dataset, cost_model)), encoding="utf-8")
    return path


@pytest.fixture
def page(browser, shipped_page):
    with open_whatif(browser, shipped_page) as v:
        yield v
        assert v.outside == [] and v.errors == [] and v.dialogs == []


def click_crossing(page, crossing: str, action: str) -> dict:
    """Click the crossing's marker with the mouse, then the popup's button for ``action``."""
    for attempt in range(3):
        xy = page.evaluate(
            """(id) => { const m = Object.values(whatif.markers).find(k => k.whatifId === id);
                 whatif.map.closePopup(); whatif.map.setView(m.getLatLng(), 9, {animate: false});
                 const p = whatif.map.latLngToContainerPoint(m.getLatLng());
                 const r = whatif.map.getContainer().getBoundingClientRect();
                 return [r.left + p.x, r.top + p.y]; }""", crossing)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")
        page.mouse.click(*xy)
        button = page.locator(f".whatif-popup button[data-state={action}]")
        try:
            button.wait_for(state="visible", timeout=3000)
            break
        except Exception:
            if attempt == 2:
                raise
    before = page.evaluate("whatif.summary().changes.length")
    button.click()
    after = page.evaluate("whatif.summary()")
    assert len(after["changes"]) != before or action == "open"
    return after


def scenario_network(dataset, cost_model, crossings: dict) -> nx.DiGraph:
    return network_from_data(dataset, cost_model, replace(BASELINE, crossings=crossings))


def assert_same_corridors(summary: dict, corridors: pd.DataFrame) -> None:
    for name, row in corridors.iterrows():
        assert summary["shares"][name] == near(row["share"]), name
        assert summary["corridorFlows"][name] == near(row["flow"]), name


def assert_compare_reproduces(summary: dict, scenario: Path, out: Path, *data: str) -> None:
    """`routes compare baseline <scenario> --budget 0` (``data``: e.g. ``--data DIR``) gives
    the page's corridor shares, detected share and routed flow as its scenario side."""
    assert main(["compare", *data, "baseline", str(scenario), "--budget", "0",
                 "--out", str(out)]) == 0
    folder = out / f"compare_baseline_vs_{scenario.stem}"
    corridors = pd.read_csv(folder / "compare_corridors.csv", index_col=0)
    for name, share in corridors["share_b"].items():
        assert summary["shares"][name] == near(share), name
    table = pd.read_csv(folder / "compare_summary.csv", index_col="metric")
    assert summary["detected"] == near(float(table.at["interdiction_base_value", "b"]))
    assert summary["total"] == near(float(table.at["routed_flow", "b"]))


# --------------------------------------------------------------------------- the shipped page
def test_start_equals_the_engine(page, baseline, cost_model):
    """Before any click: corridor shares, crossing flows and the detected share of the
    baseline, as the library computes them."""
    s = page.page.evaluate("whatif.summary()")
    fa = assign_flows(baseline, cost_model)
    assert_same_corridors(s, fa.corridors)
    assert s["total"] == pytest.approx(fa.total_flow, abs=TOL)
    assert s["nRoutes"] == len(fa.routes)
    for x, f in fa.crossings["flow"].items():
        assert s["crossings"][x] == pytest.approx(f, abs=TOL), x
    base = interdict(baseline, 0.0, objective="flow", cm=cost_model)
    assert s["detected"] == pytest.approx(base.value, abs=TOL)
    assert s["budget"] == 0 and s["changes"] == []


def test_closing_hairatan_equals_the_cli(page, tmp_path):
    """Close Hairatan-Termez with the mouse: the page's corridor shares equal `routes paths`
    and its detected share `routes priorities --budget 0 --objective flow`, on a scenario
    that closes it."""
    s = click_crossing(page.page, HAIRATAN, "closed")
    assert s["changes"] == [[HAIRATAN, "closed"]]
    toml = tmp_path / "close_hairatan.toml"
    toml.write_text(f'[scenario]\nname = "close-hairatan"\n[crossings.{HAIRATAN}]\n'
                    'status = "closed"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["paths", "--scenario", str(toml), "--out", str(out)]) == 0
    assert main(["priorities", "--budget", "0", "--objective", "flow", "--no-curve",
                 "--scenario", str(toml), "--out", str(out)]) == 0
    corridors = pd.read_csv(out / "close_hairatan" / "corridors.csv", index_col="corridor")
    assert_same_corridors(s, corridors)
    curve = pd.read_csv(out / "close_hairatan" / "priorities_curve.csv")
    assert s["detected"] == near(float(curve["value"].iloc[0]))
    flows = pd.read_csv(out / "close_hairatan" / "flows_crossings.csv", index_col="id")
    assert s["crossings"][HAIRATAN] == 0.0
    for x, f in flows["flow"].items():
        assert s["crossings"][x] == near(f), x
    print(f"\nwhat-if: close {HAIRATAN}: detected {s['detected']:.6f}, update {s['ms']:.1f} ms")
    # the popup now offers to reopen it; reopening returns to the start
    s2 = click_crossing(page.page, HAIRATAN, "open")
    assert s2["changes"] == [] and s2["budget"] == 0


def test_upgrading_two_posts_equals_the_cli(page, dataset, cost_model, baseline):
    """Upgrade two posts (one of them restricted): the detected share of a scenario that
    upgrades them (upgraded = true), and of the interdiction model's own evaluation of those
    upgrades; the budget is their upgrade costs."""
    for x in UPGRADES:
        s = click_crossing(page.page, x, "upgraded")
    assert sorted(s["changes"]) == [[x, "upgraded"] for x in UPGRADES]
    G = scenario_network(dataset, cost_model, {x: {"upgraded": True} for x in UPGRADES})
    assert all(G.nodes[x]["p_detect"] == baseline.nodes[x]["p_detect_upgraded"]
               for x in UPGRADES)
    assert s["detected"] == pytest.approx(
        interdict(G, 0.0, objective="flow", cm=cost_model).value, abs=TOL)
    ev = evaluate_upgrades(baseline, UPGRADES, objective="flow", cm=cost_model)
    assert s["detected"] == pytest.approx(ev.value, abs=TOL)
    assert s["detected"] > ev.base_value
    assert s["budget"] == pytest.approx(sum(baseline.nodes[x]["upgrade_cost"]
                                            for x in UPGRADES))
    assert_same_corridors(s, assign_flows(G, cost_model).corridors)
    panel = page.page.locator("#whatif-panel").inner_text()
    assert "Budget spent" in panel and f"{s['budget']:g}" in panel


def test_downloaded_scenario_reproduces_the_page(page, tmp_path, baseline):
    """Close, upgrade, reopen and upgrade a closed post; the TOML the page downloads, read
    back by `routes compare`, gives the page's corridor shares and detected share."""
    w = page.page
    w.evaluate(f"whatif.set('{HAIRATAN}', 'closed')")
    w.evaluate(f"whatif.set('{UPGRADES[0]}', 'upgraded')")
    w.evaluate("whatif.set('x_torkham_torkham', 'upgraded')")  # closed in the data
    s = w.evaluate("whatif.summary()")
    with w.expect_download() as dl:
        w.click("#whatif-download")
    path = tmp_path / "planner.toml"
    dl.value.save_as(path)
    sc = load_scenario(path)
    assert sc.name == "baseline-whatif"
    assert sc.crossings == {HAIRATAN: {"status": "closed"}, UPGRADES[0]: {"upgraded": True},
                            "x_torkham_torkham": {"status": "open", "upgraded": True}}
    text = path.read_text(encoding="utf-8")
    assert f'[crossings."{UPGRADES[0]}"]\nupgraded = true\n' in text  # a TOML boolean
    assert '[crossings."x_torkham_torkham"]\nstatus = "open"\nupgraded = true\n' in text
    assert not re.search(r"^p_detect", text, re.M)
    assert_compare_reproduces(s, path, tmp_path / "out")
    # reset returns to the start
    w.click("#whatif-reset")
    r = w.evaluate("whatif.summary()")
    assert r["changes"] == [] and r["budget"] == 0
    assert w.evaluate("whatif.toml()").count("[crossings.") == 0


def test_updates_are_fast_and_request_nothing(page, baseline):
    """Each click's update (routes, flows, detected share, redraw) stays under a generous
    bound; the page requests nothing outside the file and logs no error."""
    w = page.page
    ids = w.evaluate("Object.values(whatif.markers).map(m => m.whatifId)")
    times = []
    for x in [HAIRATAN, *UPGRADES, "x_torkham_torkham", HAIRATAN]:
        state = "closed" if x != UPGRADES[0] else "upgraded"
        times.append(w.evaluate(f"whatif.set('{x}', '{state}').ms"))
        times.append(w.evaluate(f"whatif.set('{x}', 'open').ms"))
    assert sorted(ids) == sorted(n for n, k in baseline.nodes(data="kind") if k == "crossing")
    print(f"\nwhat-if update per click on the shipped network: median "
          f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms ({len(times)} clicks)")
    assert max(times) < UPDATE_BOUND_MS
    assert all(u.startswith(("file:", "data:", "blob:")) for u in page.requests)


VISIBLE_JS = """(cls) => Array.from(document.querySelectorAll(cls))
    .filter(e => e.style.opacity !== '0').map(e => e.textContent)"""  # (labels fade out)
SET_VIEW_JS = """([lat, lon, z]) => new Promise(done => {
    whatif.map.setView([lat, lon], z, {animate: false});
    requestAnimationFrame(() => requestAnimationFrame(done)); })"""


def test_page_names_the_countries_and_capitals(page):
    """The offline basemap of every map: countries named, capitals from zoom 5 on."""
    w = page.page
    w.evaluate(SET_VIEW_JS, [34.5, 69.2, 4])
    assert w.evaluate(VISIBLE_JS, ".whatif-capital-label") == []
    assert {"Afghanistan", "Saudi Arabia", "India"} <= set(
        w.evaluate(VISIBLE_JS, ".whatif-country-label"))
    w.evaluate(SET_VIEW_JS, [34.5, 69.2, 5])
    assert {"Kabul", "Dushanbe", "Tashkent", "Tehran"} <= set(
        w.evaluate(VISIBLE_JS, ".whatif-capital-label"))
    assert "Capitals: GeoNames (CC BY 4.0)" in w.inner_text(".leaflet-control-attribution")


# --------------------------------------------------------------------------- escaping
def test_place_names_are_text(browser, tmp_path):
    ds, cm, _ = load_hostile(tmp_path / "hostile")
    data = whatif_data(ds, cm)
    data["labels"] = {"countries": [[0.3, 0.3, SCRIPT_END, 0]],
                      "capitals": [[-0.3, 0.3, XSS, 0]], "credit": XSS}
    path = tmp_path / "w.html"
    path.write_text(whatif_html(data), encoding="utf-8")
    with open_whatif(browser, path) as v:
        w = v.page
        assert w.evaluate(VISIBLE_JS, ".whatif-capital-label") == [XSS]
        assert w.evaluate(VISIBLE_JS, ".whatif-country-label") == [SCRIPT_END]
        assert XSS in w.inner_text(".leaflet-control-attribution")
        assert w.locator("img").count() == 0
        assert v.dialogs == [] and v.errors == [] and v.outside == []


def test_hostile_names_are_text(browser, tmp_path):
    """Names with markup are shown as text; a scenario whose name and description hold
    quotes, backslashes and new lines still downloads as TOML the CLI reads."""
    ds, cm, _ = load_hostile(tmp_path / "hostile")
    sc = Scenario(name='odd "name" \\ here', description=f"two\nlines {XSS}",
                  crossings={"x_mid": {"delay_h": 2.5}})
    path = tmp_path / "w.html"
    path.write_text(whatif_html(whatif_data(ds, cm, sc)), encoding="utf-8")
    with open_whatif(browser, path) as v:
        w = v.page
        w.evaluate("whatif.set('x_north', 'closed')")
        w.evaluate("whatif.set('x_south', 'upgraded')")  # closed in the data: reopened, upgraded
        text = w.locator("#whatif-panel").inner_text()
        assert v.dialogs == [] and v.errors == [] and v.outside == []
        assert SCRIPT_END in text  # shown as text in the changes list
        assert w.locator("#whatif-panel img").count() == 0 and w.locator("script").count() == 3
        toml = tmp_path / "back.toml"
        toml.write_text(w.evaluate("whatif.toml()"), encoding="utf-8")
        back = load_scenario(toml)
        assert back.name == sc.name + "-whatif"
        assert back.description.startswith(f"two lines {XSS} What-if changes: ")  # one line
        assert back.crossings == {"x_mid": {"delay_h": 2.5}, "x_north": {"status": "closed"},
                                  "x_south": {"status": "open", "upgraded": True}}


def test_download_over_a_start_that_sets_the_posts_p_detect(browser, tmp_path):
    """The starting scenario sets x_mid's own p_detect (0.6, below its upgraded 0.75) and
    upgrades x_north. Upgrading x_mid on the page downloads ``upgraded = true`` without the
    starting p_detect (a file cannot give both) and x_north's ``upgraded = true`` as a TOML
    boolean; `routes compare` reads the file back to the page's numbers."""
    folder = tmp_path / "hostile"
    ds, cm, _ = load_hostile(folder)
    sc = Scenario(name="start", crossings={"x_mid": {"p_detect": 0.6, "delay_h": 3.0},
                                           "x_north": {"upgraded": True}})
    page_path = tmp_path / "w.html"
    page_path.write_text(whatif_html(whatif_data(ds, cm, sc)), encoding="utf-8")
    with open_whatif(browser, page_path) as v:
        w = v.page
        before = w.evaluate("whatif.summary()")
        s = w.evaluate("whatif.set('x_mid', 'upgraded')")
        assert s["changes"] == [["x_mid", "upgraded"]] and s["detected"] > before["detected"]
        text = w.evaluate("whatif.toml()")
        assert v.errors == [] and v.outside == [] and v.dialogs == []
    assert '[crossings."x_mid"]\ndelay_h = 3.0\nupgraded = true\n' in text
    assert '[crossings."x_north"]\nupgraded = true\n' in text
    assert not re.search(r"^p_detect", text, re.M)
    path = tmp_path / "planner.toml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path).crossings == {"x_mid": {"delay_h": 3.0, "upgraded": True},
                                             "x_north": {"upgraded": True}}
    assert_compare_reproduces(s, path, tmp_path / "out", "--data", str(folder))


# --------------------------------------------------------------------------- k best routes
def random_graphs(n_graphs: int, seed: int) -> nx.DiGraph:
    """Disjoint random digraphs with small integer costs (many ties) in one network."""
    rng = random.Random(seed)
    G = nx.DiGraph()
    for g in range(n_graphs):
        n = rng.randint(5, 10)
        ids = [f"g{g:02d}_{rng.choice('abcdef')}{j:02d}" for j in range(n)]
        for i, x in enumerate(ids):
            G.add_node(x, kind="place", country="AAA", lat=float(g), lon=float(i),
                       role="transit", name=x)
        for a in ids:
            for b in ids:
                if a != b and rng.random() < 0.4:
                    G.add_edge(a, b, cost=float(rng.choice([1, 2, 2, 3])) / 4, risk=0.1,
                               mode="road", corridor_id=f"{a}-{b}")
    return G


def graph_data(G: nx.DiGraph) -> dict:
    nodes = [{"id": x, **G.nodes[x]} for x in sorted(G.nodes)]
    index = {d["id"]: i for i, d in enumerate(nodes)}
    edges = [[index[u], index[v], d["corridor_id"], d["mode"],
              [d["cost"], int(quantize([d["cost"]])[0]), d["risk"]], None]
             for u, v, d in sorted(G.edges(data=True))]
    return {"meta": {"title": "random", "scenario": "random"}, "params": {"k": 3, "theta": 1.0},
            "nodes": nodes, "edges": edges, "pairs": [],
            "scenario": {"name": "random", "description": "", "as_of": "", "sources": [],
                         "crossings": {}, "classes": {}, "places": {}},
            "basemap": {"type": "FeatureCollection", "features": []}}


def test_k_best_routes_equal_the_engine_with_ties(browser, tmp_path):
    """Yen in the page equals Engine.k_shortest_paths (both engines) on 30 random graphs with
    many ties, for every pair and k = 1..6: the same routes, lengths and order."""
    G = random_graphs(30, seed=14)
    path = tmp_path / "random.html"
    path.write_text(whatif_html(graph_data(G)), encoding="utf-8")
    nodes = sorted(G.nodes)
    groups: dict[str, list[str]] = {}
    for x in nodes:
        groups.setdefault(x[:3], []).append(x)
    queries = [(s, t, k) for ids in groups.values() for s in ids for t in ids
               for k in (1, 3, 6) if s != t]
    with open_whatif(browser, path) as v:
        page_out = v.page.evaluate(
            """(qs) => { const net = whatif.core.network({});
                 return qs.map(([s, t, k]) => whatif.core.kShortest(net, s, t, k)
                                                .map(r => [r.len, r.path])); }""",
            [[nodes.index(s), nodes.index(t), k] for s, t, k in queries])
    engines = [Engine(G, engine=e) for e in ("igraph", "networkx")]
    n_ties = 0
    for (s, t, k), got in zip(queries, page_out, strict=True):
        want = engines[0].k_shortest_paths(s, t, k, weights="cost")
        assert want == engines[1].k_shortest_paths(s, t, k, weights="cost")
        assert [(c, [nodes[i] for i in p]) for c, p in got] == want, (s, t, k)
        n_ties += len({c for c, _ in want}) < len(want)
    assert n_ties > 100  # the ties the test is about
    assert v.errors == [] and v.outside == []


def test_upgrades_show_the_delay_of_routes_tradeoff(page, tmp_path):
    """Each upgrade's added delay and its money value on the page equal `routes tradeoff`'s
    for the same set (the CLI's tradeoff_posts.csv summed over the set), to 1e-9."""
    out = tmp_path / "out"
    assert main(["tradeoff", "--budget", "0", "--out", str(out), "--no-progress"]) == 0
    posts = pd.read_csv(out / "baseline" / "tradeoff_posts.csv").set_index("id")
    s = page.page.evaluate("whatif.summary()")
    assert s["legitH"] == 0 and s["legitUsd"] == 0
    for x in UPGRADES:
        s = click_crossing(page.page, x, "upgraded")
    want_h = float(posts.loc[list(UPGRADES), "delay_h_per_day"].sum())
    want_usd = float(posts.loc[list(UPGRADES), "cost_usd_per_day"].sum())
    assert want_h > 0
    assert s["legitH"] == near(want_h) and s["legitUsd"] == near(want_usd)
    assert s["legitImputed"] == int(posts.loc[list(UPGRADES), "imputed"].sum())
    panel = page.page.locator("#whatif-panel").inner_text()
    assert "Added delay to legitimate traffic" in panel and f"{want_usd:.1f}" in panel
    s = click_crossing(page.page, UPGRADES[0], "open")
    assert s["legitH"] == near(float(posts.at[UPGRADES[1], "delay_h_per_day"]))
