"""Border-post interdiction: exact MILP against brute force, greedy, budget curves."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routes._errors import NoRouteError, RoutesError
from routes.costs import risk_from_p
from routes.priorities._instance import _Instance, objective_flows
from routes.priorities.interdiction import (
    budget_curve,
    evaluate_upgrades,
    interdict,
    interdict_brute_force,
    interdict_exact,
    interdict_greedy,
    post_effectiveness,
    post_values,
    upgrade_table,
)
from routes.settings import DATA_DIR

HAS_DATA = (DATA_DIR / "crossings.csv").exists() and (DATA_DIR / "corridors.csv").exists()


def _post(G, x, p, p_up, cost, status="open", factor=1.5):
    f = factor if status == "restricted" else 1.0
    G.add_node(x, kind="crossing", name=x.upper(), status=status, p_detect=p,
               p_detect_upgraded=p_up, upgrade_cost=cost, crossing_risk=risk_from_p(p) * f)


def _ends(G, origins, markets):
    for o, s in origins.items():
        G.add_node(o, kind="place", role="origin", supply=s, demand=0.0)
    for m, d in markets.items():
        G.add_node(m, kind="place", role="market", supply=0.0, demand=d)


def random_instance(seed: int, *, directed: bool, n_places: int = 7, n_posts: int = 6):
    """A random network of places and posts; crossing risk charged on entering edges."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph() if directed else nx.Graph()
    places = [f"p{i}" for i in range(n_places)]
    n_o = int(rng.integers(1, 3))
    n_m = int(rng.integers(1, 3))
    _ends(G, {p: float(rng.integers(1, 5)) for p in places[:n_o]},
          {p: float(rng.integers(1, 5)) for p in places[n_o:n_o + n_m]})
    for p in places[n_o + n_m:]:
        G.add_node(p, kind="place", role="transit", supply=0.0, demand=0.0)
    posts = [f"x{i}" for i in range(n_posts)]
    for x in posts:
        p = float(rng.uniform(0.0, 0.4))
        status = "restricted" if rng.random() < 0.3 else "open"
        _post(G, x, p, min(0.95, p + float(rng.uniform(0.0, 0.5))),
              float(rng.choice([0.5, 1.0, 1.0, 2.0, 3.0])), status)
    nodes = places + posts

    def risk(u, v):
        leg = float(rng.uniform(0.0, 0.3))
        return leg + G.nodes[v].get("crossing_risk", 0.0) if directed else leg

    for x in posts:    # each post links two or three places
        for p in rng.choice(places, size=int(rng.integers(2, 4)), replace=False):
            a, b = (p, x) if rng.random() < 0.5 else (x, p)
            G.add_edge(a, b, risk=risk(a, b))
            if directed and rng.random() < 0.7:
                G.add_edge(b, a, risk=risk(b, a))
    for _ in range(n_places):
        a, b = rng.choice(nodes, size=2, replace=False)
        G.add_edge(a, b, risk=risk(a, b))
    return G


def _connected(G):
    H = G if G.is_directed() else G.to_directed()
    o = [n for n, d in H.nodes(data=True) if d.get("role") == "origin"]
    m = [n for n, d in H.nodes(data=True) if d.get("role") == "market"]
    return any(nx.has_path(H, a, b) for a in o for b in m)


# --------------------------------------------------------------------------- hand-worked
@pytest.fixture
def three_paths():
    """o -> {a, b, c} -> m: risks 1.0, 1.0, 1.5; every upgrade adds 1.0; costs 1, 1, 2."""
    G = nx.DiGraph()
    _ends(G, {"o": 1.0}, {"m": 1.0})
    for x, cost, leg in (("a", 1.0, 0.0), ("b", 1.0, 0.0), ("c", 2.0, 0.5)):
        p = -math.expm1(-0.5)
        _post(G, x, p, -math.expm1(-1.5), cost)
        G.add_edge("o", x, risk=leg + 0.5)
        G.add_edge(x, "m", risk=0.5)
    return G


