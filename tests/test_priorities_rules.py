"""Rules of the priorities code that the planners' tables depend on, each pinned by one test.

Written from ``make mutate``'s survivors (issue 24): each test states the rule a surviving
mutant broke without any test noticing. Hand-worked values on the two-post toy network of
``routes.priorities``' doctests (``o -> xa -> m`` with risk 0.2, ``o -> xb -> m`` with 0.3;
each post's upgrade adds 0.2 and costs 1) and on a three-post variant with unequal costs.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pytest

from routes._errors import RoutesError
from routes.costs import load_cost_model, risk_from_p
from routes.priorities import (
    UPGRADE_COLUMNS,
    budget_curve,
    budget_curve_solutions,
    evaluate_upgrades,
    interdict,
    interdict_brute_force,
    interdict_exact,
    interdict_greedy,
    post_effectiveness,
    post_values,
    total_upgrade_cost,
    upgrade_table,
)
from routes.priorities._instance import _toy
from routes.priorities.curves import CURVE_COLUMNS
from routes.settings import DEFAULT_COST_MODEL


def _three_posts() -> nx.DiGraph:
    """``o -> x? -> m`` through three posts; costs 2, 3, 5; detection 0.1 -> 0.35, 0.2 -> 0.3,
    0.15 -> 0.6."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=4.0)
    G.add_node("m", kind="place", role="market", demand=1.0)
    for x, p, pu, c, leg in (("xa", 0.1, 0.35, 2.0, 0.05), ("xb", 0.2, 0.3, 3.0, 0.0),
                             ("xc", 0.15, 0.6, 5.0, 0.11)):
        G.add_node(x, kind="crossing", name=x.upper(), status="open", p_detect=p,
                   p_detect_upgraded=pu, upgrade_cost=c, crossing_risk=risk_from_p(p))
        G.add_edge("o", x, risk=leg + risk_from_p(p))
        G.add_edge(x, "m", risk=0.02)
    return G


def test_upgrade_table_carries_each_posts_upgraded_detection_and_cost():
    """Every column of the upgrade table holds the post's own value (the report and the CLI
    print p_detect_upgraded and upgrade_cost from it), in UPGRADE_COLUMNS order."""
    t = upgrade_table(_three_posts())
    assert tuple(t.columns) == UPGRADE_COLUMNS
    assert t["p_detect_upgraded"].to_dict() == {"xa": 0.35, "xb": 0.3, "xc": 0.6}
    assert t["p_detect"].to_dict() == {"xa": 0.1, "xb": 0.2, "xc": 0.15}
    assert t["upgrade_cost"].to_dict() == {"xa": 2.0, "xb": 3.0, "xc": 5.0}
    assert t.at["xc", "delta_risk"] == pytest.approx(math.log(0.85 / 0.4))


def test_post_effectiveness_gives_each_posts_upgrade_cost():
    """The effectiveness table of a solution names each post's upgrade cost (what the
    contribution per cost divides by)."""
    G = _three_posts()
    r = evaluate_upgrades(G, ["xc", "xa"])
    eff = post_effectiveness(G, r)
    assert eff["upgrade_cost"].to_dict() == {"xa": 2.0, "xc": 5.0}
    assert (eff["contribution_per_cost"] == eff["contribution"] / eff["upgrade_cost"]).all()
    assert eff["name"].to_dict() == {"xa": "XA", "xc": "XC"}


def test_brute_force_is_optimal_with_its_value_as_bound():
    """Enumeration proves its answer: optimal, and the bound is the value found (the exact
    solver's gap is measured against it), for either objective."""
    for budget, posts, value in ((1.0, ("xa",), 0.3), (2.0, ("xa", "xb"), 0.4)):
        r = interdict_brute_force(_toy(), budget)
        assert r.posts == posts and r.optimal is True
        assert r.value == pytest.approx(value) and r.bound == r.value
    # the flow objective's bound is its value too (a detected share, not a mean risk)
    r = interdict_brute_force(_toy(), 1.0, objective="flow")
    assert r.value == pytest.approx(-math.expm1(-0.3)) and r.bound == r.value


