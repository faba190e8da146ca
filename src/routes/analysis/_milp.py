"""The exact interdiction MILPs behind :func:`routes.analysis.interdiction.interdict_exact`.

Both are the dual MILP of Israeli and Wood [1]_ (module notes of
:mod:`routes.analysis.interdiction`): the inner least-risk route is replaced by its LP dual
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

import itertools
import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csgraph

if TYPE_CHECKING:   # the instance lives in interdiction.py, which imports this module
    from .interdiction import _Instance as Instance

__all__ = ["FORMULATIONS", "Outcome", "PlainMilp", "TightMilp", "solve_exact"]

log = logging.getLogger("routes.analysis.interdiction")

#: MILP formulations (module notes); the first is the default.
FORMULATIONS = ("tight", "plain")
#: How far the MILP's bound may lie above the value of its own solution when every tangent
#: of that solution is in the model: HiGHS lets each row be violated by its feasibility
#: tolerance (1e-6 by default), and the detected share is a weighted mean of the pairs' rows.
SOLVER_SLACK = 1e-6
_BOUNDS_LOCK = threading.Lock()
#: Most posts on a route whose 0-1 knapsack is enumerated (beyond: its LP bound).
KNAPSACK_ENUMERATE = 12


#: HiGHS options of the "tight" model for the "flow" objective. The solver is handed an
#: incumbent (the previous budget's optimum or the greedy solution), so its sub-MIP
#: heuristics (RINS, RENS, root reduced cost) and restarts only cost time: on the shipped
#: network at budget 8 they took 13 of 18 s and found nothing better than the incumbent.
#: Branching on pseudo-costs from the first node (no strong branching) took the CPU time of
#: budgets 3, 4, 8, 9 and 10 from 5.8 to 4.2 s. (For "single", whose greedy incumbent is
#: often far off, HiGHS's defaults were faster.)
HIGHS_OPTIONS: dict[str, bool | float] = {
    "mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False, "mip_allow_restart": False,
    "mip_pscost_minreliable": 0}
#: HiGHS options of every "tight" solve. One thread: HiGHS's MIP search is serial (its
#: threads serve symmetry detection and parallel simplex), and a second thread cost CPU time
#: without saving wall time on the shipped network. HiGHS fixes a calling thread's thread
#: count at its first solve, so every solve in the process must ask for the same.
HIGHS_COMMON: dict[str, bool | float] = {"threads": 1}


#: Shown each improving solution of a MILP (posts, model value); True stops the solve.
Watch = Callable[[np.ndarray, float], bool]


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


# --------------------------------------------------------------------------- shared
def _tangent_rows(cuts: list[tuple[int, int, float]], ncol: int,
                  shift: dict[int, float] | None = None
                  ) -> tuple[sp.csr_array, np.ndarray] | None:
    """``z - exp(-a) pi <= 1 - exp(-a) - exp(-a) a``: the tangent of ``1 - exp(-d)`` at a.

    ``shift`` maps a ``z`` column whose distance is ``r + pi`` (a potential of another
    origin's block, :class:`TightMilp`) to ``r``.
    """
    if not cuts:
        return None
    m = len(cuts)
    zc = np.array([c[0] for c in cuts])
    pc = np.array([c[1] for c in cuts])
    a = np.array([c[2] for c in cuts])
    s = np.exp(-a)
    if shift:
        r = np.array([shift.get(int(c), 0.0) for c in zc])
        a = a - r    # z - s pi <= 1 - s - s (a - r)
    T = sp.csr_array((np.concatenate([np.ones(m), -s]),
                      (np.concatenate([np.arange(m)] * 2), np.concatenate([zc, pc]))),
                     shape=(m, ncol))
    return T, 1.0 - s - s * a


def _solve(c: np.ndarray, A: sp.csr_array, rhs: np.ndarray, budget_row: sp.csr_array,
           budget: float, tangents: tuple[sp.csr_array, np.ndarray] | None, lb: np.ndarray,
           ub: np.ndarray, xcol0: int, time_limit: float, rel_gap: float
           ) -> tuple[np.ndarray | None, float, bool]:
    """Solve ``min c y`` with HiGHS; return ``(x or None, upper bound on -min, optimal)``."""
    cons = [LinearConstraint(A, -np.inf, rhs), LinearConstraint(budget_row, -np.inf, budget)]
    if tangents is not None:
        cons.append(LinearConstraint(tangents[0], -np.inf, tangents[1]))
    integrality = np.zeros(len(c))
    integrality[xcol0:] = 1
    res = milp(c, constraints=cons, integrality=integrality, bounds=Bounds(lb, ub),
               options={"time_limit": time_limit, "mip_rel_gap": rel_gap, "disp": False})
    if res.x is None:
        log.warning("the MILP solver found no solution: %s", res.message)
        return None, math.inf, False
    x = (res.x[xcol0:] > 0.5).astype(float)
    dual = getattr(res, "mip_dual_bound", None)
    bound = -float(res.fun) if dual is None or not math.isfinite(dual) else -float(dual)
    return x, max(bound, -float(res.fun)), res.status == 0


_BANNER_SHOWN = False
_BANNER_LOCK = threading.Lock()


def _highs() -> Any:
    """Return a silent ``highspy.Highs``.

    HiGHS prints its banner to the C-level stdout when the process creates its first solver,
    before any option can be set: that one creation runs with stdout sent to the null device
    (the library is quiet), under a lock, as threads may create solvers at once.
    """
    import highspy

    global _BANNER_SHOWN
    with _BANNER_LOCK:
        if not _BANNER_SHOWN:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_SHOWN = True
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _solve_highs(c: np.ndarray, A: sp.csr_array, rhs: np.ndarray, budget_row: sp.csr_array,
                 budget: float, tangents: tuple[sp.csr_array, np.ndarray] | None,
                 lb: np.ndarray, ub: np.ndarray, xcol0: int, time_limit: float,
                 rel_gap: float, start: np.ndarray | None,
                 options: dict[str, bool | float] | None = None,
                 watch: Watch | None = None) -> tuple[np.ndarray | None, float, bool]:
    """:func:`_solve` through ``highspy``, with the incumbent ``start`` (posts) if given.

    ``watch(x, value)`` is shown each improving solution (posts, and the model's value of it,
    ``-c y``); when it returns True the solve stops there (not optimal).
    """
    import highspy

    h = _highs()
    blocks = [A, budget_row] + ([tangents[0]] if tangents is not None else [])
    M = sp.csc_array(sp.vstack(blocks))
    parts: list[np.ndarray] = [rhs, np.atleast_1d(np.asarray(budget, dtype=float))]
    if tangents is not None:
        parts.append(tangents[1])
    upper = np.concatenate(parts)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    for key, val in {**HIGHS_COMMON, **(options or {})}.items():
        h.setOptionValue(key, val)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), M.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, lb, ub
    lp.row_lower_, lp.row_upper_ = np.full(M.shape[0], -highspy.kHighsInf), upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (M.indptr, M.indices,
                                                                     M.data)
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * xcol0 + [
        highspy.HighsVarType.kInteger] * (len(c) - xcol0)
    h.passModel(lp)
    if start is not None:   # the potentials and z are completed by HiGHS
        idx = np.arange(xcol0, len(c), dtype=np.int32)
        h.setSolution(len(idx), idx, np.asarray(start, dtype=float))
    stop = [False]
    if watch is not None:
        def improving(e: Any) -> None:
            y = np.asarray(e.data_out.mip_solution)
            if not stop[0] and watch((y[xcol0:] > 0.5).astype(float),
                                     -float(e.data_out.objective_function_value)):
                stop[0] = True   # HiGHS stops at its next interrupt check, asked from now on
                h.cbMipInterrupt.subscribe(interrupt)

        def interrupt(e: Any) -> None:
            e.interrupt()

        h.cbMipImprovingSolution.subscribe(improving)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:   # no feasible solution
        log.warning("the MILP solver found no solution: %s",
                    h.modelStatusToString(h.getModelStatus()))
        return None, math.inf, False
    y = np.asarray(h.getSolution().col_value)
    fun = float(info.objective_function_value)
    if start is not None and abs(float(c @ y) - fun) > 1e-9 * max(1.0, abs(fun)):
        # HiGHS 1.16 can report the optimum's value with the start's columns (seen when
        # presolve solves the MIP): solve again without the start.
        log.debug("HiGHS returned the start's columns with another value: solving again")
        return _solve_highs(c, A, rhs, budget_row, budget, tangents, lb, ub, xcol0,
                            time_limit, rel_gap, None, options)
    x = (y[xcol0:] > 0.5).astype(float)
    dual = float(info.mip_dual_bound)
    bound = -fun if not math.isfinite(dual) else -dual
    return x, max(bound, -fun), h.getModelStatus() == highspy.HighsModelStatus.kOptimal


# --------------------------------------------------------------------------- plain
def _reach(inst: Instance, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Nodes reachable from ``src`` that reach ``dst`` (bool mask)."""
    A = inst._csr(np.ones(len(inst.u)))
    fwd = np.isfinite(csgraph.dijkstra(A, directed=True, indices=src, min_only=True))
    back = np.isfinite(csgraph.dijkstra(A.T.tocsr(), directed=True, indices=dst,
                                        min_only=True))
    return fwd & back


def _assemble(inst: Instance, xcol0: int, nrow: int, ncol: int, rows: list[np.ndarray],
              cols: list[np.ndarray], vals: list[np.ndarray], lo: list[np.ndarray],
              hi: list[np.ndarray], rhs: list[np.ndarray]
              ) -> tuple[np.ndarray, np.ndarray, sp.csr_array, np.ndarray, sp.csr_array]:
    """Stack a model's pieces: bounds, constraint matrix, right-hand side and budget row."""
    P = len(inst.cost)
    A = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                     shape=(nrow, ncol))
    budget_row = sp.csr_array((inst.cost, (np.zeros(P, dtype=np.int64), xcol0 + np.arange(P))),
                              shape=(1, ncol))
    return np.concatenate(lo), np.concatenate(hi), A, np.concatenate(rhs), budget_row


