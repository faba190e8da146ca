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

import itertools
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from .._errors import NoRouteError, RoutesError
from ..costs import CostModel, risk_from_p
from ..network import od_demand
from ._milp import FORMULATIONS, solve_exact

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
    "whole_budgets",
    "total_upgrade_cost",
    "post_values",
    "post_effectiveness",
]

log = logging.getLogger(__name__)

#: What the planner maximises (module notes).
OBJECTIVES = ("single", "flow")
#: How the posts are chosen.
METHODS = ("exact", "greedy")
#: Columns of :func:`upgrade_table`.
UPGRADE_COLUMNS = ("name", "country_a", "country_b", "status", "crossing_class", "p_detect",
                   "p_detect_upgraded", "upgrade_cost", "risk_factor", "crossing_risk",
                   "delta_risk")
#: Budgets of a curve solved at once by default (threads: HiGHS lets go of the GIL while it
#: solves, and each budget's solve depends on its budget only, so the table is the same for
#: any number of workers). One until the full test suite has run green with two (a report
#: subprocess once ignored Ctrl-C there); ``workers=2`` halves the curve's time on 2 cores.
CURVE_WORKERS = 1
#: Most candidate posts :func:`interdict_brute_force` enumerates.
BRUTE_FORCE_MAX_POSTS = 22


@dataclass(frozen=True)
class Interdiction:
    """The result of an interdiction: chosen posts and the objective before and after.

    Attributes
    ----------
    objective, method : str
        ``"single"`` or ``"flow"``; ``"exact"``, ``"greedy"`` or ``"brute_force"``.
    budget : float
        The budget, in upgrade-cost units.
    posts : tuple of str
        The posts to upgrade (sorted by id; greedy: in the order chosen, see ``order``).
    cost : float
        Their total upgrade cost.
    value, base_value : float
        The objective with these upgrades and with none, evaluated exactly by Dijkstra:
        the least route risk (``"single"``), or the expected detected share of the routed
        flow (``"flow"``).
    bound : float
        An upper bound on the optimal value (exact: ``value`` itself when ``optimal``, the
        solver's bound being within the tolerance of it; greedy: NaN).
    optimal : bool
        Whether ``value`` is proven optimal.
    p_undetected : float
        ``"single"``: ``exp(-value)``, the best chance of passing undetected; ``"flow"``:
        ``1 - value``, the expected share of the flow that passes.
    mean_risk : float
        Flow-weighted mean least risk over the connected pairs (both objectives).
    route : list
        ``"single"``: the evader's least-risk route after the upgrades (node ids).
    order : tuple of str
        Greedy: the posts in the order chosen; otherwise the same as ``posts``.
    rounds : int
        MILP solves (exact ``"flow"`` adds tangent cuts between rounds).
    """

    objective: str
    method: str
    budget: float
    posts: tuple[str, ...]
    cost: float
    value: float
    base_value: float
    bound: float
    optimal: bool
    p_undetected: float
    mean_risk: float
    route: list[Any] = field(default_factory=list)
    order: tuple[str, ...] = ()
    rounds: int = 0

    @property
    def gain(self) -> float:
        """``value - base_value``."""
        return self.value - self.base_value


# --------------------------------------------------------------------------- data
def _risk_factor(d: Mapping[str, Any], cm: CostModel | None, nid: Any) -> float:
    p = float(d["p_detect"])
    if p > 0:
        return float(d["crossing_risk"]) / risk_from_p(p)
    if d.get("status") != "restricted":
        return 1.0
    if cm is None:
        raise RoutesError(f"crossing {nid!r} is restricted with p_detect 0: pass the cost model "
                          "to know its restricted risk factor")
    return float(cm.restricted_risk_factor)