def test_an_empty_curve_has_the_curves_columns():
    """A curve over no budgets is an empty table with every column of the curve (callers
    select columns from it), for both methods."""
    curve, sols = budget_curve_solutions(_toy(), [])
    assert list(curve.columns) == list(CURVE_COLUMNS) and len(curve) == 0 and sols == {}
    greedy = budget_curve(_toy(), [], method="greedy")
    assert list(greedy.columns) == list(CURVE_COLUMNS[:-4]) and len(greedy) == 0


def _series() -> nx.DiGraph:
    """One route ``o -> xa -> xb -> m`` through two posts in series: xa costs 1 and adds
    ``ln(0.8/0.6)``, xb costs 2 and adds ``ln(0.9/0.4)`` (a budget of 2 buys xb instead of xa)."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0)
    G.add_node("m", kind="place", role="market", demand=1.0)
    for x, p, pu, c in (("xa", 0.2, 0.4, 1.0), ("xb", 0.1, 0.6, 2.0)):
        G.add_node(x, kind="crossing", name=x.upper(), status="open", p_detect=p,
                   p_detect_upgraded=pu, upgrade_cost=c, crossing_risk=risk_from_p(p))
    G.add_edge("o", "xa", risk=0.05 + risk_from_p(0.2))
    G.add_edge("xa", "xb", risk=risk_from_p(0.1))
    G.add_edge("xb", "m", risk=0.03)
    return G


def test_curve_rows_say_what_each_budget_adds_and_removes():
    """Optimal sets need not be nested: budget 2 drops xa for xb (``removed``); the first row
    lists every post it buys as added, even at a budget above 0."""
    c = budget_curve(_series(), [1.0, 2.0, 3.0])
    assert c["posts"].tolist() == ["xa", "xb", "xa;xb"]
    assert c["added"].tolist() == ["xa", "xb", "xa"]
    assert c["removed"].tolist() == ["", "xa", ""]
    assert c["marginal_gain"].iloc[0] == pytest.approx(math.log(0.8 / 0.6))


def test_curve_tells_progress_per_budget_and_greedy_is_not_flagged():
    """One progress line per budget, in order, with value and number of posts; the greedy
    curve is never "not proven optimal" (it proves nothing and says so elsewhere)."""
    lines: list[str] = []
    budget_curve(_series(), 2, progress=lines.append)
    assert lines[1].startswith(
        f"budget 1 (2 of 3): value {0.08 + math.log(1 / 0.6 / 0.9):.4f}, 1 posts")
    greedy: list[str] = []
    budget_curve(_series(), 2, method="greedy", progress=greedy.append)
    assert len(greedy) == 3 and not any("proven" in s for s in greedy)


def test_curve_workers_are_checked_and_change_nothing():
    """Two workers give the table one gives; workers must be a whole number >= 1 (1 is
    allowed), also through budget_curve; an unknown method is named."""
    one = budget_curve(_three_posts(), 10, workers=1)
    two = budget_curve(_three_posts(), 10, workers=2)
    assert one.equals(two) and len(one) == 11
    with pytest.raises(RoutesError, match="workers must be a whole number >= 1"):
        budget_curve(_three_posts(), 2, workers=0)
    with pytest.raises(RoutesError, match="unknown method 'best'"):
        budget_curve_solutions(_three_posts(), 2, method="best")


def test_total_upgrade_cost_uses_the_cost_model_for_restricted_posts():
    """A restricted post with p_detect 0 needs the cost model's restricted factor: with it the
    total is every post's cost."""
    G = _three_posts()
    G.nodes["xb"].update(status="restricted", p_detect=0.0, crossing_risk=0.4)
    with pytest.raises(RoutesError, match="restricted with p_detect 0"):
        total_upgrade_cost(G)
    assert total_upgrade_cost(G, cm=load_cost_model(DEFAULT_COST_MODEL)) == 10.0


