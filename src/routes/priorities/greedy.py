"""Greedy interdiction: the best value per cost, one post at a time."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from ..costs import CostModel
from ._instance import (
    Interdiction,
    _check,
    _Instance,
    _result,
    _toy,  # noqa: F401  (the doctests build their network with it)
    objective_flows,
)

__all__ = ["interdict_greedy"]


@dataclass
class _Memo:
    """Evaluations shared by greedy runs on one instance and objective (a curve's budgets).

    By upgrade vector (``x.tobytes()``): the objective's value, and the posts on a least-risk
    route that counts.
    """

    values: dict[bytes, float] = field(default_factory=dict)
    on_routes: dict[bytes, np.ndarray] = field(default_factory=dict)


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
    return _greedy(_Instance(G, cm, objective_flows(G, flows, objective)), objective, float(budget))


def _greedy(inst: _Instance, objective: str, budget: float,
            memo: _Memo | None = None) -> Interdiction:
    """:func:`interdict_greedy` on an instance; ``memo`` caches evaluations across calls.

    Only posts on a least-risk route that counts (:meth:`_Instance.on_routes`) are tried: the
    others cannot change any distance that the objective reads, so their gain is exactly 0.
    """
    memo = _Memo() if memo is None else memo

    def value(x: np.ndarray) -> float:
        key = x.tobytes()
        if key not in memo.values:
            memo.values[key] = inst.value(objective, x)[0]
        return memo.values[key]

    def candidates(x: np.ndarray) -> np.ndarray:
        key = x.tobytes()
        if key not in memo.on_routes:
            memo.on_routes[key] = np.nonzero(inst.on_routes(objective, x))[0]
        return memo.on_routes[key]

    x = inst.x0()
    cur = value(x)
    left = float(budget)
    order: list[Any] = []
    # A gain must beat float noise: 1e-12 of the value (at least of 1). Gains are differences
    # of exp(-risk) of order 1e-3 and more, so 2e-12 for 1e-12 is an equivalent mutant.
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
            # equivalent mutant (< for <=): they differ only for a gain equal to eps to the
            # last bit; a difference of two values of order 0.1-1 is a multiple of their ulp
            # (2**-56 or more), which 1e-12 (a float in steps of 2**-92) is not.
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