def upgrade_table(G: nx.DiGraph, cm: CostModel | None = None) -> pd.DataFrame:
    """Every crossing that can be upgraded, with its cost and risk increase.

    One row per open or restricted crossing, indexed by id and sorted: the columns
    :data:`UPGRADE_COLUMNS`; ``risk_factor`` is the restricted-status factor and
    ``delta_risk`` the risk the upgrade adds to every edge entering the crossing (module
    notes). ``cm`` is needed only for a restricted crossing with ``p_detect`` 0.

    Raises
    ------
    RoutesError
        A crossing without ``p_detect``, ``p_detect_upgraded``, ``upgrade_cost`` or
        ``crossing_risk``, or with a negative cost or ``p_detect_upgraded < p_detect``.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("x", kind="crossing", status="restricted", p_detect=0.5,
    ...            crossing_risk=1.5 * risk_from_p(0.5), p_detect_upgraded=0.75,
    ...            upgrade_cost=2.0)
    >>> t = upgrade_table(G)
    >>> round(float(t.at["x", "risk_factor"]), 6), round(float(t.at["x", "delta_risk"]), 6)
    (1.5, 1.039721)
    """
    rows = []
    for n, d in sorted(G.nodes(data=True)):
        if d.get("kind") != "crossing" or d.get("status") == "closed":
            continue
        missing = [k for k in ("p_detect", "p_detect_upgraded", "upgrade_cost", "crossing_risk")
                   if d.get(k) is None or (isinstance(d.get(k), float) and math.isnan(d[k]))]
        if missing:
            raise RoutesError(f"crossing {n!r} has no {', '.join(missing)}: build the network "
                              "with routes.network.network_from_data")
        p, pu, c = float(d["p_detect"]), float(d["p_detect_upgraded"]), float(d["upgrade_cost"])
        if c < 0 or pu < p or not (0 <= p < 1 and pu < 1):
            raise RoutesError(f"crossing {n!r}: need 0 <= p_detect <= p_detect_upgraded < 1 and "
                              f"upgrade_cost >= 0, got {p}, {pu}, {c}")
        f = _risk_factor(d, cm, n)
        rows.append({"id": n, **{k: d.get(k) for k in UPGRADE_COLUMNS[:5]}, "p_detect": p,
                     "p_detect_upgraded": pu, "upgrade_cost": c, "risk_factor": f,
                     "crossing_risk": float(d["crossing_risk"]),
                     "delta_risk": (risk_from_p(pu) - risk_from_p(p)) * f})
    return pd.DataFrame(rows, columns=["id", *UPGRADE_COLUMNS]).set_index("id")


