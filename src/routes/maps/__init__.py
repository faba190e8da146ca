"""Interactive route maps (folium): online with tiles, or one self-contained offline file.

The maps are a thin, data-driven translation of the network's GeoDataFrames
(:func:`routes.network.network_to_gdfs`) and of optional analysis tables into GeoJSON layers,
in the manner of geopandas' ``explore``. The controls (search, fullscreen, legend, synchronised
views) are the project's own small script, ``routes/static/routes_map.js``, so the same page
works online and, with Leaflet inlined from ``django-js-lib-leaflet``, offline.
The what-if page (:func:`write_whatif`) is a map of its own: planners close, reopen or
upgrade crossings and see the flow re-route, computed in the page (``routes/static/whatif.js``).
"""

from ._assets import external_references
from ._build import (
    LAYER_NAMES,
    RouteMap,
    compare_map,
    map_generator,
    map_html,
    route_map,
    write_map,
)
from ._timeline import timeline_data, timeline_map
from ._translate import MapAnalyses
from ._whatif import whatif_data, whatif_html, write_whatif

__all__ = [
    "route_map",
    "compare_map",
    "timeline_map",
    "timeline_data",
    "write_map",
    "map_generator",
    "map_html",
    "external_references",
    "MapAnalyses",
    "RouteMap",
    "LAYER_NAMES",
    "whatif_data",
    "whatif_html",
    "write_whatif",
]
