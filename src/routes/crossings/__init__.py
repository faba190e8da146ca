"""Which crossings matter: route-restricted centrality and chokepoints.

- :mod:`.centrality`
- :mod:`.chokepoints`
"""

from .centrality import (
    CROSSING_COLUMNS,
    closeness_from_distances,
    country_table,
    crossing_table,
    current_flow_betweenness,
    edge_centrality,
    node_centrality,
)
from .chokepoints import (
    VITAL_COLUMNS,
    articulation_points,
    bridges,
    chokepoint_table,
    min_edge_cut,
    min_node_cut,
    om_subgraph,
    vital_crossings,
)

__all__ = [
    "node_centrality",
    "edge_centrality",
    "crossing_table",
    "country_table",
    "closeness_from_distances",
    "current_flow_betweenness",
    "CROSSING_COLUMNS",
    "om_subgraph",
    "articulation_points",
    "bridges",
    "min_node_cut",
    "min_edge_cut",
    "vital_crossings",
    "chokepoint_table",
    "VITAL_COLUMNS",
]
