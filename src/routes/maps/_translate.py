"""The network and its analyses as map layers: one function per layer, styled from columns.

Crossings are sized by flow betweenness and coloured by priority rank; their status shows in
the outline (restricted: thick purple; closed: hollow, dashed). Corridors are as wide as the
flow assigned to them; countries are shaded by their transit share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from .._errors import RoutesError
from ._layers import LayerData, line_geometry, point_geometry, shape_geometry, sqrt_scale
from ._palette import PALETTE

__all__ = [
    "MapAnalyses",
    "crossings_layer",
    "places_layers",
    "corridors_layer",
    "routes_layer",
    "countries_layer",
    "basemap_layer",
    "RANK_CLASSES",
    "SHARE_CLASSES",
    "STATUS_STYLES",
    "MODE_COLOURS",
    "ROLE_COLOURS",
    "ROUTE_COLOURS",
]

#: Priority rank classes: (highest rank in class, fill colour, label); from the palette.
RANK_CLASSES: tuple[tuple[float, str, str], ...] = tuple(
    (float("inf") if hi is None else float(hi), col, text)
    for hi, col, text in PALETTE["priority"])
UNRANKED: str = PALETTE["unranked"]
#: Transit share classes: (upper bound, fill colour), YlGnBu's green part. One palette per
#: meaning: reds are crossing priority, blues route rank, yellow-greens country transit share.
SHARE_CLASSES: tuple[tuple[float, str], ...] = tuple(
    (float("inf") if hi is None else float(hi), col) for hi, col in PALETTE["share"])
NO_SHARE: str = PALETTE["no_share"]
#: Outline of a crossing by status (its fill is its priority on the route map).
STATUS_STYLES: dict[str, dict[str, Any]] = {
    s: {k: v for k, v in st.items() if k != "fillColor"}
    for s, st in PALETTE["status"].items() if s != "upgraded"}
#: Fill of a crossing sample by status, where no priority is drawn (legends, timeline).
STATUS_FILLS: dict[str, str] = {s: st["fillColor"] for s, st in PALETTE["status"].items()}
MODE_COLOURS: dict[str, str] = dict(PALETTE["modes"])
MODE_DASH: dict[str, str] = dict(PALETTE["mode_dash"])
ROLE_COLOURS: dict[str, str] = dict(PALETTE["roles"])
#: Route rank of its pair (1 = best): Blues, darkest first.
ROUTE_COLOURS: tuple[str, ...] = tuple(PALETTE["route_rank"])

_BETWEENNESS = ("flow_betweenness", "betweenness")
_RANK = ("priority_rank", "rank")
_SHARE = ("transit_share", "share")
_FLOW = ("flow", "assigned_flow", "edge_flow", "volume")
#: Crossing attributes the popup already shows: an analysis table's copies are left out.
_CROSSING_ATTRS = frozenset({"name", "country_a", "country_b", "lat", "lon", "mode", "status",
                             "as_of", "crossing_class", "p_detect", "delay_h", "crossing_risk",
                             "upgrade_cost", "p_detect_upgraded", "source", "kind",
                             "geometry"})
#: Route columns worth a popup, when the frame has them (routes.routing.paths.routes_frame).
_ROUTE_FIELDS = ("origin", "market", "rank", "corridor", "countries", "n_crossings",
                 "length_km", "time_h", "risk", "cost", "p_undetected", "choice_prob", "flow")


@dataclass(frozen=True)
class MapAnalyses:
    """Analysis results a map can draw; every part is optional.

    Parameters
    ----------
    crossings : DataFrame, optional
        Indexed by crossing id; ``flow_betweenness`` sizes the markers, ``priority_rank``
        (else ``rank``) colours them; every column shows in the popup.
    countries : DataFrame, optional
        Indexed by ISO3; ``transit_share`` (0-1) shades the country.
    edges : DataFrame, optional
        Assigned flow per directed edge: columns ``u``, ``v`` (or ``corridor_id``) and ``flow``
        (or ``assigned_flow``), as columns or index levels. Both directions of a corridor add up.
    routes : DataFrame, optional
        The k best routes: a GeoDataFrame of LineStrings, or a frame with a ``path`` column
        of node ids; other columns show in the popup.
    """

    crossings: pd.DataFrame | None = None
    countries: pd.DataFrame | None = None
    edges: pd.DataFrame | None = None
    routes: pd.DataFrame | None = None

    @classmethod
    def coerce(cls, obj: MapAnalyses | Mapping[str, Any] | None) -> MapAnalyses:
        """``None``, a mapping with some of the four keys, or an instance -> an instance."""
        if obj is None:
            return cls()
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Mapping):
            unknown = set(obj) - {"crossings", "countries", "edges", "routes"}
            if unknown:
                raise RoutesError(f"unknown map analyses {sorted(unknown)}; expected "
                                  "crossings, countries, edges, routes")
            return cls(**{k: v for k, v in obj.items() if v is not None})
        raise RoutesError(f"analyses must be a MapAnalyses or a mapping, not {type(obj)}")


def _pick(df: pd.DataFrame | None, names: Sequence[str]) -> str | None:
    if df is None:
        return None
    return next((c for c in names if c in df.columns), None)


#: Popup label and format of the columns a reader meets; others: underscores become spaces,
#: ``*_share``/``share`` show as percents of a fraction, ``*_pct`` as percents.
FIELDS: dict[str, tuple[str, str]] = {
    "p_detect": ("detection probability", "pct"),
    "p_detect_upgraded": ("detection if upgraded", "pct"),
    "delay_h": ("delay (hours)", ""),
    "crossing_risk": ("risk at the post", ""),
    "upgrade_cost": ("upgrade cost", ""),
    "as_of": ("as of", ""),
    "crossing_class": ("class", ""),
    "share": ("flow share", "pct"),
    "transit_share": ("transit share", "pct"),
    "unserved_share": ("flow stranded if closed (share)", "pct"),
    "unserved_flow": ("flow stranded if closed (amount)", ""),
    "cost_rise_pct": ("cost rise if closed", "pct100"),
    "p_undetected": ("chance of passing undetected", "pct"),
    "choice_prob": ("choice probability", "pct"),
    "length_km": ("length (km)", ""),
    "time_h": ("time (hours)", ""),
    "n_crossings": ("crossings", ""),
    "priority_rank": ("priority rank", ""),
    "vital_rank": ("closure impact rank", ""),
    "in_min_cut": ("in the minimum cut", ""),
    "base_cost": ("route cost before", ""),
    "cost_after": ("route cost if closed", ""),
    "cost_rise": ("route cost rise if closed", ""),
    "stranded_supply": ("supply stranded if closed", ""),
    "articulation_point": ("articulation point", ""),
}


def field_format(col: str) -> tuple[str, str]:
    """Popup label and format of a column.

    Examples
    --------
    >>> field_format("transit_share"), field_format("risk_rise_pct"), field_format("rank")
    (('transit share', 'pct'), ('risk rise (%)', 'pct100'), ('rank', ''))
    """
    col = str(col)
    if col in FIELDS:
        return FIELDS[col]
    if col.endswith("_pct"):
        return col[:-4].replace("_", " ") + " (%)", "pct100"
    fmt = "pct" if col == "share" or col.endswith("_share") else ""
    return col.replace("_", " "), fmt


def _label(col: str) -> str:
    return field_format(col)[0]


def _formats(cols: Sequence[str]) -> list[str]:
    return [field_format(c)[1] for c in cols]


def _extra_columns(table: pd.DataFrame | None, skip: Sequence[str] = ()) -> list[str]:
    if table is None:
        return []
    geom = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    return [c for c in table.columns if c != geom and c not in skip]


def _rank_colour(rank: Any) -> str:
    try:
        r = float(rank)
    except (TypeError, ValueError):
        return UNRANKED
    if r != r:  # NaN
        return UNRANKED
    return next(col for hi, col, _ in RANK_CLASSES if r <= hi)


def share_colour(share: Any) -> str:
    """Fill colour of a transit share (0-1); light grey when unknown.

    Examples
    --------
    >>> share_colour(0.2), share_colour(None)
    ('#addd8e', '#f2f2f2')
    """
    try:
        s = float(share)
    except (TypeError, ValueError):
        return NO_SHARE
    if s != s:
        return NO_SHARE
    return next(col for hi, col in SHARE_CLASSES if s <= hi)


def _rows(table: pd.DataFrame | None, cols: Sequence[str]) -> dict[Any, list[Any]]:
    """Index -> the row's values in ``cols`` (one pass, instead of a .loc per feature)."""
    if table is None:
        return {}
    return {k: list(v) for k, v in zip(table.index, table[list(cols)].itertuples(
        index=False, name=None))}


