"""The engine: igraph/scipy kernels equal networkx's numbers to 1e-9, ties included."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routes._errors import RoutesError
from routes.engine import ENGINES, SCALE, Engine, check_engine, quantize

TOL = 1e-9


def random_graph(n: int, p: float, seed: int, *, ties: bool = True) -> nx.DiGraph:
    """A random directed graph; integer-valued float weights (many ties) or real ones."""
    G = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    rng = np.random.default_rng(seed)
    for u, v in G.edges:
        G[u][v]["w"] = float(rng.integers(1, 4)) if ties else float(rng.uniform(1, 4))
    return nx.relabel_nodes(G, {i: f"n{i:02d}" for i in G})


def random_flows(G: nx.DiGraph, seed: int, n_o: int = 3, n_t: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    nodes = sorted(G)
    orig = rng.choice(nodes, n_o, replace=False).tolist()
    targ = rng.choice(nodes, n_t, replace=False).tolist()
    return {(o, t): float(rng.integers(1, 10)) for o in orig for t in targ if o != t}


def reference(G: nx.DiGraph, flows: dict, weight: str = "w") -> tuple[dict, dict]:
    """Sum over pairs of flow * networkx subset betweenness (nodes), and of flow * share of
    shortest paths (edges, by enumeration: networkx's edge subset betweenness splits by
    predecessor count instead of path count, networkx PR #3425 fixed only the node version)."""
    node = dict.fromkeys(G, 0.0)
    edge = dict.fromkeys(G.edges, 0.0)
    for (o, t), f in flows.items():
        b = nx.betweenness_centrality_subset(G, [o], [t], weight=weight, normalized=False)
        for k, x in b.items():
            node[k] += f * x
        if nx.has_path(G, o, t):
            paths = list(nx.all_shortest_paths(G, o, t, weight=weight))
            for p in paths:
                for e in itertools.pairwise(p):
                    edge[e] += f / len(paths)
    return node, edge


@pytest.fixture
def diamond() -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_weighted_edges_from([("o", "a", 1), ("o", "b", 1), ("a", "m", 1), ("b", "m", 1),
                               ("o", "c", 1), ("c", "m", 5)], weight="w")
    return G


@pytest.mark.parametrize("engine", ENGINES)
def test_diamond_splits_ties_evenly(diamond, engine):
    E = Engine(diamond, engine=engine)
    node, edge = E.flow_betweenness(weights="w", flows={("o", "m"): 10.0})
    assert dict(zip(E.nodes, node)) == {"a": 5.0, "b": 5.0, "c": 0.0, "m": 0.0, "o": 0.0}
    assert dict(zip(E.edges, edge)) == {("a", "m"): 5.0, ("b", "m"): 5.0, ("c", "m"): 0.0,
                                        ("o", "a"): 5.0, ("o", "b"): 5.0, ("o", "c"): 0.0}


@pytest.mark.parametrize("engine", ENGINES)
def test_float_ties_are_ties(engine):
    # 0.1 + 0.2 != 0.3 in floats; in fixed point both routes cost 300000 units.
    G = nx.DiGraph()
    G.add_weighted_edges_from([("o", "a", 0.1), ("a", "m", 0.2), ("o", "b", 0.15),
                               ("b", "m", 0.15)], weight="w")
    assert nx.betweenness_centrality_subset(G, ["o"], ["m"], weight="w")["a"] == 0.0
    E = Engine(G, engine=engine)
    node, _ = E.flow_betweenness(weights="w", flows={("o", "m"): 1.0})
    assert dict(zip(E.nodes, node)) == {"a": 0.5, "b": 0.5, "m": 0.0, "o": 0.0}
    assert E.distances(["o"], ["m"], weights="w")[0, 0] == 300000


def test_quantize_scale_and_errors():
    assert SCALE == 10**6
    assert quantize([1.0, 0.0, 2.5e-7]).tolist() == [1_000_000, 1, 1]
    with pytest.raises(RoutesError, match="finite and >= 0"):
        quantize([1.0, -1.0])
    with pytest.raises(RoutesError, match="finite"):
        quantize([np.nan])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", range(12))
def test_flow_betweenness_equals_networkx_with_ties(engine, seed):
    G = random_graph(22, 0.15, seed, ties=True)
    flows = random_flows(G, seed)
    ref_n, ref_e = reference(G, flows)
    E = Engine(G, engine=engine)
    node, edge = E.flow_betweenness(weights="w", flows=flows)
    assert np.abs(node - [ref_n[x] for x in E.nodes]).max() < TOL
    assert np.abs(edge - [ref_e[e] for e in E.edges]).max() < TOL


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", range(4))
def test_flow_betweenness_all_pairs_equals_networkx_betweenness(engine, seed):
    G = random_graph(18, 0.2, seed, ties=True)
    flows = {(s, t): 1.0 for s in G for t in G if s != t}
    E = Engine(G, engine=engine)
    node, edge = E.flow_betweenness(weights="w", flows=flows)
    bn = nx.betweenness_centrality(G, weight="w", normalized=False)
    be = nx.edge_betweenness_centrality(G, weight="w", normalized=False)
    assert np.abs(node - [bn[x] for x in E.nodes]).max() < TOL
    assert np.abs(edge - [be[e] for e in E.edges]).max() < TOL
    pn, pe = E.betweenness(weights="w")
    assert np.abs(pn - node).max() < TOL
    assert np.abs(pe - edge).max() < TOL


@pytest.mark.parametrize("seed", range(6))
def test_tree_walk_equals_dag_solve(seed):
    # Real-valued weights: routes unique, so the fast path walks trees; compare with the
    # general DAG solve on the same data.
    G = random_graph(40, 0.1, seed, ties=False)
    flows = random_flows(G, seed, 5, 6)
    E = Engine(G, engine="igraph")
    wq = E.fixed_point("w")
    src, tgt, F = E._pairs(flows)
    fast = E._flow_betweenness_fast(src, tgt, F, wq)
    dag = E._flow_betweenness_dag(src, tgt, F, wq)
    assert np.abs(fast[0] - dag[0]).max() < TOL
    assert np.abs(fast[1] - dag[1]).max() < TOL
    ref_n, ref_e = reference(G, flows)
    assert np.abs(fast[0] - [ref_n[x] for x in E.nodes]).max() < TOL


@settings(max_examples=40)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 16), p=st.floats(0.05, 0.5))
def test_engines_agree_and_flow_is_conserved(seed, n, p):
    G = random_graph(n, p, seed, ties=True)
    flows = random_flows(G, seed, min(2, n), min(3, n))
    a = Engine(G, engine="igraph").flow_betweenness(weights="w", flows=flows)
    b = Engine(G, engine="networkx").flow_betweenness(weights="w", flows=flows)
    assert np.abs(a[0] - b[0]).max(initial=0) < TOL
    assert np.abs(a[1] - b[1]).max(initial=0) < TOL
    # Every routed unit leaves its origin on exactly one edge.
    E = Engine(G)
    routed = sum(f for (o, t), f in flows.items() if nx.has_path(G, o, t))
    out_of_origin = sum(a[1][E.edge_index[e]] for e in G.edges
                        if any(e[0] == o for o, _ in flows))
    assert out_of_origin >= routed - TOL or not flows


