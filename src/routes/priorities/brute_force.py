"""Interdiction by trying every affordable set of posts (a check of the others)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import combinations
from typing import Any

import networkx as nx
import numpy as np

from .._errors import RoutesError
from ..costs import CostModel
from ._instance import Interdiction, _check, _Instance, _result, objective_flows

__all__ = ["BRUTE_FORCE_MAX_POSTS", "interdict_brute_force"]

#: Most candidate posts :func:`interdict_brute_force` enumerates.
BRUTE_FORCE_MAX_POSTS = 22


def interdict_brute_force(G: nx.DiGraph, budget: float, *, objective: str = "single",
                          cm: CostModel | None = None,
                          flows: Mapping[tuple[Any, Any], float] | None = None
                          ) -> Interdiction:
    """Enumerate every affordable set of posts (at most :data:`BRUTE_FORCE_MAX_POSTS` posts).

    The reference the exact solver is tested against: the best value, ties broken by fewer
    posts, then lower cost, then ids.
    """
    _check(objective, budget)
    inst = _Instance(G, cm, objective_flows(G, flows, objective))
    P = len(inst.posts)
    if P > BRUTE_FORCE_MAX_POSTS:
        raise RoutesError(f"{P} candidate posts: brute force enumerates at most "
                          f"{BRUTE_FORCE_MAX_POSTS}")
    limit = budget + 1e-12   # a set within 1e-12 of the budget is affordable (float sums)
    # The sizes stop at the first one whose cheapest set is over the budget: no larger set is
    # affordable, so the loop never enumerates sets the budget cannot buy (up to 2**22).
    cheapest = np.concatenate([[0.0], np.cumsum(np.sort(inst.cost))])

    def affordable() -> Iterator[tuple[tuple[float, int, float], np.ndarray]]:
        for size in range(P + 1):
            if cheapest[size] > limit:
                return
            for combo in combinations(range(P), size):
                c = float(inst.cost[list(combo)].sum())
                if c <= limit:
                    x = inst.x0()
                    x[list(combo)] = 1.0
                    yield (-inst.value(objective, x)[0], size, c), x

    # The first set of least key (the empty set, size 0, is always among them): the best
    # value, then fewer posts, then lower cost, then the first ids in enumeration order.
    best_x = min(affordable(), key=lambda kx: kx[0])[1]
    return _result(inst, objective, "brute_force", budget, best_x,
                   bound=inst.value(objective, best_x)[0], optimal=True)