class _Instance:
    """The network in arrays: arcs, risks, candidate posts, origin-market flows."""

    def __init__(self, G: nx.DiGraph, cm: CostModel | None,
                 flows: Mapping[tuple[Any, Any], float] | None) -> None:
        H = G if G.is_directed() else G.to_directed()
        flows = od_demand(H) if flows is None else flows
        pairs = sorted((o, m, float(f)) for (o, m), f in flows.items() if f and o != m)
        if not pairs:
            raise NoRouteError("no origin-market pair with flow: the network needs at least "
                               "one origin (supply > 0) and one market (demand > 0)")
        bad = sorted({x for o, m, _ in pairs for x in (o, m) if x not in H})
        if bad:
            raise RoutesError(f"node {bad[0]!r} is not in the network")
        self.nodes: list[Any] = sorted(H.nodes)
        self.index = {x: i for i, x in enumerate(self.nodes)}
        n = self.n = len(self.nodes)
        edges = sorted(H.edges(data="risk"), key=lambda e: (self.index[e[0]], self.index[e[1]]))
        if any(r is None or not math.isfinite(r) or r < 0 for *_, r in edges):
            raise RoutesError("every edge needs a finite risk >= 0 (attribute 'risk')")
        self.u = np.array([self.index[a] for a, _, _ in edges], dtype=np.int64)
        self.v = np.array([self.index[b] for _, b, _ in edges], dtype=np.int64)
        self.risk = np.array([r for *_, r in edges], dtype=float)
        up = upgrade_table(H, cm)
        up = up[up["delta_risk"] > 0]
        self.upgrades = up
        self.posts: list[Any] = list(up.index)
        self.post_index = {x: i for i, x in enumerate(self.posts)}
        self.cost = up["upgrade_cost"].to_numpy(dtype=float)
        self.delta = up["delta_risk"].to_numpy(dtype=float)
        self.node_post = node_post = np.full(n, -1, dtype=np.int64)
        for i, x in enumerate(self.posts):
            node_post[self.index[x]] = i
        self.arc_post = node_post[self.v]
        self.has_post = self.arc_post >= 0
        self.origins = sorted({o for o, _, _ in pairs}, key=self.index.__getitem__)
        self.markets = sorted({m for _, m, _ in pairs}, key=self.index.__getitem__)
        self.oi = np.array([self.index[o] for o in self.origins], dtype=np.int64)
        self.mi = np.array([self.index[m] for m in self.markets], dtype=np.int64)
        ro = {o: i for i, o in enumerate(self.origins)}
        rm = {m: i for i, m in enumerate(self.markets)}
        self.F = np.zeros((len(self.origins), len(self.markets)))
        for o, m, f in pairs:
            self.F[ro[o], rm[m]] += f
        indptr = np.searchsorted(self.u, np.arange(n + 1)).astype(np.int32)
        self._indptr, self._indices = indptr, self.v.astype(np.int32)
        self._rev = np.argsort(self.v, kind="stable")   # arcs by head: the reversed network
        self._rindptr = np.searchsorted(self.v[self._rev], np.arange(n + 1)).astype(np.int32)
        D0 = self.distances(self.x0())
        self.connected = np.isfinite(D0) & (self.F > 0)
        if not self.connected.any():
            raise NoRouteError("no origin reaches any market: there is no route to interdict")
        self.routed = float(self.F[self.connected].sum())

    def x0(self) -> np.ndarray:
        return np.zeros(len(self.posts))

    def x_of(self, posts: Iterable[Any]) -> np.ndarray:
        x = self.x0()
        for p in posts:
            if p not in self.post_index:
                raise RoutesError(f"{p!r} is not a crossing that an upgrade makes riskier")
            x[self.post_index[p]] = 1.0
        return x

    def weights(self, x: np.ndarray) -> np.ndarray:
        w = self.risk.copy()
        w[self.has_post] += self.delta[self.arc_post[self.has_post]] * x[
            self.arc_post[self.has_post]]
        return w

    def _csr(self, w: np.ndarray) -> sp.csr_array:
        # Explicit zeros stay edges in csgraph (zero-risk legs are real legs).
        return sp.csr_array((w, self._indices, self._indptr), shape=(self.n, self.n))

    def _csr_rev(self, w: np.ndarray) -> sp.csr_array:
        """Return the reversed network (``v -> u`` for each arc ``u -> v``), weights ``w``."""
        return sp.csr_array((w[self._rev], self.u[self._rev].astype(np.int32), self._rindptr),
                            shape=(self.n, self.n))

    def distances(self, x: np.ndarray, *, full: bool = False) -> np.ndarray:
        """Least risk from each origin (rows) to each market (or every node with ``full``)."""
        D = csgraph.dijkstra(self._csr(self.weights(x)), directed=True, indices=self.oi)
        return D if full else D[:, self.mi]

    def on_routes(self, objective: str, x: np.ndarray) -> np.ndarray:
        """Return the posts on a least-risk route that the objective reads, under ``x``.

        ``"flow"``: of any connected pair; ``"single"``: of a pair at the least risk (within
        1e-9, relative). Upgrading any other post changes no distance the objective reads.
        """
        w = self.weights(x)
        D = csgraph.dijkstra(self._csr(w), directed=True, indices=self.oi)
        R = csgraph.dijkstra(self._csr_rev(w), directed=True, indices=self.mi)
        Dm = D[:, self.mi]
        ok = self.connected.copy()
        tol = 1e-9 * max(1.0, float(Dm[ok].max()))
        if objective == "single":
            ok &= Dm <= Dm[ok].min() + tol
        pn = np.array([self.index[p] for p in self.posts], dtype=np.int64)
        through = D[:, None, pn] + R[None, :, pn] <= Dm[:, :, None] + tol
        return np.asarray((through & ok[:, :, None]).any(axis=(0, 1)))

    def value(self, objective: str, x: np.ndarray) -> tuple[float, float]:
        """``(objective value, flow-weighted mean risk)`` of upgrades ``x``."""
        D = self.distances(x)
        ok = self.connected
        mean_risk = float((self.F[ok] * D[ok]).sum() / self.routed)
        if objective == "single":
            return float(D[ok].min()), mean_risk
        return float((self.F[ok] * -np.expm1(-D[ok])).sum() / self.routed), mean_risk

    def route(self, x: np.ndarray) -> list[Any]:
        """Return the least-risk route from any origin to any market after upgrades ``x``."""
        D, P, S = csgraph.dijkstra(self._csr(self.weights(x)), directed=True, indices=self.oi,
                                   min_only=True, return_predecessors=True)
        t = int(self.mi[np.argmin(D[self.mi])])
        path = [t]
        while path[-1] != S[t]:
            path.append(int(P[path[-1]]))
        return [self.nodes[i] for i in reversed(path)]