def test_upgrade_table_delta(three_paths):
    t = upgrade_table(three_paths)
    assert list(t.index) == ["a", "b", "c"]
    assert t["delta_risk"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert t["risk_factor"].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_restricted_factor_scales_delta():
    G = nx.DiGraph()
    _post(G, "r", 0.2, 0.5, 1.0, status="restricted", factor=1.5)
    _post(G, "z", 0.0, 0.5, 1.0, status="restricted")
    G.nodes["z"]["crossing_risk"] = 0.0
    with pytest.raises(RoutesError, match="restricted risk factor"):
        upgrade_table(G)
    G.remove_node("z")
    t = upgrade_table(G)
    assert t.at["r", "delta_risk"] == pytest.approx(1.5 * (math.log(0.8) - math.log(0.5)))


def test_handworked_single(three_paths):
    G = three_paths
    assert interdict_exact(G, 0.0).value == pytest.approx(1.0)
    r1 = interdict_exact(G, 1.0)
    assert r1.posts == () and r1.value == pytest.approx(1.0) and r1.optimal
    r2 = interdict_exact(G, 2.0)
    assert r2.posts == ("a", "b")
    assert r2.value == pytest.approx(1.5)
    assert r2.p_undetected == pytest.approx(math.exp(-1.5))
    assert r2.route == ["o", "c", "m"]
    r4 = interdict_exact(G, 4.0)
    assert r4.posts == ("a", "b", "c") and r4.value == pytest.approx(2.0)
    # Greedy sees no single post that helps and stops: the gap is the whole optimal gain.
    g2 = interdict_greedy(G, 2.0)
    assert g2.posts == () and g2.value == pytest.approx(1.0)
    curve = budget_curve(G, 4)
    assert curve["value"].tolist() == pytest.approx([1.0, 1.0, 1.5, 1.5, 2.0])
    assert curve["posts"].tolist() == ["", "", "a;b", "a;b", "a;b;c"]
    assert curve["marginal_gain"].tolist() == pytest.approx([0.0, 0.0, 0.5, 0.0, 0.5])
    assert curve["greedy_gap_pct"].tolist() == pytest.approx([0.0, 0.0, 100.0, 100.0, 100.0])
    assert curve["gain_per_cost"].iloc[2] == pytest.approx(0.25)


def test_handworked_flow():
    """Two origins, one post each: the exact choice favours the bigger flow's post."""
    G = nx.DiGraph()
    _ends(G, {"o1": 1.0, "o2": 3.0}, {"m": 1.0})
    _post(G, "x1", 0.5, 0.75, 1.0)
    _post(G, "x2", 0.2, 0.6, 1.0)
    for o, x in (("o1", "x1"), ("o2", "x2")):
        G.add_edge(o, x, risk=G.nodes[x]["crossing_risk"])
        G.add_edge(x, "m", risk=0.0)
    # o2 may also go through x1, at extra risk 0.5.
    G.add_edge("o2", "x1", risk=G.nodes["x1"]["crossing_risk"] + 0.5)
    base = (1 * 0.5 + 3 * 0.2) / 4
    r = interdict_exact(G, 1.0, objective="flow")
    assert r.base_value == pytest.approx(base)
    assert r.posts == ("x2",)
    assert r.value == pytest.approx((1 * 0.5 + 3 * 0.6) / 4)
    assert r.optimal and r.bound >= r.value - 1e-9
    assert r.p_undetected == pytest.approx(1 - r.value)
    both = interdict_exact(G, 2.0, objective="flow")
    # o2 re-routes? through x1 upgraded: -ln(0.25) + 0.5 = 1.886 > -ln(0.4) = 0.916: no.
    assert both.value == pytest.approx((0.75 + 3 * 0.6) / 4)
    eff = post_effectiveness(G, both)
    assert eff["contribution"].to_dict() == pytest.approx(
        {"x1": 0.25 / 4, "x2": 3 * 0.4 / 4})


def test_budget_zero_changes_nothing(three_paths):
    for objective in ("single", "flow"):
        r = interdict_exact(three_paths, 0.0, objective=objective)
        assert r.posts == () and r.cost == 0.0
        assert r.value == pytest.approx(r.base_value)


def test_undirected_input_matches_two_way_directed(three_paths):
    U = nx.Graph()
    U.add_nodes_from(three_paths.nodes(data=True))
    U.add_edges_from(three_paths.edges(data=True))
    assert interdict_exact(U, 2.0).value == pytest.approx(
        interdict_exact(U.to_directed(), 2.0).value)


def test_post_values_and_evaluate(three_paths):
    pv = post_values(three_paths)
    assert pv["gain"].to_dict() == pytest.approx({"a": 0.0, "b": 0.0, "c": 0.0})
    assert list(pv["value_rank"]) == [1, 2, 3]
    ev = evaluate_upgrades(three_paths, ["a", "b"])
    assert ev.value == pytest.approx(1.5) and ev.cost == 2.0
    with pytest.raises(RoutesError, match="not a crossing"):
        evaluate_upgrades(three_paths, ["o"])


# --------------------------------------------------------------------------- errors
def test_disconnected_raises(three_paths):
    G = three_paths.copy()
    G.remove_node("m")
    G.add_node("m2", kind="place", role="market", supply=0.0, demand=1.0)
    for fn in (interdict_exact, interdict_greedy):
        with pytest.raises(NoRouteError, match="no origin reaches any market"):
            fn(G, 1.0)


def test_no_origin_raises():
    G = nx.DiGraph()
    G.add_edge("a", "b", risk=1.0)
    with pytest.raises(NoRouteError, match="at least one origin"):
        interdict_exact(G, 1.0)


@pytest.mark.parametrize("kw, match", [({"budget": -1.0}, "budget"),
                                       ({"budget": 1.0, "objective": "max"}, "objective"),
                                       ({"budget": 1.0, "method": "lp"}, "method")])
def test_bad_options(three_paths, kw, match):
    with pytest.raises(RoutesError, match=match):
        interdict(three_paths, **kw)


def test_missing_upgrade_data(three_paths):
    del three_paths.nodes["a"]["upgrade_cost"]
    with pytest.raises(RoutesError, match="has no upgrade_cost"):
        interdict_exact(three_paths, 1.0)


def test_no_posts_is_trivially_optimal():
    G = nx.DiGraph()
    _ends(G, {"o": 1.0}, {"m": 1.0})
    G.add_edge("o", "m", risk=0.3)
    r = interdict_exact(G, 5.0)
    assert r.posts == () and r.value == pytest.approx(0.3) and r.optimal


# --------------------------------------------------------------------------- properties
@settings(max_examples=40)
@given(seed=st.integers(0, 10**6), directed=st.booleans(),
       budget=st.sampled_from([0.0, 1.0, 2.0, 3.5]))
def test_exact_equals_brute_force_single(seed, directed, budget):
    G = random_instance(seed, directed=directed)
    if not _connected(G):
        with pytest.raises(NoRouteError):
            interdict_exact(G, budget)
        return
    bf = interdict_brute_force(G, budget)
    ex = interdict_exact(G, budget)
    gr = interdict_greedy(G, budget)
    assert ex.optimal
    assert ex.value == pytest.approx(bf.value, rel=1e-6, abs=1e-7)
    assert ex.cost <= budget + 1e-9 and gr.cost <= budget + 1e-9
    assert gr.value <= ex.value + 1e-7
    assert ex.value >= ex.base_value - 1e-12
    if budget == 0.0:
        assert ex.posts == () and ex.value == ex.base_value


@settings(max_examples=25)
@given(seed=st.integers(0, 10**6), directed=st.booleans(),
       budget=st.sampled_from([1.0, 2.0, 3.0]))
def test_exact_equals_brute_force_flow(seed, directed, budget):
    G = random_instance(seed, directed=directed, n_posts=5)
    if not _connected(G):
        return
    bf = interdict_brute_force(G, budget, objective="flow")
    ex = interdict_exact(G, budget, objective="flow")
    gr = interdict_greedy(G, budget, objective="flow")
    assert ex.optimal
    assert ex.value == pytest.approx(bf.value, rel=1e-6, abs=1e-7)
    assert ex.bound >= bf.value - 1e-6
    assert gr.value <= ex.value + 1e-7


def test_curve_is_monotone_and_greedy_never_better():
    for seed in range(5):
        G = random_instance(seed, directed=True, n_posts=7)
        if not _connected(G):
            continue
        c = budget_curve(G, 4)
        assert (np.diff(c["value"]) >= -1e-9).all()
        assert (c["greedy_gap"] >= 0).all()
        assert (c["cost_used"] <= c["budget"] + 1e-9).all()


# --------------------------------------------------------------------------- shipped data
@pytest.mark.skipif(not HAS_DATA, reason="shipped data not there yet")
def test_baseline_budget_curve(baseline, cost_model):
    up = upgrade_table(baseline, cost_model)
    assert (up["delta_risk"] >= 0).all() and (up["upgrade_cost"] > 0).all()
    c = budget_curve(baseline, 3, cm=cost_model)
    assert c["optimal"].all()
    # regression value of the shipped data (6 origins since the demand and supply update)
    assert c.loc[2, "posts"] == "x_hairatan_termez;x_sher_khan_bandar_panji_poyon"
    assert (np.diff(c["value"]) >= -1e-9).all()
    assert c.loc[0, "posts"] == ""
    assert (c["greedy_gap"] >= 0).all()


@pytest.mark.skipif(not HAS_DATA, reason="shipped data not there yet")
@pytest.mark.parametrize("objective", ["single", "flow"])
def test_baseline_exact_equals_enumeration_budget_2(baseline, cost_model, objective):
    """Every affordable set at budget 2 (costs are >= 1: at most two posts), enumerated."""
    up = upgrade_table(baseline, cost_model)
    posts = list(up.index[up["delta_risk"] > 0])
    cost = up["upgrade_cost"].to_dict()
    # evaluates a set by Dijkstra, on the pairs the objective reads (routes.priorities)
    inst = _Instance(baseline, cost_model, objective_flows(baseline, None, objective))
    best = inst.value(objective, inst.x0())[0]
    for k in (1, 2):
        for c in itertools.combinations(posts, k):
            if sum(cost[p] for p in c) <= 2.0:
                best = max(best, inst.value(objective, inst.x_of(c))[0])
    ex = interdict_exact(baseline, 2.0, objective=objective, cm=cost_model)
    assert ex.optimal and ex.value == pytest.approx(best, rel=1e-9)


def test_time_limit_falls_back_to_greedy():
    G = random_instance(3, directed=True, n_posts=8)
    r = interdict_exact(G, 3.0, objective="flow", max_rounds=1, rel_tol=0.0)
    g = interdict_greedy(G, 3.0, objective="flow")
    assert r.value >= g.value - 1e-12 and r.cost <= 3.0
    tiny = interdict_exact(G, 3.0, time_limit=1e-9)   # may stop before any MILP solution
    assert tiny.value >= interdict_greedy(G, 3.0).value - 1e-12
    assert tiny.cost <= 3.0


# --------------------------------------------------------------------------- greedy rules
def _series(posts):
    """o -> posts in series -> m, the only route; each post's upgrade adds its delta."""
    G = nx.DiGraph()
    _ends(G, {"o": 1.0}, {"m": 1.0})
    prev = "o"
    for x, cost, r0, delta in posts:
        _post(G, x, -math.expm1(-r0), -math.expm1(-(r0 + delta)), cost)
        G.add_edge(prev, x, risk=0.1 + r0)
        prev = x
    G.add_edge(prev, "m", risk=0.1)
    return G


def test_greedy_ranks_by_gain_per_unit_cost():
    # A: cost 1, +0.5 (0.5 per unit); B: cost 3, +1.0 (0.33 per unit); budget 3. Gain per
    # unit cost buys A, then B no longer fits; absolute gain would buy B alone (+1.0).
    G = _series([("a", 1.0, 0.2, 0.5), ("b", 3.0, 0.3, 1.0)])
    base = 0.1 + 0.2 + 0.1 + 0.3 + 0.1
    for r in (interdict_greedy(G, 3.0), interdict(G, 3.0, method="greedy")):
        assert r.order == ("a",) and r.posts == ("a",)
        assert r.value == pytest.approx(base + 0.5) and r.cost == pytest.approx(1.0)
    # The exact solver buys B: here greedy's rule costs 0.5 of risk.
    assert interdict_exact(G, 3.0).posts == ("b",)


def test_greedy_buys_a_post_whose_cost_equals_the_remaining_budget():
    # A first (0.5 per unit against B's 0.3), leaving 2 = B's cost: B is bought too. Alone,
    # B costs exactly the budget 2 and is bought; a hair less and it is not.
    G = _series([("a", 1.0, 0.2, 0.5), ("b", 2.0, 0.3, 0.6)])
    base = 0.1 + 0.2 + 0.1 + 0.3 + 0.1
    r = interdict_greedy(G, 3.0)
    assert r.order == ("a", "b") and r.cost == pytest.approx(3.0)
    assert r.value == pytest.approx(base + 1.1)
    one = _series([("b", 2.0, 0.3, 0.6)])
    r = interdict(one, 2.0, method="greedy")
    assert r.posts == ("b",) and r.value == pytest.approx(0.1 + 0.3 + 0.1 + 0.6)
    assert interdict_greedy(one, 1.999).posts == ()
