"""Priority comparison, scenario comparison, and the ``priorities`` / ``compare`` commands."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from routes._errors import NoRouteError, RoutesError
from routes.cli import main
from routes.comparison.compare import (
    CRITERIA,
    PRIORITY_COLUMNS,
    compare_scenarios,
    priority_table,
    rank_correlations,
)
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.priorities.interdiction import interdict_brute_force, interdict_exact
from routes.scenario import BASELINE, load_scenario

HAND = Path(__file__).parent / "data" / "handworked"

CROSSINGS = """\
id,name,country_a,country_b,lat,lon,mode,status,as_of,crossing_class,p_detect,upgrade_cost,p_detect_upgraded,source
x_n,North post,AAA,BBB,0.5,1.0,road,open,2025-01-01,post,0.2,1.0,0.5,test
x_m,Middle post,AAA,BBB,0.0,1.0,road,open,2025-01-01,post,0.3,2.0,0.8,test
x_s,South post,AAA,BBB,-0.5,1.0,road,restricted,2025-01-01,post,0.1,1.0,0.4,test
"""
PLACES = """\
id,name,country,lat,lon,role,supply,demand,figure_source,source
p_o1,Origin one,AAA,0.3,-0.5,origin,10,,test,test
p_o2,Origin two,AAA,-0.3,-0.5,origin,5,,test,test
p_m1,Market one,BBB,0.5,2.0,market,,4,test,test
p_m2,Market two,BBB,-0.5,2.0,market,,6,test,test
"""
LINKS = [("p_o1", "x_n"), ("p_o1", "x_m"), ("p_o2", "x_m"), ("p_o2", "x_s"), ("p_o1", "p_o2"),
         ("x_n", "p_m1"), ("x_m", "p_m1"), ("x_m", "p_m2"), ("x_s", "p_m2"), ("p_m1", "p_m2")]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Three posts on the AAA-BBB border between two origins and two markets."""
    d = tmp_path_factory.mktemp("three_posts")
    shutil.copy(HAND / "countries.geojson", d)
    shutil.copy(HAND / "cost_model.toml", d)
    (d / "crossings.csv").write_text(CROSSINGS)
    (d / "places.csv").write_text(PLACES)
    (d / "corridors.csv").write_text("id,from_id,to_id,mode,source\n" + "".join(
        f"c{i},{a},{b},road,test\n" for i, (a, b) in enumerate(LINKS)))
    (d / "close_north.toml").write_text(
        '[scenario]\nname = "close-north"\n[crossings.x_n]\nstatus = "closed"\n')
    (d / "close_all.toml").write_text('[scenario]\nname = "close-all"\n' + "".join(
        f'[crossings.{x}]\nstatus = "closed"\n' for x in ("x_n", "x_m", "x_s")))
    return d


@pytest.fixture(scope="module")
def inputs(data_dir):
    cm = load_cost_model(data_dir / "cost_model.toml")
    return load_dataset(data_dir, classes=set(cm.classes)), cm


@pytest.fixture(scope="module")
def nets(inputs, data_dir):
    ds, cm = inputs
    return (network_from_data(ds, cm, BASELINE),
            network_from_data(ds, cm, load_scenario(data_dir / "close_north.toml")))


def args(data_dir: Path, *more: str) -> list[str]:
    return ["--data", str(data_dir), "--cost-model", str(data_dir / "cost_model.toml"), *more]


# --------------------------------------------------------------------------- library
def test_rank_correlations_handworked():
    t = pd.DataFrame({"x": [1, 2, 3, 4, 5], "y": [2, 1, 3, 4, 5], "c": [1, 1, 1, 1, 1]})
    r = rank_correlations(t, ["x", "y", "c"]).set_index(["a", "b"])
    # one discordant pair out of 10: tau = (9 - 1) / 10; rho = 1 - 6 * 2 / (5 * 24)
    assert r.loc[("x", "y"), "kendall_tau"] == pytest.approx(0.8)
    assert r.loc[("x", "y"), "spearman_rho"] == pytest.approx(0.9)
    assert np.isnan(r.loc[("x", "c"), "kendall_tau"])   # constant: no ranking, no warning
    with pytest.raises(RoutesError, match="no column"):
        rank_correlations(t, ["x", "nope"])