def test_whole_budgets_use_the_cost_model_for_restricted_posts():
    """The curve's whole budgets stop at the total cost, which needs the cost model for a
    restricted post with p_detect 0."""
    from routes.priorities.curves import whole_budgets

    G = _three_posts()
    G.nodes["xb"].update(status="restricted", p_detect=0.0, crossing_risk=0.4)
    assert whole_budgets(G, 1e18, cm=load_cost_model(DEFAULT_COST_MODEL)) == [
        float(b) for b in range(11)]


def test_evaluating_given_posts_proves_nothing():
    """evaluate_upgrades reports method "given", not optimal, no bound."""
    r = evaluate_upgrades(_toy(), ["xa"])
    assert r.method == "given" and r.optimal is False and math.isnan(r.bound)


def _two_markets() -> nx.DiGraph:
    """``o -> xa -> m1`` (demand 3) and ``o -> xb -> m2`` (demand 1), alike otherwise."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0)
    for m, x, d in (("m1", "xa", 3.0), ("m2", "xb", 1.0)):
        G.add_node(m, kind="place", role="market", demand=d)
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=0.1,
                   p_detect_upgraded=0.5, upgrade_cost=1.0, crossing_risk=risk_from_p(0.1))
        G.add_edge("o", x, risk=0.2)
        G.add_edge(x, m, risk=0.1)
    return G


def test_interdict_uses_the_flows_given():
    """With flows given, the flow objective weighs the pairs by them: o -> m2 carrying 9 of
    10 makes xb (its post) the choice; by the network's own demand (m1 larger) it is xa."""
    G = _two_markets()
    assert interdict(G, 1.0, objective="flow").posts == ("xa",)
    flows = {("o", "m1"): 1.0, ("o", "m2"): 9.0}
    assert interdict(G, 1.0, objective="flow", flows=flows).posts == ("xb",)
    assert interdict_greedy(G, 1.0, objective="flow").posts == ("xa",)
    assert interdict_greedy(G, 1.0, objective="flow", flows=flows).posts == ("xb",)
    assert interdict_brute_force(G, 1.0, objective="flow").posts == ("xa",)
    assert interdict_brute_force(G, 1.0, objective="flow", flows=flows).posts == ("xb",)
    _, sols = budget_curve_solutions(G, [1.0], objective="flow", flows=flows)
    assert sols[1.0].posts == ("xb",)
    # the curve solves the objective asked for (the least route risk would value 0.3 + ...)
    curve = budget_curve(G, [1.0], objective="flow")
    assert curve["value"].tolist() == pytest.approx([interdict(G, 1.0, objective="flow").value])
    assert curve["posts"].tolist() == ["xa"]


def test_greedy_through_interdict_and_the_post_table_use_the_flows_given():
    """``interdict(method="greedy")`` and ``post_values`` weigh the pairs by the flows given
    (o -> m2 carrying 9 of 10 ranks xb first), as the exact solver does."""
    G, flows = _two_markets(), {("o", "m1"): 1.0, ("o", "m2"): 9.0}
    assert interdict(G, 1.0, method="greedy", objective="flow").posts == ("xa",)
    assert interdict(G, 1.0, method="greedy", objective="flow", flows=flows).posts == ("xb",)
    assert post_values(G, objective="flow")["value_rank"].to_dict() == {"xa": 1, "xb": 2}
    assert post_values(G, objective="flow", flows=flows)["value_rank"].to_dict() == {
        "xb": 1, "xa": 2}

def test_interdict_tells_the_exact_solvers_rounds():
    """``interdict`` hands ``progress`` to the exact solver: one line per round (on the toy
    at budget 1, one round proves xa's 1 - exp(-0.3))."""
    lines: list[str] = []
    interdict(_toy(), 1.0, objective="flow", progress=lines.append)
    assert lines == ["round 1: value 0.259182, bound 0.259182"]

def _pair_posts(ids: tuple[str, ...], costs: tuple[float, ...]) -> nx.DiGraph:
    """One origin per post, each with its own market behind its own post: equal pairs."""
    G = nx.DiGraph()
    for k, (x, c) in enumerate(zip(ids, costs, strict=True)):
        o, m = f"o{k}", f"m{k}"
        G.add_node(o, kind="place", role="origin", supply=1.0)
        G.add_node(m, kind="place", role="market", demand=1.0)
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=0.1,
                   p_detect_upgraded=0.5, upgrade_cost=c, crossing_risk=risk_from_p(0.1))
        G.add_edge(o, x, risk=0.2)
        G.add_edge(x, m, risk=0.1)
    return G


