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
from routes.priorities import _milp, _milp_solve, _milp_tight, exact
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
    G.add_edge("m", "o", risk=0.2)      # into the origin (potential 0): no row
    inst = _Instance(G, None, None)
    for objective in ("flow", "single"):
        model = PlainMilp(inst, objective, 1.0)
        assert (model.xcol0, model.ncol) == (4, 5)
        assert model.A.shape[0] == 2 + (objective == "single")   # o -> x, x -> m (z <= pi_m)


def test_the_plain_single_bound_is_the_least_risk():
    """Rule: the plain "single" model's value is the least risk itself (z, weight 1): its
    bound, solved to 1e-7, is the brute-force optimum (seed 1, budget 2: 1.8579)."""
    G = random_instance(1, directed=True, n_posts=6)
    x, ub, solved = PlainMilp(_Instance(G, None, None), "single", 2.0).solve(60.0, 1e-7)
    assert solved and ub == pytest.approx(interdict_brute_force(G, 2.0).value, rel=1e-6)


def test_the_plain_solve_hands_scipy_the_time_limit_and_the_gap(monkeypatch):
    """Rule: the plain model's solve (scipy's HiGHS) is told the time limit and the gap."""
    seen = []
    real = _milp_solve.milp

    def spy(*a, **k):
        seen.append(dict(k["options"]))    # (scipy takes "disp" out)
        return real(*a, **k)

    monkeypatch.setattr(_milp_solve, "milp", spy)
    PlainMilp(_Instance(_toy(), None, None), "single", 1.0).solve(7.5, 3e-6)
    assert seen == [{"time_limit": 7.5, "mip_rel_gap": 3e-6, "disp": False}]


@pytest.mark.parametrize("model", [PlainMilp, _milp_tight.TightMilp])
def test_a_tangent_already_in_the_model_is_not_added_again(model):
    """Rule: tangents at distances already in the model are not added again, and
    ``add_tangents`` says so (0): the loop's test that a round can change nothing."""
    inst = _Instance(random_instance(11, directed=True, n_posts=6), None, None)
    m = model(inst, "flow", 2.0)
    D = inst.distances(inst.x0()) + 0.0123    # no window's end (the tight model's first)
    cuts = len(m.cuts)
    new = m.add_tangents(D)
    assert new == int(inst.connected.sum()) and len(m.cuts) == cuts + new
    assert m.add_tangents(D) == 0 and len(m.cuts) == cuts + new


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


# --------------------------------------------------------------------------- the loop
def test_a_round_is_reported_in_one_exact_line():
    """Rule: one progress line per round, value and bound to 6 digits. The toy, "flow",
    budget 1, from xa: one round, 1 - exp(-0.3) = 0.259182 both."""
    toy = _Instance(_toy(), None, None)
    lines: list[str] = []
    _milp.solve_exact(toy, "flow", 1.0, start=toy.x_of(["xa"]), progress=lines.append)
    assert lines == ["round 1: value 0.259182, bound 0.259182"]


def test_a_side_constraint_removes_solutions():
    """Rule: ``side = (a, e)`` adds ``a x <= e`` (the trade-off's epsilon constraint). The
    toy at budget 2 upgrades both posts (0.4 and 0.5: 1 - exp(-0.4)); with xb weighing 1
    against e = 0.5 only xa is left (1 - exp(-0.3))."""
    toy = _Instance(_toy(), None, None)
    both = _milp.solve_exact(toy, "flow", 2.0)
    assert list(both.x) == [1.0, 1.0] and both.value == pytest.approx(-math.expm1(-0.4))
    out = _milp.solve_exact(toy, "flow", 2.0, side=(np.array([0.0, 1.0]), 0.5))
    assert list(out.x) == [1.0, 0.0] and out.optimal
    assert out.value == pytest.approx(-math.expm1(-0.3))


def test_the_tangent_points_passed_are_shared():
    """Rule (time): ``points`` is where the model keeps its tangent points (shared across
    the trade-off's solves): the toy's one pair gets both ends of its window, 0.2 and 0.4."""
    points: dict[int, set[float]] = {}
    _milp.solve_exact(_Instance(_toy(), None, None), "flow", 2.0, points=points)
    assert points == {0: {0.2, 0.4}}


