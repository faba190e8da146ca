"""Validated data (+ scenario) -> weighted networkx DiGraph, and back to GeoDataFrames.

Nodes are the places and the crossings. Each corridor gives two directed edges, each weighted
by the cost model (:mod:`routes.costs`): ``length_km``, ``time_h``, ``risk`` and ``cost``. A
crossing's delay and detection are charged on the edges entering it, so a route through it pays
them once, and they depend on the direction: the country being entered does the checking (an
edge from ``country_a``'s side enters ``country_b`` and pays the crossing's class; the reverse
pays ``class_into_a``; each edge records the country it ``enters``). Closed crossings stay as
nodes (for maps) but have no edges: they carry no traffic. The network holds one date's
statuses, supply and demand (``G.graph["as_of"]``). An origin's supply is the year's
production plus its share of the year's stock drawdown (:mod:`routes.supplyside`; the node
then keeps ``production_t`` and ``drawdown_t``).

Where the flow goes (:func:`od_journeys`, :func:`od_demand`)
------------------------------------------------------------
Each origin's supply is spread over the markets by demand share (a gravity model without
distance decay). A market served by wholesale hubs (``data/geo/hubs.csv``, resolved for the
date: a hub market's node carries ``hub_serves``, the market ids it serves) receives the share
``onward_share`` of that amount (``[hubs]`` of the cost model, ``G.graph["onward_share"]``)
through one hub and the rest directly:

- a market served by several hubs takes equal parts of that share from each (the sources
  name which hubs supply a market, never in what proportion; each sourced hub-market link
  then carries flow). The split depends on the data only, not on the network's state, so
  every engine (routes, flows, betweenness, the exact MILP, the what-if page) sees the same
  origin-market pairs whatever crossings a scenario or a planner closes or upgrades;
- the onward amount travels as two ordinary legs: ``origin -> hub`` and ``hub -> market``.
  :func:`od_demand` adds the legs to the pairs (the hub is then also the origin of onward
  pairs), so every analysis routes them as it routes any pair. A journey is reported whole
  by joining its legs (``AFG > PAK > NLD > DEU``, :mod:`routes.routing.journeys`).

Each leg is a consignment of its own: the flow on leg 2 is the whole onward amount (flows are
what is dispatched, never reduced by detection earlier on, as on every route of the model),
and the detected share of the flow objective (:mod:`routes.priorities.interdiction`) counts
each leg as one consignment: ``sum over pairs f * (1 - exp(-d)) / sum f`` over the ordinary
pairs. The hub's wholesalers break bulk and re-ship: a consignment detected on leg 1 is
replaced from the hub's stock, so leg 2's amount does not depend on leg 1's detection. This
is the rule the MILP, the Python engine and the what-if page share exactly; the journey view
(a consignment detected on leg 1 never runs leg 2, detected with probability
``1 - exp(-(d1 + d2))``) is reported beside it by
:func:`routes.routing.journeys.journey_detected_share`. The ``"single"`` objective (the least
risk of any route from production to a market) reads only the pairs leaving a producing
origin (:func:`routes.priorities._instance.objective_flows`): a journey through a hub is at
least as risky as its first leg.
"""

from __future__ import annotations

import logging
import math
from datetime import date
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
from shapely.geometry import LineString, Point

from ._version import __version__
from .costs import CostModel, crossing_terms, edge_weights, geodesic_km, p_from_risk, risk_from_p
from .geodata import Dataset, dataset_as_of
from .scenario import BASELINE, Scenario, apply_scenario
from .supplyside import allocate_drawdown, drawdown_in

__all__ = [
    "network_from_data",
    "network_to_gdfs",
    "network_from_gdfs",
    "origins",
    "markets",
    "crossings",
    "od_demand",
    "od_journeys",
    "hubs_of",
    "entered_country",
]

log = logging.getLogger(__name__)


