"""Budget curves: the best value at each budget, and the budgets worth solving."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import networkx as nx
import pandas as pd

from .._errors import RoutesError
from ..costs import CostModel
from ._cancel import CancelScope, within
from ._instance import (
    METHODS,
    OBJECTIVES,
    Interdiction,
    _check,
    _Instance,
    _toy,  # noqa: F401  (the doctests build their network with it)
    objective_flows,
    upgrade_table,
)
from .exact import _check_formulation, _exact
from .greedy import _greedy, _Memo

__all__ = [
    "CURVE_WORKERS",
    "MAX_CURVE_BUDGETS",
    "MAX_STEP_BUDGETS",
    "curve_budgets",
    "whole_budgets",
    "total_upgrade_cost",
    "CURVE_COLUMNS",
    "budget_curve",
    "budget_curve_solutions",
]

#: Budgets of a curve solved at once by default (threads: HiGHS lets go of the GIL while it
#: solves, and each budget's solve depends on its budget only, so the table is the same for
#: any number of workers); at most the number of CPUs. Leaving a curve early (Ctrl-C, an
#: error) stops the solves still running (:mod:`routes.priorities._cancel`).
CURVE_WORKERS = 2

#: Most budgets a curve solves by default (one exact solve each). A larger range is sampled
#: at this many evenly spaced budgets from 0 to the requested budget, both included: the flow
#: objective's curve on the shipped network (0 to 222 in steps of 9.25) then took 66 s of CPU
#: time (most of it at 18.5, 27.75 and 37), where every whole budget (223 solves) was
#: estimated at about 40 minutes (issue 23).
MAX_CURVE_BUDGETS = 25
#: Most budgets an explicit ``step`` may ask for (a typo such as ``--step 1e-9`` would
#: otherwise ask for billions).
MAX_STEP_BUDGETS = 1000


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


def curve_budgets(G: nx.DiGraph, budget: float, *, step: float | None = None,
                  max_budgets: int = MAX_CURVE_BUDGETS, cm: CostModel | None = None
                  ) -> list[float]:
    """Return the budgets a curve up to ``budget`` solves: at most ``max_budgets`` by default.

    ``B`` is ``budget`` or, if smaller, the cost of upgrading every post
    (:func:`total_upgrade_cost`). Without ``step``: the whole budgets ``0, 1, ..., floor(B)``
    and ``B`` itself when it is not whole, if that makes at most ``max_budgets`` budgets;
    otherwise ``max_budgets`` evenly spaced budgets ``B * i / (max_budgets - 1)``, from 0 to
    ``B``. With ``step``: ``0, step, 2 step, ...`` below ``B``, then ``B``; at most
    :data:`MAX_STEP_BUDGETS`. Every budget's solution depends on its budget only, so a point
    of a sampled curve equals the same budget's point of the full curve.

    Raises
    ------
    RoutesError
        A budget or step that is not a finite number (step > 0), or a step that asks for
        more than :data:`MAX_STEP_BUDGETS` budgets.

    Examples
    --------
    >>> curve_budgets(_toy(), 1e18)
    [0.0, 1.0, 2.0]
    >>> curve_budgets(_toy(), 1.5)
    [0.0, 1.0, 1.5]
    >>> curve_budgets(_toy(), 2, max_budgets=2)
    [0.0, 2.0]
    >>> curve_budgets(_toy(), 2, step=0.75)
    [0.0, 0.75, 1.5, 2.0]
    """
    _check(OBJECTIVES[0], budget)
    if not (isinstance(max_budgets, int) and max_budgets >= 2):
        raise RoutesError(f"max_budgets must be a whole number >= 2, got {max_budgets!r}")
    top = min(float(budget), total_upgrade_cost(G, cm=cm))
    if step is not None:
        if not (isinstance(step, int | float) and math.isfinite(step) and step > 0):
            raise RoutesError(f"the budget step must be a number > 0, got {step!r}")
        count = math.ceil(top / step - 1e-9) + 1 if top > 0 else 1
        if count > MAX_STEP_BUDGETS:
            raise RoutesError(f"a step of {step:g} up to budget {top:g} makes {count} budgets; "
                              f"at most {MAX_STEP_BUDGETS}: choose a larger step")
        budgets = [i * float(step) for i in range(count) if i * step < top - 1e-9 * step]
        return [*budgets, top] if top > 0 else [0.0]
    whole = [float(b) for b in range(int(math.floor(top)) + 1)]
    if top > whole[-1]:
        whole.append(top)
    if len(whole) <= max_budgets:
        return whole
    return [top * i / (max_budgets - 1) for i in range(max_budgets)]


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


# The default time limits (60 s) bound the solver's time only: every network the tests solve
# takes well under a second, so 61 s for 60 s is an equivalent mutant.
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
        A number ``B`` means :func:`curve_budgets` ``(G, B)``: the whole budgets
        ``0, 1, ..., B`` (and ``B``), or :data:`MAX_CURVE_BUDGETS` evenly spaced budgets from
        0 to ``B`` when there would be more; ``B`` at most the cost of upgrading every post.
    formulation : {"tight", "plain"}
        The MILP (:func:`interdict_exact`). Each budget starts from its greedy solution and
        depends on nothing else, so the table is the same whatever the order or the number
        of workers.
    progress : callable, optional
        Told one line per budget, in budget order, as it is solved
        (``"budget 3 (4 of 11): value ..."``), with the exact method also the time so far and
        an estimate of the time left at the pace so far (``"; 12 s so far, about 30 s
        left"``).
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
        budgets = curve_budgets(G, budgets, cm=cm)
    budgets = [float(b) for b in budgets]
    for b in budgets:
        _check(objective, b)
    if method not in METHODS:
        raise RoutesError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    _check_formulation(formulation)
    inst = _Instance(G, cm, objective_flows(G, flows, objective))
    memo = _Memo()   # the greedy evaluations, shared by the budgets
    greedy = {b: _greedy(inst, objective, b, memo) for b in budgets}

    def solve(b: float) -> Interdiction:   # depends on the budget only: any order, any thread
        if method == "greedy":
            return greedy[b]
        return _exact(inst, objective, b, formulation=formulation, time_limit=time_limit,
                      rel_tol=1e-7, max_rounds=50, greedy=greedy[b])

    # Exact solves run in worker threads (one or more), so that the caller only waits on
    # futures: Ctrl-C reaches it at once, and leaving cancels the solves (_cancel).
    n = _curve_workers(workers, method, formulation, len(budgets))
    scope = CancelScope()

    def solve_in_scope(b: float) -> Interdiction:
        with within(scope):
            return solve(b)

    # How many threads, and in which order the budgets are submitted, change the time only
    # (tests/test_priorities_rules.py: two workers give one worker's table): mutants of the
    # worker count or of the submission order are equivalent mutants.
    pool = ThreadPoolExecutor(n) if method == "exact" else None
    try:
        if pool is not None:   # the costliest (largest) budgets first
            futures = {b: pool.submit(solve_in_scope, b)
                       for b in sorted(set(budgets), reverse=True)}
        rows = []
        solutions: dict[float, Interdiction] = {}
        prev: Interdiction | None = None
        t0 = time.perf_counter()
        for k, b in enumerate(budgets):
            g = greedy[b]
            r = futures[b].result() if pool is not None else solve(b)
            solutions[b] = r
            rows.append(_curve_row(method, b, r, g, prev))
            prev = r
            if progress is not None:
                progress(f"budget {b:g} ({k + 1} of {len(budgets)}): value {r.value:.4f}"
                         f"{'' if r.optimal or method == 'greedy' else ' (not proven optimal)'}"
                         f", {len(r.posts)} posts{_pace(method, t0, k + 1, len(budgets))}")
    except BaseException:   # KeyboardInterrupt too: stop the running solves, start no more
        scope.cancel()
        raise
    finally:
        if pool is not None:   # quick: nothing is left running once cancelled
            pool.shutdown(cancel_futures=True)
    cols = list(CURVE_COLUMNS if method == "exact" else CURVE_COLUMNS[:-4])
    return pd.DataFrame(rows, columns=cols), solutions


def _pace(method: str, t0: float, done: int, total: int) -> str:
    """Return ``"; 12 s so far, about 30 s left"`` for an exact curve (the rest at its pace).

    The budgets in the middle of a range usually take longest, so early estimates are low.
    """
    if method != "exact":
        return ""
    spent = time.perf_counter() - t0
    if done >= total:
        return f"; {spent:.0f} s in all"
    return f"; {spent:.0f} s so far, about {spent / done * (total - done):.0f} s left"


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