def test_greedy_breaks_ties_by_post_order_and_proves_nothing():
    """Two posts with the same gain per cost: the first (by id) is taken; the result is a
    heuristic's (optimal False, bound NaN) and keeps the order of choice."""
    r = interdict_greedy(_pair_posts(("xa", "xb"), (1.0, 1.0)), 1.0, objective="flow")
    assert r.posts == ("xa",) and r.order == ("xa",)
    assert r.optimal is False and math.isnan(r.bound)
    r2 = interdict_greedy(_toy(), 2.0)
    assert r2.order == ("xa", "xb") and r2.optimal is False


def test_greedy_takes_a_free_post_first_without_dividing_by_zero():
    """A post that costs nothing and gains has an infinite ratio: it is taken first, and no
    division by zero happens (warnings are errors in the tests)."""
    r = interdict_greedy(_pair_posts(("xa", "xb"), (1.0, 0.0)), 1.0, objective="flow")
    assert r.order == ("xb", "xa")


def test_greedy_tries_the_posts_after_one_without_gain():
    """xa and xb are parallel (upgrading one re-routes through the other: no gain); xc is in
    series behind them. A post without gain is skipped, not the end of the search: xc."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0)
    G.add_node("t", kind="place", role="transit")
    G.add_node("m", kind="place", role="market", demand=1.0)
    for x in ("xa", "xb", "xc"):
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=0.1,
                   p_detect_upgraded=0.5, upgrade_cost=1.0, crossing_risk=risk_from_p(0.1))
    for x in ("xa", "xb"):
        G.add_edge("o", x, risk=0.2)
        G.add_edge(x, "t", risk=0.1)
    G.add_edge("t", "xc", risk=0.1)
    G.add_edge("xc", "m", risk=0.1)
    assert interdict_greedy(G, 1.0, objective="single").posts == ("xc",)
    assert interdict_greedy(G, 1.0, objective="flow").posts == ("xc",)


def _hub() -> nx.DiGraph:
    """``o -> xa -> h -> xb -> m``: h a hub market serving m (onward share 0.4)."""
    G = nx.DiGraph(onward_share=0.4)
    G.add_node("o", kind="place", role="origin", supply=1.0, lon=60.0, lat=30.0)
    G.add_node("h", kind="place", role="market", demand=1.0, lon=30.0, lat=40.0,
               hub_serves="m")
    G.add_node("m", kind="place", role="market", demand=1.0, lon=10.0, lat=50.0)
    for x in ("xa", "xb"):
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=0.1,
                   p_detect_upgraded=0.5, upgrade_cost=1.0, crossing_risk=risk_from_p(0.1))
    G.add_edge("o", "xa", risk=0.2)
    G.add_edge("xa", "h", risk=0.1)
    G.add_edge("h", "xb", risk=0.05)
    G.add_edge("xb", "m", risk=0.05)
    return G


def test_single_objective_greedy_reads_only_the_pairs_leaving_an_origin():
    """o -> xa -> h, a hub serving m through h -> xb -> m (onward share 0.4). The least route
    risk is asked from the origin: the onward leg h -> m (risk 0.1) is not a pair it reads.
    Greedy upgrades xa (o -> h: 0.3 plus the upgrade's added risk -ln 0.5 + ln 0.9 = 0.588),
    as brute force does; reading the onward leg too, it would see 0.3 and upgrade xb."""
    G = _hub()
    r = interdict_greedy(G, 1.0, objective="single")
    assert r.posts == ("xa",)
    assert r.value == pytest.approx(0.3 + risk_from_p(0.5) - risk_from_p(0.1), rel=1e-12)
    assert r.value == pytest.approx(interdict_brute_force(G, 1.0, objective="single").value)


def test_the_effectiveness_table_reads_the_pairs_its_objective_reads():
    """On ``_hub``, the single objective's effectiveness table reads the pairs leaving an
    origin, as its solution did: xa alone adds the upgrade's 0.588 to the least risk (reading
    the onward leg h -> m, 0.1, it would add nothing)."""
    G = _hub()
    eff = post_effectiveness(G, interdict_greedy(G, 1.0, objective="single"))
    added = risk_from_p(0.5) - risk_from_p(0.1)
    assert eff.at["xa", "gain_alone"] == pytest.approx(added, rel=1e-12)
    assert eff.at["xa", "contribution"] == pytest.approx(added, rel=1e-12)


def test_curve_budgets_step_limit_and_message():
    """A step making exactly MAX_STEP_BUDGETS budgets is allowed, one more is not; a bad
    max_budgets is named."""
    from routes.priorities.curves import MAX_STEP_BUDGETS, curve_budgets

    top = total_upgrade_cost(_toy())
    assert len(curve_budgets(_toy(), top, step=top / (MAX_STEP_BUDGETS - 1))) == \
        MAX_STEP_BUDGETS
    with pytest.raises(RoutesError, match=f"at most {MAX_STEP_BUDGETS}"):
        curve_budgets(_toy(), top, step=top / MAX_STEP_BUDGETS)
    with pytest.raises(RoutesError, match="max_budgets must be a whole number >= 2, got 1"):
        curve_budgets(_toy(), top, max_budgets=1)


def test_a_failing_budget_stops_the_curve_with_its_own_error(monkeypatch):
    """One budget's solve fails: the curve cancels the others and raises that error."""
    import routes.priorities.curves as curves

    real = curves._exact

    def failing(inst, objective, b, **kw):
        if b == 1.0:
            raise ValueError("budget 1 failed")
        return real(inst, objective, b, **kw)

    monkeypatch.setattr(curves, "_exact", failing)
    with pytest.raises(ValueError, match="budget 1 failed"):
        budget_curve_solutions(_toy(), [0.0, 1.0, 2.0], objective="flow", workers=2)


