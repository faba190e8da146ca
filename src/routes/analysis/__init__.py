"""Analyses of the route network, one module per question.

- :mod:`.centrality`: route-restricted, flow-weighted centrality of nodes, edges, crossings,
  countries (with plain betweenness, closeness and current-flow betweenness for comparison).
- :mod:`.paths`: the k best routes of each origin-market pair, labelled by corridor.
- :mod:`.flows`: all-or-nothing and logit flow assignment; corridor and country shares.
- :mod:`.chokepoints`: articulation points, bridges, minimum cuts, vital crossings.
"""

from .centrality import (
    closeness_from_distances,
    country_table,
    crossing_table,
    current_flow_betweenness,
    edge_centrality,
    node_centrality,
)
from .chokepoints import (
    articulation_points,
    bridges,
    chokepoint_table,
    min_edge_cut,
    min_node_cut,
    om_subgraph,
    vital_crossings,
)
from .flows import (
    FlowAssignment,
    assign_flows,
    corridor_shares,
    country_transit,
    crossing_flows,
    logit_shares,
)
from .paths import (
    CORRIDORS,
    corridor_of_route,
    k_best_routes,
    k_best_routes_gdf,
    route_countries,
    routes_frame,
    shortest_routes,
)

__all__ = [
    "CORRIDORS",
    "FlowAssignment",
    "articulation_points",
    "assign_flows",
    "bridges",
    "chokepoint_table",
    "closeness_from_distances",
    "corridor_of_route",
    "corridor_shares",
    "country_table",
    "country_transit",
    "crossing_flows",
    "crossing_table",
    "current_flow_betweenness",
    "edge_centrality",
    "k_best_routes",
    "k_best_routes_gdf",
    "logit_shares",
    "min_edge_cut",
    "min_node_cut",
    "node_centrality",
    "om_subgraph",
    "route_countries",
    "routes_frame",
    "shortest_routes",
    "vital_crossings",
]