def _spy_models(monkeypatch) -> list[tuple[str, object]]:
    """Replace the two models by subclasses that log their tangents and solves."""
    events: list[tuple[str, object]] = []

    def logged(cls):
        class Logged(cls):
            def add_tangents(self, D):
                events.append((f"{cls.__name__} tangents", D.copy()))
                return super().add_tangents(D)

            def solve(self, time_limit, rel_gap, start=None, watch=None):
                events.append((f"{cls.__name__} solve", watch))
                return super().solve(time_limit, rel_gap, start, watch)
        return Logged

    monkeypatch.setattr(_milp, "TightMilp", logged(_milp_tight.TightMilp))
    monkeypatch.setattr(_milp, "PlainMilp", logged(PlainMilp))
    return events


def test_each_formulation_starts_from_its_own_tangents(monkeypatch):
    """Rules: "plain" solves the plain model, from tangents at no upgrade and at every
    upgrade; "tight" the tight model, from tangents at the incumbent's distances (flow),
    with the watch that stops a round at an over-valued solution (tight flow only)."""
    events = _spy_models(monkeypatch)
    toy = _Instance(_toy(), None, None)
    start = toy.x_of(["xa"])
    _milp.solve_exact(toy, "flow", 1.0, start=start)
    (kind, D), (solve, watch) = events[:2]
    assert kind == "TightMilp tangents" and np.array_equal(D, toy.distances(start))
    assert solve == "TightMilp solve" and callable(watch)
    events.clear()
    _milp.solve_exact(toy, "single", 1.0, start=start)
    assert events[0] == ("TightMilp solve", None)
    events.clear()
    _milp.solve_exact(toy, "flow", 1.0, formulation="plain", start=start)
    (k0, D0), (k1, D1), (solve, watch) = events[:3]
    assert (k0, k1, solve, watch) == ("PlainMilp tangents", "PlainMilp tangents",
                                      "PlainMilp solve", None)
    assert np.array_equal(D0, toy.distances(toy.x0()))
    assert np.array_equal(D1, toy.distances(np.ones(2)))


class _Scripted:
    """A model whose rounds return what a script says: ``(ub above the start's value,
    solved, tangents that refine adds, over-valuation shown to the watch or None)``."""

    def __init__(self, inst, objective, script) -> None:
        self.value = inst.value(objective, inst.x0())[0]
        self.script, self.solves = list(script), 0

    def add_tangents(self, D) -> int:
        return 0

    def refine(self, x) -> int:
        return self.script[self.solves - 1][2]

    def solve(self, time_limit, rel_gap, start=None, watch=None):
        gap, solved, _, over = self.script[self.solves]
        self.solves += 1
        if over is not None and watch is not None and watch(start, self.value + over):
            return start, self.value + gap, False
        return start, self.value + gap, solved


def _scripted(monkeypatch, objective, script, **kw):
    toy = _Instance(_toy(), None, None)
    model = _Scripted(toy, objective, script)
    monkeypatch.setattr(_milp, "TightMilp", lambda *a, **k: model)
    lines: list[str] = []
    out = _milp.solve_exact(toy, objective, 0.5, progress=lines.append, **kw)
    return model, out, lines


def test_the_flow_bound_is_the_least_of_the_rounds(monkeypatch):
    """Rule: every round's model relaxes the problem, so the flow bound is the least of the
    rounds' bounds, not the last one: 0.01 then 0.02 above the value gives 0.01."""
    model, out, _ = _scripted(monkeypatch, "flow", [(0.01, True, 1, None),
                                                    (0.02, True, 0, None)])
    assert model.solves == 2 and out.bound == pytest.approx(model.value + 0.01)
    assert not out.optimal


def test_a_solved_single_round_is_optimal(monkeypatch):
    """Rule: the "single" model is exact (no tangents): a round HiGHS solves is optimal,
    whatever is left of its own gap (here 1e-3), and the bound is HiGHS's."""
    model, out, _ = _scripted(monkeypatch, "single", [(1e-3, True, 0, None)])
    assert model.solves == 1 and out.optimal and out.bound == model.value + 1e-3