# --------------------------------------------------------------------------- node layers
#: Crossing columns a planner reads first, in this order; the others are behind "more".
_CROSSING_HEAD = ("priority_rank", "share", "unserved_share", "cost_rise_pct")
#: Ranks and flows explained in words, under their row of a popup.
HELPS: dict[str, str] = {
    "priority_rank": "chokepoint priority: 1 = the most critical to lose (flow left without "
                     "a route if closed, then the rise in route cost, then flow)",
    "vital_rank": "closure impact rank: 1 = closing it strands the most flow, then raises "
                  "the route cost most",
    "rank": "flow rank: 1 = the most flow on the best routes (flow betweenness)",
    "flow_betweenness": "the flow on each origin-market pair's best routes through it (not "
                        "split over the k best routes)",
    "share": "of the routed flow, on the best routes",
}


def crossings_layer(nodes: gpd.GeoDataFrame, table: pd.DataFrame | None = None) -> LayerData:
    """Crossing markers: radius by flow betweenness, fill by priority rank, outline by status.

    The popup shows the border, the status and the figures a planner reads first
    (:data:`_CROSSING_HEAD`); the others are behind a "more" toggle; ranks are explained in
    words (:data:`HELPS`).
    """
    xs = nodes[nodes["kind"] == "crossing"].sort_index()
    bcol, rcol = _pick(table, _BETWEENNESS), _pick(table, _RANK)
    extra = _extra_columns(table, skip=tuple(_CROSSING_ATTRS))
    head = [c for c in _CROSSING_HEAD if c in extra]
    rest = [c for c in extra if c not in head]
    bmax = float(table[bcol].max()) if table is not None and bcol and len(table) else 0.0
    own = ["as_of", "crossing_class", "p_detect", "delay_h", "crossing_risk", "upgrade_cost",
           "p_detect_upgraded"]
    cols = [*head, *rest]
    layer = LayerData(
        "crossings", "border crossing", "point",
        ["border", "status", *map(_label, head), "id", "mode", *map(_label, own),
         *map(_label, rest), "source"],
        searchable=True,
        formats=["", "", *_formats(head), "", "", *_formats(own), *_formats(rest), ""],
        helps=["", "", *(HELPS.get(c, "") for c in head), "", "", *([""] * len(own)),
               *(HELPS.get(c, "") for c in rest), ""],
        first=2 + len(head))
    rows, missing = _rows(table, cols), [None] * len(cols)
    for cid, r in zip(xs.index, xs.itertuples(index=False)):
        vals = rows.get(cid, missing)
        b = vals[cols.index(bcol)] if bcol else None
        rank = vals[cols.index(rcol)] if rcol else None
        status = getattr(r, "status", "open")
        style = {"radius": sqrt_scale(_f(b), bmax, 4.0, 16.0) if bcol else 6.0,
                 "fillColor": _rank_colour(rank) if rcol else STATUS_FILLS.get(status, UNRANKED),
                 "fillOpacity": 0.9, "opacity": 1.0,
                 **STATUS_STYLES.get(status, STATUS_STYLES["open"])}
        layer.add(point_geometry(r.lon, r.lat), r.name, style, [
            f"{r.country_a} \u2192 {r.country_b}", status, *vals[:len(head)], cid, r.mode,
            getattr(r, "as_of", None), getattr(r, "crossing_class", None),
            getattr(r, "p_detect", None), getattr(r, "delay_h", None),
            getattr(r, "crossing_risk", None), getattr(r, "upgrade_cost", None),
            getattr(r, "p_detect_upgraded", None), *vals[len(head):],
            getattr(r, "source", None)])
    return layer


