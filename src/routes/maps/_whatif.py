"""The planner's what-if page: close, reopen or upgrade crossings in the browser.

One self-contained HTML file: Leaflet inlined, the offline maps' basemap (country polygons,
country names, capitals), the network and its parameters embedded as JSON data, and the
computation in one small script, ``routes/static/whatif.js``, that follows the Python
engine's definitions:

- the k best loopless routes of each origin-market pair by ``cost`` on the engine's
  fixed-point weights (Yen; every route as short as the k-th is found, then the routes are
  sorted by ``(length, node ids)`` and the first k kept,
  :meth:`routes.engine.Engine.k_shortest_paths`);
- the logit split over them (:func:`routes.routing.flows.logit_shares`), route weights summed
  exactly (``math.fsum``) as in :func:`routes.routing.paths.routes_frame`;
- the corridor labels (:func:`routes.routing.paths.corridor_of_route`);
- the detected share: the flow objective of :mod:`routes.priorities.interdiction`,
  ``sum flow(o, m) * (1 - exp(-d_om)) / routed flow`` with ``d_om`` the least risk from
  ``o`` to ``m`` (what ``routes priorities --objective flow`` reports at budget 0).

The page does not re-derive the cost model: every edge's weights are computed here, by
building the network itself (:func:`routes.network.network_from_data`), once with every
closed crossing reopened and once more with every post upgraded, so that an edge entering a
crossing carries its weights in each state the planner can give the crossing. A crossing's
state changes only the edges entering it (its delay and detection are charged there), and a
closed crossing has no edges, so these two builds hold every network the page can reach. The
planner's changes download as a scenario TOML (the starting scenario's overlay plus the
changes) that the CLI reads back: a closure is ``status = "closed"``, a reopening the
crossing's status in the data (``"open"`` if the data has it closed), an upgrade
``upgraded = true`` (:mod:`routes.scenario`: the post's ``p_detect`` becomes its
``p_detect_upgraded``, the row's, else its class's).

An upgrade means the scenario file's ``upgraded = true`` exactly: the upgraded weights are
built from it, and a post is upgradable when it raises the post's detection. Where the
starting scenario sets the post's own ``p_detect``, the upgrade replaces that value (a file
cannot give both): the post is upgradable only when its upgraded level is above the starting
scenario's value, and the download drops the starting ``p_detect`` of an upgraded post. A
post the starting scenario already upgrades keeps its ``upgraded = true`` (it starts open, at
its upgraded detection) and cannot be upgraded further.
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np

from .._version import __version__
from ..costs import CostModel
from ..engine import SCALE, quantize
from ..geodata import Dataset, dataset_as_of
from ..io import atomic_write_text
from ..network import network_from_data, od_demand
from ..scenario import BASELINE, Scenario
from ._assets import (
    _script,
    _style,
    basemap_capitals,
    basemap_world,
    common_css,
    common_js,
    external_references,
    js_json,
    leaflet_css,
    leaflet_js,
)
from ._labels import CAPITALS_CREDIT, capital_labels, country_labels
from ._layers import shape_geometry

__all__ = ["whatif_data", "whatif_html", "write_whatif", "STATES"]

#: The states a crossing can have on the page.
STATES = ("open", "upgraded", "closed")
#: Simplification of the country outlines drawn as the basemap (degrees).
BASEMAP_TOLERANCE_DEG = 0.02


def _variant(ds: Dataset, cm: CostModel, sc: Scenario,
             changes: dict[str, dict[str, Any]]) -> nx.DiGraph:
    """Return the network of scenario ``sc`` with ``changes`` laid over its crossings.

    An upgrade (``upgraded = True``) replaces the scenario's own ``p_detect`` of the post, as
    in the downloaded file (a scenario cannot give both).
    """
    crossings = {k: dict(v) for k, v in sc.crossings.items()}
    for cid, vals in changes.items():
        c = crossings.setdefault(cid, {})
        if vals.get("upgraded") is True:
            c.pop("p_detect", None)
        c.update(vals)
    return network_from_data(ds, cm, replace(sc, crossings=crossings))


def _reopen_status(ds: Dataset) -> dict[str, str]:
    """Status a reopened crossing gets: its status in the data, ``"open"`` if that is closed."""
    return {str(i): ("open" if s == "closed" else str(s))
            for i, s in zip(ds.crossings["id"], ds.crossings["status"])}


def _legit(ds: Dataset, cm: CostModel) -> dict[str, tuple[float, float, bool]]:
    """Return ``{post: (hours a day, USD a day, imputed)}`` of its ``physical`` upgrade.

    The delay to legitimate traffic (:mod:`routes.priorities.legit`, as ``routes tradeoff``);
    empty when the cost model has no ``[legit]`` table.
    """
    from ..priorities.legit import legit_params, post_delays, post_traffic

    if not (cm.raw or {}).get("legit"):
        return {}
    params = legit_params(cm)
    d = post_delays(post_traffic(ds.crossings, ds.border_traffic, params), params, "physical")
    return {str(i): (float(h), float(u), bool(m)) for i, h, u, m in zip(
        d.index, d["delay_h_per_day"], d["cost_usd_per_day"], d["imputed"])}


def _node_rows(G: nx.DiGraph, start: nx.DiGraph, reopen: dict[str, str],
               level: dict[str, float],
               legit: dict[str, tuple[float, float, bool]]) -> list[dict[str, Any]]:
    rows = []
    for n in sorted(G.nodes):
        d = G.nodes[n]
        row: dict[str, Any] = {"id": n, "name": str(d.get("name", n)), "kind": d.get("kind"),
                               "lat": float(d["lat"]), "lon": float(d["lon"])}
        if d.get("kind") == "crossing":
            p = float(d["p_detect"])
            row.update(country_a=d.get("country_a"), country_b=d.get("country_b"),
                       mode=d.get("mode"),
                       start="closed" if start.nodes[n].get("status") == "closed" else "open",
                       start_status=start.nodes[n].get("status"),
                       reopen=reopen.get(n, "open"), p_detect=p,
                       p_detect_upgraded=level.get(n, p),
                       upgrade_cost=float(d["upgrade_cost"]), upgradable=n in level)
            h, usd, imputed = legit.get(n, (0.0, 0.0, False))
            row.update(legit_h=h, legit_usd=usd, legit_imputed=imputed)
        else:
            row.update(country=d.get("country"), role=d.get("role"))
        rows.append(row)
    return rows


def _edge_rows(G_open: nx.DiGraph, G_up: nx.DiGraph, index: dict[Any, int],
               upgradable: Any) -> list[list[Any]]:
    """``[u, v, corridor id, mode, [cost, cost units, risk], upgraded weights or None]``.

    Upgraded weights are given for the edges entering a post in ``upgradable`` (the only
    posts the page upgrades) where they differ.
    """
    edges = sorted(G_open.edges)
    cost = np.array([G_open.edges[e]["cost"] for e in edges], dtype=float)
    cost_up = np.array([G_up.edges[e]["cost"] for e in edges], dtype=float)
    q, q_up = quantize(cost).tolist(), quantize(cost_up).tolist()
    rows = []
    for i, (u, v) in enumerate(edges):
        d, du = G_open.edges[u, v], G_up.edges[u, v]
        w = [float(d["cost"]), int(q[i]), float(d["risk"])]
        w_up = [float(du["cost"]), int(q_up[i]), float(du["risk"])]
        rows.append([index[u], index[v], str(d.get("corridor_id")), str(d.get("mode")), w,
                     w_up if w_up != w and v in upgradable else None])
    return rows


def _basemap(countries: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """Return the land, as on every offline map, as GeoJSON.

    The shipped basemap (the whole visible extent), then each country of the data it lacks;
    nothing without the data's countries.
    """
    feats = []
    if countries is not None:
        world = basemap_world()
        have = set(world["iso3"].astype(str))
        shown = [(r.iso3, r.geometry, 0.0) for r in world.itertuples(index=False)] + [
            (r.iso3, r.geometry, BASEMAP_TOLERANCE_DEG)
            for r in countries.sort_values("iso3").itertuples(index=False)
            if str(r.iso3) not in have]
        for iso3, geometry, tolerance in shown:
            geom = shape_geometry(geometry, tolerance_deg=tolerance)
            if geom is not None:
                feats.append({"type": "Feature", "properties": {"n": str(iso3)},
                              "geometry": geom})
    return {"type": "FeatureCollection", "features": feats}


def _labels(countries: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """Return the place names of every offline map: countries, and capitals from zoom 5."""
    if countries is None:
        return {"countries": [], "capitals": [], "credit": ""}
    world = basemap_world()
    return {"countries": country_labels(countries, world=world),
            "capitals": capital_labels(basemap_capitals(), world=world),
            "credit": CAPITALS_CREDIT}


def _overlay(sc: Scenario) -> dict[str, Any]:
    return {"name": sc.name, "description": sc.description, "as_of": sc.as_of,
            "sources": list(sc.sources),
            "crossings": {k: dict(v) for k, v in sorted(sc.crossings.items())},
            "classes": {k: dict(v) for k, v in sorted(sc.classes.items())},
            "places": {k: dict(v) for k, v in sorted(sc.places.items())}}


def whatif_data(ds: Dataset, cm: CostModel, scenario: Scenario | None = None, *,
                as_of: date | str | None = None, title: str | None = None) -> dict[str, Any]:
    """Return the network and parameters the what-if page computes on, as JSON-ready data.

    Parameters
    ----------
    ds : Dataset
        Validated data (:func:`routes.geodata.load_dataset`).
    cm : CostModel
        Gives ``k`` (``k_routes``), the logit ``theta`` and every edge weight.
    scenario : Scenario, optional
        The starting scenario (default: the baseline).
    as_of : date or "YYYY-MM-DD", optional
        The date whose statuses, supply and demand the network holds, as
        :func:`routes.network.network_from_data` takes it (default: the date ``ds`` was
        resolved for, else the scenario's ``as_of``, else the last date the data covers). A
        date given here or when the data was loaded is written into the downloaded scenario
        (as is the starting scenario's own), so the CLI reads back the same network.
    title : str, optional
        The page's title (default from the scenario).

    Returns
    -------
    dict
        ``meta`` (title, provenance), ``params`` (``k``, ``theta``, ``scale``), ``nodes``
        (sorted by id, the order the engine numbers them; crossings with their starting
        state, reopening status, ``p_detect``, ``p_detect_upgraded`` (the level an upgrade
        gives; ``p_detect`` where the post is not ``upgradable``), ``upgrade_cost``,
        ``legit_h``, ``legit_usd`` and ``legit_imputed``: the hours and USD a day its
        ``physical`` upgrade adds for legitimate traffic, as ``routes tradeoff``),
        ``edges`` (sorted by ``(u, v)``: node indices, corridor id, mode, the weights
        ``[cost, cost in fixed-point units, risk]`` and, for an edge entering an upgradable
        post, its weights with the post upgraded), ``pairs``
        (``[origin, market, flow, onward]`` sorted by id; ``onward`` 1 for the onward leg of
        a journey through a hub, which the corridor shares leave out), ``scenario`` (the
        starting overlay, written back into the download) and
        ``basemap`` (country outlines, GeoJSON: the offline maps' basemap) and ``labels``
        (``countries`` and ``capitals``, ``[lat, lon, name, min zoom]`` each, and the
        capitals' ``credit``).
    """
    sc = scenario or BASELINE
    # A date asked for (here or when the data was loaded) travels with the download; without
    # one the download carries none either, like the shipped what-if scenarios, and is read
    # back as of the same default date as the baseline it is compared with.
    dated = as_of is not None or ds.as_of is not None
    if as_of is not None or ds.as_of is None:
        # Resolve the date once: the reopening statuses and every build below use it.
        ds = dataset_as_of(ds, as_of if as_of is not None else (sc.as_of or None))
    start = network_from_data(ds, cm, sc)
    reopen = _reopen_status(ds)
    closed = {n: {"status": reopen.get(n, "open")} for n, d in start.nodes(data=True)
              if d.get("kind") == "crossing" and d.get("status") == "closed"}
    G_open = _variant(ds, cm, sc, closed)
    # Every post upgraded as the downloaded file says it (``upgraded = true``, which replaces
    # a p_detect the starting scenario gives the post): a post is upgradable when that
    # raises its detection. A crossing's state changes only the edges entering it, so this
    # one build holds the upgraded weights of every post.
    G_up = _variant(ds, cm, sc, {n: {**closed.get(n, {}), "upgraded": True}
                                 for n, d in G_open.nodes(data=True)
                                 if d.get("kind") == "crossing"})
    level = {n: float(G_up.nodes[n]["p_detect"]) for n, d in G_open.nodes(data=True)
             if d.get("kind") == "crossing" and G_up.nodes[n]["p_detect"] > d["p_detect"]}
    nodes = _node_rows(G_open, start, reopen, level, _legit(ds, cm))
    index = {r["id"]: i for i, r in enumerate(nodes)}
    pairs = [[index[o], index[m], float(f), int(start.nodes[o].get("role") != "origin")]
             for (o, m), f in sorted(od_demand(start).items())]
    g = start.graph
    return {
        "meta": {"title": title or f"routes what-if: {sc.name}", "scenario": sc.name,
                 "as_of": str(g.get("as_of", "")),
                 "data_hash": str(g.get("data_hash", ""))[:12],
                 "cost_model": str(g.get("cost_model", "")), "routes_version": __version__,
                 "cost_model_file": Path(cm.path).name if cm.path else "",
                 "cost_model_sha256": str(cm.source_hash)},
        "params": {"k": int(cm.k_routes), "theta": float(cm.logit_theta), "scale": SCALE,
                   "weight": "cost"},
        "nodes": nodes,
        "edges": _edge_rows(G_open, G_up, index, level),
        "pairs": pairs,
        "scenario": {**_overlay(sc),
                     "as_of": sc.as_of or (str(g.get("as_of", "")) if dated else "")},
        "basemap": _basemap(ds.countries),
        "labels": _labels(ds.countries),
    }


def _static(name: str) -> str:
    return (resources.files("routes") / "static" / name).read_text(encoding="utf-8")


def whatif_html(data: dict[str, Any]) -> str:
    """Return the self-contained page of :func:`whatif_data`'s ``data``.

    Nothing in it loads from outside the file; every text from the data travels as JSON
    (with ``<``, ``>``, ``&`` escaped) and is put on the page as text, never as markup.

    Examples
    --------
    >>> data = {"meta": {"title": "<b>t</b>"}, "nodes": [], "edges": [], "pairs": []}
    >>> page = whatif_html(data)
    >>> "<b>t</b>" in page, external_references(page)
    (False, [])
    """
    title = html.escape(str(data.get("meta", {}).get("title", "routes what-if")))
    page = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        _style(leaflet_css()), _style(common_css()), _style(_static("whatif.css")),
        _script(leaflet_js()),
        "</head><body>",
        '<div id="whatif-map"></div><aside id="whatif-panel" aria-label="What-if results">'
        "</aside>",
        f'<script type="application/json" id="whatif-data">{js_json(data)}</script>',
        # the code every routes page shares (palette, place names, search), then the page's
        _script(common_js() + "\n" + _static("whatif.js")),
        "</body></html>", ""])
    refs = external_references(page)
    if refs:  # pragma: no cover - guarded by the tests
        raise AssertionError(f"the what-if page would load {refs}")
    return page


def write_whatif(ds: Dataset, cm: CostModel, path: str | Path,
                 scenario: Scenario | None = None, *, as_of: date | str | None = None,
                 title: str | None = None) -> Path:
    """Write the what-if page of the network to ``path`` atomically; return the path."""
    return atomic_write_text(path, whatif_html(whatif_data(ds, cm, scenario, as_of=as_of,
                                                           title=title)))