def _check(objective: str, budget: float) -> None:
    if objective not in OBJECTIVES:
        raise RoutesError(f"unknown objective {objective!r}; choose one of "
                          f"{', '.join(OBJECTIVES)}")
    if not (isinstance(budget, int | float) and math.isfinite(budget) and budget >= 0):
        raise RoutesError(f"the budget must be a number >= 0, got {budget!r}")


def _result(inst: _Instance, objective: str, method: str, budget: float, x: np.ndarray, *,
            bound: float, optimal: bool, order: Sequence[Any] = (), rounds: int = 0
            ) -> Interdiction:
    value, mean_risk = inst.value(objective, x)
    base, _ = inst.value(objective, inst.x0())
    posts = tuple(p for p, on in zip(inst.posts, x) if on > 0.5)
    return Interdiction(
        objective=objective, method=method, budget=float(budget), posts=posts,
        cost=float(inst.cost[x > 0.5].sum()), value=value, base_value=base, bound=bound,
        optimal=optimal,
        p_undetected=math.exp(-value) if objective == "single" else 1.0 - value,
        mean_risk=mean_risk, route=inst.route(x) if objective == "single" else [],
        order=tuple(order) or posts, rounds=rounds)


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
    inst = _Instance(G, cm, flows)
    x = inst.x_of(posts)
    return _result(inst, objective, "given", float(inst.cost[x > 0.5].sum()), x,
                   bound=math.nan, optimal=False)


# --------------------------------------------------------------------------- exact (MILP)
def _prune(inst: _Instance, objective: str, x: np.ndarray, value: float,
           tol: float) -> np.ndarray:
    """Drop chosen posts (in id order) whose removal does not lower ``value``."""
    x = x.copy()
    for i in np.nonzero(x > 0.5)[0]:
        x[i] = 0.0
        if inst.value(objective, x)[0] < value - tol:
            x[i] = 1.0
    return x


def interdict_exact(G: nx.DiGraph, budget: float, *, objective: str = "single",
                    cm: CostModel | None = None,
                    flows: Mapping[tuple[Any, Any], float] | None = None,
                    time_limit: float = 60.0, rel_tol: float = 1e-7,
                    max_rounds: int = 50, formulation: str = "tight",
                    progress: Callable[[str], None] | None = None) -> Interdiction:
    """Choose the posts to upgrade within ``budget`` optimally (MILP with HiGHS).

    Parameters
    ----------
    G : networkx.DiGraph
        The route network (an undirected graph is read as two-way); edges need ``risk``,
        crossings their upgrade data (:func:`upgrade_table`).
    budget : float
        In upgrade-cost units.
    objective : {"single", "flow"}
        Module notes.
    cm : CostModel, optional
        Only for restricted crossings with ``p_detect`` 0.
    flows : mapping, optional
        ``{(origin, market): flow}``; default :func:`routes.network.od_demand`. ``"single"``
        uses their origins and markets.
    time_limit : float
        Seconds per MILP solve; past it the better of the best solution found and the greedy
        one (:func:`interdict_greedy`) is returned with ``optimal=False``.
    rel_tol : float
        Relative optimality tolerance (HiGHS's ``mip_rel_gap`` and, for ``"flow"``, the gap
        between the cutting-plane bounds).
    max_rounds : int
        Most cutting-plane rounds (``"flow"``).
    formulation : {"tight", "plain"}
        The MILP (:mod:`routes.priorities._milp`): ``"tight"`` (bounded potentials on a pruned
        network, tightened coefficients) or ``"plain"`` (as published; slower, same optimum).
    progress : callable, optional
        Told one line per MILP round (value and bound so far); the library is quiet without.

    Returns
    -------
    Interdiction

    Raises
    ------
    NoRouteError
        No origin-market pair with flow, or no origin reaches a market.
    RoutesError
        Bad budget or objective, missing upgrade data, or no MILP solution in time.

    Examples
    --------
    >>> G = _toy()   # o -> xa -> m (risk 0.1 + 0.1), o -> xb -> m (0.2 + 0.1); upgrade +0.2
    >>> r = interdict_exact(G, 1.0)
    >>> r.posts, round(r.value, 4), r.route
    (('xa',), 0.3, ['o', 'xb', 'm'])
    >>> interdict_exact(G, 0.0).posts
    ()
    """
    _check(objective, budget)
    _check_formulation(formulation)
    return _exact(_Instance(G, cm, flows), objective, float(budget), formulation=formulation,
                  time_limit=time_limit, rel_tol=rel_tol, max_rounds=max_rounds,
                  progress=progress)