def _num(v: Any) -> float:
    """NaN-safe float (missing -> 0.0)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(f) else f


def _opt(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _drawdown(ds: Dataset, cm: CostModel) -> dict[str, float]:
    """Each origin's share of the year's stock drawdown (:mod:`routes.supplyside`)."""
    if ds.supply is None or ds.as_of is None:
        return {}
    year = ds.as_of.year
    return allocate_drawdown(ds.supply, year,
                             drawdown_in(ds.stocks, year, cm.stocks_last_year))


def _add_places(G: nx.DiGraph, places: gpd.GeoDataFrame,
                drawdown: dict[str, float] | None = None) -> None:
    has_hubs = "hub_serves" in places.columns
    drawdown = drawdown or {}
    for r in places.itertuples():
        G.add_node(r.id, kind="place", name=r.name, country=r.country, lat=float(r.lat),
                   lon=float(r.lon), role=r.role, supply=_num(r.supply), demand=_num(r.demand),
                   source=r.source)
        if r.role == "origin" and G.nodes[r.id]["supply"] > 0 and drawdown.get(r.id):
            G.nodes[r.id]["production_t"] = G.nodes[r.id]["supply"]
            G.nodes[r.id]["drawdown_t"] = drawdown[r.id]
            G.nodes[r.id]["supply"] += drawdown[r.id]
        serves = str(getattr(r, "hub_serves", "") or "") if has_hubs else ""
        if serves:
            G.nodes[r.id]["hub_serves"] = serves


def _terms(cm: CostModel, cls: str, status: str, p: float | None, delay: float | None
           ) -> tuple[float, float, float]:
    """``(p_detect, delay_h, crossing_risk)`` of one direction of a crossing."""
    p = cm.classes[cls].p_detect if p is None else p
    d, r = crossing_terms(cm, cls, status, p_detect=p, delay_h=delay)
    return p, d, r


def _add_crossings(G: nx.DiGraph, crossings: gpd.GeoDataFrame, cm: CostModel) -> None:
    has_delay = "delay_h_override" in crossings.columns
    has_rev = "class_into_a" in crossings.columns
    for r in crossings.itertuples():
        params = cm.classes[r.crossing_class]
        d = _opt(getattr(r, "delay_h_override", None)) if has_delay else None
        p, delay, risk = _terms(cm, r.crossing_class, r.status, _opt(r.p_detect), d)
        # Traffic entering country_a is checked by country_a's authority: the class named in
        # class_into_a where the two sides differ. A row's or scenario's own p_detect (an
        # upgrade among them) describes the post as a whole: the risk it adds over the class
        # default is added in both directions, as an upgrade adds its delta risk to every edge
        # entering the post (routes.priorities.interdiction).
        rev = (getattr(r, "class_into_a", "") or "") if has_rev else ""
        if rev and rev != r.crossing_class:
            p_own = _opt(r.p_detect)
            p_a_own = None
            if p_own is not None:
                shift = risk_from_p(p_own) - risk_from_p(cm.classes[r.crossing_class].p_detect)
                p_a_own = p_from_risk(max(0.0, risk_from_p(cm.classes[rev].p_detect) + shift))
            p_a, delay_a, risk_a = _terms(cm, rev, r.status, p_a_own, d)
        else:
            rev, p_a, delay_a, risk_a = r.crossing_class, p, delay, risk
        up_cost = _opt(r.upgrade_cost)
        p_up = _opt(r.p_detect_upgraded)
        extra = {k: getattr(r, k) for k in ("status_note", "status_source", "coord_source")
                 if isinstance(getattr(r, k, None), str)}
        G.add_node(
            r.id, kind="crossing", name=r.name, country_a=r.country_a, country_b=r.country_b,
            lat=float(r.lat), lon=float(r.lon), mode=r.mode, status=r.status, as_of=r.as_of,
            crossing_class=r.crossing_class, p_detect=p,
            delay_h=delay, crossing_risk=risk,
            class_into_a=rev, p_detect_into_a=p_a, delay_h_into_a=delay_a,
            crossing_risk_into_a=risk_a,
            upgrade_cost=params.upgrade_cost if up_cost is None else up_cost,
            p_detect_upgraded=max(p, params.p_detect_upgraded if p_up is None else p_up),
            source=r.source, **extra,
        )


def _side(G: nx.DiGraph, u: str, v: str) -> str:
    """Return the country an edge ``u -> v`` runs in (the side of ``v`` it comes from)."""
    nu = G.nodes[u]
    if nu["kind"] == "place":
        return str(nu["country"])
    nv = G.nodes[v]
    if nv["kind"] == "place":
        return str(nv["country"])
    shared = sorted({nu["country_a"], nu["country_b"]} & {nv["country_a"], nv["country_b"]})
    return shared[0] if shared else ""


def entered_country(G: nx.DiGraph, u: str, v: str) -> str:
    """Return the country an edge ``u -> v`` enters at crossing ``v`` ("" if ``v`` is a place).

    A crossing node joins ``country_a`` and ``country_b``; an edge coming from
    ``country_a``'s side enters ``country_b`` and is checked by its authority, and the reverse.
    """
    nv = G.nodes[v]
    if nv["kind"] != "crossing":
        return ""
    return str(nv["country_a"] if _side(G, u, v) == nv["country_b"] else nv["country_b"])


def _add_corridors(G: nx.DiGraph, corridors: pd.DataFrame, cm: CostModel) -> None:
    for r in corridors.itertuples():
        u, v = r.from_id, r.to_id
        nu, nv = G.nodes[u], G.nodes[v]
        if nu.get("status") == "closed" or nv.get("status") == "closed":
            continue
        geo_km = geodesic_km(nu["lon"], nu["lat"], nv["lon"], nv["lat"])
        # A corridor gives two directed edges, or one (from_id -> to_id) when its optional
        # ``oneway`` is "yes": a sea or air link travelled one way (issue 19).
        oneway = str(getattr(r, "oneway", "") or "") == "yes"
        for a, b in ((u, v),) if oneway else ((u, v), (v, u)):
            nb = G.nodes[b]
            enters = entered_country(G, a, b)
            if not enters:
                terms = None
            elif enters == nb["country_a"]:
                terms = (nb["delay_h_into_a"], nb["crossing_risk_into_a"])
            else:
                terms = (nb["delay_h"], nb["crossing_risk"])
            w = edge_weights(cm, r.mode, geo_km, crossing=terms)
            G.add_edge(a, b, corridor_id=r.id, mode=r.mode, geodesic_km=geo_km,
                       enters=enters, source=r.source, **w)


def network_from_data(ds: Dataset, cm: CostModel, scenario: Scenario | None = None, *,
                      as_of: date | str | None = None) -> nx.DiGraph:
    """Build the weighted route network as of a date.

    Parameters
    ----------
    ds : Dataset
        Validated data (:func:`routes.geodata.load_dataset`).
    cm : CostModel
        The cost model (:func:`routes.costs.load_cost_model`).
    scenario : Scenario, optional
        An overlay applied before the build; the baseline when ``None``.
    as_of : date or "YYYY-MM-DD", optional
        The date whose crossing statuses, supply and demand the network holds
        (:func:`routes.geodata.dataset_as_of`). Default: the date ``ds`` was already resolved
        for, else the scenario's ``as_of``, else the last date the data covers.

    Returns
    -------
    networkx.DiGraph
        Nodes keyed by id with ``kind`` ("place" or "crossing"), ``name``, ``lat``, ``lon``
        and their data; edges with ``length_km``, ``time_h``, ``risk``, ``cost``, ``mode``,
        ``corridor_id``. ``G.graph`` records crs, package version, data hash, cost model and
        scenario with their hashes.
    """
    scenario = scenario or BASELINE
    if as_of is not None or ds.as_of is None:
        ds = dataset_as_of(ds, as_of if as_of is not None else (scenario.as_of or None))
    ds2, cm2 = apply_scenario(ds, cm, scenario)
    G = nx.DiGraph(
        crs="EPSG:4326",
        name=f"routes:{scenario.name}",
        routes_version=__version__,
        data_hash=ds.data_hash,
        cost_model=cm.name,
        cost_model_hash=cm.source_hash,
        scenario=scenario.name,
        scenario_hash=scenario.source_hash,
        as_of=ds.as_of.isoformat() if ds.as_of else "",
        onward_share=float(cm.onward_share),
    )
    _add_places(G, ds2.places, _drawdown(ds, cm))
    _add_crossings(G, ds2.crossings, cm2)
    _add_corridors(G, ds2.corridors, cm2)
    log.info("built network %s: %d nodes, %d edges", G.graph["name"], G.number_of_nodes(),
             G.number_of_edges())
    return G


# --------------------------------------------------------------------------- views
def origins(G: nx.DiGraph) -> dict[str, float]:
    """Origin ids -> supply, in id order."""
    return {n: d["supply"] for n, d in sorted(G.nodes(data=True))
            if d.get("role") == "origin" and d.get("supply", 0) > 0}


def markets(G: nx.DiGraph) -> dict[str, float]:
    """Market ids -> demand, in id order."""
    return {n: d["demand"] for n, d in sorted(G.nodes(data=True))
            if d.get("role") == "market" and d.get("demand", 0) > 0}


def crossings(G: nx.DiGraph, *, include_closed: bool = True) -> list[str]:
    """Crossing ids, in id order."""
    return sorted(n for n, d in G.nodes(data=True) if d.get("kind") == "crossing"
                  and (include_closed or d.get("status") != "closed"))


def hubs_of(G: nx.DiGraph) -> dict[str, list[str]]:
    """Market id -> the hubs its onward share comes through (module notes), in id order.

    A hub is any node with ``hub_serves`` (a market, a port, a city); only markets with
    demand are served; a hub never serves itself.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("nl", role="market", demand=1.0, hub_serves="de at")
    >>> G.add_node("be", role="port", hub_serves="de be")
    >>> G.add_node("de", role="market", demand=2.0)
    >>> G.add_node("at", role="market", demand=1.0)
    >>> hubs_of(G)
    {'at': ['nl'], 'de': ['be', 'nl']}
    """
    m = markets(G)
    serving: dict[str, list[str]] = {}
    for h, d in sorted(G.nodes(data=True)):
        for x in str(d.get("hub_serves", "") or "").split():
            if x in m and x != h and h not in serving.get(x, []):
                serving.setdefault(x, []).append(h)
    return dict(sorted(serving.items()))


def od_journeys(G: nx.DiGraph) -> list[tuple[str, str, str, float]]:
    """Every journey ``(origin, hub, market, flow)``; ``hub`` is ``""`` for a direct one.

    ``flow`` of origin ``o`` to market ``m`` is ``supply(o) * demand(m) / sum(demand)``; a
    market with hubs (:func:`hubs_of`) gets ``onward_share`` of it through them, in equal
    parts, and the rest directly (module notes). Sorted by ``(origin, market, hub)``; zero
    flows left out.

    Examples
    --------
    >>> G = nx.DiGraph(onward_share=0.4)
    >>> G.add_node("o", role="origin", supply=10.0)
    >>> G.add_node("h", role="market", demand=1.0, lon=0.0, lat=0.0, hub_serves="m")
    >>> G.add_node("m", role="market", demand=3.0, lon=1.0, lat=0.0)
    >>> od_journeys(G)
    [('o', '', 'h', 2.5), ('o', '', 'm', 4.5), ('o', 'h', 'm', 3.0)]
    """
    o, m = origins(G), markets(G)
    total = sum(m.values())
    if total <= 0:
        return []
    share = float(G.graph.get("onward_share", 0.0) or 0.0)
    hubs = hubs_of(G) if share > 0 else {}
    out = []
    for a, sa in o.items():
        for b, db in m.items():
            f = sa * db / total
            hs = hubs.get(b)
            if not hs:
                out.append((a, "", b, f))
                continue
            if share < 1:
                out.append((a, "", b, f * (1.0 - share)))
            out.extend((a, h, b, f * share / len(hs)) for h in hs)
    return [j for j in sorted(out, key=lambda j: (j[0], j[2], j[1])) if j[3] > 0]


def od_demand(G: nx.DiGraph) -> dict[tuple[str, str], float]:
    """Flow between each origin-market pair, and on each leg of an onward journey.

    ``flow(o, m) = supply(o) * demand(m) / sum(demand)`` (a gravity model without distance
    decay: where a consignment ends depends on the size of the market, not on the route). A
    journey through a hub adds its flow to the pairs ``(origin, hub)`` and ``(hub, market)``
    instead (module notes: :func:`od_journeys`), so the pairs are what every engine routes.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("o", role="origin", supply=10.0)
    >>> G.add_node("m1", role="market", demand=1.0)
    >>> G.add_node("m2", role="market", demand=3.0)
    >>> od_demand(G)
    {('o', 'm1'): 2.5, ('o', 'm2'): 7.5}
    """
    out: dict[tuple[str, str], float] = {}
    for a, h, b, f in od_journeys(G):
        for pair in ([(a, b)] if not h else [(a, h), (h, b)]):
            out[pair] = out.get(pair, 0.0) + f
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- conversions
def network_to_gdfs(G: nx.DiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return ``(nodes, edges)`` GeoDataFrames (EPSG:4326).

    The inverse of :func:`network_from_gdfs`.
    ``nodes`` is indexed by ``id`` with Point geometry; ``edges`` has ``u``, ``v`` columns and
    a LineString per edge. The graph is not modified.
    """
    nrows = [{"id": n, **d} for n, d in G.nodes(data=True)]
    nodes = gpd.GeoDataFrame(
        nrows, geometry=[Point(r["lon"], r["lat"]) for r in nrows], crs=G.graph.get("crs")
    ).set_index("id") if nrows else gpd.GeoDataFrame(
        {"id": []}, geometry=[], crs=G.graph.get("crs")).set_index("id")
    erows = [{"u": u, "v": v, **d} for u, v, d in G.edges(data=True)]
    geoms = [LineString([(G.nodes[r["u"]]["lon"], G.nodes[r["u"]]["lat"]),
                         (G.nodes[r["v"]]["lon"], G.nodes[r["v"]]["lat"])]) for r in erows]
    edges = gpd.GeoDataFrame(erows if erows else {"u": [], "v": []}, geometry=geoms,
                             crs=G.graph.get("crs"))
    nodes.attrs["graph"] = dict(G.graph)
    edges.attrs["graph"] = dict(G.graph)
    return nodes, edges


def network_from_gdfs(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame,
                      graph_attrs: dict[str, Any] | None = None) -> nx.DiGraph:
    """Build a DiGraph from ``(nodes, edges)`` frames, the inverse of :func:`network_to_gdfs`.

    Missing values (NaN) in a row are dropped from that node's or edge's attributes, so a
    round trip returns the same graph.
    """
    attrs = dict(graph_attrs if graph_attrs is not None else nodes.attrs.get("graph", {}))
    G = nx.DiGraph(**attrs)
    ncols = [c for c in nodes.columns if c != nodes.geometry.name]
    for n, row in zip(nodes.index, nodes[ncols].itertuples(index=False)):
        G.add_node(n, **_clean(dict(zip(ncols, row))))
    ecols = [c for c in edges.columns if c not in ("u", "v", edges.geometry.name)]
    for u, v, row in zip(edges["u"], edges["v"], edges[ecols].itertuples(index=False)):
        G.add_edge(u, v, **_clean(dict(zip(ecols, row))))
    return G


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        out[k] = v.item() if hasattr(v, "item") else v
    return out