def test_priority_table(nets, inputs):
    G, _ = nets
    cm = inputs[1]
    sol = interdict_exact(G, 2.0, cm=cm)
    t = priority_table(G, cm, solution=sol)
    assert tuple(t.columns) == PRIORITY_COLUMNS
    assert sorted(t.index) == ["x_m", "x_n", "x_s"]
    # Every route takes the North post (least risk): it leads on all three criteria.
    assert t.index[0] == "x_n"
    assert t.loc["x_n", list(CRITERIA)].tolist() == [1.0, 1.0, 1.0]
    assert t.loc["x_n", "flow_share"] == pytest.approx(1.0)
    assert t["in_solution"].to_dict() == {n: n in sol.posts for n in t.index}
    # ties share their mean rank
    assert t.loc["x_m", "flow_rank"] == t.loc["x_s", "flow_rank"] == 2.5


def test_exact_matches_brute_force_on_built_network(nets, inputs):
    cm = inputs[1]
    for G in nets:
        for objective in ("single", "flow"):
            for b in (0.0, 1.0, 2.0, 3.0):
                ex = interdict_exact(G, b, objective=objective, cm=cm)
                bf = interdict_brute_force(G, b, objective=objective, cm=cm)
                assert ex.value == pytest.approx(bf.value, rel=1e-6)


def test_compare_scenarios(nets, inputs):
    A, B = nets
    res = compare_scenarios(A, B, inputs[1], budget=2.0)
    assert res.names == ("baseline", "close-north")
    assert not res.routes["same_route"].any()          # every pair used the North post
    assert (res.routes["risk_change"] > 0).all()
    assert res.routes.loc["p_o1>p_m1", "path_a"] == "p_o1 > x_n > p_m1"
    assert res.crossings.loc["x_n", "share_a"] == pytest.approx(1.0)
    assert res.crossings.loc["x_n", "status_b"] == "closed"
    assert res.crossings.loc["x_m", "share_b"] == pytest.approx(1.0)
    assert res.corridors["share_a"].sum() == pytest.approx(1.0)
    assert res.summary.loc["pairs_changing_route", "b"] == 4
    assert res.summary.loc["routed_flow", "change"] == 0
    assert np.isnan(res.priorities.loc["x_n", "interdiction_gain_b"])   # closed in B
    assert not res.priorities.loc["x_n", "in_solution_b"]
    assert res.solutions[0].posts == interdict_exact(A, 2.0, cm=inputs[1]).posts


def test_compare_same_scenario_changes_nothing(nets, inputs):
    A, _ = nets
    res = compare_scenarios(A, A.copy(), inputs[1], budget=1.0, method="greedy")
    assert res.routes["same_route"].all()
    assert (res.corridors["share_change"] == 0).all()
    assert (res.priorities["gain_change"] == 0).all()