def _check_formulation(formulation: str) -> None:
    if formulation not in FORMULATIONS:
        raise RoutesError(f"unknown formulation {formulation!r}; choose one of "
                          f"{', '.join(FORMULATIONS)}")


def _exact(inst: _Instance, objective: str, budget: float, *, formulation: str,
           time_limit: float, rel_tol: float, max_rounds: int,
           start: np.ndarray | None = None, points: dict[int, set[float]] | None = None,
           greedy: Interdiction | None = None,
           progress: Callable[[str], None] | None = None) -> Interdiction:
    """:func:`interdict_exact` on an instance; ``greedy`` is its greedy solution if known."""
    x0 = inst.x0()
    if not inst.posts or (inst.cost > budget + 1e-12).all():   # nothing affordable
        return _result(inst, objective, "exact", budget, x0,
                       bound=inst.value(objective, x0)[0], optimal=True)
    if formulation == "tight":   # the greedy solution is the first incumbent
        greedy = greedy if greedy is not None else _greedy(inst, objective, budget)
        g = inst.x_of(greedy.posts)
        if start is None or inst.value(objective, g)[0] > inst.value(objective, start)[0]:
            start = g
    out = solve_exact(inst, objective, budget, formulation=formulation, time_limit=time_limit,
                      rel_tol=rel_tol, max_rounds=max_rounds, start=start, points=points,
                      progress=progress)
    best_x, best = out.x, out.value
    if not out.optimal:   # time limit: keep the greedy solution if it is better
        g_res = greedy if greedy is not None else _greedy(inst, objective, budget)
        if g_res.value > best:
            best_x, best = inst.x_of(g_res.posts), g_res.value
    best_x = _prune(inst, objective, best_x, best, rel_tol * max(1.0, abs(best)))
    log.info("interdiction exact %s (%s): budget %g, %d posts, value %.6g (bound %.6g, "
             "%d rounds)", objective, formulation, budget, int(best_x.sum()), best, out.bound,
             out.rounds)
    # Proven optimal: the bound is the value (the solver's own bound is within rel_tol of it
    # and may differ in its last digits between runs; outputs stay byte-identical).
    return _result(inst, objective, "exact", budget, best_x,
                   bound=best if out.optimal else out.bound, optimal=out.optimal,
                   rounds=out.rounds)


# --------------------------------------------------------------------------- heuristics
def interdict_greedy(G: nx.DiGraph, budget: float, *, objective: str = "single",
                     cm: CostModel | None = None,
                     flows: Mapping[tuple[Any, Any], float] | None = None) -> Interdiction:
    """Upgrade posts one at a time by the largest gain per unit cost (module notes).

    Each step evaluates every affordable post with the routes re-computed (Dijkstra) and
    takes the best ratio (ties by id; a free post with a gain comes first); it stops when no
    affordable post raises the objective. Same parameters and result as
    :func:`interdict_exact` (``bound`` is NaN, ``order`` the sequence chosen).

    Examples
    --------
    >>> r = interdict_greedy(_toy(), 2.0)
    >>> r.order, round(r.value, 4)
    (('xa', 'xb'), 0.4)
    """
    _check(objective, budget)
    return _greedy(_Instance(G, cm, flows), objective, float(budget))


