"""routes: Afghan opiate transit routes to Europe as a weighted, sourced, analysable network.

The data flows one way: geodata -> network -> analyses -> maps / reports.

The public names below are imported on first use (PEP 562), so that ``import routes`` and
``routes --version`` do not load pandas and geopandas.

>>> import routes
>>> sorted(routes.__all__)[:3]
['BASELINE', 'CostModel', 'DataError']
>>> routes.load_cost_model.__module__
'routes.costs'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import DataError, NoRouteError, Problem, RoutesError, ScenarioError
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover - for type checkers; loaded lazily at run time
    from .changes.timeline import timeline, timeline_events
    from .costs import CostModel, load_cost_model
    from .geodata import Dataset, load_dataset, validate_dataset
    from .network import network_from_data, network_from_gdfs, network_to_gdfs, od_demand
    from .scenario import BASELINE, Scenario, apply_scenario, load_scenario

__all__ = [
    "__version__",
    "RoutesError",
    "DataError",
    "ScenarioError",
    "NoRouteError",
    "Problem",
    "CostModel",
    "load_cost_model",
    "Dataset",
    "load_dataset",
    "validate_dataset",
    "Scenario",
    "BASELINE",
    "load_scenario",
    "apply_scenario",
    "network_from_data",
    "network_to_gdfs",
    "network_from_gdfs",
    "od_demand",
    "timeline",
    "timeline_events",
]

#: Where each lazily imported public name lives.
_LAZY = {
    "CostModel": "costs", "load_cost_model": "costs",
    "Dataset": "geodata", "load_dataset": "geodata", "validate_dataset": "geodata",
    "Scenario": "scenario", "BASELINE": "scenario", "load_scenario": "scenario",
    "apply_scenario": "scenario",
    "network_from_data": "network", "network_to_gdfs": "network",
    "network_from_gdfs": "network", "od_demand": "network",
    "timeline": "changes.timeline", "timeline_events": "changes.timeline",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'routes' has no attribute {name!r}")
    module = importlib.import_module(f".{mod}", __name__)
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