@pytest.mark.parametrize(("over", "stopped"), [(1.5e-7, True), (0.5e-7, False)])
def test_the_watch_stops_a_round_over_valued_by_more_than_the_tolerance(monkeypatch, over,
                                                                        stopped):
    """Rule: a solution that the model values more than ``rel_tol`` (1e-7) above its
    exact value (a share: the tolerance is absolute) stops the round when it adds
    tangents: 1.5e-7 above does, 0.5e-7 does not."""
    _, out, lines = _scripted(monkeypatch, "flow", [(1e-9, True, 1, over),
                                                    (1e-9, True, 0, None)])
    assert ("over-valued" in lines[0]) is stopped
    assert out.optimal


def test_the_rounds_stop_at_max_rounds(monkeypatch):
    """Rule: at most ``max_rounds`` solves, each adding tangents without closing the gap."""
    model, out, lines = _scripted(monkeypatch, "flow", [(0.01, True, 1, None)] * 3,
                                  max_rounds=2)
    assert model.solves == out.rounds == len(lines) == 2 and not out.optimal


def test_a_round_without_a_solution_ends_the_loop(monkeypatch):
    """Rule: a solve that finds no solution in time ends the loop: the best known ``x``
    (no upgrade here), not optimal, the bound of the rounds before (none: inf)."""
    monkeypatch.setattr(_Scripted, "solve", lambda self, *a, **k: (None, math.inf, False))
    model, out, lines = _scripted(monkeypatch, "flow", [])
    assert (out.rounds, out.optimal, out.bound, lines) == (1, False, math.inf, [])
    assert list(out.x) == [0.0, 0.0] and out.value == model.value


# --------------------------------------------------------------------------- the instance
def _two_markets() -> nx.DiGraph:
    """o -> x1 -> m1 (0.3 in all) and o -> x2 -> m2 (0.5), and a post x3 reached only after
    m1, on a zero-risk arc m1 -> x3 that leads back to o (x3 -> o)."""
    G = nx.DiGraph()
    _ends(G, {"o": 1.0}, {"m1": 1.0, "m2": 2.0})
    for x in ("x1", "x2", "x3"):
        _post(G, x, 0.15, 0.5, 1.0)
    G.add_edge("o", "x1", risk=0.2)
    G.add_edge("x1", "m1", risk=0.1)
    G.add_edge("o", "x2", risk=0.2)
    G.add_edge("x2", "m2", risk=0.3)
    G.add_edge("m1", "x3", risk=0.0)
    G.add_edge("x3", "o", risk=0.4)
    return G


def test_posts_on_routes_follow_the_arcs_and_the_objective():
    """Rules: a post is on a route that the objective reads when a least-risk route of a
    counted pair passes it, along the arcs' direction: x3, reached after m1 and leading
    back to o, is on none (read both ways it would seem to lie on o -> m1 at no extra
    risk). "flow" reads both pairs (x1, x2), "single" only the least risk (x1, to m1)."""
    inst = _Instance(_two_markets(), None, None)
    assert inst.posts == ["x1", "x2", "x3"]
    assert inst.on_routes("flow", inst.x0()).tolist() == [True, True, False]
    assert inst.on_routes("single", inst.x0()).tolist() == [True, False, False]


def test_a_result_keeps_its_budget():
    """Rule: the result states the budget it was chosen within, as a float."""
    r = interdict_exact(_toy(), 1)
    assert r.budget == 1.0 and isinstance(r.budget, float)


def test_the_default_formulation_is_tight(monkeypatch):
    """Rule: without ``formulation`` (the trade-off's solves) the tight model is solved."""
    events = _spy_models(monkeypatch)
    _milp.solve_exact(_Instance(_toy(), None, None), "single", 1.0)
    assert [e for e, _ in events] == ["TightMilp solve"]


# --------------------------------------------------------------------------- exact
def test_a_post_costing_the_budget_plus_its_slack_is_affordable():
    """Rule: the budget's slack (1e-12, as in the greedy) is inclusive: on the toy with
    both posts costing 1 + 1e-12, budget 1 still buys xa (value 0.3, not the base 0.2)."""
    G = _toy()
    for x in ("xa", "xb"):
        G.nodes[x]["upgrade_cost"] = 1.0 + 1e-12
    r = interdict_exact(G, 1.0)
    assert r.posts == ("xa",) and r.value == pytest.approx(0.3)


