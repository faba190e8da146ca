"""Security against legitimate trade: the exact Pareto front of posts under a budget.

Two objectives over the affordable post sets ``x`` (``sum upgrade_cost x <= budget``): the
expected detected share of the trafficked flow (``"flow"`` of
:mod:`routes.priorities.interdiction`, traffickers re-routing), to maximise; and the added cost
to legitimate traffic, ``sum_v legit_v x_v`` in USD per day (:mod:`routes.priorities.legit`), to
minimise. Legitimate traffic does not re-route, so its cost is additive over posts.

The front is found by the epsilon-constraint method [1]_ over the same exact MILP as
``routes priorities --objective flow``: the first point is that solve itself (so its detected
share is the same number); each next point maximises detection subject to
``legit(x) <= legit(previous) - step``, until the added cost reaches 0, each solve starting
from the previous point with posts dropped until it fits. Every point is proven optimal for
its constraint (``optimal``); points dominated by another (no more detection at no less cost)
are removed. ``step`` is :data:`EPS_STEP` of the largest cost of one post: two sets whose costs
differ by less are treated as tied (the solver's tolerances would not tell them apart).

References
----------
.. [1] Y. Y. Haimes, L. S. Lasdon and D. A. Wismer, "On a bicriterion formulation of the
   problems of integrated system identification and system optimization", IEEE Transactions
   on Systems, Man, and Cybernetics 1(3), 296-297, 1971.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import RoutesError
from ..costs import CostModel
from ._instance import _check, _Instance, _prune
from ._milp import solve_exact
from .curves import curve_budgets
from .exact import _exact

__all__ = [
    "FrontPoint",
    "PARETO_COLUMNS",
    "EPS_STEP",
    "pareto_front",
    "pareto_fronts",
    "pareto_brute_force",
    "front_table",
    "knee_point",
    "legit_of_posts",
]

log = logging.getLogger(__name__)

#: The epsilon step, as a share of the largest legitimate cost of one post (module notes);
#: tried 10 and 100 times larger when the solver's feasibility tolerance (1e-6) lets a
#: solution through at the previous cost.
EPS_STEP = 1e-5
PARETO_COLUMNS = ("budget", "detected_share", "legit_delay_h_per_day", "legit_cost_usd_per_day",
                  "posts", "optimal", "cost", "n_posts", "knee", "imputed_posts")


@dataclass(frozen=True)
class FrontPoint:
    """One point of the front: the posts, their detected share, delay and cost."""

    budget: float
    posts: tuple[str, ...]
    detected_share: float
    legit_cost_usd_per_day: float
    legit_delay_h_per_day: float
    cost: float
    optimal: bool


def legit_of_posts(delays: pd.DataFrame, posts: Iterable[Any]) -> tuple[float, float]:
    """``(USD per day, hours per day)`` of upgrading ``posts``: sums of the delay table.

    Examples
    --------
    >>> d = pd.DataFrame({"cost_usd_per_day": [10.0, 2.5], "delay_h_per_day": [1.0, 0.25]},
    ...                  index=["a", "b"])
    >>> legit_of_posts(d, ["a", "b"])
    (12.5, 1.25)
    """
    ps = [p for p in posts if p in delays.index]
    return (float(delays.loc[ps, "cost_usd_per_day"].sum()),
            float(delays.loc[ps, "delay_h_per_day"].sum()))


def _vectors(inst: _Instance, delays: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    # equivalent mutants: dtype None (the columns are numbers; every use below is float)
    usd = delays["cost_usd_per_day"].reindex(inst.posts).fillna(0.0).to_numpy(dtype=float)
    hrs = delays["delay_h_per_day"].reindex(inst.posts).fillna(0.0).to_numpy(dtype=float)
    return usd, hrs


def _point(inst: _Instance, budget: float, x: np.ndarray, usd: np.ndarray, hrs: np.ndarray,
           optimal: bool) -> FrontPoint:
    on = x > 0.5
    return FrontPoint(budget=float(budget),
                      posts=tuple(p for p, o in zip(inst.posts, on) if o),
                      detected_share=inst.value("flow", x)[0],
                      legit_cost_usd_per_day=float(usd[on].sum()),
                      legit_delay_h_per_day=float(hrs[on].sum()),
                      cost=float(inst.cost[on].sum()), optimal=optimal)


def _nondominated(points: list[FrontPoint]) -> list[FrontPoint]:
    """Drop points with no more detection at no less cost than another (ties: first kept)."""
    keep: list[FrontPoint] = []
    for i, p in enumerate(points):
        dom = False
        for j, q in enumerate(points):
            if i == j:
                continue
            better_or_eq = (q.detected_share >= p.detected_share
                            and q.legit_cost_usd_per_day <= p.legit_cost_usd_per_day)
            strictly = (q.detected_share > p.detected_share
                        or q.legit_cost_usd_per_day < p.legit_cost_usd_per_day)
            if better_or_eq and (strictly or j < i):
                dom = True
                break
        if not dom:
            keep.append(p)
    return sorted(keep, key=lambda p: (-p.detected_share, p.legit_cost_usd_per_day))


def pareto_front(G: nx.DiGraph, budget: float, delays: pd.DataFrame, *,
                 cm: CostModel | None = None,
                 flows: Mapping[tuple[Any, Any], float] | None = None,
                 time_limit: float = 60.0, rel_tol: float = 1e-7, max_points: int = 200,
                 progress: Callable[[str], None] | None = None,
                 _inst: _Instance | None = None) -> list[FrontPoint]:
    """Return the exact front of detected share against legitimate cost at one budget.

    Parameters
    ----------
    G : networkx.DiGraph
        The route network, as for :func:`routes.priorities.interdiction.interdict_exact`.
    budget : float
        In upgrade-cost units.
    delays : pandas.DataFrame
        :func:`routes.priorities.legit.post_delays`: ``cost_usd_per_day`` and
        ``delay_h_per_day`` by post id (posts not in it cost nothing).
    time_limit, rel_tol : float
        Per MILP solve, as for ``interdict_exact``.
    max_points : int
        Most epsilon-constraint solves.
    progress : callable, optional
        Told one line per point.

    Returns
    -------
    list of FrontPoint
        Non-dominated, most-detecting first.

    Examples
    --------
    >>> from routes.priorities._instance import _toy
    >>> d = pd.DataFrame({"cost_usd_per_day": [5.0, 1.0], "delay_h_per_day": [2.0, 0.5]},
    ...                  index=["xa", "xb"])
    >>> [(p.posts, round(p.detected_share, 4), p.legit_cost_usd_per_day)
    ...  for p in pareto_front(_toy(), 1.0, d)]
    [(('xa',), 0.2592, 5.0), ((), 0.1813, 0.0)]
    """
    _check("flow", budget)
    inst = _inst if _inst is not None else _Instance(G, cm, flows)
    usd, hrs = _vectors(inst, delays)
    if (usd < 0).any() or not np.isfinite(usd).all():
        raise RoutesError("the legitimate cost of every post must be a finite number >= 0")
    shared: dict[int, set[float]] = {}
    first = _exact(inst, "flow", float(budget), time_limit=time_limit, rel_tol=rel_tol,
                   # equivalent mutant: points dropped (shared tangent points: time only)
                   max_rounds=50, points=shared)
    x = inst.x_of(first.posts)
    points = [_point(inst, budget, x, usd, hrs, first.optimal)]
    # equivalent mutant: another unit without posts (the first point then costs 0: no loop)
    unit = float(usd.max()) if len(usd) else 0.0
    if progress is not None:
        progress(f"budget {budget:g}: point 1, detected {points[0].detected_share:.6f}, "
                 f"USD {points[0].legit_cost_usd_per_day:,.0f}/day")
    while unit > 0 and points[-1].legit_cost_usd_per_day > 0 and len(points) < max_points:
        p = None
        for step in (EPS_STEP, EPS_STEP * 10, EPS_STEP * 100):
            eps = points[-1].legit_cost_usd_per_day / unit - step
            if eps < 0:
                break
            start = _repair(inst, x, usd / unit, eps)
            out = solve_exact(inst, "flow", float(budget), time_limit=time_limit,
                              rel_tol=rel_tol, max_rounds=50,
                              points=shared, start=start, side=(usd / unit, eps))
            xn = _prune(inst, "flow", out.x, out.value, rel_tol * max(1.0, abs(out.value)))
            q = _point(inst, budget, xn, usd, hrs, out.optimal)
            if q.legit_cost_usd_per_day < points[-1].legit_cost_usd_per_day:
                p, x = q, xn
                break
            log.debug("the solution broke the epsilon constraint by the solver's tolerance: "
                      "a larger step")
        if p is None:
            break
        points.append(p)
        if progress is not None:
            progress(f"budget {budget:g}: point {len(points)}, detected "
                     f"{p.detected_share:.6f}, USD {p.legit_cost_usd_per_day:,.0f}/day")
    return _nondominated(points)


def _repair(inst: _Instance, x: np.ndarray, a: np.ndarray, eps: float) -> np.ndarray:
    """Return a start within ``a x <= eps`` (a feasible incumbent for the next solve).

    Drops from ``x`` the post losing least detection per unit of ``a`` saved, until it fits.
    """
    x = x.copy()
    while a @ x > eps and x.any():
        best, pick = -math.inf, -1
        base = inst.value("flow", x)[0]
        for i in np.nonzero(x > 0.5)[0]:
            x[i] = 0.0
            score = (inst.value("flow", x)[0] - base) / max(a[i], 1e-300)
            x[i] = 1.0
            if score > best:
                best, pick = score, int(i)
        x[pick] = 0.0
    return x


def pareto_fronts(G: nx.DiGraph, budget: float, delays: pd.DataFrame, *,
                  cm: CostModel | None = None,
                  flows: Mapping[tuple[Any, Any], float] | None = None,
                  every_budget: bool = True, time_limit: float = 60.0, rel_tol: float = 1e-7,
                  progress: Callable[[str], None] | None = None) -> list[FrontPoint]:
    """Return the fronts at each budget up to ``budget`` (``every_budget``) or at it alone.

    The budgets up to ``budget`` are those of the priorities' budget curve
    (:func:`routes.priorities.curves.curve_budgets` without 0): the whole budgets ``1..B``
    and ``B`` itself when it is not whole, or evenly spaced budgets when that is too many,
    where ``B`` is at most the cost of upgrading every post, so a huge budget stays bounded.
    ``progress`` is told as each budget starts, then each point of its front.
    """
    inst = _Instance(G, cm, flows)
    budgets = [b for b in curve_budgets(G, budget, cm=cm) if b > 0] if every_budget \
        else [float(budget)]
    budgets = budgets or [0.0]  # budget 0 (or nothing to upgrade): the empty set alone
    out: list[FrontPoint] = []
    for i, b in enumerate(budgets, 1):
        if progress is not None and len(budgets) > 1:
            progress(f"front at budget {b:g} ({i} of {len(budgets)})")
        out += pareto_front(G, b, delays, time_limit=time_limit, rel_tol=rel_tol,
                            progress=progress, _inst=inst)
    return out


def pareto_brute_force(G: nx.DiGraph, budget: float, delays: pd.DataFrame, *,
                       cm: CostModel | None = None,
                       flows: Mapping[tuple[Any, Any], float] | None = None
                       ) -> list[FrontPoint]:
    """Return the front by enumerating every affordable post set (small instances only)."""
    inst = _Instance(G, cm, flows)
    usd, hrs = _vectors(inst, delays)
    P = len(inst.posts)
    if P > 20:
        raise RoutesError(f"{P} posts: too many to enumerate")
    pts = []
    for k in range(P + 1):
        for S in itertools.combinations(range(P), k):
            x = inst.x0()
            x[list(S)] = 1.0
            if inst.cost[list(S)].sum() <= budget + 1e-12:
                pts.append(_point(inst, budget, x, usd, hrs, True))
    return _nondominated(pts)


def knee_point(points: list[FrontPoint]) -> int | None:
    """Return the index of the knee: the point farthest from the line between the front's two ends.

    Both axes are scaled to [0, 1] over the front; ``None`` with fewer than 3 points.

    Examples
    --------
    >>> mk = lambda d, c: FrontPoint(1.0, (), d, c, c, 0.0, True)
    >>> knee_point([mk(0.5, 100.0), mk(0.45, 10.0), mk(0.1, 0.0)])
    1
    """
    if len(points) < 3:
        return None
    d = np.array([p.detected_share for p in points])
    c = np.array([p.legit_cost_usd_per_day for p in points])
    dn = (d - d.min()) / (np.ptp(d) or 1.0)
    cn = (c - c.min()) / (np.ptp(c) or 1.0)
    (x0, y0), (x1, y1) = (cn[0], dn[0]), (cn[-1], dn[-1])
    L = math.hypot(x1 - x0, y1 - y0) or 1.0
    dist = np.abs((x1 - x0) * (y0 - dn) - (x0 - cn) * (y1 - y0)) / L
    i = int(np.argmax(dist))
    return i if 0 < i < len(points) - 1 else None


def front_table(points: list[FrontPoint], delays: pd.DataFrame) -> pd.DataFrame:
    """Return the fronts as :data:`PARETO_COLUMNS` (posts joined by ``;``; knees marked)."""
    rows = []
    for b in sorted({p.budget for p in points}):
        pts = [p for p in points if p.budget == b]
        k = knee_point(pts)
        for i, p in enumerate(pts):
            imp = [q for q in p.posts if q in delays.index and bool(delays.at[q, "imputed"])]
            rows.append({"budget": b, "detected_share": p.detected_share,
                         "legit_delay_h_per_day": p.legit_delay_h_per_day,
                         "legit_cost_usd_per_day": p.legit_cost_usd_per_day,
                         "posts": ";".join(p.posts), "optimal": p.optimal, "cost": p.cost,
                         "n_posts": len(p.posts), "knee": i == k,
                         "imputed_posts": ";".join(imp)})
    return pd.DataFrame(rows, columns=list(PARETO_COLUMNS))
