"""The HiGHS calls the exact interdiction MILPs share: solving, tangent cuts, assembly.

Moved from :mod:`._milp` unchanged.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csgraph

from ._cancel import run
from ._instance import _Instance as Instance

log = logging.getLogger("routes.priorities.interdiction")

__all__ = ["HIGHS_OPTIONS", "HIGHS_COMMON", "Watch"]


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
    parts: list[np.ndarray] = [rhs, np.atleast_1d(budget)]
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
        # equivalent mutants: another dtype or none (highspy converts the indices to its
        # int32 itself)
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
    run(h)   # Ctrl-C or a cancelled curve stops this solve (priorities._cancel)
    info = h.getInfo()
    if info.primal_solution_status != 2:   # no feasible solution
        log.warning("the MILP solver found no solution: %s",
                    h.modelStatusToString(h.getModelStatus()))
        return None, math.inf, False
    y = np.asarray(h.getSolution().col_value)
    fun = float(info.objective_function_value)
    # equivalent mutant: >= for > (a mix-up of exactly 1e-9, to the bit)
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
    fwd = np.isfinite(csgraph.dijkstra(A, indices=src, min_only=True))   # (directed)
    back = np.isfinite(csgraph.dijkstra(A.T.tocsr(), indices=dst, min_only=True))
    return fwd & back


def _columns(mask: np.ndarray, first: int) -> np.ndarray:
    """Return the column of each node in ``mask``: ``first, first + 1, ...`` in node order.

    The entries of the other nodes are not columns (the models never read them).
    """
    return first - 1 + np.cumsum(mask)


class _Rows:
    """The rows ``A y <= rhs`` of a model (both formulations), added block by block."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.n = 0
        #: (rows, post ids, coefficients): the posts' entries, placed by :meth:`assemble`
        self.posts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def differences(self, plus: np.ndarray, minus: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """Add the rows ``y[plus] - y[minus] <= rhs``; return their numbers."""
        r = self.n + np.arange(len(rhs))
        self.rows += [r, r]
        self.cols += [plus, minus]
        self.vals += [np.ones(len(r)), -np.ones(len(r))]
        self.rhs.append(rhs)
        self.n += len(r)
        return r

    def assemble(self, inst: Instance, xcol0: int, lo: list[np.ndarray], hi: list[np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray, sp.csr_array, np.ndarray, sp.csr_array]:
        """Return the model's bounds, constraint matrix, right-hand side and budget row.

        ``lo`` and ``hi`` bound the columns before the posts' (from ``xcol0`` on: 0 to 1).
        """
        P = len(inst.cost)
        ncol = xcol0 + P
        rows, cols, vals = [*self.rows], [*self.cols], [*self.vals]
        for r, post, v in self.posts:
            rows.append(r)
            cols.append(xcol0 + post)
            vals.append(v)
        A = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(self.n, ncol))
        budget_row = sp.csr_array((inst.cost, (np.full(P, 0), xcol0 + np.arange(P))),
                                  shape=(1, ncol))
        return (np.concatenate([*lo, np.zeros(P)]), np.concatenate([*hi, np.ones(P)]), A,
                np.concatenate(self.rhs), budget_row)
