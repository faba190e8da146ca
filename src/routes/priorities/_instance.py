"""The interdiction instance and result types that every solver shares.

:class:`_Instance` (the network reduced to posts, pairs and arrays), :class:`Interdiction`
(a solution), the upgrade table and the checks; moved from :mod:`.interdiction` unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
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

__all__ = ["OBJECTIVES", "METHODS", "UPGRADE_COLUMNS", "Interdiction", "upgrade_table"]

#: What the planner maximises (module notes).
OBJECTIVES = ("single", "flow")
#: How the posts are chosen.
METHODS = ("exact", "greedy")
#: Columns of :func:`upgrade_table`.
UPGRADE_COLUMNS = ("name", "country_a", "country_b", "status", "crossing_class", "p_detect",
                   "p_detect_upgraded", "upgrade_cost", "risk_factor", "crossing_risk",
                   "delta_risk")


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


def objective_flows(G: nx.DiGraph, flows: Mapping[tuple[Any, Any], float] | None,
                    objective: str) -> Mapping[tuple[Any, Any], float] | None:
    """Return the pairs an objective reads: for ``"single"``, those leaving an origin.

    The onward legs from wholesale hubs (:mod:`routes.network`) are ordinary pairs for the
    ``"flow"`` objective (each leg a consignment), but the ``"single"`` objective asks for
    the least risk of reaching a market from where the opiates are produced: a journey
    through a hub is at least as risky as its first leg, so the onward legs leave the
    least risk unchanged when the hub is a market, and are left out. Given ``flows`` are used
    as they are.
    """
    if flows is not None or objective != "single":
        return flows
    return {p: f for p, f in od_demand(G).items() if G.nodes[p[0]].get("role") == "origin"}


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


def _toy() -> nx.DiGraph:
    """Two parallel crossings between an origin and a market (for the doctests)."""
    G = nx.DiGraph()
    # equivalent mutants: another kind for a place (only a crossing's kind is read)
    G.add_node("o", kind="place", role="origin", supply=1.0, demand=0.0)
    # equivalent mutants: another kind for a place (only a crossing's kind is read)
    G.add_node("m", kind="place", role="market", supply=0.0, demand=1.0)
    for x, leg in (("xa", 0.0), ("xb", 0.1)):
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=-math.expm1(-0.1),
                   crossing_risk=0.1, p_detect_upgraded=-math.expm1(-0.3), upgrade_cost=1.0)
        G.add_edge("o", x, risk=leg + 0.1)
        G.add_edge(x, "m", risk=0.1)
    return G