def test_an_exact_curve_tells_its_pace():
    """Each budget's progress line of an exact curve gives the time so far and left."""
    lines: list[str] = []
    budget_curve(_toy(), [0.0, 1.0, 2.0], objective="flow", progress=lines.append)
    assert len(lines) == 3 and "s so far, about " in lines[1] and lines[-1].endswith(" s in all")


def test_post_values_gain_is_the_objectives_not_a_mean_risk():
    """The flow objective's gain is in detected share: on the toy, xa alone lifts
    1 - exp(-0.2) to 1 - exp(-0.3); xb alone leaves the route through xa (gain 0)."""
    toy = post_values(_toy(), objective="flow")
    assert toy["gain"].to_dict() == pytest.approx(
        {"xa": math.exp(-0.2) - math.exp(-0.3), "xb": 0.0}, abs=1e-15)


def test_post_tables_divide_gain_by_cost():
    """post_values: gain per cost is gain / cost (inf for a free post); post_effectiveness:
    gain alone is the objective with the post alone minus the objective without any (not
    a mean risk), delta risk the post's, contribution per cost inf below any cost, and its
    columns in order."""
    G = _three_posts()
    G.nodes["xa"]["upgrade_cost"] = 0.5
    pv = post_values(G, objective="flow")
    assert (pv["gain_per_cost"] == pv["gain"] / pv["upgrade_cost"]).all()
    G.nodes["xb"]["upgrade_cost"] = 0.0
    assert post_values(G, objective="flow").at["xb", "gain_per_cost"] == math.inf
    r = evaluate_upgrades(G, ["xa", "xc"], objective="flow")
    eff = post_effectiveness(G, r)
    assert list(eff.columns) == ["name", "upgrade_cost", "delta_risk", "gain_alone",
                                 "contribution", "contribution_per_cost"]
    alone = evaluate_upgrades(G, ["xa"], objective="flow")
    assert eff.at["xa", "gain_alone"] == pytest.approx(alone.value - alone.base_value)
    assert eff.at["xa", "delta_risk"] == pytest.approx(math.log(0.9 / 0.65))
    assert eff.at["xa", "contribution_per_cost"] == eff.at["xa", "contribution"] / 0.5


