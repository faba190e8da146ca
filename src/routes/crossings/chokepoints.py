"""Chokepoints: the nodes, corridors and crossings whose loss cuts or lengthens the routes.

- :func:`om_subgraph`: the part of the network that lies on some origin-to-market route
  (reachable from an origin and reaching a market).
- :func:`articulation_points` and :func:`bridges` of that subgraph, read as undirected
  (corridors run both ways) [1]_.
- :func:`min_node_cut` and :func:`min_edge_cut` between all origins and all markets
  (max-flow / min-cut with a super-source and a super-sink [2]_): the fewest crossings (or
  nodes) and corridors whose closure disconnects every origin from every market.
- :func:`vital_crossings`: every open crossing closed in turn, measuring the rise in the
  flow-weighted route length (by ``weight``) and the flow that can no longer reach any market.
- :func:`chokepoint_table`: the crossing table that combines them, with a ``priority_rank``.

References
----------
.. [1] R. Tarjan, "Depth-first search and linear graph algorithms", SIAM Journal on Computing
   1(2), 146-160, 1972.
.. [2] L. R. Ford and D. R. Fulkerson, "Maximal flow through a network", Canadian Journal of
   Mathematics 8, 399-404, 1956.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import NoRouteError, RoutesError
from ..costs import CostModel
from ..engine import SCALE, Engine
from ..network import markets, od_demand, origins
from ..routing.paths import check_weight
from .centrality import crossing_table

__all__ = [
    "om_subgraph",
    "articulation_points",
    "bridges",
    "min_node_cut",
    "min_edge_cut",
    "vital_crossings",
    "chokepoint_table",
    "VITAL_COLUMNS",
]

#: Columns of :func:`vital_crossings`.
VITAL_COLUMNS = ("name", "country_a", "country_b", "status", "base_cost", "cost_after",
                 "cost_rise", "cost_rise_pct", "unserved_flow", "unserved_share",
                 "stranded_supply", "vital_rank")
_S, _T = ("__routes_source__",), ("__routes_sink__",)


def _ends(G: nx.DiGraph) -> tuple[list[Any], list[Any]]:
    o, m = list(origins(G)), list(markets(G))
    if not o or not m:
        raise NoRouteError("the network needs at least one origin and one market")
    return o, m


def om_subgraph(G: nx.DiGraph) -> nx.DiGraph:
    """Return the nodes on some origin-to-market route, with their edges (a copy).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("o", role="origin", supply=1.0)
    >>> G.add_node("m", role="market", demand=1.0)
    >>> nx.add_path(G, ["o", "a", "m"]); G.add_edge("a", "dead_end")
    >>> sorted(om_subgraph(G))
    ['a', 'm', 'o']
    """
    o, m = _ends(G)
    fwd = set(o).union(*(nx.descendants(G, x) for x in o))
    back = set(m).union(*(nx.ancestors(G, x) for x in m))
    return G.subgraph(sorted(fwd & back)).copy()


def _node_rows(G: nx.DiGraph, ids: list[Any]) -> pd.DataFrame:
    rows = [{"id": n, "kind": G.nodes[n].get("kind"), "name": G.nodes[n].get("name"),
             "country": G.nodes[n].get("country") or G.nodes[n].get("country_a"),
             "country_b": G.nodes[n].get("country_b")} for n in sorted(ids)]
    return pd.DataFrame(rows, columns=["id", "kind", "name", "country", "country_b"]
                        ).set_index("id")


def articulation_points(G: nx.DiGraph) -> pd.DataFrame:
    """Articulation points of the origin-market subgraph (undirected view).

    Indexed by id: ``kind``, ``name``, ``country``, ``country_b`` (crossings).
    """
    H = om_subgraph(G).to_undirected(as_view=True)
    return _node_rows(G, list(nx.articulation_points(H)))


def bridges(G: nx.DiGraph) -> pd.DataFrame:
    """Return the bridges of the origin-market subgraph (undirected view).

    Columns ``u``, ``v``, ``corridor_id``, ``mode``, with ``u < v``, sorted.
    """
    H = om_subgraph(G)
    rows = []
    for a, b in nx.bridges(H.to_undirected(as_view=True)):
        u, v = sorted((a, b))
        d = H.edges[u, v] if H.has_edge(u, v) else H.edges[v, u]
        rows.append({"u": u, "v": v, "corridor_id": d.get("corridor_id"), "mode": d.get("mode")})
    return pd.DataFrame(sorted(rows, key=lambda r: (r["u"], r["v"])),
                        columns=["u", "v", "corridor_id", "mode"])


def min_node_cut(G: nx.DiGraph, *, cuttable: str = "crossings") -> list[Any]:
    """Return a minimum set of nodes whose removal disconnects every origin from every market.

    ``cuttable="crossings"`` allows only crossings in the cut (what border planners can close;
    places are uncuttable); ``"all"`` allows any node except origins and markets. Returns the
    ids, sorted; empty when no origin reaches a market; raises RoutesError when no such cut
    exists (an origin adjacent to a market with only uncuttable nodes between).
    """
    if cuttable not in ("crossings", "all"):
        raise RoutesError(f"cuttable must be 'crossings' or 'all', got {cuttable!r}")
    o, m = _ends(G)
    H = om_subgraph(G)
    if not H:
        return []
    R = nx.DiGraph()
    ends = set(o) | set(m)
    for n, d in H.nodes(data=True):
        ok = n not in ends and (cuttable == "all" or d.get("kind") == "crossing")
        R.add_edge((n, "in"), (n, "out"), **({"capacity": 1.0} if ok else {}))
    for u, v in H.edges():
        R.add_edge((u, "out"), (v, "in"))
    for x in o:
        if x in H:
            R.add_edge(_S, (x, "in"))
    for x in m:
        if x in H:
            R.add_edge((x, "out"), _T)
    try:
        value, (reach, _) = nx.minimum_cut(R, _S, _T)
    except nx.NetworkXUnbounded:
        raise RoutesError("no node cut exists: some origin reaches a market through "
                          "uncuttable nodes only") from None
    return sorted(n for n in H if (n, "in") in reach and (n, "out") not in reach)


def min_edge_cut(G: nx.DiGraph) -> pd.DataFrame:
    """Return a minimum set of directed edges that disconnects all origins from all markets.

    Columns ``u``, ``v``, ``corridor_id``, ``mode`` (each edge in the origin-to-market
    direction), sorted.
    """
    o, m = _ends(G)
    H = om_subgraph(G)
    R = nx.DiGraph()
    R.add_nodes_from([_S, _T])
    for u, v in H.edges():
        R.add_edge(u, v, capacity=1.0)
    for x in o:
        if x in H:
            R.add_edge(_S, x)
    for x in m:
        if x in H:
            R.add_edge(x, _T)
    if not nx.has_path(R, _S, _T):
        return pd.DataFrame(columns=["u", "v", "corridor_id", "mode"])
    try:
        _, (reach, _) = nx.minimum_cut(R, _S, _T)
    except nx.NetworkXUnbounded:
        raise RoutesError("no edge cut exists: an origin is also a market") from None
    rows = [{"u": u, "v": v, "corridor_id": d.get("corridor_id"), "mode": d.get("mode")}
            for u, v, d in sorted(H.edges(data=True), key=lambda e: (e[0], e[1]))
            if u in reach and v not in reach]
    return pd.DataFrame(rows, columns=["u", "v", "corridor_id", "mode"])


def vital_crossings(G: nx.DiGraph, *, weight: str = "cost",
                    flows: Mapping[tuple[Any, Any], float] | None = None,
                    engine: str | None = None) -> pd.DataFrame:
    """Close each open or restricted crossing in turn and measure the damage.

    Columns (:data:`VITAL_COLUMNS`), indexed by crossing id and sorted by ``vital_rank``:
    ``base_cost`` (flow-weighted sum of shortest route lengths by ``weight`` over the connected
    pairs, before), ``cost_after`` (same sum over the pairs still connected), ``cost_rise``
    (``sum of flow * (length after - length before)`` over the pairs still connected),
    ``cost_rise_pct`` (``cost_rise / base_cost * 100``), ``unserved_flow`` (flow of the pairs
    that lose every route), ``unserved_share`` (of the routed flow), ``stranded_supply``
    (supply of the origins that can reach no market at all), ``vital_rank`` (1 = worst:
    by unserved flow, then cost rise, then id). Closed crossings are left out.
    """
    check_weight(G, weight)
    flows = od_demand(G) if flows is None else flows
    pairs = {p: f for p, f in flows.items() if f and p[0] != p[1]}
    if not pairs:
        raise NoRouteError("no origin-market pair with flow")
    src = sorted({o for o, _ in pairs})
    tgt = sorted({m for _, m in pairs})
    rs = {x: i for i, x in enumerate(src)}
    rt = {x: i for i, x in enumerate(tgt)}
    F = np.zeros((len(src), len(tgt)))
    for (o, m), f in pairs.items():
        F[rs[o], rt[m]] += f
    supply = origins(G)
    E = Engine(G, engine=engine)
    w = E.edge_attr(weight)
    D0 = E.distances(src, tgt, weights=w) / SCALE
    ok0 = np.isfinite(D0)
    if not (ok0 & (F > 0)).any():
        raise NoRouteError("no origin reaches any market")
    base = float((F * np.where(ok0, D0, 0.0)).sum())
    routed = float(F[ok0].sum())
    rows = []
    for x, d in sorted(G.nodes(data=True)):
        if d.get("kind") != "crossing" or d.get("status") == "closed":
            continue
        D1 = E.distances(src, tgt, weights=w, without=[x]) / SCALE
        ok1 = np.isfinite(D1)
        lost = ok0 & ~ok1
        still = ok0 & ok1
        rise = float((F * (np.where(still, D1, 0.0) - np.where(still, D0, 0.0))).sum())
        stranded = sum(supply.get(o, 0.0) for o in src
                       if ok0[rs[o]].any() and not ok1[rs[o]].any())
        rows.append({"id": x, "name": d.get("name"), "country_a": d.get("country_a"),
                     "country_b": d.get("country_b"), "status": d.get("status"),
                     "base_cost": base, "cost_after": float((F * np.where(still, D1, 0.0)).sum()),
                     "cost_rise": rise, "cost_rise_pct": rise / base * 100 if base else 0.0,
                     "unserved_flow": float(F[lost].sum()),
                     "unserved_share": float(F[lost].sum()) / routed if routed else 0.0,
                     "stranded_supply": float(stranded)})
    df = pd.DataFrame(rows, columns=["id", *VITAL_COLUMNS[:-1]])
    df = df.sort_values(["unserved_flow", "cost_rise", "id"], ascending=[False, False, True])
    df["vital_rank"] = np.arange(1, len(df) + 1)
    return df.set_index("id")


def chokepoint_table(G: nx.DiGraph, cm: CostModel | None = None, *, weight: str = "cost",
                     flows: Mapping[tuple[Any, Any], float] | None = None,
                     engine: str | None = None) -> pd.DataFrame:
    """Every crossing with its flow betweenness, closure impact and cut membership.

    Indexed by crossing id; columns of :func:`routes.crossings.centrality.crossing_table`
    (without the comparison measures), of :func:`vital_crossings`, and
    ``articulation_point``, ``in_min_cut`` (bool), and ``priority_rank`` (1 = most critical:
    by unserved flow if closed, then cost rise, then flow betweenness, then id). ``cm`` is
    accepted for a uniform signature (the weights are already in the network).
    """
    del cm
    ct = crossing_table(G, weight=weight, flows=flows, engine=engine, current_flow=False)
    ct = ct[["name", "country_a", "country_b", "status", "mode", "crossing_class",
             "flow_betweenness", "share", "rank"]]
    vc = vital_crossings(G, weight=weight, flows=flows, engine=engine)
    df = ct.join(vc.drop(columns=["name", "country_a", "country_b", "status"]))
    aps = set(articulation_points(G).index)
    try:
        cut = set(min_node_cut(G))
    except RoutesError:
        cut = set()
    df["vital_rank"] = df["vital_rank"].astype("Int64")
    df["articulation_point"] = [n in aps for n in df.index]
    df["in_min_cut"] = [n in cut for n in df.index]
    df = df.reset_index().sort_values(
        ["unserved_flow", "cost_rise", "flow_betweenness", "id"],
        ascending=[False, False, False, True], na_position="last")
    df["priority_rank"] = np.arange(1, len(df) + 1)
    return df.set_index("id")