# --------------------------------------------------------------------------- CLI
def test_cli_priorities_exact(data_dir, tmp_path, capsys):
    assert main(["priorities", *args(data_dir, "--budget", "3", "--out", str(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "Budget curve" in out and "North post" in out and "Rank correlations" in out
    d = tmp_path / "baseline"
    curve = pd.read_csv(d / "priorities_curve.csv")
    assert curve["budget"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert curve["optimal"].all() and (curve["greedy_gap"] >= 0).all()
    assert curve.loc[0, "marginal_gain"] == 0.0 and pd.isna(curve.loc[0, "posts"])
    assert (np.diff(curve["value"]) >= -1e-12).all()
    table = pd.read_csv(d / "priorities_table.csv", index_col="id")
    assert set(CRITERIA) <= set(table) and len(table) == 3
    posts = pd.read_csv(d / "priorities_posts.csv", index_col="id")
    assert sorted(posts.index) == sorted(curve["posts"].iloc[-1].split(";"))
    corr = pd.read_csv(d / "priorities_correlations.csv")
    assert len(corr) == 3
    up = pd.read_csv(d / "priorities_upgrades.csv", index_col="id")
    assert up.loc["x_s", "risk_factor"] == pytest.approx(3.0)   # restricted, handworked model
    assert sorted(p.name for p in d.iterdir()) == [
        "priorities_correlations.csv", "priorities_curve.csv", "priorities_posts.csv",
        "priorities_table.csv", "priorities_table.geojson", "priorities_upgrades.csv"]


@pytest.mark.parametrize("method, objective", [("greedy", "single"), ("exact", "flow"),
                                               ("greedy", "flow")])
def test_cli_priorities_options(data_dir, tmp_path, capsys, method, objective):
    argv = ["priorities", *args(data_dir, "--budget", "1.5", "--method", method,
                                "--objective", objective, "--out", str(tmp_path),
                                "--scenario", str(data_dir / "close_north.toml"))]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{method} (" in out and f"objective {objective}" in out
    curve = pd.read_csv(tmp_path / "close_north" / "priorities_curve.csv")
    assert curve["budget"].tolist() == [0.0, 1.0, 1.5]
    assert ("greedy_gap" in curve) == (method == "exact")


def test_cli_priorities_no_route(data_dir, tmp_path, capsys):
    argv = ["priorities", *args(data_dir, "--budget", "2", "--out", str(tmp_path),
                                "--scenario", str(data_dir / "close_all.toml"))]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "routes priorities: error: no origin reaches any market" in err
    assert not (tmp_path / "close_all").exists()


def test_cli_compare(data_dir, tmp_path, capsys):
    argv = ["compare", "baseline", str(data_dir / "close_north.toml"),
            *args(data_dir, "--budget", "2", "--out", str(tmp_path))]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "A = baseline vs B = close-north" in out and "best route changes (4 of 4)" in out
    d = tmp_path / "compare_baseline_vs_close_north"
    assert sorted(p.name for p in d.iterdir()) == [
        "compare_corridors.csv", "compare_crossings.csv", "compare_priorities.csv",
        "compare_routes.csv", "compare_summary.csv"]
    routes = pd.read_csv(d / "compare_routes.csv", index_col="pair")
    assert routes.loc["p_o2>p_m2", "origin"] == "p_o2" and not routes["same_route"].any()
    cx = pd.read_csv(d / "compare_crossings.csv", index_col="id")
    assert cx.loc["x_n", "status_b"] == "closed" and cx.loc["x_m", "share_b"] == 1.0
    summary = pd.read_csv(d / "compare_summary.csv", index_col="metric")
    assert summary.loc["scenario", "b"] == "close-north"


def test_cli_compare_bad_scenario(data_dir, tmp_path, capsys):
    argv = ["compare", "baseline", str(data_dir / "missing.toml"),
            *args(data_dir, "--out", str(tmp_path))]
    assert main(argv) == 2
    assert "cannot read" in capsys.readouterr().err


def test_no_route_library(nets):
    A, _ = nets
    H = A.copy()
    H.remove_edges_from(list(H.edges))
    with pytest.raises(NoRouteError):
        priority_table(H)


def test_cli_priorities_prints_every_post_of_the_curve(data_dir, tmp_path, capsys):
    """The terminal budget curve lists every chosen post by name, never truncated (item 15)."""
    long = tmp_path / "long_names"
    shutil.copytree(data_dir, long)
    names = {x: f"{w} post on the long river bridge at the border town of {w}ville"
             for x, w in (("x_n", "North"), ("x_m", "Middle"), ("x_s", "South"))}
    text = CROSSINGS
    for x, n in names.items():
        text = text.replace(f"{x},{x[2:].upper()}", f"{x},{n}")
    text = (text.replace("North post", names["x_n"]).replace("Middle post", names["x_m"])
            .replace("South post", names["x_s"]))
    (long / "crossings.csv").write_text(text)
    assert main(["priorities", *args(long, "--budget", "3", "--out", str(tmp_path))]) == 0
    out = capsys.readouterr().out
    curve = pd.read_csv(tmp_path / "baseline" / "priorities_curve.csv")
    listed = " ".join(out.split("Posts chosen at each budget")[1].split("\n\n")[0].split())
    chosen = {p for posts in curve["posts"].dropna() for p in posts.split(";")}
    assert len(chosen) >= 2
    for p in chosen:
        assert names[p] in listed, (p, listed)


# --------------------------------------------------------------------------- rules pinned
# (issue 24: each test pins a rule that `make mutate` showed no test held)
def _two_ways():
    """``o -> x? -> m``: by cost through xa (cost 2, risk 0.6), by risk through xb (cost 3,
    risk 0.25); posts: xa 0.2 -> 0.5 (cost 1), xb 0.1 -> 0.6 (cost 1)."""
    import networkx as nx

    from routes.costs import risk_from_p

    G = nx.DiGraph()
    G.add_node("o", kind="place", name="O", country="AAA", role="origin", supply=3.0,
               lat=0.0, lon=0.0)
    G.add_node("m", kind="place", name="M", country="BBB", role="market", demand=1.0,
               lat=0.0, lon=2.0)
    for x, p, pu, lat in (("xa", 0.2, 0.5, 0.5), ("xb", 0.1, 0.6, -0.5)):
        G.add_node(x, kind="crossing", name=x.upper(), country_a="AAA", country_b="BBB",
                   status="open", mode="road", p_detect=p, p_detect_upgraded=pu,
                   upgrade_cost=1.0, crossing_risk=risk_from_p(p), lat=lat, lon=1.0)
    for u, v, c, r in (("o", "xa", 1.0, 0.3), ("xa", "m", 1.0, 0.3), ("o", "xb", 1.5, 0.15),
                       ("xb", "m", 1.5, 0.1)):
        G.add_edge(u, v, cost=c, risk=r, time_h=c, length_km=100 * c, mode="road",
                   corridor_id=f"{u}-{v}")
    return G


def test_compare_routes_by_the_weight_asked_for_and_names_both_sides(monkeypatch):
    """Routes by the weight asked for (risk here: through xb, though xa is cheaper); risk
    change is B minus A; sides without a scenario name are "A" and "B"; the crossing table
    starts with the crossing's name; the solver gets the time limit asked for; the chosen
    posts are joined by ";"."""
    import sys

    mod = sys.modules[compare_scenarios.__module__]
    limits = []
    real = mod.interdict

    def spy(*a, **kw):
        limits.append(kw.get("time_limit"))
        return real(*a, **kw)

    monkeypatch.setattr(mod, "interdict", spy)
    A = _two_ways()
    B = A.copy()
    B.edges["xb", "m"]["risk"] = 0.2
    res = compare_scenarios(A, B, None, budget=2.0, weight="risk", time_limit=17.0)
    assert res.names == ("A", "B") and limits == [17.0, 17.0]
    assert res.routes.loc["o>m", "path_a"] == "o > xb > m"
    assert res.routes.loc["o>m", "risk_change"] == pytest.approx(0.1)
    assert res.routes.loc["o>m", "risk_b"] - res.routes.loc["o>m", "risk_a"] == \
        res.routes.loc["o>m", "risk_change"]
    assert res.crossings.columns[0] == "name"
    assert res.crossings["name"].to_dict() == {"xa": "XA", "xb": "XB"}
    assert res.priorities["name"].to_dict() == {"xa": "XA", "xb": "XB"}
    posts = res.solutions[0].posts
    assert len(posts) == 2
    assert res.summary.loc["interdiction_posts", "a"] == "xa;xb"
    by_cost = compare_scenarios(A, B, None, budget=0.0)
    assert by_cost.routes.loc["o>m", "path_a"] == "o > xa > m"


def test_rank_correlations_count_the_rows_compared():
    """``n`` is the number of rows where both columns are finite."""
    t = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan, 5.0], "y": [2.0, 1.0, 3.0, 4.0, 5.0]})
    r = rank_correlations(t, ["x", "y"])
    assert r["n"].tolist() == [4]
    assert r.loc[0, "kendall_tau"] == pytest.approx(4 / 6)


def test_rank_correlations_from_three_rows_of_scores_within_one():
    """Three rows are enough, and scores spread over less than 1 are a ranking: x = (0.1, 0.2,
    0.4) against y = (0.3, 0.1, 0.2) has one concordant pair of three (tau-b -1/3, exact p 1)
    and rank differences (-2, 1, 1) (rho = 1 - 6 * 6 / (3 * 8) = -0.5; with one degree of
    freedom p = 1 - 2 atan(0.5 / sqrt(0.75)) / pi = 2/3); the columns in order."""
    t = pd.DataFrame({"x": [0.1, 0.2, 0.4], "y": [0.3, 0.1, 0.2]})
    r = rank_correlations(t, ["x", "y"])
    assert list(r.columns) == ["a", "b", "n", "kendall_tau", "kendall_p", "spearman_rho",
                               "spearman_p"]
    assert r.iloc[0].tolist() == ["x", "y", 3, pytest.approx(-1 / 3), pytest.approx(1.0),
                                  pytest.approx(-0.5), pytest.approx(2 / 3)]


def test_priority_table_carries_each_posts_upgrade_cost_and_added_risk():
    """The table's cost and added risk are each post's own (on the toy made to cost 2 for xa
    and 0.5 for xb; each upgrade adds 0.2 to the risk)."""
    from routes.priorities._instance import _toy

    G = _toy()
    G.nodes["xa"]["upgrade_cost"], G.nodes["xb"]["upgrade_cost"] = 2.0, 0.5
    t = priority_table(G)
    assert t["upgrade_cost"].to_dict() == {"xa": 2.0, "xb": 0.5}
    assert t["delta_risk"].to_dict() == pytest.approx({"xa": 0.2, "xb": 0.2}, abs=1e-12)
