"""Which routes the opiates take and where the flow goes.

- :mod:`.paths`
- :mod:`.flows`
"""

from .flows import (
    METHODS,
    FlowAssignment,
    assign_flows,
    corridor_shares,
    country_transit,
    crossing_flows,
    exit_shares,
    logit_shares,
)
from .paths import (
    CORRIDORS,
    check_weight,
    corridor_of_route,
    k_best_routes,
    k_best_routes_gdf,
    route_countries,
    routes_frame,
    shortest_routes,
)

__all__ = [
    "FlowAssignment",
    "METHODS",
    "logit_shares",
    "assign_flows",
    "corridor_shares",
    "country_transit",
    "exit_shares",
    "crossing_flows",
    "CORRIDORS",
    "route_countries",
    "corridor_of_route",
    "routes_frame",
    "k_best_routes",
    "k_best_routes_gdf",
    "shortest_routes",
    "check_weight",
]