class PlainMilp:
    """The published Israeli-Wood dual MILP, one potential block per origin group.

    ``formulation="plain"``: potentials bounded by ``[0, d_all]`` and every arc of the
    origin-to-market subgraph, tangents at ``x = 0`` and ``x = 1`` to start with.

    Columns: the potentials of each block, then one ``z`` per block target (``"single"``: the
    least risk to any market; ``"flow"``: the detected share of one pair), then the posts
    ``x``. Rows: one per arc of each block, ``z <= pi_m`` (``"single"``), the budget, and the
    tangent cuts (``"flow"``).
    """

    def __init__(self, inst: Instance, objective: str, budget: float) -> None:
        self.inst, self.objective, self.budget = inst, objective, budget
        P = len(inst.posts)
        Dall = csgraph.dijkstra(inst._csr(inst.weights(np.ones(P))), directed=True,
                                indices=inst.oi)
        if objective == "single":
            groups = [(np.arange(len(inst.origins)), np.nonzero(inst.connected.any(axis=0))[0])]
        else:
            groups = [(np.array([i]), np.nonzero(inst.connected[i])[0])
                      for i in range(len(inst.origins)) if inst.connected[i].any()]
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        rhs: list[np.ndarray] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []
        targets = []                 # (market pi columns, origin rows, market rows)
        xcols: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []   # rows, post ids, vals
        ncol = nrow = 0
        for oset, mset in groups:
            mask = _reach(inst, inst.oi[oset], inst.mi[mset])
            col = np.full(inst.n, -1, dtype=np.int64)
            col[mask] = ncol + np.arange(mask.sum())
            ncol += int(mask.sum())
            top = Dall[oset].min(axis=0)
            top[inst.oi[oset]] = 0.0           # pi_origin = 0
            lo.append(np.zeros(int(mask.sum())))
            hi.append(top[mask])
            k = np.nonzero(mask[inst.u] & mask[inst.v] & ~np.isin(inst.v, inst.oi[oset]))[0]
            r = nrow + np.arange(len(k))
            rows += [r, r]
            cols += [col[inst.v[k]], col[inst.u[k]]]
            vals += [np.ones(len(k)), -np.ones(len(k))]
            on = inst.has_post[k]
            xcols.append((r[on], inst.arc_post[k[on]], -inst.delta[inst.arc_post[k[on]]]))
            rhs.append(inst.risk[k])
            nrow += len(k)
            if objective == "single":
                targets.append((col[inst.mi[mset]], oset, mset))
            else:
                targets += [(col[inst.mi[[j]]], oset, np.array([j])) for j in mset]
        zcol0 = ncol
        self.xcol0 = xcol0 = zcol0 + len(targets)
        self.ncol = xcol0 + P
        self.z: list[tuple[int, int, int]] = []   # flow: (z column, pi column, flat pair)
        self.c = np.zeros(self.ncol)
        for zi, (mcols, oset, mset) in enumerate(targets):
            zc = zcol0 + zi
            dtop = float(Dall[np.ix_(oset, inst.mi[mset])].min())
            if objective == "single":
                r = nrow + np.arange(len(mcols))   # z - pi_m <= 0 for every market
                rows += [r, r]
                cols += [np.full(len(mcols), zc), mcols]
                vals += [np.ones(len(mcols)), -np.ones(len(mcols))]
                rhs.append(np.zeros(len(mcols)))
                nrow += len(mcols)
                hi.append(np.array([dtop]))
                self.c[zc] = -1.0
            else:
                flat = int(oset[0]) * len(inst.markets) + int(mset[0])
                self.z.append((zc, int(mcols[0]), flat))
                hi.append(np.array([-math.expm1(-dtop)]))
                self.c[zc] = -inst.F.flat[flat] / inst.routed
            lo.append(np.zeros(1))
        for r, post, v in xcols:
            rows.append(r)
            cols.append(xcol0 + post)
            vals.append(v)
        lo.append(np.zeros(P))
        hi.append(np.ones(P))
        self.lb, self.ub, self.A, self.rhs, self.budget_row = _assemble(
            inst, xcol0, nrow, self.ncol, rows, cols, vals, lo, hi, rhs)
        self.cuts: list[tuple[int, int, float]] = []   # (z col, pi col, tangent point)
        self.seen: set[tuple[int, int, float]] = set()

    def add_tangents(self, D: np.ndarray) -> int:
        """Add the tangents at the pairs' distances ``D``; return how many are new."""
        new = [(zc, pc, float(D.flat[k])) for zc, pc, k in self.z
               if math.isfinite(D.flat[k]) and (zc, pc, float(D.flat[k])) not in self.seen]
        self.seen.update(new)
        self.cuts += new
        return len(new)

    def refine(self, x: np.ndarray) -> int:
        """Add the tangents at the distances under ``x``; return how many are new."""
        return self.add_tangents(self.inst.distances(x))

    def solve(self, time_limit: float, rel_gap: float, start: np.ndarray | None = None,
              watch: Watch | None = None) -> tuple[np.ndarray | None, float, bool]:
        """Return ``(x or None if no solution in time, upper bound, proven optimal)``.

        With scipy's HiGHS and its default options, as before (``start`` and ``watch`` are
        not used).
        """
        return _solve(self.c, self.A, self.rhs, self.budget_row, self.budget,
                      _tangent_rows(self.cuts, self.ncol), self.lb, self.ub, self.xcol0,
                      time_limit, rel_gap)



