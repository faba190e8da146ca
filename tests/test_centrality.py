"""Centrality: hand-worked flow betweenness, crossings and countries; networkx cross-checks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from routes.crossings.centrality import (
    CROSSING_COLUMNS,
    closeness_from_distances,
    country_table,
    crossing_table,
    current_flow_betweenness,
    edge_centrality,
    node_centrality,
)
from routes.engine import ENGINES
from test_engine import random_flows, random_graph
from test_paths import toy_network


@pytest.fixture
def toy():
    return toy_network()


@pytest.mark.parametrize("engine", ENGINES)
def test_crossing_table_handworked(toy, engine):
    ct = crossing_table(toy, engine=engine)
    assert tuple(ct.columns) == CROSSING_COLUMNS
    assert ct.index.tolist() == ["xi", "xt", "xa", "xk", "xr", "xi2"]
    assert ct["flow_betweenness"].tolist() == [7.5, 7.5, 2.5, 2.5, 2.5, 0.0]
    assert ct["share"].tolist() == [0.75, 0.75, 0.25, 0.25, 0.25, 0.0]
    assert ct["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert ct.loc["xi", ["country_a", "country_b", "status"]].tolist() == ["AFG", "IRN", "open"]


def test_country_table_handworked(toy):
    ct = country_table(toy)
    assert ct["transit_flow"].to_dict() == {"IRN": 7.5, "KAZ": 2.5, "UZB": 2.5}
    assert ct["transit_share"].to_dict() == {"IRN": 0.75, "KAZ": 0.25, "UZB": 0.25}


@pytest.mark.parametrize("engine", ENGINES)
def test_node_measures_equal_networkx(engine):
    G = random_graph(20, 0.2, 5, ties=True)
    flows = random_flows(G, 5)
    nc = node_centrality(G, weight="w", flows=flows, engine=engine)
    bt = nx.betweenness_centrality(G, weight="w", normalized=False)
    cl = nx.closeness_centrality(G, distance="w")
    ref = dict.fromkeys(G, 0.0)
    for (o, t), f in flows.items():
        for k, x in nx.betweenness_centrality_subset(G, [o], [t], weight="w",
                                                     normalized=False).items():
            ref[k] += f * x
    for n in G:
        assert nc.loc[n, "betweenness"] == pytest.approx(bt[n], abs=1e-9)
        assert nc.loc[n, "closeness"] == pytest.approx(cl[n], abs=1e-9)
        assert nc.loc[n, "flow_betweenness"] == pytest.approx(ref[n], abs=1e-9)


def test_edge_centrality_equals_networkx():
    G = random_graph(15, 0.25, 2, ties=True)
    flows = {(s, t): 1.0 for s in G for t in G if s != t}
    ec = edge_centrality(G, weight="w", flows=flows).set_index(["u", "v"])
    be = nx.edge_betweenness_centrality(G, weight="w", normalized=False)
    for e, x in be.items():
        assert ec.loc[e, "flow_betweenness"] == pytest.approx(x, abs=1e-9)
        assert ec.loc[e, "betweenness"] == pytest.approx(x, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_current_flow_equals_networkx_per_pair(seed):
    G = random_graph(14, 0.3, seed, ties=True)
    for u, v in list(G.edges):          # symmetric conductances, connected undirected view
        if G.has_edge(v, u):
            G[v][u]["w"] = G[u][v]["w"]
    U = nx.Graph()
    for u, v, d in G.edges(data=True):
        U.add_edge(u, v, c=1.0 / d["w"])
    if not nx.is_connected(U) or len(U) != len(G):
        pytest.skip("disconnected sample")
    flows = random_flows(G, seed, 2, 2)
    got = current_flow_betweenness(G, weight="w", flows=flows)
    n = len(U)
    ref = dict.fromkeys(G, 0.0)
    for (o, t), f in flows.items():
        b = nx.current_flow_betweenness_centrality_subset(U, [o], [t], weight="c",
                                                          normalized=False)
        for k, x in b.items():
            if k not in (o, t):
                ref[k] += f * 2 * (x - 1 / (2 - n))
    for k in G:
        assert got[k] == pytest.approx(ref[k], abs=1e-9)


def test_current_flow_credits_alternatives(toy):
    cf = current_flow_betweenness(toy)
    assert cf["xi2"] > 0 and cf["xi"] > cf["xi2"]


def test_closeness_from_distances_unreachable():
    D = np.array([[0.0, np.inf], [np.inf, 0.0]])
    assert closeness_from_distances(D).tolist() == [0.0, 0.0]


def test_shipped_crossing_table(request):
    from routes.settings import DATA_DIR
    if not (DATA_DIR / "crossings.csv").exists():
        pytest.skip("shipped data not there yet")
    G = request.getfixturevalue("baseline")
    a = crossing_table(G, engine="igraph", current_flow=False)
    b = crossing_table(G, engine="networkx", current_flow=False)
    np.testing.assert_allclose(a["flow_betweenness"], b["flow_betweenness"], atol=1e-9)
    assert a.index.tolist() == b.index.tolist()
    assert (a["share"] <= 1 + 1e-12).all()


def test_current_flow_ignores_pairs_across_components():
    # o - a - m in one component, island b - n in another; the pair (o, n) has no route.
    G = nx.DiGraph()
    for u, v in (("o", "a"), ("a", "m"), ("b", "n")):
        G.add_edge(u, v, cost=1.0)
        G.add_edge(v, u, cost=1.0)
    cf = current_flow_betweenness(G, flows={("o", "m"): 2.0, ("o", "n"): 5.0})
    assert cf.to_dict() == pytest.approx({"a": 2.0, "b": 0.0, "m": 0.0, "n": 0.0, "o": 0.0})


def test_node_table_columns_and_country_of_a_crossing(toy):
    nc = node_centrality(toy, current_flow=False)
    assert list(nc.columns[:3]) == ["kind", "name", "country"]
    assert nc.loc["xa", ["kind", "name", "country"]].tolist() == ["crossing", "Post xa", "AFG"]
    assert nc.loc["u", "country"] == "UZB"


def test_crossing_table_without_crossings():
    G = nx.DiGraph()
    G.add_node("o", role="origin", supply=1.0)
    G.add_node("m", role="market", demand=1.0)
    G.add_edge("o", "m", cost=1.0)
    ct = crossing_table(G, current_flow=False)
    assert len(ct) == 0 and tuple(ct.columns) == CROSSING_COLUMNS
