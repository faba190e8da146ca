"""Rules of the interdiction MILPs that the optimum does not show (routes.priorities._milp*).

Each test names the rule it pins. Most are about time to answer: the tight model's pair
bounds stop searching once they can, its HiGHS options and warm start reach the solver.
They read the solver's inputs through a spy (the solver itself still runs) or the route
cache that :func:`routes.priorities._milp_tight._pair_bound` keeps on the instance.
"""

from __future__ import annotations

import math
import os

import networkx as nx
import numpy as np
import pytest

from routes.costs import risk_from_p
from routes.priorities import _milp, _milp_solve, _milp_tight
from routes.priorities._instance import _Instance, _toy
from routes.priorities._milp_plain import PlainMilp
from routes.priorities.interdiction import interdict_brute_force, interdict_exact
from test_interdiction import _ends, _post, random_instance


# --------------------------------------------------------------------------- pair bounds
def test_the_level_bound_counts_a_set_costing_the_budget_plus_its_slack():
    """Rule: the pair bound's budget slack (1e-9) is inclusive. One route of risk 1.0 whose
    only post adds 0.3 and costs exactly 2.5 + 1e-9: with budget 2.5 the post is affordable
    and the level is 1.3 (a looser bound is still a bound; a set that the solver accepts
    within its tolerance must not be left out); 1e-9 more is not affordable."""
    route = _milp_tight._Raise(np.array([0.3]), np.array([2.5 + 1e-9]))
    assert _milp_tight._level([(1.0, route)], 2.5) == 1.3
    dear = _milp_tight._Raise(np.array([0.3]), np.array([2.5 + 2e-9]))
    assert _milp_tight._level([(1.0, dear)], 2.5) == 1.0


@pytest.mark.parametrize(("routes", "budget", "level", "steps"),
                         [((1.0, 1.2), 3.0, 1.25, 52), ((1.0,), 2.5, 1.25, 52)])
def test_the_bisection_stops_when_the_interval_can_shrink_no_more(monkeypatch, routes,
                                                                   budget, level, steps):
    """Rule (time): routes too long to enumerate (14 posts of 0.1 at cost 1) are lifted by
    bisection, which stops as soon as the midpoint is an end of the interval (float
    resolution), here after 52 steps, not after all of its 64 (the level is the same)."""
    calls = [0]
    cost = _milp_tight._Raise.cost

    def counted(self, g):
        calls[0] += 1
        return cost(self, g)

    monkeypatch.setattr(_milp_tight._Raise, "cost", counted)
    rs = [(r, _milp_tight._Raise(np.full(14, 0.1), np.ones(14))) for r in routes]
    assert _milp_tight._level(rs, budget) == pytest.approx(level, abs=1e-9)
    # one evaluation of every route at the top, then one per bisection step
    assert calls[0] == len(routes) * (1 + steps)


def _route_cache(G: nx.DiGraph, budget: float):
    inst = _Instance(G, None, None)
    o, m = inst.index["o"], inst.index["m"]
    level = _milp_tight._pair_bound(inst, o, m, budget)
    routes, _, done, _ = inst.__dict__["_milp_routes"][(o, m)]
    return level, [length for length, _ in routes], done


def _one_post(G: nx.DiGraph) -> float:
    """o -> x -> m (0.2 + 0.1), x adding ``delta`` (returned) for cost 1."""
    _ends(G, {"o": 1.0}, {"m": 1.0})
    _post(G, "x", 0.15, 0.5, 1.0)
    G.add_edge("o", "x", risk=0.2)
    G.add_edge("x", "m", risk=0.1)
    return risk_from_p(0.5) - risk_from_p(0.15)


def test_the_search_for_routes_ends_at_a_route_no_upgrade_can_lift():
    """Rule (time): a post-disjoint route without posts ends a pair's search for routes (it
    is kept as done for every later budget). o -> x -> m (0.3, x adds 0.53 for 1) and a
    detour o -> d -> m of 0.7 without posts: budget 5 lifts the first route above the
    detour, so the detour is found, and the bound is 0.7; the search does not look again."""
    G = nx.DiGraph()
    _one_post(G)
    G.add_edge("o", "d", risk=0.3)
    G.add_edge("d", "m", risk=0.4)
    level, lengths, done = _route_cache(G, 5.0)
    assert level == pytest.approx(0.7) and lengths == pytest.approx([0.3, 0.7])
    assert done is True