def test_the_exact_solve_hands_on_the_shared_tangent_points(monkeypatch):
    """Rule (time): the tangent points that a caller shares between the solves of one
    instance (the trade-off's) reach the solver, the very dictionary."""
    seen = []
    real = exact.solve_exact

    def spy(*a, **k):
        seen.append(k["points"])
        return real(*a, **k)

    monkeypatch.setattr(exact, "solve_exact", spy)
    points: dict[int, set[float]] = {}
    exact._exact(_Instance(_toy(), None, None), "flow", 1.0, time_limit=60.0, rel_tol=1e-7,
                 max_rounds=50, points=points)
    # the toy's one pair, at the ends of its window: 0.2, and 0.3 with xa upgraded
    assert len(seen) == 1 and seen[0] is points
    assert list(points) == [0] and sorted(points[0]) == pytest.approx([0.2, 0.3])


def test_free_posts_add_their_gain_and_do_not_count_towards_enumeration():
    """Rule: a post without cost is free (its gain comes for nothing) and does not count
    towards the 12 posts enumerated exactly: 12 posts of 0.1 at costs 1..12 and a free one
    are enumerated; adding 0.25 takes the free 0.1 and two more, 1 + 2 = 3."""
    r = _milp_tight._Raise(np.full(13, 0.1), np.r_[np.arange(1.0, 13.0), 0.0])
    assert r.exact and r.free == pytest.approx(0.1)
    assert r.cost(0.25) == 3.0 and r.cost(0.1) == 0.0


def test_a_round_stopped_by_the_time_limit_ends_the_loop(monkeypatch):
    """Rule: a round that HiGHS stops at its time limit with a solution (not proven) ends
    the loop, not optimal, with that round's bound (0.01 above the value)."""
    model, out, lines = _scripted(monkeypatch, "flow", [(0.01, False, 1, None)] * 2)
    assert model.solves == out.rounds == len(lines) == 1 and not out.optimal
    assert out.bound == model.value + 0.01


@pytest.mark.parametrize(("first", "eps", "kept"),
                         [(0.2, 0.5e-9, True), (0.2, 1.5e-9, False),
                          (1.2, 1.5e-9, True), (1.2, 2.5e-9, False)])
def test_the_window_keeps_a_detour_within_its_tolerance(first, eps, kept):
    """Rule: the window's tolerance is 1e-9, relative to the pair bound K above 1. o -> x ->
    m (``first`` + 0.1, x adding 0.53 for 1), budget 1: K is that route fully lifted (0.83,
    or 1.83). A detour o -> d -> m without posts ``eps`` above K stays in the tight model
    (four nodes) when eps <= 1e-9 max(1, K), and is pruned (three nodes) beyond."""
    G = nx.DiGraph()
    _one_post(G)
    G.edges["o", "x"]["risk"] = first
    K = float(_milp_tight._pair_bounds(_Instance(G, None, None), 1.0)[1][0, 0])
    assert K == pytest.approx(first + 0.1 + risk_from_p(0.5) - risk_from_p(0.15))
    G.add_edge("o", "d", risk=0.4)
    G.add_edge("d", "m", risk=K + eps - 0.4)
    model = _milp_tight.TightMilp(_Instance(G, None, None), "flow", 1.0)
    assert model.kept_nodes == 3 + kept


@pytest.mark.parametrize("dual", [None, -math.inf])
def test_without_a_dual_bound_the_bound_is_the_solutions_value(monkeypatch, dual):
    """Rule: when scipy's HiGHS gives no dual bound (none, or an infinite one), the plain
    solve's bound is the model's value of its solution (here 0.25, a minimum of -0.25)."""
    from scipy.optimize import OptimizeResult

    def fake(c, **k):
        res = OptimizeResult(x=np.r_[np.zeros(len(c) - 2), 1.0, 0.0], fun=-0.25, status=1,
                             message="time limit")
        if dual is not None:
            res["mip_dual_bound"] = dual
        return res

    monkeypatch.setattr(_milp_solve, "milp", fake)
    x, ub, solved = PlainMilp(_Instance(_toy(), None, None), "single", 1.0).solve(1.0, 1e-7)
    assert list(x) == [1.0, 0.0] and ub == 0.25 and solved is False


