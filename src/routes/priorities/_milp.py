"""The exact interdiction MILPs behind :func:`routes.priorities.interdiction.interdict_exact`.

Both are the dual MILP of Israeli and Wood [1]_ (module notes of
:mod:`routes.priorities.interdiction`): the inner least-risk route is replaced by its LP dual
in node potentials ``pi`` (one block of potentials per origin for ``"flow"``, one block over
every origin for ``"single"``), and for ``"flow"`` the concave ``1 - exp(-d)`` by tangents
added in rounds (Kelley's cutting planes). They differ in how tight the model is:

``"plain"``
    As published: every arc of the origin-to-market subgraph, ``0 <= pi_v <= d_all(v)``, the
    full increase ``delta_v`` on every arc into a post; tangents at ``x = 0`` and ``x = 1``
    to start with. Kept to measure the other against (``make bench``).

``"tight"`` (the default)
    The same optimum from a much smaller and tighter model, every step a valid inequality:

    1. *Budget bounds.* For every origin-market pair ``U_om`` bounds its least risk under
       any affordable ``x``: the risk of a fixed route (the least-risk route without
       upgrades, and the one with every upgrade) plus the most its posts can add within the
       budget (a 0-1 knapsack, solved exactly by enumeration up to 12 posts and bounded by
       its LP relaxation beyond), and never more than ``d_all``.
    2. *Potential window.* ``C_v = max_m (U_om - r0(v, m))``, with ``r0(v, m)`` the least
       risk from ``v`` to market ``m`` without upgrades, is a feasible potential for every
       ``x`` (reverse distances are, and the maximum of two feasible potentials is one), so
       ``min(d_x, C)`` is an optimal dual solution: ``d0(v) <= pi_v <= min(C_v, d_all(v))``
       cuts off no optimum (``d0``: least risk without upgrades; ``d_all`` here on the kept
       subgraph). For ``"single"``, ``U`` is the least ``U_om``.
    3. *Pruning.* A node or arc that no route within the bounds can use
       (``d0(u) + risk_uv > C_v``) is left out: no least-risk route to a market under an
       affordable ``x`` uses it.
    4. *Coefficient tightening.* On arc ``u -> v`` the potentials differ by at most
       ``C_v - d0(u)``, so the constraint is dropped when ``risk_uv`` already allows that,
       and the increase becomes ``min(delta_v, C_v - d0(u) - risk_uv)``: same integer
       points, a much smaller LP relaxation.
    5. *Shared blocks.* An origin whose one arc out enters another origin (not a post)
       reaches every node at that origin's least risk plus the arc's risk, whatever ``x``:
       its pairs read that origin's potentials, shifted, instead of a block of their own
       (on the shipped network Jalalabad leads only to Kabul: five blocks instead of six).
    6. *Tangents* at both ends of each pair's window and at the distances of the incumbent
       (the greedy solution, or a budget curve's previous optimum when it is better). Only
       those: the tangents of earlier budgets are not carried over, since the rows they add
       cost the LP more than the rounds they save (measured on the shipped curve).
    7. *Stopping at an over-valued solution.* The model over-values a solution whose
       distances have no tangents yet. HiGHS shows each improving solution to a callback,
       which evaluates it exactly (Dijkstra): when the model over-values it, the tangents at
       its distances are added and the round stops there and starts again, rather than first
       proving the optimum of a model about to change (on the 1,170-node benchmark instance
       this took the exact solve from 62 s to 39 s).

    HiGHS runs on one thread (:data:`HIGHS_COMMON`), with pseudo-cost branching from the
    start and without the sub-MIP heuristics (:data:`HIGHS_OPTIONS`).

    A round ends when the bound meets the value within ``rel_tol``, or when the model's
    solution has every tangent already: then another round would return the same, and what
    is left of the gap is HiGHS's feasibility tolerance (:data:`SOLVER_SLACK`).

References
----------
.. [1] E. Israeli and R. K. Wood, "Shortest-path network interdiction", Networks 40(2),
   97-111, 2002.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from ._instance import _Instance as Instance
from ._milp_plain import PlainMilp
from ._milp_solve import Watch
from ._milp_tight import TightMilp

__all__ = ["FORMULATIONS", "Outcome", "PlainMilp", "TightMilp", "solve_exact"]

log = logging.getLogger("routes.priorities.interdiction")

#: MILP formulations (module notes); the first is the default.
FORMULATIONS = ("tight", "plain")
#: How far the MILP's bound may lie above the value of its own solution when every tangent
#: of that solution is in the model: HiGHS lets each row be violated by its feasibility
#: tolerance (1e-6 by default), and the detected share is a weighted mean of the pairs' rows.
SOLVER_SLACK = 1e-6


class _Model(Protocol):
    def add_tangents(self, D: np.ndarray) -> int: ...

    def refine(self, x: np.ndarray) -> int: ...

    def solve(self, time_limit: float, rel_gap: float, start: np.ndarray | None = None,
              watch: Watch | None = None) -> tuple[np.ndarray | None, float, bool]: ...


@dataclass(frozen=True)
class Outcome:
    """What :func:`solve_exact` found: the best ``x``, its exact value and the bound."""

    x: np.ndarray
    value: float
    bound: float
    optimal: bool
    rounds: int


def _add_side(model: _Model, a: np.ndarray, e: float, budget: float) -> None:
    """Append the row ``a x <= e`` to the model's budget row(s)."""
    m: Any = model
    P = len(a)
    # equivalent mutant: no shape (the posts are the last columns: it is the one inferred)
    row = sp.csr_array((a, (np.full(P, 0), m.xcol0 + np.arange(P))),
                       shape=(1, m.ncol))  # equivalent mutant (see above)
    m.budget_row = sp.csr_array(sp.vstack([m.budget_row, row]))
    m.budget = np.array([budget, e])