def test_nothing_affordable_is_answered_without_the_solver():
    """A budget below every post's cost: no post, method "exact", proven optimal with the
    bound at the value (the flow objective's value, not a mean risk), and no solver round."""
    for objective in ("single", "flow"):
        r = interdict_exact(_three_posts(), 1.5, objective=objective)
        assert r.posts == () and r.method == "exact" and r.optimal is True
        assert r.rounds == 0 and r.bound == r.value == r.base_value


def _parallel_posts(n: int) -> nx.DiGraph:
    """``o -> m`` through ``n`` posts in series, all alike (p_detect 0.1 -> 0.3, cost 1)."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0)
    G.add_node("m", kind="place", role="market", demand=1.0)
    prev = "o"
    for i in range(n):
        x = f"x{i:02d}"
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=0.1,
                   p_detect_upgraded=0.3, upgrade_cost=1.0, crossing_risk=risk_from_p(0.1))
        G.add_edge(prev, x, risk=risk_from_p(0.1))
        prev = x
    G.add_edge(prev, "m", risk=0.02)
    return G


def test_brute_force_enumerates_up_to_its_limit_and_breaks_ties_by_id():
    """At most BRUTE_FORCE_MAX_POSTS (22) posts are enumerated (22 is allowed, 23 is not);
    among equal sets, the first ids win; the method is named "brute_force"."""
    from routes.priorities.brute_force import BRUTE_FORCE_MAX_POSTS

    assert BRUTE_FORCE_MAX_POSTS == 22
    r = interdict_brute_force(_parallel_posts(22), 0.0)
    assert r.posts == () and r.method == "brute_force"
    with pytest.raises(RoutesError, match="23 candidate posts"):
        interdict_brute_force(_parallel_posts(23), 0.0)
    assert interdict_brute_force(_parallel_posts(4), 2.0).posts == ("x00", "x01")


def test_brute_force_enumerates_no_set_size_the_budget_cannot_buy(monkeypatch):
    """The enumeration stops at the first size whose cheapest set is over the budget (time to
    answer: 22 posts have 4 million sets): at budget 1 with 22 posts costing 1, only the
    sizes 0 and 1 are enumerated (the sizes handed to ``combinations``, through a spy)."""
    import routes.priorities.brute_force as bf

    sizes: list[int] = []

    def spy(items, size):
        sizes.append(size)
        return itertools.combinations(items, size)

    monkeypatch.setattr(bf, "combinations", spy)
    assert interdict_brute_force(_parallel_posts(22), 1.0).posts == ("x00",)
    assert sizes == [0, 1]


def test_brute_force_budget_tolerance_is_inclusive():
    """A set costing at most the budget plus 1e-12 is affordable, the bound included (float
    sums such as 0.1 + 0.2 exceed 0.3 by 5.6e-17); one costing more is not."""
    for cost, posts in ((1.0 + 1e-12, ("x00",)), (1.0 + 3e-12, ())):
        G = _parallel_posts(1)
        G.nodes["x00"]["upgrade_cost"] = cost
        assert interdict_brute_force(G, 1.0).posts == posts
    G = _parallel_posts(2)
    G.nodes["x00"]["upgrade_cost"], G.nodes["x01"]["upgrade_cost"] = 0.1, 0.2
    assert interdict_brute_force(G, 0.3).posts == ("x00", "x01")


# --------------------------------------------------------------------------- exact's rules
def _far_three_posts() -> nx.DiGraph:
    """``_three_posts`` 1.5 further from the origin: the least risk (``"single"``, 1.68 with no
    upgrade) then exceeds any detected share (``"flow"``, at most 1), so a value of one
    objective is never taken for the other's."""
    G = _three_posts()
    for x in ("xa", "xb", "xc"):
        G.edges["o", x]["risk"] += 1.5
    return G