def _greedy(inst: _Instance, objective: str, budget: float,
            memo: dict[tuple[str, bytes], Any] | None = None) -> Interdiction:
    """:func:`interdict_greedy` on an instance; ``memo`` caches evaluations across calls.

    Only posts on a least-risk route that counts (:meth:`_Instance.on_routes`) are tried: the
    others cannot change any distance that the objective reads, so their gain is exactly 0.
    """
    memo = {} if memo is None else memo

    def value(x: np.ndarray) -> float:
        key = ("value", x.tobytes())
        if key not in memo:
            memo[key] = inst.value(objective, x)[0]
        return float(memo[key])

    def candidates(x: np.ndarray) -> np.ndarray:
        key = ("on", x.tobytes())
        if key not in memo:
            memo[key] = np.nonzero(inst.on_routes(objective, x))[0]
        return np.asarray(memo[key])

    x = inst.x0()
    cur = value(x)
    left = float(budget)
    order: list[Any] = []
    eps = 1e-12 * max(1.0, abs(cur))
    while True:
        best_i, best_ratio, best_val = -1, 0.0, cur
        for i in candidates(x):
            if x[i] or inst.cost[i] > left + 1e-12:
                continue
            x[i] = 1.0
            val = value(x)
            x[i] = 0.0
            gain = val - cur
            if gain <= eps:
                continue
            ratio = math.inf if inst.cost[i] <= 0 else gain / inst.cost[i]
            if ratio > best_ratio:
                best_i, best_ratio, best_val = int(i), ratio, val
        if best_i < 0:
            break
        x[best_i] = 1.0
        left -= inst.cost[best_i]
        cur = best_val
        order.append(inst.posts[best_i])
    return _result(inst, objective, "greedy", budget, x, bound=math.nan, optimal=False,
                   order=order)


def interdict_brute_force(G: nx.DiGraph, budget: float, *, objective: str = "single",
                          cm: CostModel | None = None,
                          flows: Mapping[tuple[Any, Any], float] | None = None
                          ) -> Interdiction:
    """Enumerate every affordable set of posts (at most :data:`BRUTE_FORCE_MAX_POSTS` posts).

    The reference the exact solver is tested against: the best value, ties broken by fewer
    posts, then lower cost, then ids.
    """
    _check(objective, budget)
    inst = _Instance(G, cm, flows)
    P = len(inst.posts)
    if P > BRUTE_FORCE_MAX_POSTS:
        raise RoutesError(f"{P} candidate posts: brute force enumerates at most "
                          f"{BRUTE_FORCE_MAX_POSTS}")
    best_key: tuple[float, int, float] | None = None
    best_x = inst.x0()
    cheapest = np.concatenate([[0.0], np.cumsum(np.sort(inst.cost))])
    for size in range(P + 1):
        if cheapest[size] > budget + 1e-12:
            break
        for combo in itertools.combinations(range(P), size):
            c = float(inst.cost[list(combo)].sum())
            if c > budget + 1e-12:
                continue
            x = inst.x0()
            x[list(combo)] = 1.0
            key = (-inst.value(objective, x)[0], size, c)
            if best_key is None or key < best_key:
                best_key, best_x = key, x
    return _result(inst, objective, "brute_force", budget, best_x,
                   bound=inst.value(objective, best_x)[0], optimal=True)


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


# --------------------------------------------------------------------------- tables
def whole_budgets(G: nx.DiGraph, budget: float, *, cm: CostModel | None = None
                  ) -> list[float]:
    """Return the budgets ``0, 1, ..., floor(B)`` of a budget curve up to ``budget``.

    ``B`` is ``budget`` or, if smaller, the cost of upgrading every post (a larger budget
    buys nothing more), so the list is bounded by the data, not by the number asked for.

    Examples
    --------
    >>> whole_budgets(_toy(), 1e18)
    [0.0, 1.0, 2.0]
    """
    _check(OBJECTIVES[0], budget)
    top = min(float(budget), total_upgrade_cost(G, cm=cm))
    return [float(b) for b in range(int(math.floor(top)) + 1)]


def total_upgrade_cost(G: nx.DiGraph, *, cm: CostModel | None = None) -> float:
    """Return the cost of upgrading every post (the largest budget that can buy anything).

    Examples
    --------
    >>> total_upgrade_cost(_toy())
    2.0
    """
    return float(upgrade_table(G, cm)["upgrade_cost"].sum())


#: Columns of :func:`budget_curve`.
CURVE_COLUMNS = ("budget", "value", "p_undetected", "gain", "marginal_gain", "cost_used",
                 "gain_per_cost", "n_posts", "posts", "added", "removed", "optimal", "bound",
                 "greedy_value", "greedy_posts", "greedy_gap", "greedy_gap_pct")