# --------------------------------------------------------------------------- the loop
def solve_exact(inst: Instance, objective: str, budget: float, *,
                formulation: str = FORMULATIONS[0],
                time_limit: float = 60.0, rel_tol: float = 1e-7, max_rounds: int = 50,
                start: np.ndarray | None = None, points: dict[int, set[float]] | None = None,
                progress: Callable[[str], None] | None = None,
                side: tuple[np.ndarray, float] | None = None) -> Outcome:
    """Solve the MILP, adding tangents (``"flow"``) until the bounds meet.

    Each round's MILP relaxes the true problem (tangents over-estimate ``1 - exp(-d)``): its
    optimum bounds the true optimum from above, its ``x`` evaluated by Dijkstra from below.
    ``start`` (``"tight"`` only) is an affordable ``x`` to start from (the incumbent, with
    tangents at its distances); ``points`` the tangent points shared across calls.
    ``progress`` is told one line per round. ``side = (a, e)`` adds the constraint
    ``a x <= e`` over the posts (the epsilon constraint of :mod:`routes.priorities.tradeoff`);
    ``start`` must then satisfy it. Bounds computed from the budget alone stay valid, since
    the side constraint only removes solutions.

    The detected share (``"flow"``) is at most 1: its gaps are compared with ``rel_tol``
    itself (``rel_tol`` relative to ``max(1, value)``).
    """
    x0 = inst.x0()
    best_x, best = x0, inst.value(objective, x0)[0]

    def consider(x: np.ndarray) -> float:
        """Return the exact value of ``x`` (Dijkstra), keeping a copy if it is the best."""
        nonlocal best_x, best
        val = inst.value(objective, x)[0]
        if val > best:
            best_x, best = x.copy(), val
        return val

    model: _Model
    if formulation == "plain":
        model = PlainMilp(inst, objective, budget)
        if objective == "flow":
            model.add_tangents(inst.distances(x0))
            model.add_tangents(inst.distances(np.ones(len(inst.posts))))
    else:
        model = TightMilp(inst, objective, budget, points)
        if start is not None:
            consider(start)
            if objective == "flow":
                model.add_tangents(inst.distances(start))
    if side is not None:
        _add_side(model, np.asarray(side[0], dtype=float), float(side[1]), budget)
    rounds, optimal, bound = 0, False, math.inf
    seen: list[np.ndarray] = []   # solutions the model over-values, caught by the watch

    def watch(x: np.ndarray, value: float) -> bool:
        """Stop a round at a solution whose tangents are missing: the model over-values it.

        Its exact value is known at once (Dijkstra); proving the model's optimum first would
        be wasted, since the next round adds those tangents anyway.
        """
        if value - consider(x) > rel_tol and model.refine(x) > 0:
            seen.append(x)
            return True
        return False

    while rounds < max_rounds:
        rounds += 1
        seen.clear()
        x, ub, solved = model.solve(time_limit, rel_tol, best_x,
                                    watch if objective == "flow" and formulation == "tight"
                                    else None)
        if x is None:
            break
        consider(x)
        bound = min(bound, ub) if objective == "flow" else max(ub, best)
        if progress is not None:
            progress(f"round {rounds}: value {best:.6g}, bound {bound:.6g}"
                     + (" (stopped at an over-valued solution)" if seen else ""))
        if seen:      # its tangents are in the model now: solve again
            continue
        if not solved:
            break
        if objective == "single" or bound - best <= rel_tol:
            optimal = True
            break
        if model.refine(x) == 0:
            # x's tangents are in the model already, so another round would return the same:
            # what is left of the gap is HiGHS's own tolerance (a tangent row may be exceeded
            # by its feasibility tolerance), not the outer approximation.
            # A row violated by exactly the tolerance gives a gap of 1e-6 plus rounding
            # (seen: 1.0000000000287e-06, tests/test_milp.py): compared with a margin.
            optimal = bound - best <= SOLVER_SLACK * (1 + 1e-9)
            break
    return Outcome(best_x, best, bound, optimal, rounds)