# --------------------------------------------------------------------------- tight
class _Raise:
    """What raising one route's risk costs: the least cost of its posts adding ``>= g``.

    Exact (every subset) up to :data:`KNAPSACK_ENUMERATE` posts with a cost; beyond, the
    fractional cover's cost, a lower bound (which keeps the level bound an upper bound).
    """

    def __init__(self, delta: np.ndarray, cost: np.ndarray) -> None:
        self.total = float(delta.sum())
        free = cost <= 0
        self.free = float(delta[free].sum())
        d, c = delta[~free], cost[~free]
        self.exact = len(d) <= KNAPSACK_ENUMERATE
        if self.exact:
            pick = np.array(list(itertools.product((0.0, 1.0), repeat=len(d))),
                            dtype=float).reshape(2 ** len(d), len(d))
            gains, costs = pick @ d, pick @ c
            order = np.argsort(gains, kind="stable")
            self.gains = gains[order]
            self.costs = np.minimum.accumulate(costs[order][::-1])[::-1]   # suffix minimum
        else:
            order = np.argsort(-d / c, kind="stable")
            self.gains, self.costs = np.cumsum(d[order]), np.cumsum(c[order])

    def cost(self, g: float) -> float:
        g -= self.free
        if g <= 0:
            return 0.0
        if self.exact:
            i = int(np.searchsorted(self.gains, g - 1e-12))
            return float(self.costs[i]) if i < len(self.costs) else math.inf
        i = int(np.searchsorted(self.gains, g - 1e-12))
        if i >= len(self.gains):
            return math.inf
        g0 = float(self.gains[i - 1]) if i else 0.0
        c0 = float(self.costs[i - 1]) if i else 0.0
        return c0 + (float(self.costs[i]) - c0) * (g - g0) / (float(self.gains[i]) - g0)


