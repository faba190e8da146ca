"""The tight interdiction MILP formulation and its pair bounds (see :mod:`._milp`)."""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ._instance import _Instance as Instance
from ._milp_solve import HIGHS_OPTIONS, Watch, _columns, _Rows, _solve_highs, _tangent_rows

__all__ = ["KNAPSACK_ENUMERATE", "TightMilp"]

_BOUNDS_LOCK = threading.Lock()
#: Most posts on a route whose 0-1 knapsack is enumerated (beyond: its LP bound).
KNAPSACK_ENUMERATE = 12


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
            # equivalent mutant (up to rounding): another sort kind. Posts of equal gain per
            # cost make one straight piece of the fractional cover, in any order.
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
        # A level ``g <= 0`` above the route costs nothing: it finds the empty subset (gain 0,
        # first in ``gains``), whose suffix minimum cost is 0.
        i = np.searchsorted(r.gains, cand - length - r.free - 1e-12)
        total += np.where(i < len(r.costs), r.costs[np.minimum(i, len(r.costs) - 1)], np.inf)
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
        # The slack is inclusive (tests/test_milp_rules.py): a looser bound is still one.
        ok = cand[total <= budget + 1e-9]
        return float(ok.max()) if len(ok) else lo

    def affordable(t: float) -> bool:
        return sum(r.cost(t - length) for length, r in routes) <= budget + 1e-9

    if affordable(hi):
        return hi
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        # Once ``mid`` is ``lo`` or ``hi`` (float resolution) every later step would keep
        # ``lo`` and ``hi``: stop early (tests/test_milp_rules.py counts the steps).
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
    # equivalent mutant: another key (a cache on the instance, under any unused name)
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
                # Kept as done: the next budget does not look again (only time would be lost;
                # tests/test_milp_rules.py reads the cache).
                done = True
                break
            posts = _route_posts(inst, pred, m)
            routes.append((float(dist[m]), _Raise(inst.delta[posts], inst.cost[posts])))
            if len(posts):
                w = w.copy()
                w[np.isin(inst.arc_post, posts)] = np.inf
            else:
                # A route no budget can lift ends the search (looking on would find it again,
                # and it cannot lower the level; tests/test_milp_rules.py reads the cache).
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
            # equivalent mutant: another key (a cache on the instance, under any unused name)
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
        rows = _Rows()
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []
        targets: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]] = []
        ncol = 0
        self.kept_nodes = self.kept_arcs = 0
        for oset, mset, K, members in groups:
            src = inst.oi[oset]
            L = D0[oset].min(axis=0)
            with np.errstate(invalid="ignore"):
                C = (K[:, None] - R0[mset]).max(axis=0)      # -inf: reaches no market
            # The window's tolerance: 1e-9, relative to K above 1 (tests/test_milp_rules.py).
            tol = 1e-9 * max(1.0, float(K.max()))
            # equivalent mutant: < for <= (a node exactly tol outside the window, to the bit)
            keep = np.isfinite(L) & (L <= C + tol)
            # equivalent mutant: | for the last &. An arc passing the window test has both ends
            # kept (C is a feasible potential, C_v <= C_u + r_uv, so L_u + r_uv <= C_v + tol
            # gives L_u <= C_u + tol). An arc into an origin has no slack (cap 0 there, and
            # low_u >= -r_uv - tol as C_u >= C_o - r_uv >= -tol - r_uv): the slack test below
            # drops it, or keeps a valid row of the dual (for an origin within tol of the
            # window's edge).
            # The window test's equivalent mutants (within tol; on the next line): < for <=,
            # or - tol. They only drop arcs within tol of the window's edge: d_all over such
            # an arc is at least C_v - tol, its row's slack at most tol: the bounds and rows
            # move by tol (1e-9) at most.
            k = np.nonzero(keep[inst.u] & keep[inst.v]
                           & (L[inst.u] + inst.risk <= C[inst.v] + tol))[0]  # equivalent mutant
            # d_all on the kept subgraph: the potentials' other upper bound
            sub = sp.csr_array((wall[k], (inst.u[k], inst.v[k])), shape=(inst.n, inst.n))
            Dp = csgraph.dijkstra(sub, directed=True, indices=src, min_only=True)
            cap = np.minimum(C, Dp)
            low = np.minimum(L, cap)
            cap[src], low[src] = 0.0, 0.0
            # equivalent mutants: a larger slack (+ for -, low >= 0) keeps rows the bounds
            # imply and weakens the coefficient min(delta, slack) to no effect: once it is at
            # least the slack, the bounds already allow what x = 1 allows. Same integer points,
            # a looser relaxation (time only); tests/test_milp.py holds the optimum.
            slack = cap[inst.v[k]] - low[inst.u[k]] - inst.risk[k]
            k, slack = k[slack > 0], slack[slack > 0]        # others are implied by the bounds
            # Only kept nodes' entries are read (a connected pair's market is always kept:
            # L <= C there; the single objective leaves the others out).
            col = _columns(keep, ncol)
            ncol += int(keep.sum())
            lo.append(low[keep])
            hi.append(cap[keep])
            r = rows.differences(col[inst.v[k]], col[inst.u[k]], inst.risk[k])
            on = inst.has_post[k]
            post = inst.arc_post[k[on]]
            rows.posts.append((r[on], post, -np.minimum(inst.delta[post], slack[on])))
            self.kept_nodes += int(keep.sum())
            self.kept_arcs += len(k)
            if objective == "single":   # a market beyond K is never the nearest: left out
                m = inst.mi[mset]
                targets.append((col[m[keep[m]]], oset, mset, 0.0, float(K[0]), 0.0))
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
            if objective == "single":   # z - pi_m <= 0 for every market
                rows.differences(np.full(len(mcols), zc), mcols, np.zeros(len(mcols)))
                hi.append(np.array([b]))
                self.c[zc] = -1.0
            else:
                flat = int(oset[0]) * len(inst.markets) + int(mset[0])
                self.z.append((zc, int(mcols[0]), flat))
                if dr:
                    self.shift[zc] = dr
                hi.append(np.array([-math.expm1(-b)]))
                self.c[zc] = -inst.F.flat[flat] / inst.routed
                pts = self.points.setdefault(flat, set())
                pts.update((a, b))
                self.cuts += [(zc, int(mcols[0]), p) for p in sorted(pts)]
        self.lb, self.ub, self.A, self.rhs, self.budget_row = rows.assemble(inst, xcol0, lo, hi)

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
                            self.xcol0, time_limit, rel_gap,
                            # the warm start and the search options change the time to the
                            # proven optimum, not the optimum (tests/test_milp_rules.py spies)
                            start, HIGHS_OPTIONS if self.objective == "flow" else None, watch)
