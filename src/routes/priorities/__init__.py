"""Which border posts to upgrade within a budget (interdiction with re-routing).

- :mod:`.interdiction`
"""

from .interdiction import (
    FORMULATIONS,
    METHODS,
    OBJECTIVES,
    UPGRADE_COLUMNS,
    Interdiction,
    budget_curve,
    budget_curve_solutions,
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
    "whole_budgets",
    "total_upgrade_cost",
    "post_values",
    "post_effectiveness",
]
