"""Legitimate-traffic delay and the Pareto front: hand-worked queueing, brute force."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from routes.priorities.interdiction import interdict_exact
from routes.priorities.legit import (
    LegitParams,
    UpgradeType,
    added_minutes,
    graph_for_upgrade,
    legit_params,
    post_delays,
    post_traffic,
)
from routes.priorities.tradeoff import pareto_brute_force, pareto_front, pareto_fronts


def test_hand_worked_queue():
    # s = 10 min, rho0 = 0.6, +2 min: rho1 = 0.6 * 12 / 10 = 0.72.
    # M/M/1 waits: 10 * 0.6 / 0.4 = 15; 12 * 0.72 / 0.28 = 30.857142857...
    assert added_minutes(0.6, 10.0, 2.0) == pytest.approx(2 + 12 * 0.72 / 0.28 - 15, abs=1e-12)
    assert added_minutes(0.6, 10.0, 2.0) == pytest.approx(17.857142857142858, abs=1e-12)
    # Kingman with ca2 = 0.5, cs2 = 1.5 is the same here ((0.5 + 1.5) / 2 = 1); 0.3 and 0.9 scale
    # the waits by 0.6: 2 + (30.857142857 - 15) * 0.6 = 11.514285714...
    assert added_minutes(0.6, 10.0, 2.0, ca2=0.3, cs2=0.9) == pytest.approx(
        2 + (12 * 0.72 / 0.28 - 15) * 0.6, abs=1e-12)
    # capped: rho0 = 0.9 -> rho1 = 1.08, read as 0.95: 2 + 12 * 19 - 10 * 9
    assert added_minutes(0.9, 10.0, 2.0) == pytest.approx(2 + 12 * 19 - 90, abs=1e-9)
    assert added_minutes(0.6, 10.0, 0.0) == 0.0


def test_post_without_traffic_adds_nothing():
    p = LegitParams(10.0, 2.0, 1.0, 1.0, 0.95, 24000.0, 0.01, 1.5,
                    {"x": UpgradeType("x", 2.0, 0.5, 1.0, 1.0)})
    t = pd.DataFrame({"trucks_per_day": [100.0, 0.0], "people_per_day": [1000.0, 0.0],
                      "trucks_basis": "sourced", "people_basis": "sourced",
                      "rho0": [0.6, 0.7], "rho_basis": "sourced"}, index=["a", "b"])
    d = post_delays(t, p, "x")
    assert d.at["b", "delay_h_per_day"] == 0.0 and d.at["b", "cost_usd_per_day"] == 0.0
    # people: s = 2, +0.5 at rho 0.6: rho1 = 0.75; 0.5 + 2.5 * 3 - 3 = 5 min; 1000 * 5 / 60
    assert d.at["a", "person_h_per_day"] == pytest.approx(1000 * 5.0 / 60, abs=1e-9)
    assert d.at["a", "truck_h_per_day"] == pytest.approx(100 * 17.857142857142858 / 60)
    # USD: trucks at 24000 * 0.01 / 24 = 10 per hour, people at 1.5
    assert d.at["a", "cost_usd_per_day"] == pytest.approx(
        100 * 17.857142857142858 / 60 * 10 + 1000 * 5 / 60 * 1.5)


def test_shipped_traffic_and_imputation(dataset, cost_model):
    p = legit_params(cost_model)
    t = post_traffic(dataset.crossings, dataset.border_traffic, p)
    assert (t.loc["x_sarpi_sarp", ["trucks_per_day", "people_per_day"]].to_list()
            == [503 + 710, pytest.approx(22.9e6 / 1826, abs=0.01)])  # the latest people figure
    assert t.at["x_sarpi_sarp", "trucks_basis"] == "sourced"
    imp = t[t["trucks_basis"] == "imputed"]
    assert (imp["trucks_low"] <= imp["trucks_per_day"]).all()
    assert (imp["trucks_per_day"] <= imp["trucks_high"]).all()
    assert imp["group"].str.contains("median of").all()
    d = post_delays(t, p, "physical")
    assert (d["cost_usd_per_day"] >= 0).all()
    assert d.loc[imp.index, "imputed"].all()


def _net(directed: bool, seed: int) -> nx.DiGraph:
    """Two origins, two markets, five posts on parallel and crossing legs (costs 1 and 2)."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_node("o1", kind="place", role="origin", supply=3.0, demand=0.0)
    G.add_node("o2", kind="place", role="origin", supply=1.0, demand=0.0)
    G.add_node("m1", kind="place", role="market", supply=0.0, demand=2.0)
    G.add_node("m2", kind="place", role="market", supply=0.0, demand=1.0)
    posts = ["xa", "xb", "xc", "xd", "xe"]
    for i, x in enumerate(posts):
        p = float(rng.uniform(0.05, 0.3))
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=p,
                   crossing_risk=-math.log1p(-p), p_detect_upgraded=min(p + 0.4, 0.9),
                   upgrade_cost=1.0 + (i % 2))
    legs = [("o1", "xa"), ("xa", "m1"), ("o1", "xb"), ("xb", "m1"), ("o2", "xc"), ("xc", "m1"),
            ("o2", "xd"), ("xd", "m2"), ("o1", "xe"), ("xe", "m2"), ("xb", "xd")]
    for u, v in legs:
        G.add_edge(u, v, risk=float(rng.uniform(0.01, 0.2)))
    return G


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("budget", [2.0, 4.0])
def test_front_equals_brute_force(directed, seed, budget):
    G = _net(directed, seed)
    # ties in delay: xa and xc cost the same, xe costs nothing
    d = pd.DataFrame({"cost_usd_per_day": [30.0, 55.0, 30.0, 12.5, 0.0],
                      "delay_h_per_day": [3.0, 5.5, 3.0, 1.25, 0.0],
                      "imputed": False}, index=["xa", "xb", "xc", "xd", "xe"])
    front = pareto_front(G, budget, d)
    brute = pareto_brute_force(G, budget, d)
    got = [(round(p.detected_share, 7), p.legit_cost_usd_per_day) for p in front]
    want = [(round(p.detected_share, 7), p.legit_cost_usd_per_day) for p in brute]
    assert got == want
    assert all(p.optimal for p in front)
    # most-detecting point = the single-objective exact solve
    r = interdict_exact(G, budget, objective="flow")
    assert front[0].detected_share == pytest.approx(r.value, abs=1e-9)
    # every point non-dominated
    for p in front:
        for q in front:
            assert not (q.detected_share >= p.detected_share
                        and q.legit_cost_usd_per_day < p.legit_cost_usd_per_day)


