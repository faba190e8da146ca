"""Run the analyses a report shows and hold their tables in one small structure.

Each analysis is a *stage*: a name and a function of the results gathered so far. A stage
appears only when its analysis exists in this version of routes (the optional modules
``routes.priorities.interdiction`` and ``routes.uncertainty.uncertainty``), so a report always
builds from what is installed, and every figure in it comes from a real analysis function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import networkx as nx
import pandas as pd

from ..costs import CostModel
from ..crossings.centrality import country_table, crossing_table, node_centrality
from ..crossings.chokepoints import chokepoint_table, min_node_cut
from ..geodata import Dataset
from ..network import markets, od_demand, origins
from ..routing.flows import assign_flows
from ..scenario import BASELINE, Scenario
from ._methods import parameter_table
from ._model import DEFAULT_SEED, Progress, ReportOptions, ReportResults, optional_module
from ._optional import optional_stages
from ._provenance import inputs_table, scenario_changes

__all__ = ["ReportOptions", "ReportResults", "collect_results", "analysis_stages",
           "DEFAULT_SEED", "optional_module"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- stages
def _summary(res: ReportResults) -> None:
    G = res.G
    kinds = [d.get("kind") for _, d in G.nodes(data=True)]
    status = [d.get("status") for _, d in G.nodes(data=True) if d.get("kind") == "crossing"]
    o, m = origins(G), markets(G)
    countries = {d.get("country") for _, d in G.nodes(data=True) if d.get("kind") == "place"}
    countries |= {d.get(k) for _, d in G.nodes(data=True) if d.get("kind") == "crossing"
                  for k in ("country_a", "country_b")}
    corridors = {d.get("corridor_id") for *_, d in G.edges(data=True)}
    rows = [
        ("places", kinds.count("place")),
        ("crossings", kinds.count("crossing")),
        ("crossings_open", status.count("open")),
        ("crossings_restricted", status.count("restricted")),
        ("crossings_closed", status.count("closed")),
        ("countries", len(countries - {None})),
        ("corridors", len(corridors - {None})),
        ("directed_edges", G.number_of_edges()),
        ("origins", len(o)),
        ("markets", len(m)),
        ("total_supply", float(sum(o.values()))),
        ("od_pairs", len(od_demand(G))),
    ]
    res.tables["summary"] = pd.DataFrame(rows, columns=["measure", "value"]).set_index("measure")


def _centrality(res: ReportResults) -> None:
    o = res.options
    nodes = node_centrality(res.G, weight=o.weight, engine=o.engine)
    res.extra["node_centrality"] = nodes
    res.tables["crossings"] = crossing_table(res.G, weight=o.weight, engine=o.engine,
                                             nodes=nodes)
    res.tables["countries"] = country_table(res.G, weight=o.weight, engine=o.engine)


def _flows(res: ReportResults) -> None:
    o = res.options
    fa = assign_flows(res.G, res.cm, weight=o.weight, engine=o.engine)
    res.flows = fa
    res.tables["corridors"] = fa.corridors
    res.tables["country_flows"] = fa.countries
    res.tables["routes"] = fa.routes


def _chokepoints(res: ReportResults) -> None:
    o = res.options
    res.tables["chokepoints"] = chokepoint_table(res.G, res.cm, weight=o.weight,
                                                 engine=o.engine)
    res.extra["min_cut"] = min_node_cut(res.G)


def _methods(res: ReportResults) -> None:
    if res.cm.path:
        res.tables["parameters"] = parameter_table(res.cm.path)
    res.tables["inputs"] = inputs_table(res)
    res.tables["scenario_changes"] = scenario_changes(res)


#: The stages every report runs, in order: (name, function).
CORE_STAGES: tuple[tuple[str, Callable[[ReportResults], None]], ...] = (
    ("summary", _summary),
    ("methods", _methods),
    ("centrality", _centrality),
    ("flows", _flows),
    ("chokepoints", _chokepoints),
)


def analysis_stages(options: ReportOptions) -> list[tuple[str, Callable[[ReportResults], None]]]:
    """Return the analysis stages a report runs with ``options`` in this version of routes."""
    return [*CORE_STAGES, *optional_stages(options)]


def collect_results(G: nx.DiGraph, cm: CostModel, *, scenario: Scenario | None = None,
                    dataset: Dataset | None = None, options: ReportOptions | None = None,
                    progress: Progress | None = None,
                    detail: Progress | None = None) -> ReportResults:
    """Run every available analysis of a report on the network ``G``.

    Parameters
    ----------
    G : networkx.DiGraph
        The network (:func:`routes.network.network_from_data`), built with ``cm`` and
        ``scenario``.
    cm : CostModel
        The cost model the network was built with.
    scenario : Scenario, optional
        The scenario the network was built with (default: the baseline).
    dataset : Dataset, optional
        The inputs (for their file hashes and the country polygons of the map).
    options : ReportOptions, optional
        What to compute (defaults: :class:`ReportOptions`).
    progress : callable, optional
        Called with each stage's name when it is done.
    detail : callable, optional
        Told what a long stage is doing (each budget of the interdiction curve as it is
        solved).

    Returns
    -------
    ReportResults
    """
    res = ReportResults(G=G, cm=cm, scenario=scenario or BASELINE,
                        options=options or ReportOptions(), dataset=dataset,
                        detail=detail)
    for name, stage in analysis_stages(res.options):
        stage(res)
        log.info("report stage %s done", name)
        if progress is not None:
            progress(name)
    return res