def test_exact_hands_its_options_to_the_solver(monkeypatch):
    """time_limit, rel_tol, max_rounds, formulation and progress reach the MILP; the result
    carries its rounds (one progress line each) and is named method "exact"."""
    import routes.priorities.exact as exact_mod

    seen: dict = {}
    real = exact_mod.solve_exact

    def spy(*a, **k):
        seen.update(k, out=real(*a, **k))
        return seen["out"]

    monkeypatch.setattr(exact_mod, "solve_exact", spy)
    lines: list[str] = []

    def tell(s: str) -> None:
        lines.append(s)

    r = interdict_exact(_far_three_posts(), 5.0, objective="flow", time_limit=30.0,
                        rel_tol=2e-7, max_rounds=7, progress=tell)
    assert (seen["time_limit"], seen["rel_tol"], seen["max_rounds"]) == (30.0, 2e-7, 7)
    assert seen["formulation"] == "tight" and seen["progress"] is tell
    assert r.rounds == seen["out"].rounds == len(lines) >= 1
    assert r.method == "exact" and r.optimal and r.posts == ("xa", "xb")
    interdict_exact(_far_three_posts(), 5.0, formulation="plain")
    assert seen["formulation"] == "plain"


def test_exact_stopped_without_proof_keeps_the_better_of_solver_and_greedy(monkeypatch):
    """A solve stopped at its time limit (not optimal) with a worse solution than greedy's:
    the greedy posts of the same objective are returned, not proven optimal, with the
    solver's bound (not the value) and its rounds; both formulations."""
    import routes.priorities.exact as exact_mod
    from routes.priorities._milp import Outcome

    def stopped(inst, objective, budget, **k):
        x0 = inst.x0()
        return Outcome(x0, inst.value(objective, x0)[0], 9.0, False, 3)

    monkeypatch.setattr(exact_mod, "solve_exact", stopped)
    G = _far_three_posts()
    for formulation in ("tight", "plain"):
        r = interdict_exact(G, 5.0, formulation=formulation)
        g = interdict_greedy(G, 5.0)
        assert r.posts == g.posts == ("xa", "xb") and r.value == pytest.approx(g.value)
        assert r.optimal is False and r.bound == 9.0 and r.rounds == 3 and r.method == "exact"


def test_exact_reads_restricted_posts_through_the_cost_model():
    """A restricted post with p_detect 0 needs the cost model (its factor): interdict_exact
    passes it on, and without it names the problem."""
    G = _three_posts()
    G.nodes["xb"].update(status="restricted", p_detect=0.0, crossing_risk=0.4)
    with pytest.raises(RoutesError, match="restricted with p_detect 0"):
        interdict_exact(G, 5.0)
    r = interdict_exact(G, 5.0, cm=load_cost_model(DEFAULT_COST_MODEL))
    assert r.optimal and r.posts == interdict_brute_force(
        G, 5.0, cm=load_cost_model(DEFAULT_COST_MODEL)).posts


def test_an_unknown_formulation_is_named_with_the_choices():
    with pytest.raises(RoutesError, match=r"unknown formulation 'loose'; choose one of "
                                          r"tight, plain$"):
        interdict_exact(_toy(), 1.0, formulation="loose")


def test_exact_drops_posts_that_add_less_than_the_relative_tolerance():
    """A chosen post whose removal lowers the value by less than rel_tol x max(1, |value|)
    is dropped. Far three posts, budget 5, "single": {xa, xb} = 1.7925, {xa} = 1.7431 (xb
    adds 0.0494); rel_tol 0.05 allows 0.0896 (0.05 x 1.7925): xb goes; 0.02 allows 0.0359:
    it stays."""
    G = _far_three_posts()
    assert interdict_exact(G, 5.0, rel_tol=0.02).posts == ("xa", "xb")
    r = interdict_exact(G, 5.0, rel_tol=0.05)
    assert r.posts == ("xa",) and r.value == pytest.approx(1.7431435513142097)