def test_fronts_at_every_budget_up_to_b():
    """Every budget of the priorities' curve up to B, bounded by the cost of every post (here
    1 + 2 + 1 + 2 + 1 = 7), each front as at its budget alone; B alone when asked; a progress
    line per budget."""
    G = _net(True, 2)
    d = pd.DataFrame({"cost_usd_per_day": [30.0, 55.0, 30.0, 12.5, 0.0],
                      "delay_h_per_day": [3.0, 5.5, 3.0, 1.25, 0.0],
                      "imputed": False}, index=["xa", "xb", "xc", "xd", "xe"])
    said: list[str] = []
    pts = pareto_fronts(G, 1e18, d, progress=said.append)
    assert sorted({p.budget for p in pts}) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert [s for s in said if s.startswith("front at")] == [
        f"front at budget {b} ({b} of 7)" for b in range(1, 8)]
    for b in (1.0, 4.0, 7.0):
        assert [(p.detected_share, p.posts) for p in pts if p.budget == b] == [
            (p.detected_share, p.posts) for p in pareto_front(G, b, d)]
    half = pareto_fronts(G, 2.5, d)
    assert sorted({p.budget for p in half}) == [1.0, 2.0, 2.5]
    assert {p.budget for p in pareto_fronts(G, 2.5, d, every_budget=False)} == {2.5}
    assert [p.posts for p in pareto_fronts(G, 0.0, d)] == [()]


def test_targeted_keeps_a_share_of_the_gain(baseline, cost_model):
    p = legit_params(cost_model)
    H = graph_for_upgrade(baseline, p, "targeted")
    x = "x_torkham_torkham"
    a, b = baseline.nodes[x], H.nodes[x]
    assert b["p_detect_upgraded"] - b["p_detect"] == pytest.approx(
        0.8 * (a["p_detect_upgraded"] - a["p_detect"]))
    assert graph_for_upgrade(baseline, p, "physical") is baseline


