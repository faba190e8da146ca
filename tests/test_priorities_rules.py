"""Rules of the priorities code that the planners' tables depend on, each pinned by one test.

Written from ``make mutate``'s survivors (issue 24): each test states the rule a surviving
mutant broke without any test noticing. Hand-worked values on the two-post toy network of
``routes.priorities``' doctests (``o -> xa -> m`` with risk 0.2, ``o -> xb -> m`` with 0.3;
each post's upgrade adds 0.2 and costs 1) and on a three-post variant with unequal costs.
"""

from __future__ import annotations

import math

import networkx as nx
import pytest

from routes.costs import risk_from_p
from routes.priorities import (
    UPGRADE_COLUMNS,
    budget_curve,
    budget_curve_solutions,
    evaluate_upgrades,
    interdict_brute_force,
    post_effectiveness,
    upgrade_table,
)
from routes.priorities._instance import _toy
from routes.priorities.curves import CURVE_COLUMNS


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
    solver's gap is measured against it)."""
    for budget, posts, value in ((1.0, ("xa",), 0.3), (2.0, ("xa", "xb"), 0.4)):
        r = interdict_brute_force(_toy(), budget)
        assert r.posts == posts and r.optimal is True
        assert r.value == pytest.approx(value) and r.bound == r.value


def test_an_empty_curve_has_the_curves_columns():
    """A curve over no budgets is an empty table with every column of the curve (callers
    select columns from it), for both methods."""
    curve, sols = budget_curve_solutions(_toy(), [])
    assert list(curve.columns) == list(CURVE_COLUMNS) and len(curve) == 0 and sols == {}
    greedy = budget_curve(_toy(), [], method="greedy")
    assert list(greedy.columns) == list(CURVE_COLUMNS[:-4]) and len(greedy) == 0