# --------------------------------------------------------------------------- greedy, curves
def _one_post(gain: float, leg: float = 0.2) -> nx.DiGraph:
    """``o -> xa -> m``: xa's upgrade adds ``gain`` to the least risk (to ~1e-16), which is
    ``leg + 0.125`` without it."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0)
    G.add_node("m", kind="place", role="market", demand=1.0)
    G.add_node("xa", kind="crossing", name="xa", status="open", p_detect=0.1,
               p_detect_upgraded=1 - 0.9 * math.exp(-gain), upgrade_cost=1.0,
               crossing_risk=risk_from_p(0.1))
    G.add_edge("o", "xa", risk=leg + risk_from_p(0.1))
    G.add_edge("xa", "m", risk=0.02)
    return G


def test_greedy_takes_any_gain_above_the_noise_floor_of_1e_12_of_the_value():
    """A gain must beat 1e-12 of the value, at least of 1: at a least risk of 0.33 a gain of
    1.5e-12 is taken and 5e-13 is not; at 2.6 (the floor 2.6e-12), 1.5e-12 is not and 4e-12
    is."""
    assert interdict_greedy(_one_post(1.5e-12), 1.0).posts == ("xa",)
    assert interdict_greedy(_one_post(5e-13), 1.0).posts == ()
    assert interdict_greedy(_one_post(1.5e-12, leg=2.5), 1.0).posts == ()
    assert interdict_greedy(_one_post(4e-12, leg=2.5), 1.0).posts == ("xa",)


def test_a_curves_greedy_runs_share_their_route_computations(monkeypatch):
    """The greedy runs of a curve's budgets share one cache (time to answer): the posts on
    the counting routes are computed once per upgrade set over the whole curve, though every
    budget starts from no posts (through a spy on the instance)."""
    from routes.priorities._instance import _Instance

    seen: list[bytes] = []
    real = _Instance.on_routes

    def spy(self, objective, x):
        seen.append(x.tobytes())
        return real(self, objective, x)

    monkeypatch.setattr(_Instance, "on_routes", spy)
    curve = budget_curve(_three_posts(), [2.0, 5.0, 10.0], method="greedy")
    assert curve["posts"].tolist() == ["xa", "xa;xb", "xa;xb;xc"]
    assert len(seen) == len(set(seen)) >= 3


def test_exact_curve_solves_in_worker_threads_of_a_cancel_scope_with_its_formulation(
        monkeypatch):
    """Each exact budget is solved in a worker thread under the curve's cancel scope (so
    Ctrl-C reaches the caller at once and leaving stops the solves), with the formulation
    asked for (through a spy on the solve)."""
    import threading

    import routes.priorities.curves as curves
    from routes.priorities import _cancel

    seen: list[tuple[bool, bool, str]] = []
    real = curves._exact

    def spy(*a, **k):
        seen.append((threading.current_thread() is threading.main_thread(),
                     getattr(_cancel._LOCAL, "scope", None) is not None, k["formulation"]))
        return real(*a, **k)

    monkeypatch.setattr(curves, "_exact", spy)
    budget_curve(_toy(), [1.0, 2.0], formulation="plain")
    assert seen == [(False, True, "plain")] * 2


def test_greedy_budget_tolerance_is_inclusive_and_names_its_method():
    """As brute force: a post costing the budget plus 1e-12 is affordable, one costing more is
    not; the result's method is "greedy"."""
    G = _one_post(0.1)
    G.nodes["xa"]["upgrade_cost"] = 1.0 + 1e-12
    r = interdict_greedy(G, 1.0)
    assert r.posts == ("xa",) and r.method == "greedy"
    G.nodes["xa"]["upgrade_cost"] = 1.0 + 3e-12
    assert interdict_greedy(G, 1.0).posts == ()


def test_greedy_evaluates_only_posts_on_the_routes_its_objective_reads(monkeypatch):
    """On ``_hub`` the single objective reads the pairs leaving the origin: xb, only on the
    onward leg h -> m, is never evaluated (its gain is exactly 0; time to answer), through a
    spy on the instance's evaluation."""
    from routes.priorities._instance import _Instance

    seen: set[tuple[str, ...]] = set()
    real = _Instance.value

    def spy(self, objective, x):
        seen.add(tuple(p for p, on in zip(self.posts, x) if on))
        return real(self, objective, x)

    monkeypatch.setattr(_Instance, "value", spy)
    assert interdict_greedy(_hub(), 2.0, objective="single").posts == ("xa",)
    assert seen == {(), ("xa",)}
