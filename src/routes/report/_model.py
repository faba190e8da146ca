"""What a report computes and holds: its options and its results (no analysis here).

The bottom of the report's modules: every other module of :mod:`routes.report` may import this
one and it imports none of them, so the report's modules stand in one direction (checked by
``tests/test_layers.py``): ``_results`` runs the stages of ``_optional`` and the tables of
``_provenance``, which only need the structures defined here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd

from ..costs import CostModel
from ..geodata import Dataset
from ..routing.flows import FlowAssignment
from ..scenario import Scenario
from ..uncertainty.uncertainty import DEFAULT_SEED

__all__ = ["ReportOptions", "ReportResults", "Progress", "optional_module", "DEFAULT_SEED",
           "analysis_module_name"]

#: Callback told the name of each stage when it is done (the CLI moves a progress bar).
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReportOptions:
    """What a report computes; every option is recorded in its provenance.

    Attributes
    ----------
    weight : str
        Edge weight that defines the best routes (``cost``, ``risk``, ``time_h``,
        ``length_km``).
    engine : str, optional
        Path engine (``igraph`` or ``networkx``; default :data:`routes.settings.ENGINE`).
    seed : int
        Seed of every random draw (the Monte-Carlo runs).
    runs : int
        Monte-Carlo runs of the rank-stability analysis (0 leaves it out).
    budget : float
        Largest budget of the interdiction budget curve (budgets 0, 1, ..., budget).
    objective : str
        Interdiction objective: ``"single"`` (least route risk) or ``"flow"`` (expected
        detected share of the flow; slower).
    top : int
        Rows of each table shown in the HTML and Markdown (the CSV files hold every row).
    map : bool
        Write the offline map and embed it.
    timeline : bool
        Add "How the routes changed" (the network on each year's mid-year date) when the
        data has dated files.
    step : float, optional
        Budgets of the curve ``0, step, 2 step, ...`` below ``budget``, then ``budget``
        (:func:`routes.priorities.curves.curve_budgets`); ``None`` (the default) for every
        whole budget, or evenly spaced ones when there would be too many.
    tradeoff_budget : float, optional
        Budget of the "Security and legitimate trade" section's Pareto front: ``None`` (the
        default) for the report's ``budget``, the one its priorities use; 0 leaves the
        section out. See :attr:`tradeoff_at`.
    """

    weight: str = "cost"
    engine: str | None = None
    seed: int = DEFAULT_SEED
    runs: int = 200
    budget: float = 10.0
    objective: str = "flow"
    top: int = 15
    map: bool = True
    timeline: bool = True
    tradeoff_budget: float | None = None
    step: float | None = None

    @property
    def tradeoff_at(self) -> float:
        """Return the budget of the trade-off section's front (0: no section)."""
        return float(self.budget if self.tradeoff_budget is None else self.tradeoff_budget)

    def as_dict(self) -> dict[str, Any]:
        """Return the options as a plain dict (for provenance)."""
        return {"weight": self.weight, "engine": self.engine, "seed": self.seed,
                "runs": self.runs, "budget": self.budget, "objective": self.objective,
                "top": self.top, "map": self.map, "timeline": self.timeline,
                # recorded only when the section is asked for (by default, at the budget)
                **({"tradeoff_budget": self.tradeoff_at} if self.tradeoff_at else {}),
                # recorded only when given (the default curve is every whole budget)
                **({"step": self.step} if self.step is not None else {})}


@dataclass
class ReportResults:
    """Everything a report shows: the network, its inputs and the analysis tables.

    ``tables`` maps a table name (its CSV file stem) to the frame exactly as the analysis
    function returned it; the writers only format. ``flows`` is the logit flow assignment
    (routes, edge flows), ``extra`` holds results that are not tables (e.g. the minimum cut).
    """

    G: nx.DiGraph
    cm: CostModel
    scenario: Scenario
    options: ReportOptions
    dataset: Dataset | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    flows: FlowAssignment | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Told what a long stage is doing (e.g. each budget of the curve as it is solved).
    detail: Progress | None = field(default=None, repr=False, compare=False)

    @property
    def routes(self) -> gpd.GeoDataFrame | None:
        """The k best routes of every pair with their logit flows, if assigned."""
        return self.flows.routes if self.flows is not None else None

    def has(self, name: str) -> bool:
        """Whether the table ``name`` was computed."""
        return name in self.tables


#: Where each analysis module lives (one package per question, see the README's "Layout").
ANALYSIS_PACKAGES = {
    "paths": "routing", "flows": "routing", "centrality": "crossings",
    "chokepoints": "crossings", "interdiction": "priorities", "compare": "comparison",
    "uncertainty": "uncertainty", "timeline": "changes", "calibrate": "calibration",
    "observe": "calibration", "tradeoff": "priorities", "legit": "priorities",
}


def analysis_module_name(name: str) -> str:
    """Return the full name of the analysis module ``name`` (``"flows"``: routing.flows)."""
    return f"routes.{ANALYSIS_PACKAGES.get(name, 'analysis')}.{name}"


def optional_module(name: str) -> ModuleType | None:
    """Import the analysis module ``name`` if this version of routes has it, else ``None``."""
    try:
        return importlib.import_module(analysis_module_name(name))
    except ImportError:
        return None
