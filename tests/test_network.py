"""The network build: a hand-worked three-node case, closures, scenarios, shipped data."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import pytest

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
    assert g["scenario"] == "baseline"


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
