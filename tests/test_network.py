"""The network build: a hand-worked three-node case, closures, scenarios, shipped data."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import pytest

import routes
from routes import ScenarioError
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import (
    crossings,
    markets,
    network_from_data,
    network_from_gdfs,
    network_to_gdfs,
    od_demand,
    origins,
)
from routes.scenario import Scenario, load_scenario
from routes.settings import SCENARIO_DIR

HAND = Path(__file__).parent / "data" / "handworked"
DEG_KM = 111.31949079327357  # WGS84 equatorial circumference / 360


@pytest.fixture
def hand_graph() -> nx.DiGraph:
    cm = load_cost_model(HAND / "cost_model.toml")
    ds = load_dataset(HAND, classes=set(cm.classes))
    return network_from_data(ds, cm)


def test_handworked_weights(hand_graph):
    # Each leg is 1 degree of the equator; road detour 1.5 -> 166.979 km.
    length = 1.5 * DEG_KM
    # Into the post: travel + fixed 1 h + post delay 10 h; risk 0.1/1000 km + -ln(1 - 0.5).
    t_in = length / 50 + 1 + 10
    r_in = 0.1 * length / 1000 + math.log(2)
    into = hand_graph.edges["p_west", "x_mid"]
    assert into["length_km"] == pytest.approx(166.97923619, rel=1e-9)
    assert into["time_h"] == pytest.approx(t_in, rel=1e-12)
    assert into["time_h"] == pytest.approx(14.33958472, rel=1e-9)
    assert into["risk"] == pytest.approx(r_in, rel=1e-12)
    assert into["cost"] == pytest.approx(t_in + 100 * r_in + 0.01 * length, rel=1e-12)
    assert into["cost"] == pytest.approx(86.99389, abs=1e-4)
    # Out of the post: no post terms.
    out = hand_graph.edges["x_mid", "p_east"]
    assert out["time_h"] == pytest.approx(length / 50 + 1, rel=1e-12)
    assert out["risk"] == pytest.approx(0.1 * length / 1000, rel=1e-12)
    assert out["cost"] == pytest.approx(7.67917, abs=1e-4)
    # The route pays the post once: P(pass undetected) = 0.5 * exp(-travel hazard).
    risk = nx.shortest_path_length(hand_graph, "p_west", "p_east", weight="risk")
    assert math.exp(-risk) == pytest.approx(0.5 * math.exp(-2 * 0.1 * length / 1000))


def test_oneway_corridor_gives_one_edge(tmp_path):
    """A corridor with oneway = yes is travelled from from_id to to_id only (issue 19)."""
    import shutil

    d = tmp_path / "hand"
    shutil.copytree(HAND, d)
    (d / "corridors.csv").write_text(
        "id,from_id,to_id,mode,source,oneway\n"
        "c_west__mid,p_west,x_mid,road,hand-worked test case,yes\n"
        "c_mid__east,x_mid,p_east,road,hand-worked test case,\n", encoding="utf-8")
    cm = load_cost_model(d / "cost_model.toml")
    G = network_from_data(load_dataset(d, classes=set(cm.classes)), cm)
    assert G.has_edge("p_west", "x_mid") and not G.has_edge("x_mid", "p_west")
    assert G.has_edge("x_mid", "p_east") and G.has_edge("p_east", "x_mid")
    # the forward edge keeps its hand-worked weight (cost 86.99389, as in the two-way build)
    assert G.edges["p_west", "x_mid"]["cost"] == pytest.approx(86.99389, abs=1e-4)
    assert G.number_of_edges() == 3


def test_handworked_restricted_post(tmp_path):
    cm = load_cost_model(HAND / "cost_model.toml")
    ds = load_dataset(HAND, classes=set(cm.classes))
    sc = Scenario(name="restrict", crossings={"x_mid": {"status": "restricted"}})
    G = network_from_data(ds, cm, sc)
    e = G.edges["p_west", "x_mid"]
    length = 1.5 * DEG_KM
    assert e["time_h"] == pytest.approx(length / 50 + 1 + 2 * 10)
    assert e["risk"] == pytest.approx(0.1 * length / 1000 + 3 * math.log(2))


def test_handworked_post_at_asymmetric_p():
    # p = 0.2 tells -ln(1 - p) = 0.2231 from -ln(p) = 1.609 (at p = 0.5 both are ln 2);
    # the undetected share of the post is 1 - p = 0.8.
    cm = load_cost_model(HAND / "cost_model.toml")
    ds = load_dataset(HAND, classes=set(cm.classes))
    G = network_from_data(ds, cm, Scenario(name="p02", crossings={"x_mid": {"p_detect": 0.2}}))
    length = 1.5 * DEG_KM
    assert G.nodes["x_mid"]["crossing_risk"] == pytest.approx(0.22314355, rel=1e-8)
    into = G.edges["p_west", "x_mid"]
    assert into["risk"] == pytest.approx(0.1 * length / 1000 + 0.22314355, rel=1e-8)
    assert into["cost"] == pytest.approx(length / 50 + 11 + 100 * into["risk"] + 0.01 * length)
    risk = nx.shortest_path_length(G, "p_west", "p_east", weight="risk")
    assert math.exp(-risk) == pytest.approx(0.8 * math.exp(-2 * 0.1 * length / 1000))


def test_graph_provenance(hand_graph):
    g = hand_graph.graph
    assert g["crs"] == "EPSG:4326"
    assert g["cost_model"] == "handworked"
    assert len(g["cost_model_hash"]) == 64 and len(g["data_hash"]) == 64
    assert g["scenario"] == "baseline" and g["name"] == "routes:baseline"
    assert g["routes_version"] == routes.__version__


def test_views(hand_graph):
    assert origins(hand_graph) == {"p_west": 10.0}
    assert markets(hand_graph) == {"p_east": 4.0}
    assert crossings(hand_graph) == ["x_mid"]
    assert od_demand(hand_graph) == {("p_west", "p_east"): 10.0}


def test_gdf_round_trip(hand_graph):
    nodes, edges = network_to_gdfs(hand_graph)
    assert len(nodes) == 3 and len(edges) == 4
    H = network_from_gdfs(nodes, edges)
    assert nx.utils.graphs_equal(hand_graph, H)
    assert H.graph == hand_graph.graph


def test_build_does_not_mutate_inputs(dataset, cost_model):
    before = dataset.crossings.copy()
    sc = Scenario(name="t", crossings={dataset.crossings["id"].iloc[0]: {"status": "closed"}})
    network_from_data(dataset, cost_model, sc)
    assert dataset.crossings.equals(before)


# ----------------------------------------------------------------------- shipped data
def test_baseline_every_origin_reaches_a_market(baseline):
    ms = set(markets(baseline))
    assert origins(baseline) and ms
    for o in origins(baseline):
        reach = nx.descendants(baseline, o)
        assert reach & ms, f"origin {o} reaches no market"


def test_baseline_weights_positive(baseline):
    for u, v, d in baseline.edges(data=True):
        for w in ("length_km", "time_h", "cost"):
            assert d[w] > 0, (u, v, w)
        assert d["risk"] >= 0, (u, v)  # sea legs carry no risk: ports are charged at entry


def test_closing_a_crossing_removes_exactly_its_traffic(dataset, cost_model, baseline):
    # Close the crossing that carries the baseline's least-cost route of the largest pair.
    (o, m), _ = max(od_demand(baseline).items(), key=lambda kv: (kv[1], kv[0]))
    path = nx.shortest_path(baseline, o, m, weight="cost")
    xs = [n for n in path if baseline.nodes[n]["kind"] == "crossing"]
    assert xs, "the route crosses no border"
    x = xs[0]
    G = network_from_data(dataset, cost_model,
                          Scenario(name="close", crossings={x: {"status": "closed"}}))
    assert G.degree(x) == 0 and G.nodes[x]["status"] == "closed"
    removed = set(baseline.edges) - set(G.edges)
    assert removed == set(baseline.in_edges(x)) | set(baseline.out_edges(x))
    assert set(G.edges) <= set(baseline.edges)
    for e in G.edges:  # every other edge keeps its weights
        assert G.edges[e]["cost"] == baseline.edges[e]["cost"]
    if nx.has_path(G, o, m):
        assert x not in nx.shortest_path(G, o, m, weight="cost")


def test_shipped_scenarios_apply(dataset, cost_model, baseline):
    files = sorted(SCENARIO_DIR.glob("*.toml"))
    assert len(files) >= 3
    names = set()
    for f in files:
        sc = load_scenario(f)
        names.add(sc.name)
        assert sc.sources or sc.name == "baseline", f"{f.name} cites no source"
        G = network_from_data(dataset, cost_model, sc)
        assert G.number_of_nodes() == baseline.number_of_nodes()
        assert G.graph["scenario"] == sc.name
    assert "baseline" in names


def test_scenario_unknown_id(dataset, cost_model, tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[scenario]\nname = "bad"\n[crossings.x_nowhere]\nstatus = "closed"\n'
                 '[places.p_nowhere]\ndemand = 3\n')
    sc = load_scenario(f)
    with pytest.raises(ScenarioError, match=r"bad.toml.*crossings.x_nowhere.*unknown crossing"):
        network_from_data(dataset, cost_model, sc)


def test_scenario_bad_values(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[scenario]\nname = "bad"\n[crossings.x_a]\nstatus = "half-open"\n'
                 'p_detect = 1.5\n')
    with pytest.raises(ScenarioError) as ei:
        load_scenario(f)
    msg = str(ei.value)
    assert "crossings.x_a.status" in msg and "crossings.x_a.p_detect" in msg


def test_scenario_may_carry_uncertainty_ranges(dataset, cost_model, baseline, tmp_path):
    f = tmp_path / "u.toml"
    f.write_text('[scenario]\nname = "u"\n[uncertainty]\np_detect = [0.9, 1.1]\n'
                 '[wormholes]\nx = 1\n')
    with pytest.raises(ScenarioError, match="wormholes.*unknown table"):
        load_scenario(f)
    f.write_text('[scenario]\nname = "u"\n[uncertainty]\np_detect = [0.9, 1.1]\n')
    G = network_from_data(dataset, cost_model, load_scenario(f))
    assert set(G.edges) == set(baseline.edges)  # ranges do not change the network


# ------------------------------------------------------------------ rules, one by one
def test_crossing_node_attributes_and_defaults(hand_graph):
    d = hand_graph.nodes["x_mid"]
    # Empty cells take the class defaults: p 0.5, cost 1, upgraded 0.75 (handworked model).
    assert (d["p_detect"], d["upgrade_cost"], d["p_detect_upgraded"]) == (0.5, 1.0, 0.75)
    assert (d["delay_h"], d["crossing_risk"]) == (10.0, pytest.approx(math.log(2)))
    assert (d["kind"], d["country_a"], d["country_b"], d["mode"], d["status"]) == (
        "crossing", "AAA", "BBB", "road", "open")
    assert (d["lat"], d["lon"], d["as_of"], d["crossing_class"]) == (0.0, 1.0, "2025-01-01",
                                                                     "post")
    assert d["name"] == "Middle post" and d["source"] == "hand-worked test case"
    p = hand_graph.nodes["p_west"]
    assert (p["kind"], p["role"], p["supply"], p["demand"], p["country"]) == (
        "place", "origin", 10.0, 0.0, "AAA")
    assert (p["name"], p["lat"], p["lon"]) == ("West town", 0.0, 0.0)


def test_crossing_row_values_override_the_class(tmp_path):
    import shutil

    d = tmp_path / "hand"
    shutil.copytree(HAND, d)
    f = d / "crossings.csv"
    f.write_text(f.read_text().replace("post,,,,", "post,0.2,3.5,0.6,"))
    cm = load_cost_model(HAND / "cost_model.toml")
    G = network_from_data(load_dataset(d, classes=set(cm.classes)), cm)
    n = G.nodes["x_mid"]
    assert (n["p_detect"], n["upgrade_cost"], n["p_detect_upgraded"]) == (0.2, 3.5, 0.6)
    assert n["crossing_risk"] == pytest.approx(0.22314355, rel=1e-8)
    # A scenario p above the upgraded one lifts the upgraded one to it (no negative upgrade).
    G = network_from_data(load_dataset(d, classes=set(cm.classes)), cm,
                          Scenario(name="s", crossings={"x_mid": {"p_detect": 0.7,
                                                                  "delay_h": 2.0}}))
    n = G.nodes["x_mid"]
    assert (n["p_detect"], n["p_detect_upgraded"], n["delay_h"]) == (0.7, 0.7, 2.0)
    assert G.edges["p_west", "x_mid"]["time_h"] == pytest.approx(1.5 * DEG_KM / 50 + 1 + 2)


def test_edges_carry_corridor_attributes(hand_graph):
    for u, v, cid in (("p_west", "x_mid", "c_west__mid"), ("x_mid", "p_west", "c_west__mid"),
                      ("x_mid", "p_east", "c_mid__east"), ("p_east", "x_mid", "c_mid__east")):
        e = hand_graph.edges[u, v]
        assert (e["corridor_id"], e["mode"], e["source"]) == (cid, "road",
                                                              "hand-worked test case")
        assert e["geodesic_km"] == pytest.approx(DEG_KM, rel=1e-9)
    # Into the post from either side: the post's terms; out of it: none.
    assert hand_graph.edges["p_east", "x_mid"]["risk"] == pytest.approx(
        hand_graph.edges["p_west", "x_mid"]["risk"])
    assert hand_graph.edges["x_mid", "p_west"]["time_h"] == pytest.approx(1.5 * DEG_KM / 50 + 1)


def test_closed_crossing_keeps_its_node_and_loses_its_edges():
    cm = load_cost_model(HAND / "cost_model.toml")
    ds = load_dataset(HAND, classes=set(cm.classes))
    G = network_from_data(ds, cm, Scenario(name="c", crossings={"x_mid": {"status": "closed"}}))
    assert set(G.nodes) == {"p_west", "x_mid", "p_east"} and G.number_of_edges() == 0
    assert G.graph["scenario"] == "c" and G.graph["name"] == "routes:c"
    assert crossings(G) == ["x_mid"] and crossings(G, include_closed=False) == []


def test_views_filter_roles_and_zero_values():
    G = nx.DiGraph()
    G.add_node("o1", role="origin", supply=2.0)
    G.add_node("oh", role="origin", supply=0.5)
    G.add_node("o0", role="origin", supply=0.0)
    G.add_node("m1", role="market", demand=1.0)
    G.add_node("m2", role="market", demand=3.0)
    G.add_node("m0", role="market", demand=0.0)
    G.add_node("t", role="transit", supply=5.0, demand=5.0)
    G.add_node("xb", kind="crossing", status="restricted")
    G.add_node("xa", kind="crossing", status="open")
    G.add_node("xc", kind="crossing", status="closed")
    assert origins(G) == {"o1": 2.0, "oh": 0.5} and markets(G) == {"m1": 1.0, "m2": 3.0}
    assert crossings(G) == ["xa", "xb", "xc"]
    assert crossings(G, include_closed=False) == ["xa", "xb"]
    G.add_node("o2", role="origin", supply=6.0)
    assert od_demand(G) == {("o1", "m1"): 0.5, ("o1", "m2"): 1.5, ("o2", "m1"): 1.5,
                            ("o2", "m2"): 4.5, ("oh", "m1"): 0.125, ("oh", "m2"): 0.375}
    H = nx.DiGraph()
    H.add_node("o", role="origin", supply=1.0)
    assert od_demand(H) == {}


def test_gdfs_of_an_empty_graph_and_given_graph_attributes(hand_graph):
    nodes, edges = network_to_gdfs(nx.DiGraph(crs="EPSG:4326"))
    assert len(nodes) == 0 and len(edges) == 0 and nodes.crs == "EPSG:4326"
    nodes, edges = network_to_gdfs(hand_graph)
    assert nodes.attrs["graph"] == hand_graph.graph == edges.attrs["graph"]
    assert nodes.loc["x_mid"].geometry.coords[0] == (1.0, 0.0)
    assert list(edges.iloc[0].geometry.coords) == [
        (hand_graph.nodes[edges.iloc[0]["u"]]["lon"], hand_graph.nodes[edges.iloc[0]["u"]]["lat"]),
        (hand_graph.nodes[edges.iloc[0]["v"]]["lon"], hand_graph.nodes[edges.iloc[0]["v"]]["lat"])]
    H = network_from_gdfs(nodes, edges, {"name": "other"})
    assert H.graph == {"name": "other"}
    assert nx.utils.graphs_equal(H, hand_graph) is False  # graph attributes differ
    assert dict(H.nodes(data=True)) == dict(hand_graph.nodes(data=True))
    assert all(type(v) is float for v in H.nodes["x_mid"].values() if isinstance(v, float))


def test_scenario_upgraded_post(tmp_path):
    """``upgraded = true`` sets the post's p_detect to its upgraded level (class 0.5 -> 0.75)."""
    cm = load_cost_model(HAND / "cost_model.toml")
    ds = load_dataset(HAND, classes=set(cm.classes))
    f = tmp_path / "up.toml"
    f.write_text('[scenario]\nname = "up"\n[crossings.x_mid]\nupgraded = true\n')
    G = network_from_data(ds, cm, load_scenario(f))
    length = 1.5 * DEG_KM
    assert G.nodes["x_mid"]["p_detect"] == 0.75
    assert G.edges["p_west", "x_mid"]["risk"] == pytest.approx(0.1 * length / 1000
                                                               + math.log(4), rel=1e-12)
    assert G.nodes["x_mid"]["p_detect_upgraded"] == 0.75   # nothing left to upgrade
    # the row's own p_detect_upgraded wins over the class's
    rows = ds.crossings.copy()
    rows.loc[:, "p_detect_upgraded"] = 0.6
    from dataclasses import replace

    H = network_from_data(replace(ds, crossings=rows), cm, load_scenario(f))
    assert H.nodes["x_mid"]["p_detect"] == 0.6
    # false changes nothing
    f.write_text('[scenario]\nname = "up"\n[crossings.x_mid]\nupgraded = false\n')
    assert network_from_data(ds, cm, load_scenario(f)).nodes["x_mid"]["p_detect"] == 0.5


def test_scenario_upgraded_excludes_p_detect(tmp_path):
    f = tmp_path / "both.toml"
    f.write_text('[scenario]\nname = "both"\n[crossings.x_mid]\nupgraded = true\n'
                 'p_detect = 0.3\n[crossings.x_other]\nupgraded = "yes"\n')
    with pytest.raises(ScenarioError) as ei:
        load_scenario(f)
    msg = str(ei.value)
    assert "both.toml" in msg and "crossings.x_mid.upgraded" in msg and "not both" in msg
    assert "crossings.x_other.upgraded" in msg and "true or false" in msg
