"""Routes: the k best routes of each origin-market pair, with countries, crossings, corridor.

A route is a list of node ids. Its attributes are sums over its edges of the network's weights
(``length_km``, ``time_h``, ``risk``, ``cost``); ``p_undetected = exp(-risk)`` is the
probability of passing the whole route undetected. Routes come back as a GeoDataFrame (one
LineString per route, EPSG:4326) indexed by ``route_id = "<origin>><market>#<rank>"``, ready
for maps and GeoJSON.

Corridor labels
---------------
Each route gets one corridor from the countries it crosses (ISO3; a crossing contributes both
of its sides, in the order travelled). The first rule that matches wins:

1. **Southern**: the route has a ``sea`` leg and, before its first sea leg, has entered none of
   Turkey, Russia, Kazakhstan or the South Caucasus (the sea route from the ports of Pakistan,
   Iran or the Gulf, not a Black Sea or Mediterranean hop of another corridor); or the route
   enters Pakistan and none of Iran, Central Asia, Russia, Kazakhstan, the South Caucasus or
   Turkey (flows into Pakistan and its ports).
2. **Caucasus**: the route enters Armenia, Azerbaijan or Georgia (across the Caspian, or from
   Iran).
3. **Northern**: the route enters Russia or Kazakhstan, or enters Central Asia (Tajikistan,
   Uzbekistan, Kyrgyzstan, Turkmenistan) and not Iran.
4. **Balkan**: the route enters Turkey or Iran (Iran's own markets and the way west to Turkey
   and the Balkans, also when it reaches Iran through Turkmenistan or Pakistan).
5. **Other**: none of the above (a route that stays in Afghanistan, or leaves through China).

A route that ends inside a corridor country counts for the corridor that reaches it: the
markets of Iran, Pakistan and Central Asia are fed by the corridors that cross them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
from shapely.geometry import LineString

from .._errors import NoRouteError, RoutesError
from ..costs import WEIGHTS, CostModel
from ..engine import Engine
from ..network import od_demand

__all__ = [
    "CORRIDORS",
    "route_countries",
    "corridor_of_route",
    "routes_frame",
    "k_best_routes",
    "k_best_routes_gdf",
    "shortest_routes",
    "check_weight",
]

#: Corridor labels, in the order the rules are tried (module notes), then "Other".
CORRIDORS = ("Southern", "Caucasus", "Northern", "Balkan", "Other")
SOUTH_CAUCASUS = frozenset({"ARM", "AZE", "GEO"})
CENTRAL_ASIA = frozenset({"TJK", "UZB", "KGZ", "TKM"})
_NOT_SOUTHERN_BEFORE_SEA = frozenset({"TUR", "RUS", "KAZ"}) | SOUTH_CAUCASUS
#: Columns of a route table (besides ``geometry``), see :func:`routes_frame`.
ROUTE_COLUMNS = ("origin", "market", "rank", "path", "crossings", "countries", "n_crossings",
                 "length_km", "time_h", "risk", "cost", "p_undetected", "p_detect",
                 "corridor", "weight", "route_weight", "pair_flow", "onward")


def check_weight(G: nx.DiGraph, weight: str) -> str:
    """Return ``weight`` if every edge of ``G`` has it, else raise RoutesError.

    The network's weights are ``cost``, ``risk``, ``time_h`` and ``length_km``.
    """
    if not isinstance(weight, str) or any(weight not in d for *_, d in G.edges(data=True)):
        raise RoutesError(f"unknown weight {weight!r}; choose one of {', '.join(WEIGHTS)}")
    return weight


def route_countries(G: nx.DiGraph, path: Sequence[Any]) -> list[str]:
    """Countries a route crosses, in order, without consecutive repeats.

    A place gives its ``country``; a crossing gives its two sides in the order travelled.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("a", kind="place", country="AFG")
    >>> G.add_node("x", kind="crossing", country_a="TJK", country_b="AFG")
    >>> G.add_node("b", kind="place", country="TJK")
    >>> route_countries(G, ["a", "x", "b"])
    ['AFG', 'TJK']
    """
    out: list[str] = []
    for n in path:
        d = G.nodes[n]
        if d.get("kind") == "crossing":
            a, b = d.get("country_a"), d.get("country_b")
            pair = [b, a] if out and out[-1] == b else [a, b]
        else:
            pair = [d.get("country")]
        for c in pair:
            if c and (not out or out[-1] != c):
                out.append(str(c))
    return out


def corridor_of_route(countries: Sequence[str], modes: Sequence[str] = (),
                      countries_before_sea: Sequence[str] | None = None) -> str:
    """Corridor label of a route (rules in the module notes).

    Parameters
    ----------
    countries : sequence of str
        ISO3 codes along the route (:func:`route_countries`).
    modes : sequence of str
        Modes of the route's edges.
    countries_before_sea : sequence of str, optional
        Countries entered before the first ``sea`` leg (default: all of them).

    Examples
    --------
    >>> corridor_of_route(["AFG", "TJK", "KGZ", "KAZ", "RUS"])
    'Northern'
    >>> corridor_of_route(["AFG", "IRN", "TUR", "BGR"])
    'Balkan'
    >>> corridor_of_route(["AFG", "TKM", "AZE", "GEO"], ["road", "ferry", "road"])
    'Caucasus'
    >>> corridor_of_route(["AFG", "PAK", "NLD"], ["road", "sea"], ["AFG", "PAK"])
    'Southern'
    >>> corridor_of_route(["AFG", "TKM", "IRN"])
    'Balkan'
    >>> corridor_of_route(["AFG", "PAK"])
    'Southern'
    >>> corridor_of_route(["AFG", "CHN"])
    'Other'
    """
    cs = set(countries)
    if "sea" in modes:
        before = set(countries if countries_before_sea is None else countries_before_sea)
        if not before & _NOT_SOUTHERN_BEFORE_SEA:
            return "Southern"
    if "PAK" in cs and not cs & (_NOT_SOUTHERN_BEFORE_SEA | CENTRAL_ASIA | {"IRN"}):
        return "Southern"
    if cs & SOUTH_CAUCASUS:
        return "Caucasus"
    if cs & {"RUS", "KAZ"} or (cs & CENTRAL_ASIA and "IRN" not in cs):
        return "Northern"
    if cs & {"TUR", "IRN"}:
        return "Balkan"
    return "Other"


def _route_row(G: nx.DiGraph, path: list[Any]) -> dict[str, Any]:
    edges = [G.edges[a, b] for a, b in itertools.pairwise(path)]
    sums = {w: math.fsum(e.get(w, 0.0) for e in edges) for w in WEIGHTS}
    # Only "sea" is looked for in modes: a missing mode as None instead of "" is equivalent.
    modes = [e.get("mode", "") for e in edges]
    countries = route_countries(G, path)
    before = None
    if "sea" in modes:
        before = route_countries(G, path[:modes.index("sea") + 1])
    crossings = [n for n in path if G.nodes[n].get("kind") == "crossing"]
    return {
        "path": list(path), "crossings": crossings, "countries": countries,
        "n_crossings": len(crossings), **sums,
        "p_undetected": math.exp(-sums["risk"]), "p_detect": -math.expm1(-sums["risk"]),
        "corridor": corridor_of_route(countries, modes, before),
    }


def _line(G: nx.DiGraph, path: Sequence[Any]) -> LineString | None:
    pts = [(G.nodes[n].get("lon"), G.nodes[n].get("lat")) for n in path]
    if len(pts) < 2 or any(x is None or y is None for x, y in pts):
        return None
    return LineString(pts)


def routes_frame(G: nx.DiGraph, routes: Sequence[tuple[Any, Any, int, list[Any]]],
                 *, weight: str = "cost",
                 flows: Mapping[tuple[Any, Any], float] | None = None
                 ) -> gpd.GeoDataFrame:
    """Turn ``(origin, market, rank, path)`` tuples into a route GeoDataFrame.

    Columns: ``origin``, ``market``, ``rank`` (1 = best), ``path`` (node ids), ``crossings``
    (crossing ids in order), ``countries`` (ISO3 in order), ``n_crossings``, ``length_km``,
    ``time_h``, ``risk``, ``cost`` (sums over the route), ``p_undetected`` (``exp(-risk)``),
    ``p_detect``, ``corridor`` (module notes), ``weight`` (the weight that ranked the routes),
    ``route_weight`` (the route's value of it), ``pair_flow`` (the pair's modelled flow),
    ``onward`` (the pair is the onward leg of a journey through a wholesale hub: its origin is
    a hub, not a producing origin; :mod:`routes.network`) and a LineString ``geometry``;
    indexed by ``route_id``.
    """
    flows = od_demand(G) if flows is None else flows
    rows, geoms, ids = [], [], []
    for o, m, rank, path in routes:
        r = _route_row(G, path)
        rows.append({"origin": o, "market": m, "rank": rank, **r, "weight": weight,
                     "route_weight": r[weight], "pair_flow": float(flows.get((o, m), 0.0)),
                     "onward": G.nodes[o].get("role") != "origin"})
        geoms.append(_line(G, path))
        ids.append(f"{o}>{m}#{rank}")
    df = pd.DataFrame(rows, columns=list(ROUTE_COLUMNS), index=pd.Index(ids, name="route_id"))
    return gpd.GeoDataFrame(df, geometry=geoms, crs=G.graph.get("crs", "EPSG:4326"))


def k_best_routes(G: nx.DiGraph, cm: CostModel | None = None, *, k: int | None = None,
                  weight: str = "cost",
                  flows: Mapping[tuple[Any, Any], float] | None = None,
                  engine: str | None = None) -> gpd.GeoDataFrame:
    """Return the ``k`` best loopless routes (Yen [1]_) of every origin-market pair.

    Parameters
    ----------
    G : networkx.DiGraph
        The route network.
    cm : CostModel, optional
        Gives the default ``k`` (``cm.k_routes``); 5 without one.
    k : int, optional
        Routes per pair.
    weight : {"cost", "risk", "time_h", "length_km"}
        What "best" means.
    flows : mapping, optional
        ``{(origin, market): flow}``; default :func:`routes.network.od_demand`.
    engine : {"igraph", "networkx"}, optional
        Default :data:`routes.settings.ENGINE`; both give the same routes (ties broken by
        ``(length in fixed point, node ids)``, see
        :meth:`routes.engine.Engine.k_shortest_paths`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per route, sorted by origin, market and rank; columns as in
        :func:`routes_frame`. Pairs without a route have no rows.

    Raises
    ------
    NoRouteError
        When no origin reaches any market.

    References
    ----------
    .. [1] J. Y. Yen, "Finding the k shortest loopless paths in a network", Management Science
       17(11), 712-716, 1971.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> for n, lon in [("o", 0.0), ("a", 1.0), ("b", 1.0), ("m", 2.0)]:
    ...     G.add_node(n, kind="place", country="AFG", lon=lon, lat=0.0, role="transit")
    >>> G.nodes["o"].update(role="origin", supply=1.0)
    >>> G.nodes["m"].update(role="market", demand=1.0, country="TUR")
    >>> for u, v, c in [("o", "a", 1.0), ("a", "m", 1.0), ("o", "b", 2.0), ("b", "m", 2.0)]:
    ...     G.add_edge(u, v, cost=c, risk=0.1, time_h=c, length_km=c, mode="road")
    >>> r = k_best_routes(G, k=2)
    >>> r.index.tolist(), r["cost"].tolist(), r["corridor"].tolist()
    (['o>m#1', 'o>m#2'], [2.0, 4.0], ['Balkan', 'Balkan'])
    >>> r["path"].iloc[1]
    ['o', 'b', 'm']
    """
    check_weight(G, weight)
    k = k if k is not None else (cm.k_routes if cm is not None else 5)
    flows = od_demand(G) if flows is None else flows
    # Both engines give the same routes (tests/test_engine.py): engine=None is equivalent.
    E = Engine(G, engine=engine)
    out = []
    for (o, m), _f in sorted(flows.items()):
        for rank, (_c, path) in enumerate(E.k_shortest_paths(o, m, k, weights=weight), 1):
            out.append((o, m, rank, path))
    if not out:
        raise NoRouteError("no origin reaches any market")
    return routes_frame(G, out, weight=weight, flows=flows)


def k_best_routes_gdf(G: nx.DiGraph, cm: CostModel | None = None) -> gpd.GeoDataFrame:
    """Return the k best routes by ``cost`` as a GeoDataFrame (what maps draw)."""
    return k_best_routes(G, cm)


def shortest_routes(G: nx.DiGraph, *, weight: str = "cost",
                    flows: Mapping[tuple[Any, Any], float] | None = None,
                    engine: str | None = None) -> gpd.GeoDataFrame:
    """Return the best route of every origin-market pair (ties broken by node id).

    Same columns as :func:`k_best_routes` (``rank`` is 1). Unreachable pairs have no row;
    raises NoRouteError when no pair is connected.
    """
    check_weight(G, weight)
    flows = od_demand(G) if flows is None else flows
    E = Engine(G, engine=engine)  # either engine: the same routes (equivalent mutant)
    paths = E.shortest_paths(sorted(flows), weights=weight)
    if not paths:
        raise NoRouteError("no origin reaches any market")
    return routes_frame(G, [(o, m, 1, p) for (o, m), p in sorted(paths.items())],
                        weight=weight, flows=flows)

