"""The time-slider map: one page that steps through a timeline's dates.

The geometry is written once (node coordinates, the corridor segments used on any date, the
crossings); each date adds only numbers: the flow on each segment (both directions summed),
each crossing's flow betweenness and status code, the corridor shares, and the events since
the previous date. The page's own script (``routes/static/routes_timeline.js``) redraws the
flows, crossing sizes and statuses when the slider moves or the play button runs; a closed
crossing is drawn hollow with a dashed red outline on the dates it was closed. Offline, the
page is self-contained like every map (Leaflet inlined, basemap from the country polygons).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from importlib import resources
from typing import Any

import geopandas as gpd
import pandas as pd

from ..changes.timeline import Snapshot
from ..routing.paths import CORRIDORS
from ._assets import Raw, js_json
from ._build import RouteMap, _bounds, _new_map, _Script

__all__ = ["timeline_map", "timeline_data", "STATUS_CODES"]

#: Status -> code in the per-date arrays (the script's order).
STATUS_CODES = {"open": 0, "restricted": 1, "closed": 2}
#: Digits kept of coordinates (about 1 m) and of flows.
_COORD_DIGITS = 5
_FLOW_DIGITS = 3
#: Characters of an event's source shown on the page (its tooltip).
_SOURCE_CHARS = 300


@functools.cache
def _timeline_js() -> str:
    return (resources.files("routes") / "static" / "routes_timeline.js").read_text(
        encoding="utf-8")


_CSS = """
.routes-tl { background: rgba(255,255,255,0.95); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; width: 380px; }
.routes-tl-title { font-weight: bold; font-size: 13px; margin-bottom: 3px; }
.routes-tl-row { display: flex; align-items: center; gap: 6px; }
.routes-tl-slider { flex: 1; }
.routes-tl-date { font: bold 13px monospace; min-width: 6.5em; }
.routes-tl-play { width: 2.4em; cursor: pointer; }
.routes-tl-shares { color: #333; margin-top: 3px; }
.routes-tl-events-title { margin-top: 4px; font-weight: bold; }
.routes-tl-events { margin: 2px 0 0; padding-left: 1.2em; max-height: 22vh; overflow-y: auto; }
.routes-tl-when { color: #666; font-family: monospace; }
.routes-tl-key { margin-top: 4px; color: #444; }
"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}"
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)


def _short(text: str, width: int = _SOURCE_CHARS) -> str:
    """Cut a long source for the page (events.csv keeps it whole)."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def _event_rows(events: pd.DataFrame | None, when: str) -> list[list[str]]:
    if events is None or not len(events):
        return []
    rows = []
    for r in events[events["date"] == when].to_dict("records"):
        change = "" if r["kind"] == "status" else f"{r['change']:+,.1f}"
        note = r["note"] if isinstance(r["note"], str) and r["note"] else change
        rows.append([str(r["kind"]), str(r["name"]), _fmt(r["from"]), _fmt(r["to"]),
                     str(r["effective"]), str(note), _short(str(r["source"]))])
    return rows


def timeline_data(snapshots: Sequence[Snapshot], events: pd.DataFrame | None = None, *,
                  title: str = "") -> dict[str, Any]:
    """Return the page's data: shared geometry once, then per date only values."""
    segs: set[tuple[str, str]] = set()
    for s in snapshots:
        segs |= {(u, v) if u < v else (v, u) for u, v in s.G.edges()}
    segments = sorted(segs)
    G = snapshots[-1].G
    crossings = sorted(n for n, d in G.nodes(data=True) if d.get("kind") == "crossing")
    used = sorted({n for uv in segments for n in uv} | set(crossings))
    index = {n: i for i, n in enumerate(used)}
    nodes = {"lat": [round(float(G.nodes[n]["lat"]), _COORD_DIGITS) for n in used],
             "lon": [round(float(G.nodes[n]["lon"]), _COORD_DIGITS) for n in used]}
    values = []
    for s in snapshots:
        e = s.flows.edges
        flow: dict[tuple[str, str], float] = {}
        for u, v, f in zip(e["u"], e["v"], e["flow"]):
            k = (u, v) if u < v else (v, u)
            flow[k] = flow.get(k, 0.0) + float(f)
        fb = s.crossings["flow_betweenness"]
        values.append({
            "f": [round(flow.get(k, 0.0), _FLOW_DIGITS) for k in segments],
            "x": [round(float(fb.get(c, 0.0)), _FLOW_DIGITS) for c in crossings],
            "s": [STATUS_CODES.get(str(s.G.nodes[c].get("status")), 0) for c in crossings],
            "c": [round(float(s.flows.corridors["share"].get(c, 0.0)), 4) for c in CORRIDORS],
            "e": _event_rows(events, s.date.isoformat()),
        })
    places = sorted(n for n, d in G.nodes(data=True)
                    if d.get("kind") == "place" and d.get("role") in ("origin", "market"))
    size = [{p: float(s.G.nodes[p].get("supply" if G.nodes[p]["role"] == "origin" else "demand",
                                       0.0) or 0.0) if p in s.G else 0.0 for p in places}
            for s in snapshots]
    for s_vals, v in zip(size, values, strict=True):
        v["p"] = [round(s_vals[p], _FLOW_DIGITS) for p in places]
    return {
        "title": title,
        "cost_model": str(G.graph.get("cost_model", "")),
        "places": [{"n": str(G.nodes[p].get("name", p)), "role": str(G.nodes[p]["role"]),
                    "lat": round(float(G.nodes[p]["lat"]), _COORD_DIGITS),
                    "lon": round(float(G.nodes[p]["lon"]), _COORD_DIGITS)} for p in places],
        "dates": [s.date.isoformat() for s in snapshots],
        "corridors": list(CORRIDORS),
        "nodes": nodes,
        "segments": [[index[u], index[v]] for u, v in segments],
        "crossings": [{"id": c, "n": str(G.nodes[c].get("name", c)), "i": index[c],
                       "a": str(G.nodes[c].get("country_a", "")),
                       "b": str(G.nodes[c].get("country_b", ""))} for c in crossings],
        "values": values,
    }


def _key_html(title: str) -> str:
    """Return the drawn legend (escaped), in the palette of every routes page."""
    from ._legend import _circle, _line, _row, _section
    from ._palette import PALETTE

    st, roles = PALETTE["status"], PALETTE["roles"]
    out = [f"<details open><summary><h4>Legend: {html.escape(title)}</h4></summary>",
           _section("Border crossings (size: flow on the best routes)")]
    for name in ("open", "restricted", "closed"):
        out.append(_row(_circle(st[name]["fillColor"], st[name]["color"],
                                width=st[name]["weight"], dash=st[name].get("dashArray", ""),
                                fill_opacity=st[name].get("fillOpacity", 0.9)), name))
    out += [_section("Places"),
            _row(_circle(roles["origin"], "#fff"), "origin (size: supply on the date)"),
            _row(_circle(roles["market"], "#fff"), "market (size: demand on the date)"),
            _section("Corridors"),
            _row(_line(PALETTE["flow"], width=1.5) + _line(PALETTE["flow"], width=8),
                 "width: flow over the k best routes"),
            _row(_line(PALETTE["idle"], width=1), "unused on the date"),
            '<div class="routes-legend-meta routes-tl-scale-note"></div>',
            "</details>"]
    return "".join(out)


def timeline_map(snapshots: Sequence[Snapshot], events: pd.DataFrame | None = None, *,
                 countries: gpd.GeoDataFrame | None = None, offline: bool = False,
                 title: str | None = None, tiles: str | None = "OpenStreetMap") -> RouteMap:
    """Draw a map with a date slider and a play button over a timeline's snapshots.

    Parameters
    ----------
    snapshots : sequence of Snapshot
        From :func:`routes.changes.timeline.timeline_snapshots`, in date order.
    events : DataFrame, optional
        From :func:`routes.changes.timeline.timeline_events`; each date lists its own.
    countries : GeoDataFrame, optional
        Country polygons (the offline basemap).
    offline : bool
        One self-contained file that requests nothing outside itself.
    title : str, optional
        Shown above the slider and as the page title.
    tiles : str, optional
        Online tile provider.

    Returns
    -------
    RouteMap
        Write it with :func:`routes.maps.write_map`.
    """
    if not snapshots:
        from .._errors import RoutesError
        raise RoutesError("a timeline map needs at least one date")
    G = snapshots[-1].G
    title = title or f"routes through time: {G.graph.get('scenario', 'network')}"
    data = timeline_data(snapshots, events, title=title)
    m = _new_map(offline=offline, tiles=None if offline else tiles, n_features=0,
                 prefer_canvas=False, countries=countries)
    m.get_root().title = html.escape(title)  # type: ignore[attr-defined]
    m.get_root().header.add_child(Raw(f"<style>{_CSS}</style>"),  # type: ignore[attr-defined]
                                  name="routes_timeline_css")
    code = _timeline_js()
    m.add_child(_Script(lambda name: (
        f"{code}\nroutes.fullscreen().addTo({name}); "
        f"routes.legend({{html: {js_json(_key_html(title))}}}).addTo({name});\n"
        f"routes.timeline({name}, {js_json(data)});")))
    nodes = pd.DataFrame({"lat": data["nodes"]["lat"], "lon": data["nodes"]["lon"]})
    bounds = _bounds(nodes, countries)
    if bounds:
        # After the slider and the legend exist: fit the network beside them.
        m.add_child(_Script(lambda name: f"routes.fitClear({name}, {js_json(bounds)});"))
    return m