def test_the_search_for_routes_ends_when_the_market_is_cut_off():
    """Rule (time): when closing the posts of the routes found leaves no route, the pair's
    search ends for every later budget. One route o -> x -> m: the budget lifts it fully."""
    G = nx.DiGraph()
    delta = _one_post(G)
    level, lengths, done = _route_cache(G, 5.0)
    assert level == pytest.approx(0.3 + delta) and lengths == pytest.approx([0.3])
    assert done is True


# --------------------------------------------------------------------------- solver inputs
def test_the_tight_model_hands_highs_its_options_and_warm_start(monkeypatch):
    """Rule (time): the tight model's solve passes the incumbent (the greedy solution) as a
    warm start, and the search options :data:`HIGHS_OPTIONS` for the "flow" objective only
    ("single" keeps HiGHS's defaults, faster there). On the toy, budget 1: greedy and the
    optimum both upgrade xa."""
    seen: list[tuple[object, object]] = []
    real = _milp_tight._solve_highs

    def spy(*a):
        seen.append((a[11], a[12]))
        return real(*a)

    monkeypatch.setattr(_milp_tight, "_solve_highs", spy)
    for objective, options in (("flow", _milp_solve.HIGHS_OPTIONS), ("single", None)):
        seen.clear()
        r = interdict_exact(_toy(), 1.0, objective=objective)
        assert r.posts == ("xa",) and r.optimal
        assert seen and all(o is options for _, o in seen)
        assert np.array_equal(seen[0][0], [1.0, 0.0])    # xa, xb: the greedy solution



# --------------------------------------------------------------------------- model size
def test_the_plain_model_has_potentials_only_between_origins_and_markets():
    """Rule (the published model's size): potentials for the nodes that an origin reaches
    and that reach a market, nothing for a dead end. o -> x -> m with x a post, and o -> d
    where d leads nowhere: three potentials (o, x, m), one z (the one pair), one post."""
    G = nx.DiGraph()
    _one_post(G)
    G.add_edge("o", "d", risk=0.05)
    inst = _Instance(G, None, None)
    for objective in ("flow", "single"):
        model = PlainMilp(inst, objective, 1.0)
        assert (model.xcol0, model.ncol) == (4, 5)
        assert model.A.shape[0] == 2 + (objective == "single")   # o -> x, x -> m (z <= pi_m)


# --------------------------------------------------------------------------- the solvers
@pytest.mark.parametrize(("seed", "budget"), [(1, 2.0), (4, 3.0)])
def test_the_plain_solve_returns_the_solvers_bound_when_it_stops_at_its_gap(seed, budget):
    """Rule: the bound returned is HiGHS's dual bound, an upper bound on the optimum even
    when HiGHS stops at its relative gap (0.9 here) with a worse solution; the model's value
    of that solution is not one (random instances of tests/test_interdiction.py, "single":
    seed 1 at budget 2 stops at 1.697 below the optimum 1.858, seed 4 at budget 3 at 0.876
    below 1.130)."""
    G = random_instance(seed, directed=True, n_posts=6)
    inst = _Instance(G, None, None)
    best = interdict_brute_force(G, budget).value
    x, ub, solved = PlainMilp(inst, "single", budget).solve(60.0, 0.9)
    assert x is not None and solved
    assert ub >= best - 1e-9 and ub >= inst.value("single", x)[0]


class _Recorder:
    """A ``highspy.Highs`` that records the options and the start set on it, and the
    objective value it reports."""

    def __init__(self, h) -> None:
        self._h, self.options, self.start, self.fun = h, {}, None, None

    def setOptionValue(self, key, value):  # noqa: N802 (highspy's names)
        self.options[key] = value
        return self._h.setOptionValue(key, value)

    def setSolution(self, *a):  # noqa: N802
        self.start = a
        return self._h.setSolution(*a)

    def getInfo(self):  # noqa: N802
        info = self._h.getInfo()
        self.fun = info.objective_function_value
        return info

    def __getattr__(self, name):
        return getattr(self._h, name)


def _record(monkeypatch) -> list[_Recorder]:
    made: list[_Recorder] = []
    real = _milp_solve._highs

    def recording():
        made.append(_Recorder(real()))
        return made[-1]

    monkeypatch.setattr(_milp_solve, "_highs", recording)
    return made