@pytest.mark.parametrize("engine", ENGINES)
def test_reweighting_without_rebuilding(engine):
    G = random_graph(30, 0.12, 3, ties=False)
    flows = random_flows(G, 3)
    E = Engine(G, engine=engine)
    rng = np.random.default_rng(0)
    for _ in range(3):
        w = E.edge_attr("w") * rng.uniform(0.5, 1.5, E.m)
        H = G.copy()
        for e, x in zip(E.edges, w):
            H.edges[e]["w2"] = x
        ref_n, ref_e = reference(H, flows, weight="w2")
        node, edge = E.flow_betweenness(weights=w, flows=flows)
        assert np.abs(node - [ref_n[x] for x in E.nodes]).max() < TOL
        assert np.abs(edge - [ref_e[e] for e in E.edges]).max() < TOL


@pytest.mark.parametrize("engine", ENGINES)
def test_distances_equal_networkx(engine):
    G = random_graph(25, 0.15, 7, ties=True)
    E = Engine(G, engine=engine)
    D = E.distances(weights="w")
    ref = dict(nx.all_pairs_dijkstra_path_length(G, weight="w"))
    for i, s in enumerate(E.nodes):
        for j, t in enumerate(E.nodes):
            assert D[i, j] / SCALE == ref[s].get(t, np.inf)
    sub = E.distances(["n01", "n03"], ["n05"], weights="w")
    assert sub.shape == (2, 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_shortest_paths_break_ties_by_id(diamond, engine):
    E = Engine(diamond, engine=engine)
    paths = E.shortest_paths([("o", "m"), ("m", "o"), ("o", "a")], weights="w")
    assert paths == {("o", "m"): ["o", "a", "m"], ("o", "a"): ["o", "a"]}


@pytest.mark.parametrize("engine", ENGINES)
def test_k_shortest_paths_handworked(diamond, engine):
    E = Engine(diamond, engine=engine)
    k = E.k_shortest_paths("o", "m", 3, weights="w")
    assert k == [(2 * SCALE, ["o", "a", "m"]), (2 * SCALE, ["o", "b", "m"]),
                 (6 * SCALE, ["o", "c", "m"])]
    assert E.k_shortest_paths("o", "m", 1, weights="w") == [(2 * SCALE, ["o", "a", "m"])]
    assert E.k_shortest_paths("m", "o", 2, weights="w") == []
    with pytest.raises(RoutesError, match="k must be"):
        E.k_shortest_paths("o", "m", 0, weights="w")


@pytest.mark.parametrize("seed", range(5))
def test_k_shortest_paths_engines_agree(seed):
    G = random_graph(20, 0.2, seed, ties=True)
    a, b = Engine(G, engine="igraph"), Engine(G, engine="networkx")
    for s, t in [("n00", "n10"), ("n03", "n17"), ("n05", "n01")]:
        ka = a.k_shortest_paths(s, t, 4, weights="w")
        kb = b.k_shortest_paths(s, t, 4, weights="w")
        assert ka == kb
        ref = (list(itertools.islice(nx.shortest_simple_paths(G, s, t, weight="w"), 4))
               if nx.has_path(G, s, t) else [])
        assert [c for c, _ in ka] == [nx.path_weight(G, p, "w") * SCALE for p in ref]


def test_undirected_graph_is_two_way():
    G = nx.Graph()
    G.add_weighted_edges_from([("a", "b", 1.0), ("b", "c", 1.0)], weight="w")
    E = Engine(G)
    node, _ = E.flow_betweenness(weights="w", flows={("a", "c"): 1.0, ("c", "a"): 2.0})
    assert dict(zip(E.nodes, node)) == {"a": 0.0, "b": 3.0, "c": 0.0}


def test_errors(diamond):
    with pytest.raises(RoutesError, match="unknown engine"):
        Engine(diamond, engine="gpu")
    assert check_engine(None) in ENGINES
    E = Engine(diamond)
    with pytest.raises(RoutesError, match="one value per edge"):
        E.flow_betweenness(weights=np.ones(3), flows={("o", "m"): 1.0})
    with pytest.raises(RoutesError, match="no weight attribute"):
        E.distances(weights="cost")
    with pytest.raises(RoutesError, match="not in the network"):
        E.flow_betweenness(weights="w", flows={("o", "zz"): 1.0})
    node, edge = E.flow_betweenness(weights="w", flows={})
    assert node.sum() == 0 and edge.sum() == 0


@pytest.mark.parametrize("name", ENGINES)
def test_distances_without_nodes_by_hand(name):
    # s -> g -> t (1 + 1) and s -> t (5); g removed. A removed neighbour of the source is
    # unreachable even when no target list is given (its blocked edge alone is "big" long).
    G = nx.DiGraph()
    G.add_weighted_edges_from([("s", "g", 1.0), ("g", "t", 1.0), ("s", "t", 5.0)], weight="w")
    E = Engine(G, engine=name)
    assert E.distances(["s"], ["t"], weights="w").tolist() == [[2 * SCALE]]
    D = E.distances(["s", "g"], weights="w", without=["g"]) / SCALE
    assert E.nodes == ["g", "s", "t"]
    assert D.tolist() == [[np.inf, 0.0, 5.0], [np.inf, np.inf, np.inf]]
    D = E.distances(["s"], ["g", "t"], weights="w", without=["g"]) / SCALE
    assert D.tolist() == [[np.inf, 5.0]]
