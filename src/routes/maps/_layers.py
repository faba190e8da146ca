"""GeoDataFrames -> GeoJSON data layers, styled from their columns.

Each layer is one ``L.geoJSON`` (one object for the whole layer, not one per feature: 50,000
lines stay usable). A feature carries only its name ``n``, the index ``s`` of its style in the
layer's style table, and its popup values ``v``; the layer carries the field labels. The page
builds popups from those values and escapes them (``routes_map.js``), so no markup made from the
data is ever written into the file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from branca.element import Figure
from folium.map import Layer

from ._assets import Raw, clean_value, js_json

__all__ = ["LayerData", "DataLayer", "StyleTable", "point_geometry", "line_geometry",
           "shape_geometry"]


class StyleTable:
    """Distinct Leaflet path styles of a layer; features refer to them by index."""

    def __init__(self) -> None:
        self.styles: list[dict[str, Any]] = []
        self._index: dict[tuple[tuple[str, Any], ...], int] = {}

    def __call__(self, style: dict[str, Any]) -> int:
        key = tuple(sorted(style.items()))
        if key not in self._index:
            self._index[key] = len(self.styles)
            self.styles.append(style)
        return self._index[key]


@dataclass
class LayerData:
    """A layer's features, ready for :class:`DataLayer`.

    ``fields`` label the popup values; every feature holds ``(geometry, name, style index,
    values)``.
    """

    key: str
    title: str
    geom: str  # "point", "line" or "polygon"
    fields: Sequence[str]
    styles: StyleTable = field(default_factory=StyleTable)
    features: list[dict[str, Any]] = field(default_factory=list)
    searchable: bool = False
    popups: bool = True
    #: Per field: "pct" shows a fraction as a percent, "pct100" a number already in percent.
    formats: Sequence[str] = ()
    #: The Leaflet pane drawn into, when not the overlays' (``routes.PANES`` in routes_map.js).
    pane: str = ""
    #: Per field: a line that explains it in words ("" for none), shown under its row.
    helps: Sequence[str] = ()
    #: The popup shows this many fields first, the rest behind a "more" toggle (0: all).
    first: int = 0
    #: A line under the popup's title (e.g. the cost model the figures come from).
    note: str = ""

    def add(self, geometry: dict[str, Any], name: Any, style: dict[str, Any],
            values: Sequence[Any]) -> None:
        props: dict[str, Any] = {"n": clean_value(name), "s": self.styles(style)}
        if self.popups:
            props["v"] = [clean_value(v) for v in values]
        self.features.append({"type": "Feature", "geometry": geometry, "properties": props})

    def __len__(self) -> int:
        return len(self.features)


def _r(x: float) -> float:
    return round(float(x), 5)


def point_geometry(lon: float, lat: float) -> dict[str, Any]:
    """GeoJSON Point, coordinates to 5 decimals (about 1 m)."""
    return {"type": "Point", "coordinates": [_r(lon), _r(lat)]}


def line_geometry(coords: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """GeoJSON LineString from ``(lon, lat)`` pairs."""
    return {"type": "LineString", "coordinates": [[_r(x), _r(y)] for x, y in coords]}


def shape_geometry(geom: Any, *, tolerance_deg: float = 0.0) -> dict[str, Any] | None:
    """GeoJSON of a shapely geometry, simplified by ``tolerance_deg`` and rounded to 1e-3 deg."""
    if geom is None or geom.is_empty:
        return None
    if tolerance_deg > 0:
        geom = geom.simplify(tolerance_deg, preserve_topology=True)
    geom = shapely.set_precision(geom, 1e-3)
    if geom.is_empty:
        return None
    return shapely.geometry.mapping(geom)  # type: ignore[no-any-return]


class DataLayer(Layer):
    """A folium layer drawing a :class:`LayerData` through ``routes.dataLayer`` (one L.geoJSON).

    It takes part in the LayerControl like any folium layer. Its script is written raw, not
    through a Jinja template, so text in the data can never be read as template code.
    """

    def __init__(self, data: LayerData, *, name: str, overlay: bool = True,
                 control: bool = True, show: bool = True):
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self._name = "RoutesDataLayer"
        self.data = data

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        assert isinstance(figure, Figure)
        d = self.data
        cfg = {"key": d.key, "title": d.title, "geom": d.geom, "fields": list(d.fields),
               "formats": list(d.formats) or [""] * len(d.fields),
               "styles": d.styles.styles, "searchable": d.searchable, "popups": d.popups}
        if d.pane:
            cfg["pane"] = d.pane
        if any(d.helps):
            cfg["helps"] = list(d.helps)
        if d.first:
            cfg["first"] = d.first
        if d.note:
            cfg["note"] = d.note
        fc = {"type": "FeatureCollection", "features": d.features}
        assert self._parent is not None
        js = (f"var {self.get_name()} = routes.dataLayer({self._parent.get_name()}, "
              f"{js_json(cfg)}, {js_json(fc)});")
        figure.script.add_child(Raw(js), name=self.get_name())
        return super().render(**kwargs)


def sqrt_scale(value: float, vmax: float, lo: float, hi: float) -> float:
    """``lo + (hi - lo) * sqrt(value / vmax)``, rounded to 0.5 (area grows with value).

    Examples
    --------
    >>> sqrt_scale(25.0, 100.0, 2.0, 12.0)
    7.0
    >>> sqrt_scale(0.0, 0.0, 2.0, 12.0)
    2.0
    """
    if not vmax or vmax <= 0 or value is None or math.isnan(value) or value <= 0:
        return lo
    return round(2 * (lo + (hi - lo) * math.sqrt(min(value / vmax, 1.0)))) / 2
