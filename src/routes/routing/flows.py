"""Flow assignment: each origin-market pair's flow on routes, edges, crossings, countries.

Two methods:

- ``"aon"`` (all-or-nothing): each pair's flow goes on its shortest route; when several routes
  tie, the flow is split evenly over all of them (edge and node flows are the route-restricted,
  flow-weighted betweenness of :meth:`routes.engine.Engine.flow_betweenness`). The route,
  country and corridor tables use the tie-broken-by-id shortest route
  (:func:`routes.routing.paths.shortest_routes`).
- ``"logit"`` (stochastic, the default): the pair's flow is split over its k best routes
  (:func:`routes.routing.paths.k_best_routes`) with a multinomial logit [1]_ on the route's
  weight relative to the pair's best route,

  ``P(r) = exp(-theta * c_r / c_min) / sum_s exp(-theta * c_s / c_min)``,

  with ``theta = cost_model.logit_theta`` (10 in the shipped model: a route 10% costlier than
  the best gets ``exp(-1)``, about 37%, of the best route's flow, whatever the pair's
  distance). ``theta = 0`` splits evenly; ``theta -> inf`` is all-or-nothing.

References
----------
.. [1] C. F. Daganzo and Y. Sheffi, "On stochastic models of traffic assignment",
   Transportation Science 11(3), 253-274, 1977.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from .._errors import RoutesError
from ..costs import CostModel
from ..engine import Engine
from ..network import od_demand
from .paths import CORRIDORS, check_weight, k_best_routes, shortest_routes

__all__ = [
    "FlowAssignment",
    "METHODS",
    "logit_shares",
    "assign_flows",
    "corridor_shares",
    "country_transit",
    "exit_shares",
    "crossing_flows",
]

#: Assignment methods.
METHODS = ("logit", "aon")
#: Logit scale when no cost model is given (the shipped model's value).
DEFAULT_THETA = 10.0


@dataclass(frozen=True)
class FlowAssignment:
    """The result of :func:`assign_flows`.

    Attributes
    ----------
    method, weight : str
        How the flows were assigned.
    total_flow : float
        Flow of the pairs that have a route.
    unserved_flow : float
        Flow of the pairs without any route.
    routes : GeoDataFrame
        The routes used (:func:`routes.routing.paths.routes_frame` columns) plus
        ``choice_prob`` (share of the pair's flow) and ``flow``.
    edges : GeoDataFrame
        One row per directed edge: ``u``, ``v``, ``corridor_id``, ``mode``, ``flow``,
        ``share`` (of ``total_flow``), LineString geometry.
    nodes : DataFrame
        Indexed by node id: ``kind``, ``name``, ``country``, ``through`` (flow passing
        through, not starting or ending there), ``throughput`` (``through`` plus the flow
        starting or ending there), ``share`` (``through / total_flow``).
    crossings : DataFrame
        Indexed by crossing id (see :func:`crossing_flows`).
    countries : DataFrame
        Indexed by ISO3 (see :func:`country_transit`).
    corridors : DataFrame
        Indexed by corridor (see :func:`corridor_shares`).
    """

    method: str
    weight: str
    total_flow: float
    unserved_flow: float
    routes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    nodes: pd.DataFrame
    crossings: pd.DataFrame
    countries: pd.DataFrame
    corridors: pd.DataFrame


def logit_shares(costs: Sequence[float], theta: float) -> np.ndarray:
    """Logit choice probabilities of routes with ``costs`` (module notes).

    Examples
    --------
    >>> logit_shares([10.0, 11.0], 10.0).round(4).tolist()
    [0.7311, 0.2689]
    >>> logit_shares([5.0, 5.0, 9.0], 0.0).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    c = np.asarray(costs, dtype=float)
    if c.size == 0:
        return c
    if theta < 0:
        raise RoutesError(f"logit theta must be >= 0, got {theta}")
    cmin = c.min()
    if cmin <= 0:
        best = c == cmin
        return best / best.sum()
    u = np.exp(-theta * (c / cmin - 1.0))
    return u / u.sum()


def _from_origins(routes: pd.DataFrame) -> pd.DataFrame:
    """Return the routes that leave a producing origin (not the onward legs from a hub)."""
    if "onward" not in routes.columns or not len(routes):
        return routes
    return routes[~routes["onward"].astype(bool)]


def corridor_shares(routes: pd.DataFrame) -> pd.DataFrame:
    """Flow by corridor: ``flow`` and ``share`` of the routed flow, one row per corridor.

    Every label of :data:`routes.routing.paths.CORRIDORS` is present (zero if unused). The
    onward legs from wholesale hubs (``onward``) are left out: a journey through a hub counts
    once, in the corridor of its first leg, the one that leaves the producing region.
    """
    routes = _from_origins(routes)
    flow = routes.groupby("corridor")["flow"].sum() if len(routes) else pd.Series(dtype=float)
    out = pd.DataFrame({"flow": [float(flow.get(c, 0.0)) for c in CORRIDORS]},
                       index=pd.Index(CORRIDORS, name="corridor"))
    total = out["flow"].sum()
    out["share"] = out["flow"] / total if total > 0 else 0.0
    return out


def country_transit(G: nx.DiGraph, routes: pd.DataFrame) -> pd.DataFrame:
    """Each country's transit flow: the routed flow whose route passes through it.

    A route transits every country it crosses except those of its origin and of its market.
    Columns: ``transit_flow``, ``transit_share`` (of all routed flow; shares add up to more
    than 1 because a route crosses several countries), ``n_routes`` (routes with flow that
    transit it), ``rank`` (1 = largest, ties by ISO3); indexed by ISO3, sorted by rank.
    """
    flow: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for o, m, countries, f in zip(routes["origin"], routes["market"], routes["countries"],
                                  routes["flow"]):
        ends = {G.nodes[o].get("country"), G.nodes[m].get("country")}
        for c in set(countries) - ends:
            flow[c] += f
            count[c] += int(f > 0)
    total = float(routes["flow"].sum())
    df = pd.DataFrame({"transit_flow": pd.Series(flow, dtype=float),
                       "n_routes": pd.Series(count, dtype=int)})
    df.index.name = "country"
    df["transit_share"] = df["transit_flow"] / total if total > 0 else 0.0
    df = df.reset_index().sort_values(["transit_flow", "country"], ascending=[False, True])
    df["rank"] = np.arange(1, len(df) + 1)
    return df.set_index("country")[["transit_flow", "transit_share", "n_routes", "rank"]]


def exit_shares(G: nx.DiGraph, routes: pd.DataFrame) -> pd.DataFrame:
    """Where the flow leaves its origin country: flow by (origin country, first country entered).

    For each route, the first country on it that is not the origin's; a route that never
    leaves the origin's country enters ``""``. Columns ``flow`` and ``share`` (of the flow
    leaving that origin country, so the shares of one origin country add up to 1); indexed by
    ``(from_country, into)``, largest first. The onward legs from hubs are left out.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("o", country="AFG")
    >>> r = pd.DataFrame({"origin": ["o", "o", "o"], "flow": [3.0, 1.0, 0.0],
    ...                   "countries": [["AFG", "IRN", "TUR"], ["AFG", "TJK"], ["AFG", "UZB"]]})
    >>> exit_shares(G, r)["share"].round(2).to_dict()
    {('AFG', 'IRN'): 0.75, ('AFG', 'TJK'): 0.25, ('AFG', 'UZB'): 0.0}
    """
    rows: dict[tuple[str, str], float] = defaultdict(float)
    routes = _from_origins(routes)
    for o, countries, f in zip(routes["origin"], routes["countries"], routes["flow"]):
        home = str(G.nodes[o].get("country", ""))
        into = next((c for c in countries if c != home), "")
        rows[(home, into)] += float(f)
    idx = pd.MultiIndex.from_tuples(sorted(rows), names=["from_country", "into"])
    df = pd.DataFrame({"flow": [rows[k] for k in idx]}, index=idx)
    total = df.groupby(level="from_country")["flow"].transform("sum")
    df["share"] = (df["flow"] / total.where(total > 0)).fillna(0.0)
    return df.sort_values("flow", ascending=False, kind="stable")


def crossing_flows(G: nx.DiGraph, through: Mapping[Any, float], total: float
                   ) -> pd.DataFrame:
    """Crossing table of flows: indexed by crossing id, sorted by rank.

    Columns: ``name``, ``country_a``, ``country_b``, ``status``, ``mode``, ``flow`` (flow
    through the crossing), ``share`` (of ``total``), ``rank`` (1 = largest flow, ties by id).
    """
    rows = [{"id": n, "name": d.get("name"), "country_a": d.get("country_a"),
             "country_b": d.get("country_b"), "status": d.get("status"),
             "mode": d.get("mode"), "flow": float(through.get(n, 0.0))}
            for n, d in sorted(G.nodes(data=True)) if d.get("kind") == "crossing"]
    df = pd.DataFrame(rows, columns=["id", "name", "country_a", "country_b", "status", "mode",
                                     "flow"])
    df["share"] = df["flow"] / total if total > 0 else 0.0
    df = df.sort_values(["flow", "id"], ascending=[False, True])
    df["rank"] = np.arange(1, len(df) + 1)
    return df.set_index("id")


def _edges_frame(G: nx.DiGraph, E: Engine, flow: np.ndarray, total: float
                 ) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for (u, v), f in zip(E.edges, flow.tolist()):
        d = G.edges[u, v]
        rows.append({"u": u, "v": v, "corridor_id": d.get("corridor_id"),
                     "mode": d.get("mode"), "flow": f})
        nu, nv = G.nodes[u], G.nodes[v]
        geoms.append(LineString([(nu["lon"], nu["lat"]), (nv["lon"], nv["lat"])])
                     if "lon" in nu and "lon" in nv else None)
    df = pd.DataFrame(rows, columns=["u", "v", "corridor_id", "mode", "flow"])
    df["share"] = df["flow"] / total if total > 0 else 0.0
    # (CRS names are case-insensitive: "epsg:4326" would be the same CRS, an equivalent mutant)
    return gpd.GeoDataFrame(df, geometry=geoms, crs=G.graph.get("crs", "EPSG:4326"))


def _nodes_frame(G: nx.DiGraph, E: Engine, through: np.ndarray, ends: Mapping[Any, float],
                 total: float) -> pd.DataFrame:
    rows = []
    for n, t in zip(E.nodes, through.tolist()):
        d = G.nodes[n]
        rows.append({"id": n, "kind": d.get("kind"), "name": d.get("name"),
                     "country": d.get("country") or d.get("country_a"), "through": t,
                     "throughput": t + ends.get(n, 0.0)})
    df = pd.DataFrame(rows, columns=["id", "kind", "name", "country", "through", "throughput"])
    df["share"] = df["through"] / total if total > 0 else 0.0
    return df.set_index("id")


def assign_flows(G: nx.DiGraph, cm: CostModel | None = None, *, method: str = "logit",
                 weight: str = "cost", k: int | None = None, theta: float | None = None,
                 flows: Mapping[tuple[Any, Any], float] | None = None,
                 engine: str | None = None) -> FlowAssignment:
    """Assign each origin-market pair's flow to the network (module notes).

    Parameters
    ----------
    G : networkx.DiGraph
        The route network.
    cm : CostModel, optional
        Gives ``k`` (``k_routes``) and ``theta`` (``logit_theta``) unless passed.
    method : {"logit", "aon"}
        Stochastic logit over the k best routes, or all-or-nothing.
    weight : {"cost", "risk", "time_h", "length_km"}
        The route weight that routes and splits by.
    k, theta : optional
        Routes per pair and logit scale (defaults: the cost model's, else 5 and 10).
    flows : mapping, optional
        ``{(origin, market): flow}``; default :func:`routes.network.od_demand`.
    engine : {"igraph", "networkx"}, optional
        Default :data:`routes.settings.ENGINE`.

    Returns
    -------
    FlowAssignment

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> for n, lon in [("o", 0.0), ("a", 1.0), ("b", 1.0), ("m", 2.0)]:
    ...     G.add_node(n, kind="place", country="AFG", lon=lon, lat=0.0, role="transit")
    >>> G.nodes["o"].update(role="origin", supply=10.0)
    >>> G.nodes["m"].update(role="market", demand=1.0, country="TUR")
    >>> for u, v, c in [("o", "a", 5.0), ("a", "m", 5.0), ("o", "b", 5.5), ("b", "m", 5.5)]:
    ...     G.add_edge(u, v, cost=c, risk=0.1, time_h=c, length_km=c, mode="road")
    >>> res = assign_flows(G, k=2, theta=10.0)
    >>> res.nodes["through"].round(3).to_dict()
    {'a': 7.311, 'b': 2.689, 'm': 0.0, 'o': 0.0}
    >>> assign_flows(G, method="aon").nodes["through"].to_dict()
    {'a': 10.0, 'b': 0.0, 'm': 0.0, 'o': 0.0}
    """
    if method not in METHODS:
        raise RoutesError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    check_weight(G, weight)
    flows = od_demand(G) if flows is None else dict(flows)
    E = Engine(G, engine=engine)
    if method == "aon":
        routes = shortest_routes(G, weight=weight, flows=flows, engine=engine)
        routes["choice_prob"] = 1.0
        routes["flow"] = routes["pair_flow"]
        through, eflow = E.flow_betweenness(weights=weight, flows=flows)
    else:
        k = k if k is not None else (cm.k_routes if cm is not None else 5)
        theta = theta if theta is not None else (cm.logit_theta if cm is not None
                                                 else DEFAULT_THETA)
        routes = k_best_routes(G, k=k, weight=weight, flows=flows, engine=engine)
        probs = np.zeros(len(routes))
        for _, idx in routes.groupby(["origin", "market"], sort=False).indices.items():
            probs[idx] = logit_shares(routes["route_weight"].to_numpy()[idx], theta)
        routes["choice_prob"] = probs
        routes["flow"] = routes["pair_flow"] * probs
        through, eflow = _accumulate(E, routes)
    served = set(zip(routes["origin"], routes["market"]))
    total = float(sum(f for p, f in flows.items() if p in served and p[0] != p[1]))
    unserved = float(sum(f for p, f in flows.items() if p not in served and p[0] != p[1]))
    ends: dict[Any, float] = defaultdict(float)
    for (o, m), f in flows.items():
        if (o, m) in served:
            ends[o] += f
            ends[m] += f
    nodes = _nodes_frame(G, E, through, ends, total)
    return FlowAssignment(
        method=method, weight=weight, total_flow=total, unserved_flow=unserved,
        routes=routes, edges=_edges_frame(G, E, eflow, total), nodes=nodes,
        crossings=crossing_flows(G, dict(zip(E.nodes, through.tolist())), total),
        countries=country_transit(G, routes), corridors=corridor_shares(routes))


def _accumulate(E: Engine, routes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Node (interior) and edge flows of a route table with a ``flow`` column."""
    node = np.zeros(E.n)
    edge = np.zeros(E.m)
    for path, f in zip(routes["path"], routes["flow"]):
        for x in path[1:-1]:
            node[E.index[x]] += f
        for e in itertools.pairwise(path):
            edge[E.edge_index[e]] += f
    return node, edge
