"""Border-post priorities: which posts to upgrade, within a budget, when traffickers re-route.

The model
---------
Upgrading crossing ``v`` raises its detection probability from ``p_detect`` to
``p_detect_upgraded`` at the price ``upgrade_cost`` (defaults by crossing class in
``data/geo/cost_model.toml``, overridable per crossing row). Its risk term grows by

``delta_v = (-ln(1 - p_detect_upgraded) + ln(1 - p_detect)) * f_v``

on every edge entering ``v``, where ``f_v`` is the restricted-status factor
(``crossing_risk / -ln(1 - p_detect)``; the cost model's ``restricted_risk_factor`` when
``p_detect`` is 0). The evader (a consignment) takes a least-**risk** route: risk is additive and
``exp(-risk)`` is the probability of passing undetected. The planner chooses binary upgrades
``x`` with ``sum cost_v x_v <= budget``. Two objectives:

``"single"``
    Maximise the least risk ``d(x)`` from any origin to any market (a super-source over the
    origins, a super-sink over the markets): the best evasion probability ``exp(-d(x))`` is
    minimised. Shortest-path network interdiction of Israeli and Wood [1]_, solved exactly as
    their MILP: the inner shortest path is replaced by its LP dual in node potentials ``pi``,

    ``max pi_t  s.t.  pi_v - pi_u - delta_v x_v <= risk_uv  (every arc u -> v; no x term when
    v is not a post),  pi_origin = 0,  sum cost_v x_v <= budget,  x binary``,

    with ``pi_t <= pi_m`` for every market. The potentials are bounded,
    ``0 <= pi_v <= d_all(v)`` (the least risk to ``v`` with every post upgraded), which cuts
    off no solution (``pi_v <= d_x(v) <= d_all(v)`` for every feasible ``x``) and keeps the
    MILP bounded. Only nodes on some origin-to-market route enter the model.

``"flow"``
    Maximise the expected share of the flow that is detected,
    ``sum_(o,m) flow(o,m) * (1 - exp(-d_om(x))) / routed flow``, every origin-market pair
    taking its least-risk route (pairs without any route are not trafficked and left out).
    Each origin ``o`` gets its own dual potentials ``pi^o`` (as above) and each pair a variable
    ``z_om <= 1 - exp(-pi^o_m)``. The concave ``1 - exp(-d)`` is replaced by the minimum of
    its tangents, an outer approximation (Kelley's cutting planes [2]_): the MILP's optimum
    is an upper bound; its ``x`` is evaluated exactly by Dijkstra (a lower bound); tangents
    at the evaluated distances are added and the MILP re-solved until the bounds meet
    (``rel_tol``). Since ``x`` ranges over a finite set and a re-chosen ``x`` has its tangents
    already, this ends with the exact optimum of the nonlinear objective (up to ``rel_tol``
    and HiGHS's tolerances); ``optimal`` says whether it did within ``max_rounds``.

Both MILPs come in two formulations (:mod:`routes.priorities._milp`): ``"tight"``, the default,
bounds every potential by what an affordable ``x`` can reach (post-disjoint routes priced by a
knapsack), leaves out the nodes and arcs that no least-risk route can then use, tightens the
arc coefficients, and hands HiGHS (through ``highspy``) an incumbent; ``"plain"`` is the model
above as published, kept for comparison. Both prove the same optimum. :func:`budget_curve`
starts each budget from its greedy solution and solves up to :data:`CURVE_WORKERS` budgets at
once (threads); the table does not depend on the order or the number of workers.

Every value this module reports is re-evaluated exactly by Dijkstra for the chosen posts; the
MILP only chooses. After an exact solve, posts whose removal does not lower the value are
dropped (in id order), so the chosen set is minimal. A post with ``upgrade_cost`` 0 is free:
it is upgraded at every budget when it helps.

Greedy (:func:`interdict_greedy`) repeatedly upgrades the affordable post with the largest
gain per unit cost (ties by id), re-computing the least-risk routes after each step, and
stops when no affordable post raises the objective. It is fast for large budgets and networks
but may miss the optimum (re-routing makes the gains of posts interact); :func:`budget_curve`
reports its gap to the exact solution.

References
----------
.. [1] E. Israeli and R. K. Wood, "Shortest-path network interdiction", Networks 40(2),
   97-111, 2002.
.. [2] J. E. Kelley, "The cutting-plane method for solving convex programs", Journal of the
   SIAM 8(4), 703-712, 1960.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import RoutesError
from ..costs import CostModel
from ._instance import (
    METHODS,
    OBJECTIVES,
    UPGRADE_COLUMNS,
    Interdiction,
    _check,
    _Instance,
    _result,
    _toy,  # noqa: F401  (the doctests build their network with it)
    objective_flows,
    upgrade_table,
)
from ._milp import FORMULATIONS
from .brute_force import interdict_brute_force
from .curves import (
    MAX_CURVE_BUDGETS,
    MAX_STEP_BUDGETS,
    budget_curve,
    budget_curve_solutions,
    curve_budgets,
    total_upgrade_cost,
    whole_budgets,
)
from .exact import interdict_exact
from .greedy import interdict_greedy

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
]

log = logging.getLogger(__name__)


def evaluate_upgrades(G: nx.DiGraph, posts: Iterable[Any], *, objective: str = "single",
                      cm: CostModel | None = None,
                      flows: Mapping[tuple[Any, Any], float] | None = None) -> Interdiction:
    """Evaluate upgrading ``posts`` exactly (Dijkstra), without any budget.

    Examples
    --------
    >>> G = _toy()
    >>> r = evaluate_upgrades(G, ["xa"])
    >>> round(r.base_value, 4), round(r.value, 4), r.route
    (0.2, 0.3, ['o', 'xb', 'm'])
    """
    inst = _Instance(G, cm, objective_flows(G, flows, objective))
    x = inst.x_of(posts)
    return _result(inst, objective, "given", float(inst.cost[x > 0.5].sum()), x,
                   bound=math.nan, optimal=False)


def interdict(G: nx.DiGraph, budget: float, *, method: str = "exact",
              objective: str = "single", cm: CostModel | None = None,
              flows: Mapping[tuple[Any, Any], float] | None = None,
              time_limit: float = 60.0, formulation: str = "tight",
              progress: Callable[[str], None] | None = None) -> Interdiction:
    """Choose posts with ``method`` ``"exact"`` (:func:`interdict_exact`) or ``"greedy"``."""
    if method == "exact":
        return interdict_exact(G, budget, objective=objective, cm=cm, flows=flows,
                               time_limit=time_limit, formulation=formulation,
                               progress=progress)
    if method == "greedy":
        return interdict_greedy(G, budget, objective=objective, cm=cm, flows=flows)
    raise RoutesError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def post_values(G: nx.DiGraph, *, objective: str = "single", cm: CostModel | None = None,
                flows: Mapping[tuple[Any, Any], float] | None = None) -> pd.DataFrame:
    """Return the interdiction value of each post upgraded alone, with re-routing.

    Indexed by post id: ``upgrade_cost``, ``delta_risk``, ``gain`` (objective with only this
    post upgraded minus without), ``gain_per_cost`` and ``value_rank`` (1 = largest gain, ties
    by id). Posts whose upgrade adds no risk are left out.

    Examples
    --------
    >>> post_values(_toy())["gain"].round(4).to_dict()
    {'xa': 0.1, 'xb': 0.0}
    """
    _check(objective, 0.0)
    inst = _Instance(G, cm, objective_flows(G, flows, objective))
    base = inst.value(objective, inst.x0())[0]
    gains = [inst.value(objective, inst.x_of([p]))[0] - base for p in inst.posts]
    df = inst.upgrades[["upgrade_cost", "delta_risk"]].copy()
    df["gain"] = gains
    # A free post's gain per cost is inf.
    df["gain_per_cost"] = [g / c if c > 0 else math.inf
                           for g, c in zip(gains, df["upgrade_cost"])]
    df = df.reset_index().sort_values(["gain", "id"], ascending=[False, True])
    df["value_rank"] = np.arange(1, len(df) + 1)
    return df.set_index("id")


def post_effectiveness(G: nx.DiGraph, result: Interdiction, *, cm: CostModel | None = None,
                       flows: Mapping[tuple[Any, Any], float] | None = None) -> pd.DataFrame:
    """Cost-effectiveness of each post of a solution.

    Indexed by post id (sorted): ``name``, ``upgrade_cost``, ``delta_risk``, ``gain_alone``
    (this post upgraded alone), ``contribution`` (the solution's value minus its value
    without this post: what the post adds given the others, with re-routing),
    ``contribution_per_cost``.
    """
    inst = _Instance(G, cm, objective_flows(G, flows, result.objective))
    full = inst.x_of(result.posts)
    base = inst.value(result.objective, inst.x0())[0]
    rows = []
    for p in sorted(result.posts):
        without = full.copy()
        without[inst.post_index[p]] = 0.0
        c = float(inst.cost[inst.post_index[p]])
        contrib = result.value - inst.value(result.objective, without)[0]
        rows.append({"id": p, "name": G.nodes[p].get("name"), "upgrade_cost": c,
                     "delta_risk": float(inst.delta[inst.post_index[p]]),
                     "gain_alone": inst.value(result.objective, inst.x_of([p]))[0] - base,
                     "contribution": contrib,
                     "contribution_per_cost": contrib / c if c > 0 else math.inf})
    return pd.DataFrame(rows, columns=["id", "name", "upgrade_cost", "delta_risk", "gain_alone",
                                       "contribution", "contribution_per_cost"]).set_index("id")
