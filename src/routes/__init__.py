"""routes: Afghan opiate transit routes to Europe as a weighted, sourced, analysable network.

The data flows one way: geodata -> network -> analyses -> maps / reports.
"""

from importlib.metadata import PackageNotFoundError, version

from ._errors import DataError, NoRouteError, Problem, RoutesError, ScenarioError
from .costs import CostModel, load_cost_model

try:
    __version__ = version("routes")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "RoutesError",
    "DataError",
    "ScenarioError",
    "NoRouteError",
    "Problem",
    "CostModel",
    "load_cost_model",
]