def _level_table(routes: list[tuple[float, _Raise]]) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the levels that ``routes`` can be lifted to and what each costs at least.

    The total cost is a step function of the level, constant between the levels where one
    route's cost steps (its length plus a subset's gain): the highest affordable level is one
    of those, or the lowest route with every post upgraded. ``None`` when some route is too
    long to enumerate (:func:`_level` bisects then). The table does not depend on the budget.
    """
    if not all(r.exact for _, r in routes):
        return None
    lo = min(length for length, _ in routes)
    hi = min(length + r.total for length, r in routes)
    cand = np.unique(np.concatenate([[hi]] + [length + r.free + r.gains for length, r in routes]))
    cand = cand[(cand >= lo) & (cand <= hi)]
    total = np.zeros(len(cand))
    for length, r in routes:
        g = cand - length - r.free
        i = np.searchsorted(r.gains, g - 1e-12)
        step = np.where(i < len(r.costs), r.costs[np.minimum(i, len(r.costs) - 1)], np.inf)
        total += np.where(g <= 0, 0.0, step)
    return cand, total


def _level(routes: list[tuple[float, _Raise]], budget: float,
           table: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Return the highest least risk over ``routes`` (post-disjoint) within ``budget``.

    ``table`` is :func:`_level_table` of ``routes`` if known.
    """
    lo = min(length for length, _ in routes)
    hi = min(length + r.total for length, r in routes)
    table = _level_table(routes) if table is None else table
    if table is not None:
        cand, total = table
        ok = cand[total <= budget + 1e-9]
        return float(ok.max()) if len(ok) else lo

    def affordable(t: float) -> bool:
        return sum(r.cost(t - length) for length, r in routes) <= budget + 1e-9

    if affordable(hi):
        return hi
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        lo, hi = (mid, hi) if affordable(mid) else (lo, mid)
    return hi


