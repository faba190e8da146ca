"""routes: Afghan opiate transit routes to Europe as a weighted, sourced, analysable network.

The data flows one way: geodata -> network -> analyses -> maps / reports.

>>> import routes
>>> sorted(routes.__all__)[:3]
['BASELINE', 'CostModel', 'DataError']
"""

from ._errors import DataError, NoRouteError, Problem, RoutesError, ScenarioError
from ._version import __version__
from .analysis.timeline import timeline, timeline_events
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
