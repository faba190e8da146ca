"""Route maps: the network and its analyses as a folium map, online or self-contained."""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import networkx as nx
import pandas as pd
from branca.element import Element, Figure

from .._errors import RoutesError
from ..io import atomic_write_text
from ._assets import (
    Assets,
    Raw,
    basemap_capitals,
    basemap_world,
    external_references,
    js_json,
    localise,
)
from ._labels import CAPITALS_CREDIT, capital_labels, country_labels
from ._layers import DataLayer, LayerData
from ._legend import legend_html
from ._translate import (
    MapAnalyses,
    basemap_layer,
    corridors_layer,
    countries_layer,
    crossings_layer,
    places_layers,
    routes_layer,
)

__all__ = ["RouteMap", "route_map", "compare_map", "map_html", "write_map", "map_generator",
           "LAYER_NAMES"]

log = logging.getLogger(__name__)

#: Layer key -> name in the layer control, bottom to top.
LAYER_NAMES: dict[str, str] = {
    "countries": "Countries (transit share)",
    "corridors": "Corridors (assigned flow)",
    "routes": "k best routes",
    "crossings": "Border crossings",
    "places": "Staging, transit and ports",
    "markets": "Markets",
    "origins": "Origins",
}
#: Above this many features the map draws on a canvas instead of SVG elements.
CANVAS_FEATURES = 5000
DEFAULT_TILES = "OpenStreetMap"


