"""Place names of the offline basemap: countries, and capitals as small labelled points.

Online, the tiles carry the place names; offline, the pages name the countries (Natural
Earth's label points and label zooms, from the shipped basemap) and their capitals (GeoNames,
from the shipped ``capitals.geojson``). Each label is ``[lat, lon, text, min zoom]``; the
page's script (``routes.labels``, ``routes.capitals`` in ``routes_map.js``) shows a label from
its zoom on and puts its text on the page escaped.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

__all__ = ["country_labels", "capital_labels", "CAPITAL_MIN_ZOOM", "CAPITALS_CREDIT"]

#: Capitals show from this zoom on: the route maps open at zoom 3-4, where the countries'
#: names are enough and 150 more labels would crowd the routes.
CAPITAL_MIN_ZOOM = 5.0
#: The credit the capitals' licence asks for (CC BY 4.0), shown in the map's attribution.
CAPITALS_CREDIT = "Capitals: GeoNames (CC BY 4.0)"


def country_labels(countries: gpd.GeoDataFrame, *, world: gpd.GeoDataFrame | None = None
                   ) -> list[list[Any]]:
    """Return ``[lat, lon, name, min zoom]`` of each country to label.

    The shipped basemap's label points (``world``) first, then a point inside the largest part
    of each other country.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> country_labels(gpd.GeoDataFrame({"iso3": ["AAA"], "name": ["Aland"]},
    ...                                 geometry=[box(0, 0, 2, 2)], crs="EPSG:4326"))
    [[1.0, 1.0, 'Aland', 0]]
    """
    out: list[list[Any]] = []
    have: set[str] = set()
    if world is not None:
        for w in world.itertuples(index=False):
            out.append([float(w.label_lat), float(w.label_lon), str(w.name),
                        float(w.min_zoom)])
            have.add(str(w.iso3))
    for r in countries.sort_values("iso3").itertuples(index=False):
        if str(r.iso3) in have:
            continue
        g = r.geometry
        if g is None or g.is_empty:
            continue
        if g.geom_type == "MultiPolygon":
            g = max(g.geoms, key=lambda part: part.area)
        pt = g.representative_point()
        out.append([round(pt.y, 3), round(pt.x, 3), str(getattr(r, "name", None) or r.iso3), 0])
    return out


def capital_labels(capitals: gpd.GeoDataFrame, *, world: gpd.GeoDataFrame | None = None
                   ) -> list[list[Any]]:
    """Return ``[lat, lon, name, min zoom]`` of each capital, sorted by country code.

    A capital shows from :data:`CAPITAL_MIN_ZOOM` on, and never before one zoom level after
    its country's name (``world``'s ``min_zoom``), so that a small country's capital does not
    sit on its country's label.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> caps = gpd.GeoDataFrame({"iso3": ["LUX", "AFG"], "name": ["Luxembourg", "Kabul"]},
    ...                         geometry=[Point(6.13, 49.61), Point(69.17, 34.53)])
    >>> world = gpd.GeoDataFrame({"iso3": ["AFG", "LUX"], "min_zoom": [3.0, 5.7]})
    >>> capital_labels(caps, world=world)
    [[34.53, 69.17, 'Kabul', 5.0], [49.61, 6.13, 'Luxembourg', 6.7]]
    """
    zoom: dict[str, float] = {}
    if world is not None:
        zoom = {str(i): float(z) for i, z in zip(world["iso3"], world["min_zoom"], strict=True)}
    out = []
    for r in capitals.sort_values(["iso3", "name"]).itertuples(index=False):
        z = max(CAPITAL_MIN_ZOOM, round(zoom.get(str(r.iso3), 0.0) + 1.0, 1))
        out.append([float(r.geometry.y), float(r.geometry.x), str(r.name), z])
    return out