# --------------------------------------------------------------------------- the CLI
def _hand_with_traffic(tmp_path, *, legit: bool = True):
    import shutil
    from pathlib import Path

    from routes.settings import DEFAULT_COST_MODEL

    d = tmp_path / "data"
    shutil.copytree(Path(__file__).parent / "data" / "handworked", d)
    (d / "border_traffic.csv").write_text(
        "crossing_id,direction,period_start,period_end,trucks_per_day,vehicles_per_day,"
        "people_per_day,clearance_h,kind,note,source\n"
        'x_mid,both,2024-01-01,2024-12-31,100,,1000,2.4,flow,,"Test agency, Bulletin, 2025"\n')
    if legit:
        shipped = DEFAULT_COST_MODEL.read_text()
        (d / "cost_model.toml").write_text((d / "cost_model.toml").read_text() + "\n"
                                           + shipped[shipped.index("[legit]"):])
    return d


def test_cli_writes_the_front(tmp_path, capsys):
    from routes.cli import main
    from routes.costs import load_cost_model
    from routes.geodata import load_dataset

    d = _hand_with_traffic(tmp_path)
    out = tmp_path / "out"
    assert main(["tradeoff", "--data", str(d), "--budget", "5", "--out", str(out),
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "1 upgradable posts: trucks sourced at 1 (imputed at 0)" in text
    folder = out / "baseline"
    front = pd.read_csv(folder / "pareto.csv")
    assert list(front.columns[:6]) == ["budget", "detected_share", "legit_delay_h_per_day",
                                       "legit_cost_usd_per_day", "posts", "optimal"]
    assert front["posts"].fillna("").tolist() == ["x_mid", ""]
    assert (folder / "pareto.png").stat().st_size > 0
    cm = load_cost_model(d / "cost_model.toml")
    p = legit_params(cm)
    ds = load_dataset(d)
    want = post_delays(post_traffic(ds.crossings, ds.border_traffic, p), p)
    # utilisation from the clearance time: 144 min = 84 + 84 rho / (1 - rho) -> rho = 60 / 144
    assert want.at["x_mid", "truck_min"] == pytest.approx(
        added_minutes(60 / 144, 84.0, 2.0), abs=1e-12)
    assert front.at[0, "legit_delay_h_per_day"] == pytest.approx(
        want.at["x_mid", "delay_h_per_day"], rel=1e-9)
    assert front.at[1, "legit_cost_usd_per_day"] == 0


def test_cli_errors_exit_2(tmp_path, capsys):
    from routes.cli import main

    d = _hand_with_traffic(tmp_path, legit=False)
    out = tmp_path / "out"
    assert main(["tradeoff", "--data", str(d), "--budget", "1", "--out", str(out)]) == 2
    assert "legit" in capsys.readouterr().err and not (out / "baseline" / "pareto.csv").exists()
    d2 = _hand_with_traffic(tmp_path / "b")
    assert main(["tradeoff", "--data", str(d2), "--budget", "1", "--upgrade", "magic",
                 "--out", str(out)]) == 2
    assert "unknown upgrade type 'magic'" in capsys.readouterr().err


def test_report_section(tmp_path):
    """`routes report`: the section with the front, its knee and the posts' traffic, by default
    at the report's budget; its table equals `routes tradeoff`'s front; `--no-tradeoff` leaves
    it out, `--tradeoff N` chooses another budget."""
    import json

    from routes.cli import main

    d = _hand_with_traffic(tmp_path)
    out = tmp_path / "rep"
    assert main(["report", "--data", str(d), "--out", str(out), "--no-map", "--budget", "1",
                 "--runs", "0", "--no-progress"]) == 0
    folder = out / "baseline"
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Security and legitimate trade" in md and "chart_pareto.png" in md
    assert "1 have a sourced truck figure and 1 a sourced people figure" in md
    assert "At a budget of 1, the front has 2 points" in md
    assert "Trade-off with legitimate traffic" in md
    assert (folder / "chart_pareto.png").exists()
    assert json.loads((folder / "provenance.json").read_text())["options"][
        "tradeoff_budget"] == 1.0
    cli = tmp_path / "cli"
    assert main(["tradeoff", "--data", str(d), "--budget", "1", "--out", str(cli),
                 "--no-progress"]) == 0
    a = pd.read_csv(folder / "pareto.csv")
    b = pd.read_csv(cli / "baseline" / "pareto.csv")
    pd.testing.assert_frame_equal(a, b)
    other = tmp_path / "other"
    assert main(["report", "--data", str(d), "--out", str(other), "--no-map", "--budget", "1",
                 "--runs", "0", "--tradeoff", "0.5", "--no-progress"]) == 0
    md = (other / "baseline" / "report.md").read_text(encoding="utf-8")
    assert "At a budget of 0.5, the front has 1 points" in md
    assert pd.read_csv(other / "baseline" / "pareto.csv")["budget"].tolist() == [0.5]
    plain = tmp_path / "plain"
    assert main(["report", "--data", str(d), "--out", str(plain), "--no-map", "--budget", "1",
                 "--runs", "0", "--no-tradeoff", "--no-progress"]) == 0
    assert "Security and legitimate trade" not in (plain / "baseline" / "report.md").read_text()
    assert "tradeoff_budget" not in (plain / "baseline" / "provenance.json").read_text()
    assert not (plain / "baseline" / "pareto.csv").exists()


@pytest.mark.parametrize("ca2, cs2", [(1.0, 1.0), (0.3, 1.7)])
def test_added_minutes_invariants(ca2, cs2):
    """More added service never adds less, nor does a busier post while the upgraded post stays
    below ``rho_max``; nothing added adds nothing. (Past ``rho_max`` the post is taken to open
    lanes and hold its utilisation there, so a post already saturated gains less from the cap
    than one brought to it: the rule is monotone in the added service only.)"""
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.floats(0.0, 0.99), st.floats(0.5, 200.0), st.floats(0.0, 30.0),
           st.floats(0.0, 30.0), st.floats(0.0, 0.99))
    def check(rho, s, d1, d2, rho2):
        lo, hi = sorted((d1, d2))
        a = added_minutes(rho, s, lo, ca2=ca2, cs2=cs2)
        assert a >= lo - 1e-9                                  # at least the added service
        assert added_minutes(rho, s, hi, ca2=ca2, cs2=cs2) >= a - 1e-9
        r_lo, r_hi = sorted((rho, rho2))
        if r_hi * (s + hi) / s <= 0.95:
            assert (added_minutes(r_hi, s, hi, ca2=ca2, cs2=cs2)
                    >= added_minutes(r_lo, s, hi, ca2=ca2, cs2=cs2) - 1e-9)
        assert added_minutes(rho, s, 0.0, ca2=ca2, cs2=cs2) == 0.0

    check()


# --------------------------------------------------------------------------- rules (issue 24)
def _toy_delays() -> pd.DataFrame:
    """Legitimate costs on the two-post toy network (o -> xa -> m at risk 0.2, o -> xb -> m at
    0.3, each upgrade +0.2 for 1): xa 5,000 USD/day, xb 1."""
    return pd.DataFrame({"cost_usd_per_day": [5000.0, 1.0], "delay_h_per_day": [2.0, 0.5],
                         "imputed": [False, True]}, index=["xa", "xb"])


def test_front_steps_down_the_legitimate_cost_and_tells_each_point():
    """Budget 2 on the toy: {xa, xb} (5,001 USD/day) detects 1 - exp(-0.4); the next solve
    allows 5,001 - 5e-5 x 5,000 and finds {xa} (5,000), whose share 1 - exp(-0.3) the empty
    set's (1 - exp(-0.2), 0 USD) follows; one progress line per point; max_points stops it."""
    from routes.priorities._instance import _toy

    lines: list[str] = []
    front = pareto_front(_toy(), 2.0, _toy_delays(), progress=lines.append)
    assert [(p.posts, p.legit_cost_usd_per_day, p.legit_delay_h_per_day, p.cost)
            for p in front] == [(("xa", "xb"), 5001.0, 2.5, 2.0), (("xa",), 5000.0, 2.0, 1.0),
                                ((), 0.0, 0.0, 0.0)]
    assert [p.detected_share for p in front] == pytest.approx(
        [-math.expm1(-0.4), -math.expm1(-0.3), -math.expm1(-0.2)], abs=1e-12)
    assert all(p.optimal and p.budget == 2.0 for p in front)
    assert lines == ["budget 2: point 1, detected 0.329680, USD 5,001/day",
                     "budget 2: point 2, detected 0.259182, USD 5,000/day",
                     "budget 2: point 3, detected 0.181269, USD 0/day"]
    one = pareto_front(_toy(), 2.0, _toy_delays(), max_points=1)
    assert [p.posts for p in one] == [("xa", "xb")]


def test_legitimate_costs_must_be_finite_and_not_negative():
    from routes._errors import RoutesError
    from routes.priorities._instance import _toy

    for bad in (-1.0, math.inf):
        d = _toy_delays()
        d.loc["xb", "cost_usd_per_day"] = bad
        with pytest.raises(RoutesError, match="finite number >= 0"):
            pareto_front(_toy(), 1.0, d)


def test_legit_of_posts_and_brute_force_limits():
    """legit_of_posts sums the posts in the table only; brute force refuses over 20 posts."""
    from routes._errors import RoutesError
    from routes.priorities.tradeoff import legit_of_posts

    assert legit_of_posts(_toy_delays(), ["xb", "zz"]) == (1.0, 0.5)
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0)
    G.add_node("m", kind="place", role="market", demand=1.0)
    for i in range(21):
        x = f"x{i:02d}"
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=0.1,
                   p_detect_upgraded=0.3, upgrade_cost=1.0, crossing_risk=0.1)
        G.add_edge("o", x, risk=0.2)
        G.add_edge(x, "m", risk=0.1)
    with pytest.raises(RoutesError, match="21 posts: too many to enumerate"):
        pareto_brute_force(G, 1.0, pd.DataFrame(columns=["cost_usd_per_day",
                                                         "delay_h_per_day"]))