def budget_curve(G: nx.DiGraph, budgets: Iterable[float] | float, *, method: str = "exact",
                 objective: str = "single", cm: CostModel | None = None,
                 flows: Mapping[tuple[Any, Any], float] | None = None,
                 time_limit: float = 60.0, formulation: str = "tight",
                 progress: Callable[[str], None] | None = None,
                 workers: int | None = None) -> pd.DataFrame:
    """Solve for every budget and tabulate value, posts, marginal gain and cost-effectiveness.

    Parameters
    ----------
    budgets : float or iterable of float
        A number ``B`` means ``0, 1, ..., floor(B)``, ``B`` at most the cost of upgrading
        every post (:func:`whole_budgets`).
    formulation : {"tight", "plain"}
        The MILP (:func:`interdict_exact`). Each budget starts from its greedy solution and
        depends on nothing else, so the table is the same whatever the order or the number
        of workers.
    progress : callable, optional
        Told one line per budget, in budget order, as it is solved
        (``"budget 3 (4 of 11): value ..."``).
    workers : int, optional
        Budgets solved at once (``"tight"``: threads, each with its own single-threaded
        HiGHS, which lets go of the GIL while it solves). Default :data:`CURVE_WORKERS`, at
        most the number of CPUs; 1 solves them one after another.

    Returns
    -------
    pandas.DataFrame
        One row per budget, columns ``budget``; ``value`` and ``p_undetected`` (see
        :class:`Interdiction`); ``gain`` over budget 0; ``marginal_gain`` over the previous
        budget; ``cost_used``; ``gain_per_cost`` (``gain / cost_used``); ``n_posts``,
        ``posts`` (";"-joined ids); ``added`` and ``removed`` against the previous row
        (optimal sets need not be nested); ``optimal``, ``bound``; with ``method="exact"``
        also the greedy solution, ``greedy_value``, ``greedy_posts``, ``greedy_gap``
        (``value - greedy_value``, never negative) and ``greedy_gap_pct`` (that gap in percent
        of the optimal gain; 0 when there is no gain).

    Examples
    --------
    >>> c = budget_curve(_toy(), 2)
    >>> c[["budget", "posts", "added"]].values.tolist()
    [[0.0, '', ''], [1.0, 'xa', 'xa'], [2.0, 'xa;xb', 'xb']]
    """
    return budget_curve_solutions(G, budgets, method=method, objective=objective, cm=cm,
                                  flows=flows, time_limit=time_limit, formulation=formulation,
                                  progress=progress, workers=workers)[0]


def budget_curve_solutions(G: nx.DiGraph, budgets: Iterable[float] | float, *,
                           method: str = "exact", objective: str = "single",
                           cm: CostModel | None = None,
                           flows: Mapping[tuple[Any, Any], float] | None = None,
                           time_limit: float = 60.0, formulation: str = "tight",
                           progress: Callable[[str], None] | None = None,
                           workers: int | None = None
                           ) -> tuple[pd.DataFrame, dict[float, Interdiction]]:
    """Return :func:`budget_curve`'s table and the solution of each budget, keyed by budget.

    For callers that need both the curve and a solution on it (the report), so that no
    budget is solved twice. ``progress``, if given, is called once for each budget, in budget
    order, as soon as it and the budgets before it are solved. ``workers``: see
    :func:`budget_curve`.

    Examples
    --------
    >>> curve, sols = budget_curve_solutions(_toy(), 2)
    >>> sorted(sols), list(sols[2.0].posts) == curve["posts"].iloc[-1].split(";")
    ([0.0, 1.0, 2.0], True)
    """
    if isinstance(budgets, int | float):
        _check(objective, float(budgets))
        budgets = whole_budgets(G, budgets, cm=cm)
    budgets = [float(b) for b in budgets]
    for b in budgets:
        _check(objective, b)
    if method not in METHODS:
        raise RoutesError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    _check_formulation(formulation)
    inst = _Instance(G, cm, flows)
    memo: dict[tuple[str, bytes], Any] = {}     # greedy evaluations, shared by the budgets
    greedy = {b: _greedy(inst, objective, b, memo) for b in budgets}

    def solve(b: float) -> Interdiction:   # depends on the budget only: any order, any thread
        if method == "greedy":
            return greedy[b]
        return _exact(inst, objective, b, formulation=formulation, time_limit=time_limit,
                      rel_tol=1e-7, max_rounds=50, greedy=greedy[b])

    n = _curve_workers(workers, method, formulation, len(budgets))
    pool = ThreadPoolExecutor(n) if n > 1 else None
    try:
        if pool is not None:   # the costliest (largest) budgets first
            futures = {b: pool.submit(solve, b) for b in sorted(set(budgets), reverse=True)}
        rows = []
        solutions: dict[float, Interdiction] = {}
        prev: Interdiction | None = None
        for k, b in enumerate(budgets):
            g = greedy[b]
            r = futures[b].result() if pool is not None else solve(b)
            solutions[b] = r
            rows.append(_curve_row(method, b, r, g, prev))
            prev = r
            if progress is not None:
                progress(f"budget {b:g} ({k + 1} of {len(budgets)}): value {r.value:.4f}"
                         f"{'' if r.optimal or method == 'greedy' else ' (not proven optimal)'}"
                         f", {len(r.posts)} posts")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    cols = list(CURVE_COLUMNS if method == "exact" else CURVE_COLUMNS[:-4])
    return pd.DataFrame(rows, columns=cols), solutions