#: What :func:`_pair_bound` keeps of a pair: its post-disjoint routes (length and knapsack),
#: the weights with their posts closed, whether no route is left, the prefixes' level tables.
_PairRoutes = tuple[list[tuple[float, "_Raise"]], np.ndarray, bool,
                    list[tuple[np.ndarray, np.ndarray] | None]]


def _route_posts(inst: Instance, pred: np.ndarray, target: int) -> np.ndarray:
    """Return the post ids on the route to ``target`` in a predecessor row (arc heads)."""
    out = []
    node = target
    while pred[node] >= 0:
        if inst.node_post[node] >= 0:
            out.append(int(inst.node_post[node]))
        node = int(pred[node])
    return np.array(out, dtype=np.int64)


def _pair_bound(inst: Instance, o: int, m: int, budget: float, most_routes: int = 40) -> float:
    """Bound the least risk from node ``o`` to node ``m`` under any affordable ``x``.

    Post-disjoint least-risk routes are found one after another (the posts of the routes
    found are closed); any ``x`` leaves one of them at most at the level that the budget can
    lift all of them to (:func:`_level`). The routes are kept on the instance for the next
    budget, with the level table of each prefix of them (:func:`_level_table`).
    """
    cache: dict[tuple[int, int], _PairRoutes] = inst.__dict__.setdefault("_milp_routes", {})
    routes, w, done, tables = cache.get((o, m), ([], inst.risk.copy(), False, []))

    def level_of(k: int) -> float:   # the level of the first k routes
        while len(tables) < k:
            tables.append(_level_table(routes[:len(tables) + 1]))
        return _level(routes[:k], budget, tables[k - 1])

    level = math.inf   # depends on (o, m, budget) only, not on what other budgets cached
    k = 0
    while True:
        if k == len(routes):
            if done or len(routes) >= most_routes:
                break
            dist, pred = csgraph.dijkstra(inst._csr(w), directed=True, indices=o,
                                          return_predecessors=True)
            if not math.isfinite(dist[m]):
                done = True
                break
            posts = _route_posts(inst, pred, m)
            routes.append((float(dist[m]), _Raise(inst.delta[posts], inst.cost[posts])))
            if len(posts):
                w = w.copy()
                w[np.isin(inst.arc_post, posts)] = np.inf
            else:
                done = True
        if not routes[k][0] < level:     # this and every later route is no lower
            break
        k += 1
        level = level_of(k)
    cache[(o, m)] = (routes, w, done, tables)
    return level


