"""Route-restricted centrality: which nodes, edges, crossings and countries carry the flow.

The main measure is the **flow betweenness** of a node or edge: the modelled flow that passes
through it when every origin-market pair sends its flow (:func:`routes.network.od_demand`) on
its shortest routes, ties split evenly,

``fb(v) = sum over (o, m) of flow(o, m) * sigma_om(v) / sigma_om``  (``v`` not ``o`` or ``m``),

Brandes' subset betweenness [1]_ with each pair weighted by its flow; ``share`` divides it by
the flow of the pairs that have a route, so a crossing with share 0.4 carries 40% of the
modelled flow. For comparison the tables also give plain weighted betweenness (all ordered
pairs, unweighted), closeness, and current-flow betweenness [2]_, which spreads each pair's
flow over all routes like current in a resistor network and so credits alternative routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from ..engine import SCALE, Engine
from ..network import od_demand
from ..routing.flows import country_transit
from ..routing.paths import check_weight, shortest_routes

__all__ = [
    "node_centrality",
    "edge_centrality",
    "crossing_table",
    "country_table",
    "closeness_from_distances",
    "current_flow_betweenness",
    "CROSSING_COLUMNS",
]

#: Columns of :func:`crossing_table` (indexed by crossing ``id``).
CROSSING_COLUMNS = ("name", "country_a", "country_b", "status", "mode", "crossing_class",
                    "flow_betweenness", "share", "rank", "betweenness", "closeness",
                    "current_flow_betweenness")
#: Above this many nodes current-flow betweenness (dense, O(n^2) memory) is left out (NaN).
CURRENT_FLOW_MAX_NODES = 4000


def _routed_total(G: nx.DiGraph, E: Engine, flows: Mapping, weight: str) -> float:
    pairs = [p for p, f in flows.items() if f and p[0] != p[1]]
    if not pairs:
        return 0.0
    src = sorted({o for o, _ in pairs})
    tgt = sorted({m for _, m in pairs})
    D = E.distances(src, tgt, weights=weight)
    rs = {x: i for i, x in enumerate(src)}
    rt = {x: i for i, x in enumerate(tgt)}
    return float(sum(f for (o, m), f in flows.items()
                     if o != m and np.isfinite(D[rs[o], rt[m]])))


def closeness_from_distances(D: np.ndarray) -> np.ndarray:
    """Return closeness from an all-pairs distance matrix (rows: sources), as networkx defines it.

    For node ``u``: ``(r - 1) / sum of d(v, u)`` over the ``r - 1`` other nodes that reach it,
    scaled by ``(r - 1) / (n - 1)`` (Wasserman-Faust), 0 where none reaches it: networkx's
    ``closeness_centrality(G, distance=...)`` on a directed graph (incoming distances).

    Examples
    --------
    >>> D = np.array([[0.0, 1.0], [np.inf, 0.0]])
    >>> closeness_from_distances(D).tolist()
    [0.0, 1.0]
    """
    n = D.shape[0]
    reach = np.isfinite(D)
    r = reach.sum(axis=0)
    tot = np.where(reach, D, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where((tot > 0) & (n > 1), (r - 1) / tot * (r - 1) / max(n - 1, 1), 0.0)
    return c


def current_flow_betweenness(G: nx.DiGraph, *, weight: str = "cost",
                             flows: Mapping[tuple[Any, Any], float] | None = None
                             ) -> pd.Series:
    """Flow-weighted current-flow (random-walk) betweenness of every node.

    The network is read as an electrical one: each corridor is a resistor of conductance
    ``2 / (w(u, v) + w(v, u))`` (weights in fixed point, so a zero weight conducts strongly but
    finitely). For pair ``(o, m)`` a unit current enters at ``o`` and leaves at ``m``; the
    throughput of ``v`` is half the sum of the absolute currents on its corridors [2]_.
    The score is ``sum of flow(o, m) * throughput_om(v)``, endpoints excluded; for one pair it
    equals ``2 * (networkx current_flow_betweenness_centrality_subset - 1 / (2 - n))``.
    Computed with the dense Laplacian pseudo-inverse of each connected component (numpy).

    References
    ----------
    .. [2] M. E. J. Newman, "A measure of betweenness centrality based on random walks",
       Social Networks 27(1), 39-54, 2005.
    """
    flows = od_demand(G) if flows is None else flows
    nodes = sorted(G.nodes)
    out = pd.Series(0.0, index=pd.Index(nodes, name="id"), name="current_flow_betweenness")
    cond: dict[frozenset, list[float]] = {}
    for u, v, d in G.edges(data=True):
        if u != v:
            cond.setdefault(frozenset((u, v)), []).append(
                max(round(float(d[weight]) * SCALE), 1) / SCALE)
    U = nx.Graph()
    U.add_nodes_from(nodes)
    for key, ws in cond.items():
        u, v = sorted(key)
        U.add_edge(u, v, c=len(ws) / sum(ws))
    for comp in nx.connected_components(U):
        pairs = [(o, m, f) for (o, m), f in flows.items()
                 if f and o != m and o in comp and m in comp]
        if not pairs:
            continue
        cn = sorted(comp)
        idx = {x: i for i, x in enumerate(cn)}
        L = nx.laplacian_matrix(U, nodelist=cn, weight="c").toarray()
        Lp = np.linalg.pinv(L)
        o = np.array([idx[p[0]] for p in pairs])
        m = np.array([idx[p[1]] for p in pairs])
        f = np.array([p[2] for p in pairs])
        pot = Lp[:, o] - Lp[:, m]                                # n_c x pairs
        # (lists of ints are int64 without the dtype too: dtype=None on either of the next two
        # lines is an equivalent mutant)
        eu = np.array([idx[a] for a, b in U.subgraph(cn).edges()], dtype=np.int64)
        ev = np.array([idx[b] for a, b in U.subgraph(cn).edges()], dtype=np.int64)
        c = np.array([U.edges[a, b]["c"] for a, b in U.subgraph(cn).edges()])
        cur = np.abs(pot[eu] - pot[ev]) * c[:, None]            # edges x pairs
        thr = np.zeros((len(cn), len(pairs)))
        np.add.at(thr, eu, cur)
        np.add.at(thr, ev, cur)
        thr *= 0.5
        thr[o, np.arange(len(pairs))] = 0.0
        thr[m, np.arange(len(pairs))] = 0.0
        out.loc[cn] = thr @ f
    return out


def node_centrality(G: nx.DiGraph, *, weight: str = "cost",
                    flows: Mapping[tuple[Any, Any], float] | None = None,
                    engine: str | None = None, current_flow: bool = True) -> pd.DataFrame:
    """Centrality of every node, indexed by id (sorted).

    Columns: ``kind``, ``name``, ``country`` (a crossing's upstream side), ``flow_betweenness``
    (module notes), ``share`` (of the routed flow), ``betweenness`` (plain weighted, all ordered
    pairs, unnormalised), ``closeness`` (:func:`closeness_from_distances`),
    ``current_flow_betweenness`` (:func:`current_flow_betweenness`; NaN when
    ``current_flow=False`` or the graph has more than 4,000 nodes).

    References
    ----------
    .. [1] U. Brandes, "On variants of shortest-path betweenness centrality and their generic
       computation", Social Networks 30(2), 136-145, 2008.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("o", role="origin", supply=2.0)
    >>> G.add_node("m", role="market", demand=1.0)
    >>> nx.add_path(G, ["o", "x", "m"], cost=1.0)
    >>> node_centrality(G, current_flow=False)["flow_betweenness"].to_dict()
    {'m': 0.0, 'o': 0.0, 'x': 2.0}
    """
    check_weight(G, weight)
    flows = od_demand(G) if flows is None else flows
    E = Engine(G, engine=engine)
    fb, _ = E.flow_betweenness(weights=weight, flows=flows)
    bt, _ = E.betweenness(weights=weight)
    cl = closeness_from_distances(E.distances(weights=weight) / SCALE)
    total = _routed_total(G, E, flows, weight)
    rows = []
    for n in E.nodes:
        d = G.nodes[n]
        rows.append({"id": n, "kind": d.get("kind"), "name": d.get("name"),
                     "country": d.get("country") or d.get("country_a")})
    df = pd.DataFrame(rows, columns=["id", "kind", "name", "country"]).set_index("id")
    df["flow_betweenness"] = fb
    df["share"] = fb / total if total > 0 else 0.0
    df["betweenness"] = bt
    df["closeness"] = cl
    if current_flow and E.n <= CURRENT_FLOW_MAX_NODES:
        df["current_flow_betweenness"] = current_flow_betweenness(G, weight=weight,
                                                                  flows=flows).to_numpy()
    else:
        df["current_flow_betweenness"] = np.nan
    return df


def edge_centrality(G: nx.DiGraph, *, weight: str = "cost",
                    flows: Mapping[tuple[Any, Any], float] | None = None,
                    engine: str | None = None) -> gpd.GeoDataFrame:
    """Flow betweenness and plain betweenness of every directed edge.

    Columns ``u``, ``v``, ``corridor_id``, ``mode``, ``flow_betweenness``, ``share``,
    ``betweenness``, LineString geometry; rows in ``(u, v)`` order.
    """
    from ..routing.flows import _edges_frame

    check_weight(G, weight)
    flows = od_demand(G) if flows is None else flows
    E = Engine(G, engine=engine)
    _, fe = E.flow_betweenness(weights=weight, flows=flows)
    _, be = E.betweenness(weights=weight)
    total = _routed_total(G, E, flows, weight)
    df = _edges_frame(G, E, fe, total).rename(columns={"flow": "flow_betweenness"})
    df["betweenness"] = be
    return df


def crossing_table(G: nx.DiGraph, *, weight: str = "cost",
                   flows: Mapping[tuple[Any, Any], float] | None = None,
                   engine: str | None = None, current_flow: bool = True,
                   nodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank the crossings by flow betweenness: one row per crossing, indexed by id.

    Columns :data:`CROSSING_COLUMNS`: the crossing's ``name``, ``country_a``, ``country_b``,
    ``status``, ``mode``, ``crossing_class``; then ``flow_betweenness``, ``share`` and
    ``rank`` (1 = most flow, ties by id) and the comparison measures of
    :func:`node_centrality`. Closed crossings carry nothing. ``nodes`` reuses a
    :func:`node_centrality` result.
    """
    nodes = nodes if nodes is not None else node_centrality(
        G, weight=weight, flows=flows, engine=engine, current_flow=current_flow)
    ids = [n for n, d in sorted(G.nodes(data=True)) if d.get("kind") == "crossing"]
    rows = [{"id": n, **{c: G.nodes[n].get(c) for c in CROSSING_COLUMNS[:6]}} for n in ids]
    df = pd.DataFrame(rows, columns=["id", *CROSSING_COLUMNS[:6]]).set_index("id")
    for c in ("flow_betweenness", "share", "betweenness", "closeness",
              "current_flow_betweenness"):
        df[c] = nodes.loc[ids, c].to_numpy() if ids else []
    df = df.reset_index().sort_values(["flow_betweenness", "id"], ascending=[False, True])
    df["rank"] = np.arange(1, len(df) + 1)
    return df.set_index("id")[list(CROSSING_COLUMNS)]


def country_table(G: nx.DiGraph, *, weight: str = "cost",
                  flows: Mapping[tuple[Any, Any], float] | None = None,
                  engine: str | None = None) -> pd.DataFrame:
    """Each country's share of the modelled flow that transits it (shortest routes).

    Every pair's flow follows its shortest route (ties broken by id); see
    :func:`routes.routing.flows.country_transit` for the columns.
    """
    routes = shortest_routes(G, weight=weight, flows=flows, engine=engine)
    routes["flow"] = routes["pair_flow"]
    return country_transit(G, routes)