def test_front_table_marks_the_knee_and_the_imputed_posts():
    """Rows by budget; the knee (farthest from the line between the ends, both axes scaled)
    marked; posts joined by ";"; the imputed ones named; columns in PARETO_COLUMNS order."""
    from routes.priorities.tradeoff import PARETO_COLUMNS, FrontPoint, front_table, knee_point

    def pt(b, posts, d, c):
        return FrontPoint(b, posts, d, c, c / 10, float(len(posts)), True)

    pts = [pt(2.0, ("xa", "xb"), 0.5, 100.0), pt(2.0, ("xa",), 0.45, 10.0), pt(2.0, (), 0.1, 0.0),
           pt(1.0, ("xa",), 0.45, 10.0), pt(1.0, (), 0.1, 0.0)]
    t = front_table(pts, _toy_delays())
    assert list(t.columns) == list(PARETO_COLUMNS)
    assert t["budget"].tolist() == [1.0, 1.0, 2.0, 2.0, 2.0]
    assert t["knee"].tolist() == [False, False, False, True, False]
    assert t["posts"].tolist() == ["xa", "", "xa;xb", "xa", ""]
    assert t["imputed_posts"].tolist() == ["", "", "xb", "", ""]
    assert t["n_posts"].tolist() == [1, 0, 2, 1, 0]
    assert t["detected_share"].tolist() == [0.45, 0.1, 0.5, 0.45, 0.1]
    assert t["legit_cost_usd_per_day"].tolist() == [10.0, 0.0, 100.0, 10.0, 0.0]
    assert t["legit_delay_h_per_day"].tolist() == [1.0, 0.0, 10.0, 1.0, 0.0]
    assert t["cost"].tolist() == [1.0, 0.0, 2.0, 1.0, 0.0] and t["optimal"].all()
    # on a line: no knee; fewer than three points: none
    assert knee_point([pt(1.0, (), 0.5, 100.0), pt(1.0, (), 0.3, 60.0),
                       pt(1.0, (), 0.1, 20.0)]) is None
    assert knee_point(pts[3:]) is None


