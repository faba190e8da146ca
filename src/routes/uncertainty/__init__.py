"""How stable the crossing ranks are under uncertain parameters (Monte Carlo).

- :mod:`.uncertainty`
"""

from .uncertainty import (
    CROSSING_PARAMETERS,
    DEFAULT_SEED,
    P_DETECT_MAX,
    PARAMETERS,
    UNCERTAINTY_COLUMNS,
    Multipliers,
    Ranges,
    RunsFailedError,
    Uncertainty,
    WeightModel,
    kendall_tau_b,
    load_ranges,
    ranges_from_cost_model,
    rank_crossings,
    rank_stability,
    run_rng,
    split_flow_betweenness,
)

__all__ = [
    "DEFAULT_SEED",
    "PARAMETERS",
    "CROSSING_PARAMETERS",
    "P_DETECT_MAX",
    "UNCERTAINTY_COLUMNS",
    "Ranges",
    "ranges_from_cost_model",
    "load_ranges",
    "Multipliers",
    "WeightModel",
    "run_rng",
    "kendall_tau_b",
    "rank_crossings",
    "Uncertainty",
    "RunsFailedError",
    "rank_stability",
    "split_flow_betweenness",
]