def _pair_bounds(inst: Instance, budget: float) -> tuple[np.ndarray, np.ndarray]:
    """Return ``d0`` (from each origin to every node) and the pair bounds ``U``.

    ``U[o, m]`` bounds the least risk of a connected pair under any affordable ``x`` (module
    notes, step 1; inf for the other pairs). Kept on the instance by budget; one thread at a
    time computes them (a budget curve solves budgets in threads, sharing the routes found).
    """
    with _BOUNDS_LOCK:
        memo: dict[float, tuple[np.ndarray, np.ndarray]] = inst.__dict__.setdefault(
            "_milp_bounds", {})
        if budget not in memo:
            memo[budget] = _compute_pair_bounds(inst, budget)
        return memo[budget]


def _compute_pair_bounds(inst: Instance, budget: float) -> tuple[np.ndarray, np.ndarray]:
    D0 = csgraph.dijkstra(inst._csr(inst.risk), directed=True, indices=inst.oi)
    U = np.full(inst.F.shape, np.inf)
    for i, j in zip(*np.nonzero(inst.connected), strict=True):
        m = int(inst.mi[j])
        U[i, j] = max(_pair_bound(inst, int(inst.oi[i]), m, budget), float(D0[i, m]))
    return D0, U


def _leads(inst: Instance) -> dict[int, tuple[int, float]]:
    """Origins that lead only to another origin's block: ``{origin: (block origin, r)}``.

    An origin whose one arc out enters another origin (not a post) reaches every node at
    that origin's least risk plus the arc's ``r``, whatever the upgrades: its pairs can read
    that origin's potentials, shifted by ``r``, instead of a block of their own. Chains are
    followed to their end; a cycle of such origins keeps its blocks.
    """
    index = {int(o): i for i, o in enumerate(inst.oi)}
    step: dict[int, tuple[int, float]] = {}
    for i, o in enumerate(inst.oi):
        out = np.nonzero(inst.u == o)[0]
        if len(out) == 1 and not inst.has_post[out[0]] and int(inst.v[out[0]]) in index:
            step[i] = (index[int(inst.v[out[0]])], float(inst.risk[out[0]]))
    lead: dict[int, tuple[int, float]] = {}
    for i in step:
        j, r, seen = i, 0.0, {i}
        while j in step:
            j, dr = step[j]
            r += dr
            if j in seen:
                break
            seen.add(j)
        else:
            lead[i] = (j, r)
    return lead