class RouteMap(folium.Map):
    """A folium Map that rewrites its page's resources for online or offline use on render.

    Offline (``offline=True``) the page loads nothing from outside itself: see
    :func:`routes.maps._assets.localise`.
    """

    def __init__(self, *, offline: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.offline = offline
        self.add_child(Assets(offline=offline), name="routes_assets")

    def render(self, **kwargs: Any) -> Any:
        localise(self.get_root(), offline=self.offline)
        return super().render(**kwargs)


class _Script(Element):
    """Raw JavaScript run after the map is created: ``code(map_variable_name)``."""

    def __init__(self, code: Callable[[str], str]):
        super().__init__()
        self._name = "RoutesScript"
        self.code = code

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        assert isinstance(figure, Figure) and self._parent is not None
        figure.script.add_child(Raw(self.code(self._parent.get_name())), name=self.get_name())
        return ""


# --------------------------------------------------------------------------- building
def _bounds(nodes: pd.DataFrame, countries: gpd.GeoDataFrame | None
            ) -> list[list[float]] | None:
    if len(nodes):
        lat, lon = nodes["lat"].astype(float), nodes["lon"].astype(float)
    elif countries is not None and len(countries):
        x0, y0, x1, y1 = countries.total_bounds
        return [[float(y0), float(x0)], [float(y1), float(x1)]]
    else:
        return None
    pad_lat = max(0.5, 0.05 * float(lat.max() - lat.min()))
    pad_lon = max(0.5, 0.05 * float(lon.max() - lon.min()))
    return [[float(lat.min()) - pad_lat, float(lon.min()) - pad_lon],
            [float(lat.max()) + pad_lat, float(lon.max()) + pad_lon]]


def _frames(G: nx.DiGraph) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes (indexed by id) and edges (``u``, ``v``) as frames, without shapely geometry.

    The columns of :func:`routes.network.network_to_gdfs`; the lines are drawn straight from
    the node coordinates, which is 5x faster on 100,000 edges than building LineStrings.
    """
    nrows = [{"id": n, **d} for n, d in G.nodes(data=True)]
    nodes = (pd.DataFrame.from_records(nrows) if nrows else pd.DataFrame(
        columns=["id", "kind", "name", "lat", "lon"])).set_index("id")
    erows = [{"u": u, "v": v, **d} for u, v, d in G.edges(data=True)]
    edges = pd.DataFrame.from_records(erows) if erows else pd.DataFrame(columns=["u", "v"])
    return nodes, edges


def _layers(G: nx.DiGraph, countries: gpd.GeoDataFrame | None, an: MapAnalyses
            ) -> tuple[dict[str, LayerData], pd.DataFrame]:
    nodes, edges = _frames(G)
    out: dict[str, LayerData] = {}
    if countries is not None:
        if len(nodes):
            seen = set(nodes.get("country", [])) | set(nodes.get("country_a", [])) | set(
                nodes.get("country_b", []))
            if an.countries is not None:
                seen |= set(an.countries.index)
            shown = countries[countries["iso3"].isin(seen)]
        else:
            shown = countries
        out["countries"] = countries_layer(shown, an.countries)
    out["corridors"] = corridors_layer(edges, nodes, an.edges)
    if an.routes is not None and len(an.routes):
        out["routes"] = routes_layer(an.routes, nodes)
    if len(nodes):
        out["crossings"] = crossings_layer(nodes, an.crossings)
        out.update(places_layers(nodes))
    model = G.graph.get("cost_model")
    if model:  # every popup says which cost model its figures come from
        for layer in out.values():
            layer.note = f"cost model {model}"
    return out, nodes


def _add_layers(m: folium.Map, layers: dict[str, LayerData]) -> None:
    for key, name in LAYER_NAMES.items():
        if key in layers:
            DataLayer(layers[key], name=name).add_to(m)


def _provenance(G: nx.DiGraph) -> str:
    g = G.graph
    parts = [f"scenario {g['scenario']}" if g.get("scenario") else "",
             f"data {str(g['data_hash'])[:12]}" if g.get("data_hash") else "",
             f"cost model {g['cost_model']}" if g.get("cost_model") else "",
             f"routes {g['routes_version']}" if g.get("routes_version") else ""]
    return " \u00b7 ".join(p for p in parts if p)


def _attribution(countries: gpd.GeoDataFrame | None) -> str:
    if countries is None or "source" not in countries:
        return ""
    srcs = sorted({str(s) for s in countries["source"].dropna()})
    return "Countries: " + "; ".join(srcs) if srcs else ""


def _new_map(*, offline: bool, tiles: str | None, n_features: int, prefer_canvas: bool | None,
             countries: gpd.GeoDataFrame | None, **kwargs: Any) -> RouteMap:
    canvas = n_features > CANVAS_FEATURES if prefer_canvas is None else prefer_canvas
    m = RouteMap(offline=offline, tiles=None, control_scale=True, prefer_canvas=canvas,
                 zoom_snap=0.25, **kwargs)
    if offline:
        if countries is not None:
            world = basemap_world()
            DataLayer(basemap_layer(countries, world=world),
                      name="Basemap: country outlines (offline)", overlay=False).add_to(m)
            # Tiles carry the place names online; offline, the countries and their capitals
            # are named here (the capitals from a closer zoom: see routes.maps._labels).
            names = country_labels(countries, world=world)
            caps = capital_labels(basemap_capitals(), world=world)
            m.add_child(_Script(lambda name: (
                f"routes.capitals({name}, {js_json(caps)}); "
                f"routes.labels({name}, {js_json(names)}); "
                f"{name}.attributionControl.addAttribution("
                f"routes.esc({js_json(CAPITALS_CREDIT)}));")))
        m.add_child(_Script(lambda name: (
            f"L.DomUtil.addClass({name}.getContainer(), 'routes-offline-basemap');")))
    elif tiles:
        folium.TileLayer(tiles, name=f"Basemap: {tiles}").add_to(m)
    attribution = _attribution(countries)
    if attribution:
        m.add_child(_Script(lambda name: (
            f"{name}.attributionControl.addAttribution(routes.esc({js_json(attribution)}));")))
    return m


def _add_controls(m: folium.Map, *, legend: str, collapsed: bool) -> None:
    m.add_child(_Script(lambda name: (
        f"routes.search().addTo({name}); routes.fullscreen().addTo({name}); "
        f"routes.legend({{html: {js_json(legend)}}}).addTo({name});")))
    folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)


def _populate(m: folium.Map, layers: dict[str, LayerData], *, legend: str,
              bounds: list[list[float]] | None, collapsed: bool = False) -> None:
    _add_layers(m, layers)
    _add_controls(m, legend=legend, collapsed=collapsed)
    if bounds:
        # Once the legend is on the map, fit the data in the part it leaves free (without an
        # animation: a first animated fit would end after this one and undo it).
        m.add_child(_Script(lambda name: f"routes.fitClear({name}, {js_json(bounds)});"))


def route_map(
    G: nx.DiGraph,
    *,
    countries: gpd.GeoDataFrame | None = None,
    analyses: MapAnalyses | Mapping[str, Any] | None = None,
    offline: bool = False,
    title: str | None = None,
    tiles: str | None = DEFAULT_TILES,
    prefer_canvas: bool | None = None,
) -> RouteMap:
    """Draw the route network and what its analyses found on an interactive map.

    Layers (each in the layer control): countries shaded by transit share, corridors as wide
    as their assigned flow, the k best routes, border crossings (size: flow betweenness;
    colour: priority rank; outline: status), origins, markets and the other places. Each
    feature has a popup with its figures; the map has a legend, a scale bar, search by name
    and a fullscreen button. All text from the data is escaped.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (:func:`routes.network.network_from_data`).
    countries : GeoDataFrame, optional
        Country polygons with ``iso3`` (and ``name``, ``source``); needed for the
        countries layer and for the offline basemap.
    analyses : MapAnalyses or mapping, optional
        Results to draw (see :class:`MapAnalyses`); without them the map shows the network.
    offline : bool
        One self-contained file: Leaflet and the controls inlined, the basemap drawn from
        ``countries`` instead of tiles; the page requests nothing outside itself.
    title : str, optional
        Shown in the legend and as the page title (default from the scenario).
    tiles : str, optional
        Online tile provider (an xyzservices name), drawn with its attribution.
    prefer_canvas : bool, optional
        Draw on a canvas; by default when the map has more than 5,000 features.

    Returns
    -------
    RouteMap
        A folium Map; write it with :func:`write_map`.

    Examples
    --------
    >>> G = nx.DiGraph(scenario="toy")
    >>> G.add_node("p_a", kind="place", name="A <town>", country="AAA", lat=0.0, lon=0.0,
    ...            role="origin", supply=5.0, demand=0.0, source="s")
    >>> G.add_node("p_b", kind="place", name="B", country="AAA", lat=0.0, lon=1.0,
    ...            role="market", supply=0.0, demand=2.0, source="s")
    >>> G.add_edge("p_a", "p_b", corridor_id="c1", mode="road")
    >>> G.add_edge("p_b", "p_a", corridor_id="c1", mode="road")
    >>> m = route_map(G, offline=True)
    >>> page = map_html(m)
    >>> "A <town>" in page, external_references(page)
    (False, [])
    """
    an = MapAnalyses.coerce(analyses)
    if offline and countries is None:
        log.info("offline map without countries: no basemap")
    layers, nodes = _layers(G, countries, an)
    n_features = sum(len(v) for v in layers.values())
    title = title or f"routes: {G.graph.get('scenario', G.graph.get('name', 'network'))}"
    m = _new_map(offline=offline, tiles=tiles, n_features=n_features,
                 prefer_canvas=prefer_canvas, countries=countries)
    m.get_root().title = html.escape(title)  # type: ignore[attr-defined]
    legend = legend_html(title, _provenance(G), layers, an, offline=offline)
    _populate(m, layers, legend=legend, bounds=_bounds(nodes, countries))
    log.info("map %s: %s", title, ", ".join(f"{k} {len(v)}" for k, v in layers.items()))
    return m


def compare_map(
    G_a: nx.DiGraph,
    G_b: nx.DiGraph,
    *,
    countries: gpd.GeoDataFrame | None = None,
    analyses: Sequence[MapAnalyses | Mapping[str, Any] | None] = (None, None),
    offline: bool = False,
    titles: Sequence[str] | None = None,
    tiles: str | None = DEFAULT_TILES,
    prefer_canvas: bool | None = None,
) -> Figure:
    """Two networks (e.g. two scenarios) side by side, their views kept in step.

    Each half is a full :func:`route_map` (layers, legend, search, fullscreen); panning or
    zooming one moves the other. Returns the page (a branca Figure); write it with
    :func:`write_map`.

    Examples
    --------
    >>> G = nx.DiGraph(scenario="toy")
    >>> G.add_node("p_a", kind="place", name="A", country="AAA", lat=0.0, lon=0.0,
    ...            role="origin", supply=5.0, demand=0.0, source="s")
    >>> fig = compare_map(G, G, offline=True, titles=["left", "right"])
    >>> external_references(map_html(fig))
    []
    """
    if len(analyses) != 2:
        raise RoutesError("compare_map needs two analyses entries (one per side)")
    titles = list(titles) if titles else [
        f"routes: {g.graph.get('scenario', 'network')}" for g in (G_a, G_b)]
    if len(titles) != 2:
        raise RoutesError("compare_map needs two titles")
    figure = Figure(title=html.escape(f"{titles[0]} | {titles[1]}"))
    built = []
    for G, an_in, title in zip((G_a, G_b), analyses, titles, strict=True):
        an = MapAnalyses.coerce(an_in)
        layers, nodes = _layers(G, countries, an)
        built.append((G, an, title, layers, nodes))
    all_nodes = [b[4] for b in built]
    bounds = _bounds(pd.concat(all_nodes) if any(len(n) for n in all_nodes)
                     else all_nodes[0], countries)
    maps = []
    for i, (G, an, title, layers, _) in enumerate(built):
        n_features = sum(len(v) for v in layers.values())
        m = _new_map(offline=offline, tiles=tiles, n_features=n_features,
                     prefer_canvas=prefer_canvas, countries=countries,
                     width="50%", height="100%", left=f"{50 * i}%", top="0%",
                     position="absolute")
        figure.add_child(m)
        # Both legends start collapsed: open, they would cover the region that differs.
        legend = legend_html(title, _provenance(G), layers, an, offline=offline, open=False)
        _populate(m, layers, legend=legend, bounds=bounds, collapsed=True)
        maps.append(m)
    maps[1].add_child(_Script(
        lambda _: f"routes.sync([{', '.join(m.get_name() for m in maps)}]);"))
    figure.header.add_child(Raw(
        "<style>html,body{width:100%;height:100%;margin:0;padding:0;}"
        ".folium-map{border-left:2px solid #444;box-sizing:border-box;}</style>"),
        name="routes_compare_css")
    return figure


# --------------------------------------------------------------------------- output
def _offline_maps(root: Element) -> bool:
    stack, found = [root], False
    while stack:
        el = stack.pop()
        if isinstance(el, RouteMap) and el.offline:
            found = True
        stack.extend(el._children.values())
    return found


def _stable_ids(root: Element) -> None:
    """Give the page's elements ids in tree order, so a map always renders the same bytes.

    branca draws random ids; these depend only on the element's place in the page. Done once
    per page, before its first render (a render adds elements, which would shift the
    numbering of a second pass).
    """
    if getattr(root, "_routes_stable_ids", False):
        return
    root._routes_stable_ids = True  # type: ignore[attr-defined]
    stack, i = [root], 0
    while stack:
        el = stack.pop(0)
        el._id = hashlib.sha256(f"routes-{i}".encode()).hexdigest()[:32]
        i += 1
        stack.extend(el._children.values())


def map_html(m: Element) -> str:
    """Render a map (or a side-by-side figure) as one HTML page.

    Raises
    ------
    RoutesError
        If an offline map's page would still load something from outside itself.
    """
    root = m.get_root()
    _stable_ids(root)
    text = root.render()
    if _offline_maps(root):
        refs = external_references(text)
        if refs:
            raise RoutesError(f"offline map would load {len(refs)} outside resource(s): "
                              f"{', '.join(refs[:5])}")
    return text


def write_map(m: Element, path: str | Path, *, generator: str | None = None) -> Path:
    """Write a map's page to ``path`` atomically (UTF-8); return the path.

    ``generator`` (e.g. ``"routes map"``) is recorded in the page's
    ``<meta name="generator">``, so that a command can tell its own files from another's
    (:func:`map_generator`).
    """
    text = map_html(m)
    if generator is not None:
        meta = f'<meta name="generator" content="{html.escape(generator)}" />'
        text = text.replace("<head>", f"<head>\n    {meta}", 1)
    return atomic_write_text(path, text)


_GENERATOR = re.compile(r'<meta name="generator" content="([^"]*)" />')


def map_generator(path: str | Path) -> str | None:
    """Return the ``generator`` a map page was written with, or ``None`` (none, or no page).

    Examples
    --------
    >>> import folium, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.html"
    >>> _ = write_map(folium.Map(tiles=None), p, generator="routes map")
    >>> map_generator(p)
    'routes map'
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return None
    found = _GENERATOR.search(head)
    return html.unescape(found.group(1)) if found else None
