"""Rules of the interdiction MILPs that the optimum does not show (routes.priorities._milp*).

Each test names the rule it pins. Most are about time to answer: the tight model's pair
bounds stop searching once they can, its HiGHS options and warm start reach the solver.
They read the solver's inputs through a spy (the solver itself still runs) or the route
cache that :func:`routes.priorities._milp_tight._pair_bound` keeps on the instance.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from routes.costs import risk_from_p
from routes.priorities import _milp_solve, _milp_tight
from routes.priorities._instance import _Instance, _toy
from routes.priorities._milp_plain import PlainMilp
from routes.priorities.interdiction import interdict_exact
from test_interdiction import _ends, _post


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