def test_highs_is_told_the_time_limit_the_gap_and_the_options(monkeypatch):
    """Rule: the user's time limit and tolerance reach HiGHS as its ``time_limit`` and
    ``mip_rel_gap``, with one thread (:data:`HIGHS_COMMON`), the search options
    (:data:`HIGHS_OPTIONS`) for "flow" only, HiGHS's own output off, and the greedy
    solution (xa of xa, xb) as the start of the posts' columns, the last two."""
    made = _record(monkeypatch)
    for objective in ("flow", "single"):
        made.clear()
        r = interdict_exact(_toy(), 1.0, objective=objective, time_limit=7.5, rel_tol=3e-6)
        assert r.posts == ("xa",) and made
        for h in made:
            want = {"time_limit": 7.5, "mip_rel_gap": 3e-6, "threads": 1}
            if objective == "flow":
                want |= _milp_solve.HIGHS_OPTIONS
            assert h.options == want
            assert h.getOptionValue("output_flag")[1] is False
            n, idx, val = h.start
            assert n == 2 and list(idx) == [h.getNumCol() - 2, h.getNumCol() - 1]
            assert list(val) == [1.0, 0.0]


def test_the_bound_is_never_below_the_models_value_of_its_solution(monkeypatch):
    """Rule: HiGHS's dual bound may lie an ulp above its objective value (a minimum): the
    bound returned is then the model's value of the solution returned, not below it (seed
    10, directed, "flow", budget 1: -0.4029292244287711 against -0.40292922442877116)."""
    made = _record(monkeypatch)
    G = random_instance(10, directed=True, n_posts=6)
    x, ub, solved = _milp.TightMilp(_Instance(G, None, None), "flow", 1.0).solve(60.0, 1e-7)
    assert solved and len(made) == 1
    assert ub == -made[0].fun


def test_a_warm_start_is_solved_again_only_when_highs_mixes_it_up(monkeypatch):
    """Rule (time): a warm-started solve is solved again (without the start, with the same
    options) only when HiGHS reports a value that is not that of the columns it returns
    (HiGHS 1.16 on seed 2467, undirected, "flow", budget 1, start x2: once); a consistent
    answer (the toy) is not solved again."""
    again: list[tuple[object, object]] = []
    real = _milp_solve._solve_highs

    def spy(*a):   # only the solve again goes through the module's name
        again.append((a[11], a[12]))
        return real(*a)

    monkeypatch.setattr(_milp_solve, "_solve_highs", spy)
    G = random_instance(2467, directed=False, n_posts=5)
    inst = _Instance(G, None, None)
    out = _milp.solve_exact(inst, "flow", 1.0, start=inst.x_of(["x2"]))
    assert out.optimal and again == [(None, _milp_solve.HIGHS_OPTIONS)]
    again.clear()
    toy = _Instance(_toy(), None, None)
    out = _milp.solve_exact(toy, "flow", 1.0, start=toy.x_of(["xa"]))
    assert out.optimal and again == []


def test_a_tangent_row_touches_one_minus_exp_at_its_point():
    """Rule: the cut at ``a`` is the tangent of ``1 - exp(-d)`` at ``d = a``: tight there,
    above the curve elsewhere. For a z column whose distance is ``r + pi`` (a shared block,
    ``shift``), ``d = a`` is ``pi = a - r``. Columns: z0, pi0, z1, pi1; cuts at 0.4 (z0 on
    pi0) and at 0.9 (z1 on pi1, shifted by 0.25)."""
    T, rhs = _milp_solve._tangent_rows([(0, 1, 0.4), (2, 3, 0.9)], 4, {2: 0.25})
    assert T.shape == (2, 4)
    for row, (zc, pc, a, r) in enumerate([(0, 1, 0.4, 0.0), (2, 3, 0.9, 0.25)]):
        for d in (a, a - 0.3, a + 0.5):
            y = np.zeros(4)
            y[zc], y[pc] = -math.expm1(-d), d - r     # z on the curve at distance d
            tangent = -math.expm1(-a) + math.exp(-a) * (d - a)
            # row - rhs = curve - tangent: 0 at d = a, below 0 elsewhere
            assert (T @ y)[row] - rhs[row] == pytest.approx(-math.expm1(-d) - tangent,
                                                            abs=1e-15)
    assert _milp_solve._tangent_rows([], 4) is None


def test_the_first_solver_is_made_with_stdout_silenced_and_restored(monkeypatch, capfd):
    """Rule: HiGHS prints its banner when the process makes its first solver, before any
    option: that one is made with the C-level stdout sent to the null device, then stdout
    is restored and the saved descriptor closed (no descriptor leaks)."""
    monkeypatch.setattr(_milp_solve, "_BANNER_SHOWN", False)
    fds = set(os.listdir("/proc/self/fd"))
    h = _milp_solve._highs()
    assert h.getOptionValue("output_flag")[1] is False and _milp_solve._BANNER_SHOWN
    print("after", flush=True)
    assert capfd.readouterr().out == "after\n"
    assert set(os.listdir("/proc/self/fd")) == fds
