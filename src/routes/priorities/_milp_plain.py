"""The plain (published) interdiction MILP formulation (see :mod:`._milp`)."""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import csgraph

from ._instance import _Instance as Instance
from ._milp_solve import Watch, _columns, _reach, _Rows, _solve, _tangent_rows

__all__ = ["PlainMilp"]


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
        # equivalent mutant: directed=True dropped (csgraph's default)
        Dall = csgraph.dijkstra(inst._csr(inst.weights(np.ones(P))), directed=True,
                                indices=inst.oi)
        if objective == "single":
            groups = [(np.arange(len(inst.origins)), np.nonzero(inst.connected.any(axis=0))[0])]
        else:
            groups = [(np.array([i]), np.nonzero(inst.connected[i])[0])
                      for i in range(len(inst.origins)) if inst.connected[i].any()]
        rows = _Rows()
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []
        targets = []                 # (market pi columns, origin rows, market rows)
        ncol = 0
        for oset, mset in groups:
            # Potentials only for nodes between these origins and markets: the mask trims the
            # model (tests/test_milp_rules.py counts its columns).
            mask = _reach(inst, inst.oi[oset], inst.mi[mset])
            col = _columns(mask, ncol)
            ncol += int(mask.sum())
            top = Dall[oset].min(axis=0)
            top[inst.oi[oset]] = 0.0           # pi_origin = 0
            lo.append(np.zeros(int(mask.sum())))
            hi.append(top[mask])
            k = np.nonzero(mask[inst.u] & mask[inst.v] & ~np.isin(inst.v, inst.oi[oset]))[0]
            r = rows.differences(col[inst.v[k]], col[inst.u[k]], inst.risk[k])
            on = inst.has_post[k]
            rows.posts.append((r[on], inst.arc_post[k[on]], -inst.delta[inst.arc_post[k[on]]]))
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
            if objective == "single":   # z - pi_m <= 0 for every market
                rows.differences(np.full(len(mcols), zc), mcols, np.zeros(len(mcols)))
                hi.append(np.array([dtop]))
                self.c[zc] = -1.0
            else:
                flat = int(oset[0]) * len(inst.markets) + int(mset[0])
                self.z.append((zc, int(mcols[0]), flat))
                hi.append(np.array([-math.expm1(-dtop)]))
                self.c[zc] = -inst.F.flat[flat] / inst.routed
            lo.append(np.zeros(1))
        self.lb, self.ub, self.A, self.rhs, self.budget_row = rows.assemble(inst, xcol0, lo, hi)
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
