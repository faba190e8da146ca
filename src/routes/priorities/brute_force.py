"""Interdiction by trying every affordable set of posts (a check of the others)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
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
    best_key: tuple[float, int, float] | None = None
    # The empty set is always affordable and enumerated first, so the initial best_x is
    # always replaced (a mutant of it is an equivalent mutant). ``cheapest`` only stops the
    # enumeration early: every set is checked against the budget below, so mutants of the
    # stop (its first entry, its comparison, its tolerance) enumerate more or the same, with
    # the same answer.
    best_x = inst.x0()
    cheapest = np.concatenate([[0.0], np.cumsum(np.sort(inst.cost))])
    for size in range(P + 1):
        if cheapest[size] > budget + 1e-12:   # equivalent mutant: a stop only (notes above)
            break
        for combo in itertools.combinations(range(P), size):
            c = float(inst.cost[list(combo)].sum())
            # equivalent mutant (>= for >): a set costing budget + 1e-12 to the last bit; with
            # costs of a few decimals no set does, and either way it lies within the tolerance.
            if c > budget + 1e-12:
                continue
            x = inst.x0()
            x[list(combo)] = 1.0
            key = (-inst.value(objective, x)[0], size, c)
            if best_key is None or key < best_key:
                best_key, best_x = key, x
    return _result(inst, objective, "brute_force", budget, best_x,
                   bound=inst.value(objective, best_x)[0], optimal=True)