class TightMilp:
    """The tightened dual MILP (module notes): bounded potentials on a pruned subgraph.

    Columns: the potentials of each block, then one ``z`` per block target (``"single"``:
    the least risk to any market; ``"flow"``: the detected share of one pair), then the posts
    ``x``. ``points`` (flat pair index -> tangent points) may be shared with the caller.
    """

    def __init__(self, inst: Instance, objective: str, budget: float,
                 points: dict[int, set[float]] | None = None) -> None:
        self.inst, self.objective, self.budget = inst, objective, budget
        self.points = {} if points is None else points
        P = len(inst.posts)
        D0, U = _pair_bounds(inst, budget)
        R0 = csgraph.dijkstra(inst._csr_rev(inst.risk), directed=True, indices=inst.mi)
        wall = inst.weights(np.ones(P))
        ok = inst.connected
        groups: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, float]]]] = []
        if objective == "single":
            tm = np.nonzero(ok.any(axis=0))[0]
            groups.append((np.arange(len(inst.origins)), tm,
                           np.full(len(tm), float(U[ok].min())), []))
        else:   # one block per origin, shared by the origins that only lead to it
            lead = _leads(inst)
            for i in range(len(inst.origins)):
                if i in lead or not ok[i].any():
                    continue
                members = [(i, 0.0)] + [(h, dr) for h, (j, dr) in lead.items() if j == i]
                mset = np.concatenate([np.nonzero(ok[h])[0] for h, _ in members])
                K = np.concatenate([U[h, ok[h]] - dr for h, dr in members])
                groups.append((np.array([i]), mset, K, members))
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        rhs: list[np.ndarray] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []
        targets: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]] = []
        xrows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []   # rows, post ids, vals
        ncol = nrow = 0
        self.kept_nodes = self.kept_arcs = 0
        for oset, mset, K, members in groups:
            src = inst.oi[oset]
            L = D0[oset].min(axis=0)
            with np.errstate(invalid="ignore"):
                C = (K[:, None] - R0[mset]).max(axis=0)      # -inf: reaches no market
            tol = 1e-9 * max(1.0, float(K.max()))
            keep = np.isfinite(L) & (L <= C + tol)
            k = np.nonzero(keep[inst.u] & keep[inst.v] & ~np.isin(inst.v, src)
                           & (L[inst.u] + inst.risk <= C[inst.v] + tol))[0]
            # d_all on the kept subgraph: the potentials' other upper bound
            sub = sp.csr_array((wall[k], (inst.u[k], inst.v[k])), shape=(inst.n, inst.n))
            Dp = csgraph.dijkstra(sub, directed=True, indices=src, min_only=True) \
                if len(k) else np.full(inst.n, np.inf)
            cap = np.minimum(C, Dp)
            low = np.minimum(L, cap)
            cap[src], low[src] = 0.0, 0.0
            slack = cap[inst.v[k]] - low[inst.u[k]] - inst.risk[k]
            k, slack = k[slack > 0], slack[slack > 0]        # others are implied by the bounds
            col = np.full(inst.n, -1, dtype=np.int64)
            col[keep] = ncol + np.arange(int(keep.sum()))
            ncol += int(keep.sum())
            lo.append(low[keep])
            hi.append(cap[keep])
            r = nrow + np.arange(len(k))
            rows += [r, r]
            cols += [col[inst.v[k]], col[inst.u[k]]]
            vals += [np.ones(len(k)), -np.ones(len(k))]
            on = inst.has_post[k]
            post = inst.arc_post[k[on]]
            xrows.append((r[on], post, -np.minimum(inst.delta[post], slack[on])))
            rhs.append(inst.risk[k])
            nrow += len(k)
            self.kept_nodes += int(keep.sum())
            self.kept_arcs += len(k)
            if objective == "single":   # a market beyond K is never the nearest: left out
                mc = col[inst.mi[mset]]
                targets.append((mc[mc >= 0], oset, mset, 0.0, float(K[0]), 0.0))
            else:   # distances r + pi: r = 0 for the block's own origin
                targets += [(col[inst.mi[[j]]], np.array([h]), np.array([j]),
                             dr + float(low[inst.mi[j]]), dr + float(cap[inst.mi[j]]), dr)
                            for h, dr in members for j in np.nonzero(ok[h])[0]]
        zcol0 = ncol
        self.xcol0 = xcol0 = zcol0 + len(targets)
        self.ncol = xcol0 + P
        self.c = np.zeros(self.ncol)
        self.z: list[tuple[int, int, int]] = []   # flow: (z column, pi column, flat pair)
        self.cuts: list[tuple[int, int, float]] = []
        self.shift: dict[int, float] = {}
        for zi, (mcols, oset, mset, a, b, dr) in enumerate(targets):
            zc = zcol0 + zi
            lo.append(np.zeros(1))
            if objective == "single":
                zr = nrow + np.arange(len(mcols))   # z - pi_m <= 0 for every market
                rows += [zr, zr]
                cols += [np.full(len(mcols), zc), mcols]
                vals += [np.ones(len(mcols)), -np.ones(len(mcols))]
                rhs.append(np.zeros(len(mcols)))
                nrow += len(mcols)
                hi.append(np.array([b]))
                self.c[zc] = -1.0
                continue
            flat = int(oset[0]) * len(inst.markets) + int(mset[0])
            self.z.append((zc, int(mcols[0]), flat))
            if dr:
                self.shift[zc] = dr
            hi.append(np.array([-math.expm1(-b)]))
            self.c[zc] = -inst.F.flat[flat] / inst.routed
            pts = self.points.setdefault(flat, set())
            pts.update((a, b))
            self.cuts += [(zc, int(mcols[0]), p) for p in sorted(pts)]
        for r, post, v in xrows:
            rows.append(r)
            cols.append(xcol0 + post)
            vals.append(v)
        lo.append(np.zeros(P))
        hi.append(np.ones(P))
        self.lb, self.ub, self.A, self.rhs, self.budget_row = _assemble(
            inst, xcol0, nrow, self.ncol, rows, cols, vals, lo, hi, rhs)

    def add_tangents(self, D: np.ndarray) -> int:
        """Add the tangents at the pairs' distances ``D``; return how many are new."""
        new = 0
        for zc, pc, k in self.z:
            a = float(D.flat[k])
            if math.isfinite(a) and a not in self.points[k]:
                self.points[k].add(a)
                self.cuts.append((zc, pc, a))
                new += 1
        return new

    def refine(self, x: np.ndarray) -> int:
        """Add the tangents at the distances under ``x``; return how many are new."""
        return self.add_tangents(self.inst.distances(x))

    def solve(self, time_limit: float, rel_gap: float, start: np.ndarray | None = None,
              watch: Watch | None = None) -> tuple[np.ndarray | None, float, bool]:
        """Return ``(x or None if no solution in time, upper bound, proven optimal)``."""
        return _solve_highs(self.c, self.A, self.rhs, self.budget_row, self.budget,
                            _tangent_rows(self.cuts, self.ncol, self.shift), self.lb, self.ub,
                            self.xcol0, time_limit, rel_gap, start,
                            HIGHS_OPTIONS if self.objective == "flow" else None, watch)