def _two_origins() -> nx.DiGraph:
    """o1 -> x1 -> m (0.2 + 0.1) and o2 -> x2 -> m (0.25 + 0.1), each post adding 0.53."""
    G = nx.DiGraph()
    _ends(G, {"o1": 1.0, "o2": 2.0}, {"m": 3.0})
    for x in ("x1", "x2"):
        _post(G, x, 0.15, 0.5, 1.0)
    G.add_edge("o1", "x1", risk=0.2)
    G.add_edge("x1", "m", risk=0.1)
    G.add_edge("o2", "x2", risk=0.25)
    G.add_edge("x2", "m", risk=0.1)
    return G


@pytest.mark.parametrize("model", [PlainMilp, _milp_tight.TightMilp])
def test_the_single_objective_has_one_block_and_one_target(model):
    """Rule: "single" reads the least risk from any origin to any market: one block of
    potentials over every origin and one z (weight -1), whatever the number of origins;
    "flow" has a z per pair. Budget 1 lifts only one route: the least risk is then the
    other route's (0.3 or 0.35), never a sum."""
    inst = _Instance(_two_origins(), None, None)
    m = model(inst, "single", 1.0)
    assert list(m.c[m.c != 0]) == [-1.0]
    assert len(model(inst, "flow", 1.0).z) == 2
    r = interdict_exact(_two_origins(), 1.0)
    assert r.posts == ("x1",) and r.value == pytest.approx(0.35)


def test_the_tight_model_counts_the_nodes_and_arcs_of_every_block():
    """Rule: ``kept_nodes`` and ``kept_arcs`` add up the blocks: one per origin ("flow"),
    each keeping its route (3 nodes, 2 arcs)."""
    m = _milp_tight.TightMilp(_Instance(_two_origins(), None, None), "flow", 1.0)
    assert (m.kept_nodes, m.kept_arcs) == (6, 4)


@pytest.mark.parametrize("budget", [1.0, 2.0])
def test_a_shared_blocks_tangents_bound_the_detected_share(budget):
    """Rule: the flow bound is an upper bound, for pairs read through another origin's
    block too (their tangents at the shifted distance ``r + pi``): origin a0 leads only to
    p0 (r = 0.07, tests/test_milp.py); the model's bound is not below the value."""
    from test_milp import _with_leading_origin

    inst = _Instance(_with_leading_origin(11, 0.07, q="a0"), None, None)
    out = _milp.solve_exact(inst, "flow", budget)
    assert out.optimal and out.bound >= out.value - 1e-9


def test_the_tight_model_stops_at_its_time_limit():
    """Rule: the tight model hands its time limit to HiGHS: with 1e-9 s it stops before any
    solution (no x, no bound, not optimal), as the plain one does (tests/test_milp.py)."""
    inst = _Instance(random_instance(3, directed=True, n_posts=8), None, None)
    assert _milp_tight.TightMilp(inst, "flow", 3.0).solve(1e-9, 1e-7) == (None, math.inf,
                                                                          False)


def test_a_solution_replaces_the_best_only_when_strictly_better(monkeypatch):
    """Rule: a solution as good as the best so far does not replace it. On the toy, xb
    alone leaves the least risk at 0.2 (through xa): no better than no upgrade, which is
    kept."""
    toy = _Instance(_toy(), None, None)
    base = toy.value("flow", toy.x0())[0]

    class Tie:
        def add_tangents(self, D):
            return 0

        def refine(self, x):
            return 0

        def solve(self, *a, **k):
            return np.array([0.0, 1.0]), base, True

    monkeypatch.setattr(_milp, "TightMilp", lambda *a, **k: Tie())
    out = _milp.solve_exact(toy, "flow", 1.0)
    assert toy.value("flow", np.array([0.0, 1.0]))[0] == base
    assert out.optimal and list(out.x) == [0.0, 0.0]


def test_a_node_exactly_on_the_windows_edge_is_kept():
    """Rule: the window is closed: a node whose least risk is exactly the window's edge
    plus its tolerance (to the bit) is kept. The detour's node d, 0.4 before m, is reached
    at exactly (K - 0.4) + 1e-9 (four nodes kept, as within the tolerance above)."""
    G = nx.DiGraph()
    _one_post(G)
    K = float(_milp_tight._pair_bounds(_Instance(G, None, None), 1.0)[1][0, 0])
    G.add_edge("o", "d", risk=(K - 0.4) + 1e-9)
    G.add_edge("d", "m", risk=0.4)
    assert _milp_tight.TightMilp(_Instance(G, None, None), "flow", 1.0).kept_nodes == 4
