"""How two scenarios, or two priority criteria, differ.

- :mod:`.compare`
"""

from .compare import (
    CRITERIA,
    PRIORITY_COLUMNS,
    ScenarioComparison,
    compare_scenarios,
    priority_table,
    rank_correlations,
)

__all__ = [
    "PRIORITY_COLUMNS",
    "CRITERIA",
    "priority_table",
    "rank_correlations",
    "ScenarioComparison",
    "compare_scenarios",
]