def _add_side(model: _Model, a: np.ndarray, e: float, budget: float) -> None:
    """Append the row ``a x <= e`` to the model's budget row(s)."""
    m: Any = model
    P = len(a)
    row = sp.csr_array((a, (np.zeros(P, dtype=np.int64), m.xcol0 + np.arange(P))),
                       shape=(1, m.ncol))
    m.budget_row = sp.csr_array(sp.vstack([m.budget_row, row]))
    m.budget = np.array([budget, e])


# --------------------------------------------------------------------------- the loop
def solve_exact(inst: Instance, objective: str, budget: float, *, formulation: str = "tight",
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
    ``a x <= e`` over the posts (the epsilon constraint of :mod:`routes.analysis.tradeoff`);
    ``start`` must then satisfy it. Bounds computed from the budget alone stay valid, since
    the side constraint only removes solutions.
    """
    x0 = inst.x0()
    best_x, best = x0, inst.value(objective, x0)[0]
    model: _Model
    if formulation == "plain":
        model = PlainMilp(inst, objective, budget)
        if objective == "flow":
            model.add_tangents(inst.distances(x0))
            model.add_tangents(inst.distances(np.ones(len(inst.posts))))
    else:
        model = TightMilp(inst, objective, budget, points)
        if start is not None:
            val = inst.value(objective, start)[0]
            if val > best:
                best_x, best = start.copy(), val
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
        nonlocal best_x, best
        val = inst.value(objective, x)[0]
        if val > best:
            best_x, best = x.copy(), val
        if value - val > rel_tol * max(1.0, abs(val)) and model.refine(x) > 0:
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
        val = inst.value(objective, x)[0]
        if val > best:
            best_x, best = x, val
        bound = min(bound, ub) if objective == "flow" else max(ub, best)
        if progress is not None:
            progress(f"round {rounds}: value {best:.6g}, bound {bound:.6g}"
                     + (" (stopped at an over-valued solution)" if seen else ""))
        if seen:      # its tangents are in the model now: solve again
            continue
        if not solved:
            break
        if objective == "single" or bound - best <= rel_tol * max(1.0, abs(best)):
            optimal = True
            break
        if model.refine(x) == 0:
            # x's tangents are in the model already, so another round would return the same:
            # what is left of the gap is HiGHS's own tolerance (a tangent row may be exceeded
            # by its feasibility tolerance), not the outer approximation.
            optimal = bound - best <= SOLVER_SLACK
            break
    return Outcome(best_x, best, bound, optimal, rounds)