def _f(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if f != f else f


def places_layers(nodes: gpd.GeoDataFrame) -> dict[str, LayerData]:
    """Origins (sized by supply), markets (sized by demand) and the other places."""
    ps = nodes[nodes["kind"] == "place"].sort_index()
    fields = ["id", "country", "role", "supply", "demand", "source"]
    out = {
        "origins": LayerData("origins", "origin", "point", fields, searchable=True),
        "markets": LayerData("markets", "market", "point", fields, searchable=True),
        "places": LayerData("places", "place", "point", fields, searchable=True),
    }
    smax = float(ps["supply"].max()) if "supply" in ps and len(ps) else 0.0
    dmax = float(ps["demand"].max()) if "demand" in ps and len(ps) else 0.0
    for pid, r in zip(ps.index, ps.itertuples(index=False)):
        role = getattr(r, "role", "transit")
        if role == "origin":
            key, radius = "origins", sqrt_scale(_f(r.supply), smax, 5.0, 14.0)
        elif role == "market":
            key, radius = "markets", sqrt_scale(_f(r.demand), dmax, 5.0, 14.0)
        else:
            key, radius = "places", 4.0
        style = {"radius": radius, "fillColor": ROLE_COLOURS.get(role, "#737373"),
                 "fillOpacity": 0.9, "color": "#ffffff", "weight": 1.5}
        out[key].add(point_geometry(r.lon, r.lat), r.name, style,
                     [pid, r.country, role, getattr(r, "supply", None),
                      getattr(r, "demand", None), getattr(r, "source", None)])
    return out


# --------------------------------------------------------------------------- line layers
def _corridor_keys(edges: pd.DataFrame) -> list[Any]:
    """Corridor id of each directed edge, else its unordered node pair."""
    pairs = zip(edges["u"], edges["v"])
    if "corridor_id" in edges.columns:
        return [c if isinstance(c, str) else frozenset(p)
                for c, p in zip(edges["corridor_id"], pairs)]
    return [frozenset(p) for p in pairs]


def _edge_flows(edges: pd.DataFrame, table: pd.DataFrame | None) -> dict[Any, float] | None:
    """Flow per corridor key (corridor id, else the unordered node pair)."""
    if table is None:
        return None
    t = table.reset_index() if any(n in ("u", "v", "corridor_id") for n in
                                   (table.index.names or [])) else table
    fcol = _pick(t, _FLOW)
    if fcol is None:
        raise RoutesError(f"edge flow table needs a column among {list(_FLOW)}; "
                          f"it has {list(t.columns)}")
    if "corridor_id" in t.columns:
        keys: Sequence[Any] = list(t["corridor_id"])
    elif {"u", "v"} <= set(t.columns):
        by_pair = dict(zip(zip(edges["u"], edges["v"]), _corridor_keys(edges)))
        keys = [by_pair.get((u, v), frozenset((u, v))) for u, v in zip(t["u"], t["v"])]
    else:
        raise RoutesError("edge flow table needs columns u and v, or corridor_id")
    flows: dict[Any, float] = {}
    for k, f in zip(keys, t[fcol]):
        flows[k] = flows.get(k, 0.0) + _f(f)
    return flows


def _key_text(k: Any) -> str:
    return "|".join(sorted(map(str, k))) if isinstance(k, frozenset) else str(k)


def corridors_layer(edges: pd.DataFrame, nodes: pd.DataFrame,
                    table: pd.DataFrame | None = None) -> LayerData:
    """One line per corridor (both directed edges), as wide as its assigned flow.

    ``edges`` has ``u``, ``v`` and the edge attributes (:func:`routes.network.network_to_gdfs`);
    a line runs from ``u`` to ``v`` (node ``lon``/``lat``), or along the edge's geometry when
    ``edges`` is a GeoDataFrame. Corridors are drawn in id order, each once.
    """
    flows = _edge_flows(edges, table)
    fmax = max(flows.values(), default=0.0) if flows else 0.0
    names = nodes["name"].to_dict() if "name" in nodes else {}
    lon, lat = nodes["lon"].to_dict(), nodes["lat"].to_dict()
    layer = LayerData("corridors", "corridor", "line",
                      ["corridor", "from", "to", "mode", _label("length_km"), _label("time_h"),
                       "risk", "cost", "assigned flow (both ways)", "source"])
    n = len(edges)
    us, vs = list(edges["u"]), list(edges["v"])
    cols = {c: list(edges[c]) if c in edges else [None] * n
            for c in ("mode", "length_km", "time_h", "risk", "cost", "source")}
    geoms = (list(edges.geometry) if isinstance(edges, gpd.GeoDataFrame)
             and edges.geometry.name in edges else None)
    first: dict[Any, int] = {}  # corridor -> the edge drawn for it (the one with the lower u)
    for i, k in enumerate(_corridor_keys(edges)):
        j = first.get(k)
        if j is None or str(us[i]) < str(us[j]):
            first[k] = i
    for k in sorted(first, key=_key_text):
        i = first[k]
        u, v = us[i], vs[i]
        mode = cols["mode"][i]
        flow = flows.get(k, 0.0) if flows is not None else None
        style = {"color": MODE_COLOURS.get(str(mode), "#5a5a5a"), "opacity": 0.75,
                 "weight": sqrt_scale(_f(flow), fmax, 1.5, 12.0) if flows is not None else 2.0}
        if mode in MODE_DASH:
            style["dashArray"] = MODE_DASH[mode]
        coords = (list(geoms[i].coords) if geoms is not None and geoms[i] is not None
                  else [(lon[u], lat[u]), (lon[v], lat[v])])
        cid = k if isinstance(k, str) else f"{u}\u2013{v}"
        nu, nv = names.get(u, u), names.get(v, v)
        layer.add(line_geometry(coords), f"{nu} \u2013 {nv}", style,
                  [cid, nu, nv, mode, cols["length_km"][i], cols["time_h"][i], cols["risk"][i],
                   cols["cost"][i], flow, cols["source"][i]])
    return layer


def routes_layer(routes: pd.DataFrame, nodes: pd.DataFrame) -> LayerData:
    """Draw the k best routes: colour by rank (1 darkest blue, 2 lighter, ...), width by ``flow``.

    Routes with more flow are drawn last (on top). The popup shows the columns of
    :func:`routes.routing.paths.routes_frame` that matter to a reader when present, else
    every column; lists (path, countries) show as ``a -> b -> c``.
    """
    preferred = [c for c in _ROUTE_FIELDS if c in routes.columns]
    extra = preferred if len(preferred) >= 3 else [
        c for c in _extra_columns(routes) if c != "path"]
    layer = LayerData("routes", "route", "line", [_label(c) for c in extra],
                      formats=_formats(extra))
    names = nodes["name"].to_dict() if "name" in nodes else {}
    has_geom = isinstance(routes, gpd.GeoDataFrame) and routes.geometry.name in routes
    fcol = _pick(routes, _FLOW)
    fmax = float(routes[fcol].max()) if fcol and len(routes) else 0.0
    order = (routes.assign(_order=range(len(routes))).sort_values([fcol, "_order"])
             if fcol else routes)
    for i, (_, r) in enumerate(order.iterrows()):
        if has_geom and r[routes.geometry.name] is not None:
            coords = _line_coords(r[routes.geometry.name])
        elif "path" in routes.columns:
            coords = [(nodes.at[n, "lon"], nodes.at[n, "lat"]) for n in r["path"]]
        else:
            raise RoutesError("routes need LineString geometry or a 'path' column of node ids")
        path = list(r["path"]) if "path" in routes.columns else []
        rank = r["rank"] if "rank" in routes.columns else i + 1
        label = (f"route {rank}" +
                 (f": {names.get(path[0], path[0])} \u2192 {names.get(path[-1], path[-1])}"
                  if path else ""))
        name = r["name"] if "name" in routes.columns else label
        colour = ROUTE_COLOURS[(int(_f(rank)) - 1) % len(ROUTE_COLOURS)] if "rank" in \
            routes.columns else ROUTE_COLOURS[i % len(ROUTE_COLOURS)]
        style = {"color": colour, "opacity": 0.8,
                 "weight": sqrt_scale(_f(r[fcol]), fmax, 2.0, 8.0) if fcol else 5.0}
        layer.add(line_geometry(coords), name, style, [
            " \u2192 ".join(map(str, r[c])) if isinstance(r[c], list | tuple) else r[c]
            for c in extra])
    return layer


def _line_coords(geom: Any) -> list[tuple[float, float]]:
    if geom.geom_type == "MultiLineString":
        return [c for part in geom.geoms for c in part.coords]
    return list(geom.coords)


# --------------------------------------------------------------------------- countries
def countries_layer(countries: gpd.GeoDataFrame, table: pd.DataFrame | None = None, *,
                    tolerance_deg: float = 0.02) -> LayerData:
    """Country polygons shaded by transit share (``transit_share`` in ``table``)."""
    scol = _pick(table, _SHARE)
    extra = _extra_columns(table)
    layer = LayerData("countries", "country", "polygon",
                      ["iso3", *map(_label, extra), "source"],
                      formats=["", *_formats(extra), ""])
    rows, missing = _rows(table, extra), [None] * len(extra)
    for r in countries.sort_values("iso3").itertuples(index=False):
        geom = shape_geometry(r.geometry, tolerance_deg=tolerance_deg)
        if geom is None:
            continue
        vals = rows.get(r.iso3, missing)
        share = vals[extra.index(scol)] if scol else None
        style = {"fillColor": share_colour(share), "fillOpacity": 0.55 if scol else 0.15,
                 "color": "#777777", "weight": 0.8, "opacity": 0.8}
        layer.add(geom, getattr(r, "name", r.iso3), style,
                  [r.iso3, *vals, getattr(r, "source", None)])
    return layer


def basemap_layer(countries: gpd.GeoDataFrame, *, tolerance_deg: float = 0.02,
                  world: gpd.GeoDataFrame | None = None) -> LayerData:
    """Plain land polygons standing in for tiles offline (no popups, not clickable).

    ``world`` (the shipped basemap, whole countries over the visible extent) is drawn first;
    a country of ``countries`` it lacks (another region's data) is drawn from ``countries``.
    """
    # Its own pane, below the capitals' and the data's (routes_map.js).
    layer = LayerData("basemap", "basemap", "polygon", [], popups=False, pane="routesBasemap")
    style = {"fillColor": "#f4f1ea", "fillOpacity": 1.0, "color": "#9a9a9a", "weight": 0.7,
             "interactive": False}
    have: set[str] = set()
    if world is not None:
        for r in world.itertuples(index=False):
            geom = shape_geometry(r.geometry)
            if geom is not None:
                layer.add(geom, None, style, [])
                have.add(str(r.iso3))
    for r in countries.sort_values("iso3").itertuples(index=False):
        if str(r.iso3) in have:
            continue
        geom = shape_geometry(r.geometry, tolerance_deg=tolerance_deg)
        if geom is not None:
            layer.add(geom, None, style, [])
    return layer