def _curve_workers(workers: int | None, method: str, formulation: str, n_budgets: int) -> int:
    """How many budgets of a curve to solve at once (threads; see :func:`budget_curve`)."""
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise RoutesError(f"workers must be a whole number >= 1, got {workers!r}")
    if method != "exact" or formulation != "tight":   # greedy is quick; scipy holds the GIL
        return 1
    n = min(CURVE_WORKERS, os.cpu_count() or 1) if workers is None else workers
    return max(1, min(n, n_budgets))


def _curve_row(method: str, b: float, r: Interdiction, g: Interdiction,
               prev: Interdiction | None) -> dict[str, Any]:
    """One row of :func:`budget_curve`: budget ``b``'s solution ``r`` (greedy ``g``)."""
    row: dict[str, Any] = {
        "budget": b, "value": r.value, "p_undetected": r.p_undetected,
        "gain": r.gain, "marginal_gain": r.value - (prev.value if prev else r.base_value),
        "cost_used": r.cost, "gain_per_cost": r.gain / r.cost if r.cost > 0 else math.nan,
        "n_posts": len(r.posts), "posts": ";".join(r.posts),
        "added": ";".join(p for p in r.posts if prev is None or p not in prev.posts),
        "removed": ";".join(p for p in (prev.posts if prev else ()) if p not in r.posts),
        "optimal": r.optimal, "bound": r.bound}
    if method == "exact":
        gap = max(r.value - g.value, 0.0)
        row.update(greedy_value=g.value, greedy_posts=";".join(g.order), greedy_gap=gap,
                   greedy_gap_pct=100.0 * gap / r.gain if r.gain > 0 else 0.0)
    return row


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
    inst = _Instance(G, cm, flows)
    base = inst.value(objective, inst.x0())[0]
    gains = [inst.value(objective, inst.x_of([p]))[0] - base for p in inst.posts]
    df = inst.upgrades[["upgrade_cost", "delta_risk"]].copy()
    df["gain"] = gains
    with np.errstate(divide="ignore", invalid="ignore"):
        df["gain_per_cost"] = np.where(df["upgrade_cost"] > 0,
                                       df["gain"] / df["upgrade_cost"].where(
                                           df["upgrade_cost"] > 0, 1.0), np.inf)
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
    inst = _Instance(G, cm, flows)
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


def _toy() -> nx.DiGraph:
    """Two parallel crossings between an origin and a market (for the doctests)."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0, demand=0.0)
    G.add_node("m", kind="place", role="market", supply=0.0, demand=1.0)
    for x, leg in (("xa", 0.0), ("xb", 0.1)):
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=-math.expm1(-0.1),
                   crossing_risk=0.1, p_detect_upgraded=-math.expm1(-0.3), upgrade_cost=1.0)
        G.add_edge("o", x, risk=leg + 0.1)
        G.add_edge(x, "m", risk=0.1)
    return G
