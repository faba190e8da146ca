"""Which border posts to upgrade within a budget (interdiction with re-routing).

- :mod:`.interdiction`
- :mod:`.legit`: what strengthening a post costs legitimate traffic (delay, money)
- :mod:`.tradeoff`: the Pareto front of detection against that cost
"""

from .interdiction import (
    FORMULATIONS,
    MAX_CURVE_BUDGETS,
    MAX_STEP_BUDGETS,
    METHODS,
    OBJECTIVES,
    UPGRADE_COLUMNS,
    Interdiction,
    budget_curve,
    budget_curve_solutions,
    curve_budgets,
    evaluate_upgrades,
    interdict,
    interdict_brute_force,
    interdict_exact,
    interdict_greedy,
    post_effectiveness,
    post_values,
    total_upgrade_cost,
    upgrade_table,
    whole_budgets,
)
from .legit import legit_params, post_delays, post_traffic
from .tradeoff import front_table, knee_point, pareto_front, pareto_fronts

__all__ = [
    "FORMULATIONS",
    "OBJECTIVES",
    "METHODS",
    "UPGRADE_COLUMNS",
    "Interdiction",
    "upgrade_table",
    "evaluate_upgrades",
    "interdict",
    "interdict_exact",
    "interdict_greedy",
    "interdict_brute_force",
    "budget_curve",
    "budget_curve_solutions",
    "MAX_CURVE_BUDGETS",
    "MAX_STEP_BUDGETS",
    "curve_budgets",
    "whole_budgets",
    "total_upgrade_cost",
    "post_values",
    "post_effectiveness",
    "legit_params",
    "post_traffic",
    "post_delays",
    "pareto_front",
    "pareto_fronts",
    "front_table",
    "knee_point",
]