def test_repair_drops_the_post_losing_least_detection_per_unit_saved():
    """Toy with both posts upgraded (least risk 0.4 through xa, 0.5 through xb): over the
    limit 0.6 of a = (0.5, 0.5), dropping xb leaves 0.3 and dropping xa 0.2: xb goes."""
    from routes.priorities._instance import _Instance, _toy
    from routes.priorities.tradeoff import _repair

    inst = _Instance(_toy(), None, None)
    assert _repair(inst, np.ones(2), np.array([0.5, 0.5]), 0.6).tolist() == [1.0, 0.0]
    assert _repair(inst, np.ones(2), np.array([0.5, 0.5]), 1.0).tolist() == [1.0, 1.0]


def _two_markets() -> nx.DiGraph:
    """o -> xa -> m1 (demand 3) and o -> xb -> m2 (demand 1), alike posts costing 1."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=1.0)
    for m, x, dem in (("m1", "xa", 3.0), ("m2", "xb", 1.0)):
        G.add_node(m, kind="place", role="market", demand=dem)
        G.add_node(x, kind="crossing", name=x, status="open", p_detect=0.1,
                   p_detect_upgraded=0.5, upgrade_cost=1.0, crossing_risk=-math.log(0.9))
        G.add_edge("o", x, risk=0.2)
        G.add_edge(x, m, risk=0.1)
    return G


def test_fronts_use_the_flows_cost_model_and_tolerance_given(monkeypatch):
    """Flows given weigh the pairs in pareto_fronts and pareto_brute_force as in pareto_front
    (o -> m2 carrying 9 of 10 makes xb the most detecting post; by demand it is xa); a
    restricted post with p_detect 0 is read through the cost model; rel_tol reaches each
    front."""
    import routes.priorities.tradeoff as tradeoff
    from routes.costs import load_cost_model
    from routes.settings import DEFAULT_COST_MODEL

    d = pd.DataFrame({"cost_usd_per_day": [4.0, 7.0], "delay_h_per_day": [1.0, 2.0]},
                     index=["xa", "xb"])
    G = _two_markets()
    flows = {("o", "m1"): 1.0, ("o", "m2"): 9.0}
    assert pareto_fronts(G, 1.0, d)[0].posts == ("xa",)
    assert pareto_fronts(G, 1.0, d, flows=flows)[0].posts == ("xb",)
    assert pareto_brute_force(G, 1.0, d, flows=flows)[0].posts == ("xb",)
    cm = load_cost_model(DEFAULT_COST_MODEL)
    G.nodes["xb"].update(status="restricted", p_detect=0.0, crossing_risk=0.4)
    assert {p.budget for p in pareto_fronts(G, 5.0, d, cm=cm)} == {1.0, 2.0}
    seen: list[float] = []
    real = tradeoff.pareto_front

    def spy(*a, **k):
        seen.append(k["rel_tol"])
        return real(*a, **k)

    monkeypatch.setattr(tradeoff, "pareto_front", spy)
    pareto_fronts(_two_markets(), 2.0, d, rel_tol=3e-7)
    assert seen == [3e-7, 3e-7]


def test_a_cost_within_the_step_of_nothing_ends_the_front():
    """Costs closer than EPS_STEP (1e-5) of the largest post's cost are tied: on the toy at
    budget 1, xa costing 0.01 USD/day against xb's 5,000 is the only point (the empty set,
    0 USD, is within the step of it)."""
    from routes.priorities._instance import _toy

    d = pd.DataFrame({"cost_usd_per_day": [0.01, 5000.0], "delay_h_per_day": [0.1, 2.0]},
                     index=["xa", "xb"])
    front = pareto_front(_toy(), 1.0, d)
    assert [(p.posts, p.legit_cost_usd_per_day) for p in front] == [(("xa",), 0.01)]


def test_legit_params_name_each_bad_value_with_its_range():
    """One problem per bad value, naming the field and the range ("(" open, "[" closed); 0
    is allowed where the range is closed (a cargo value of 0)."""
    import copy
    import dataclasses

    from routes._errors import DataError
    from routes.costs import load_cost_model
    from routes.settings import DEFAULT_COST_MODEL

    cm = load_cost_model(DEFAULT_COST_MODEL)
    raw = copy.deepcopy(cm.raw)
    raw["legit"]["cargo_value_usd"] = 0.0
    assert legit_params(dataclasses.replace(cm, raw=raw)).cargo_value_usd == 0.0
    raw["legit"].update(truck_service_min=0.0, rho_max=0.0, cargo_value_usd=-1.0)
    raw["legit"]["upgrades"]["physical"]["detection_share"] = 1.5
    with pytest.raises(DataError) as e:
        legit_params(dataclasses.replace(cm, raw=raw))
    assert [(p.field, p.message) for p in e.value.problems] == [
        ("legit.upgrades.physical.detection_share", "must be a number in [0.0, 1.0], got 1.5"),
        ("legit.truck_service_min", "must be a number in (0.0, inf], got 0.0"),
        ("legit.rho_max", "must be a number in (0.0, 0.999], got 0.0"),
        ("legit.cargo_value_usd", "must be a number in [0.0, inf], got -1.0")]


def test_traffic_from_clearance_and_without_a_traffic_table():
    """Clearance 30 min with service 10 (M/M/1): 10 + 10 rho / (1 - rho) = 30, rho0 = 2/3,
    sourced; a clearance no longer than the service means an idle post (rho0 0). Without any
    traffic table every stream is imputed, from nothing: 0."""
    from routes.priorities.legit import _rho_from_clearance

    assert _rho_from_clearance(30.0, 10.0, 1.0, 0.95) == pytest.approx(2 / 3)
    assert _rho_from_clearance(8.0, 10.0, 1.0, 0.95) == 0.0
    p = LegitParams(10.0, 2.0, 1.0, 1.0, 0.95, 24000.0, 0.01, 1.5,
                    {"x": UpgradeType("x", 2.0, 0.5, 1.0, 1.0)})
    crossings = pd.DataFrame({"id": ["a", "b"], "country_a": "AFG", "country_b": "IRN",
                              "mode": "road", "crossing_class": "major"})
    rows = pd.DataFrame({"crossing_id": ["a"], "kind": ["flow"], "direction": ["both"],
                         "period_end": ["2020-12-31"], "trucks_per_day": [100.0],
                         "vehicles_per_day": [float("nan")], "people_per_day": [1000.0],
                         "clearance_h": [0.5]})
    t = post_traffic(crossings, rows, p)
    assert t.at["a", "rho0"] == pytest.approx(2 / 3) and t.at["a", "rho_basis"] == "sourced"
    assert t.at["a", "trucks_per_day"] == 100.0 and t.at["a", "trucks_basis"] == "sourced"
    none = post_traffic(crossings, None, p)
    assert (none[["trucks_per_day", "people_per_day", "rho0"]] == 0.0).all().all()
    assert (none["trucks_basis"] == "imputed").all()


def _small_delays() -> pd.DataFrame:
    """Legitimate costs under 1 USD/day on the toy: xa 0.5, xb 0.25."""
    return pd.DataFrame({"cost_usd_per_day": [0.5, 0.25], "delay_h_per_day": [0.05, 0.02]},
                        index=["xa", "xb"])


def test_a_front_of_costs_under_one_usd_a_day_steps_down_to_nothing():
    """The steps go on while the last point costs more than 0 (not 1) USD/day: at budget 2,
    {xa, xb} at 0.75, {xa} at 0.5, then the empty set at 0, as brute force finds."""
    from routes.priorities._instance import _toy

    front = pareto_front(_toy(), 2.0, _small_delays())
    assert [(p.posts, p.legit_cost_usd_per_day) for p in front] == [
        (("xa", "xb"), 0.75), (("xa",), 0.5), ((), 0.0)]
    assert [p.posts for p in front] == [p.posts for p in pareto_brute_force(
        _toy(), 2.0, _small_delays())]


def test_fronts_tell_each_point_of_each_budget():
    """``pareto_fronts`` hands its progress to each front: a line per budget, then a line
    per point of that budget's front (budget 1: {xa}, then nothing; budget 2: three)."""
    from routes.priorities._instance import _toy

    lines: list[str] = []
    pareto_fronts(_toy(), 2.0, _small_delays(), progress=lines.append)
    assert [s.split(",")[0] for s in lines] == [
        "front at budget 1 (1 of 2)", "budget 1: point 1", "budget 1: point 2",
        "front at budget 2 (2 of 2)", "budget 2: point 1", "budget 2: point 2",
        "budget 2: point 3"]


def test_the_front_is_evaluated_with_the_flow_objective(monkeypatch):
    """Every evaluation the trade-off makes (its solves, the points' detected shares, the
    repair of a start, brute force) names the ``"flow"`` objective; through a spy on the
    instance's evaluation, since any name but ``"single"`` is read as flow."""
    from routes.priorities._instance import _Instance, _toy

    seen: set[object] = set()
    real = _Instance.value

    def spy(self, objective, x):
        seen.add(objective)
        return real(self, objective, x)

    monkeypatch.setattr(_Instance, "value", spy)
    pareto_front(_toy(), 2.0, _toy_delays())
    pareto_brute_force(_toy(), 1.0, _toy_delays())
    assert seen == {"flow"}
