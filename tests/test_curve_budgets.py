"""Bounded budget curves (issue 23): at most 25 evenly spaced budgets by default, ``--step``.

The budgets are worked out by hand on a network whose posts cost 7, 11 and 12 (30 in all);
every point of a sampled curve is checked against the full curve at the same budget and
against brute-force enumeration.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from routes._errors import RoutesError
from routes.cli import main
from routes.priorities.interdiction import (
    MAX_CURVE_BUDGETS,
    MAX_STEP_BUDGETS,
    budget_curve,
    curve_budgets,
    interdict_brute_force,
    total_upgrade_cost,
)
from test_interdiction import _ends, _post

HAND = Path(__file__).parent / "data" / "handworked"


@pytest.fixture
def three_posts() -> nx.DiGraph:
    """Two origins, one market, posts xa (cost 7), xb (11), xc (12) on three routes."""
    G = nx.DiGraph()
    _ends(G, {"o1": 3.0, "o2": 1.0}, {"m": 4.0})
    _post(G, "xa", 0.10, 0.45, 7.0)
    _post(G, "xb", 0.15, 0.35, 11.0)
    _post(G, "xc", 0.05, 0.60, 12.0, status="restricted")
    G.add_node("t", kind="place", role="transit", supply=0.0, demand=0.0)
    for u, v, leg in (("o1", "xa", 0.02), ("xa", "m", 0.03), ("o1", "xb", 0.07),
                      ("xb", "t", 0.01), ("o2", "t", 0.40), ("t", "m", 0.05),
                      ("o2", "xc", 0.01), ("xc", "m", 0.02)):
        G.add_edge(u, v, risk=leg + G.nodes[v].get("crossing_risk", 0.0))
    return G


def test_default_budgets_by_hand(three_posts):
    G = three_posts
    assert total_upgrade_cost(G) == 30.0 and MAX_CURVE_BUDGETS == 25
    # 0..30 would be 31 budgets: 25 evenly spaced instead, 30 / 24 = 1.25 apart.
    assert curve_budgets(G, 1e18) == [1.25 * i for i in range(25)]
    assert curve_budgets(G, 30) == [1.25 * i for i in range(25)]
    # 0..20 is 21 budgets: every whole budget, as before.
    assert curve_budgets(G, 20) == [float(b) for b in range(21)]
    # 0..23 and 23.5 make 25: kept; 0..24 and 24.5 make 26: 25 evenly spaced, 24.5 / 24 apart.
    assert curve_budgets(G, 23.5) == [*(float(b) for b in range(24)), 23.5]
    b = curve_budgets(G, 24.5)
    assert len(b) == 25 and b[0] == 0.0 and b[-1] == 24.5
    assert b[1] == pytest.approx(24.5 / 24) and b[12] == pytest.approx(12.25)
    assert curve_budgets(G, 30, max_budgets=4) == [0.0, 10.0, 20.0, 30.0]
    assert curve_budgets(G, 0) == [0.0]


def test_step_by_hand(three_posts):
    G = three_posts
    assert curve_budgets(G, 30, step=4) == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 24.0, 28.0, 30.0]
    assert curve_budgets(G, 1e18, step=7.5) == [0.0, 7.5, 15.0, 22.5, 30.0]
    assert curve_budgets(G, 10, step=2.5) == [0.0, 2.5, 5.0, 7.5, 10.0]
    assert curve_budgets(G, 10, step=40) == [0.0, 10.0]
    assert curve_budgets(G, 0, step=1) == [0.0]
    assert len(curve_budgets(G, 30, step=30 / (MAX_STEP_BUDGETS - 1))) == MAX_STEP_BUDGETS
    with pytest.raises(RoutesError, match=r"makes 30001 budgets; at most 1000: choose a larger"):
        curve_budgets(G, 30, step=0.001)
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(RoutesError, match="step must be a number > 0"):
            curve_budgets(G, 30, step=bad)
    with pytest.raises(RoutesError, match="max_budgets must be"):
        curve_budgets(G, 30, max_budgets=1)


@pytest.mark.parametrize("objective", ["flow", "single"])
def test_sampled_curve_equals_full_curve_and_brute_force(three_posts, objective):
    G = three_posts
    sampled = budget_curve(G, 1e18, objective=objective)
    assert sampled["budget"].tolist() == [1.25 * i for i in range(25)]
    every = sorted({*range(31), *sampled["budget"]})
    full = budget_curve(G, every, objective=objective).set_index("budget")
    for _, row in sampled.iterrows():
        b = row["budget"]
        assert row["value"] == full.at[b, "value"]
        assert row["posts"] == full.at[b, "posts"]
        bf = interdict_brute_force(G, b, objective=objective)
        assert row["value"] == pytest.approx(bf.value, rel=1e-7, abs=1e-12)


def _costly_hand(tmp_path: Path, cost: float) -> Path:
    """The hand-worked data with its one post costing ``cost``."""
    d = tmp_path / "data"
    shutil.copytree(HAND, d)
    path = d / "crossings.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["upgrade_cost"] = f"{cost:g}"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return d


def test_cli_huge_budget_solves_25_budgets(tmp_path, capsys):
    data = _costly_hand(tmp_path, 60.0)
    out = tmp_path / "out"
    assert main(["priorities", "--data", str(data), "--budget", "1e18", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("routes priorities: budget 1e+18 is more than the cost of upgrading every post "
            "(60); using 60") in err
    assert ("routes priorities: budget curve of 25 budgets 0, 2.5, ..., 60 (step 2.5; at most "
            "25 by default, evenly spaced; --step to choose): 25 exact solves (MILP") in err
    solved = [s for s in err.splitlines() if s.startswith("priorities: budget ")]
    assert len(solved) == 25
    assert solved[0].startswith("priorities: budget 0 (1 of 25): value ")
    assert solved[1].startswith("priorities: budget 2.5 (2 of 25): value ")
    assert "s so far, about " in solved[1] and solved[-1].endswith(" s in all")
    curve = pd.read_csv(out / "baseline" / "priorities_curve.csv")
    assert curve["budget"].tolist() == [2.5 * i for i in range(25)]


def test_cli_step(tmp_path, capsys):
    data = _costly_hand(tmp_path, 60.0)
    out = tmp_path / "out"
    assert main(["priorities", "--data", str(data), "--budget", "50", "--step", "20",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("budget curve of 4 budgets 0, 20, ..., 50 (step 20; --step given): 4 exact "
            "solves") in err
    curve = pd.read_csv(out / "baseline" / "priorities_curve.csv")
    assert curve["budget"].tolist() == [0, 20, 40, 50]
    code = main(["priorities", "--data", str(data), "--budget", "50", "--step", "0.001",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "makes 50001 budgets; at most 1000: choose a larger step" in err
    with pytest.raises(SystemExit) as exc:
        main(["priorities", "--data", str(data), "--budget", "5", "--step", "0"])
    assert exc.value.code == 2


def test_sampled_single_curve_by_hand(three_posts):
    """Least route risk: o2 -> xc -> m (0.03 + 1.5 * -ln 0.95 = 0.1069) until xc (12) is
    upgraded; then o1 -> xa -> m (0.05 - ln 0.9 = 0.1554) until xa (7) is too; then
    o1 -> xb -> t -> m (0.13 - ln 0.85 = 0.2925); with xb (11) as well, o2 -> t -> m (0.45)."""
    c = budget_curve(three_posts, 1e18, objective="single")
    by_posts = c.groupby("posts")["budget"].agg(["min", "max"]).to_dict("index")
    assert by_posts == {"": {"min": 0.0, "max": 11.25}, "xc": {"min": 12.5, "max": 18.75},
                        "xa;xc": {"min": 20.0, "max": 28.75},
                        "xa;xb;xc": {"min": 30.0, "max": 30.0}}
    assert c.drop_duplicates("posts")["value"].tolist() == pytest.approx(
        [0.03 + 1.5 * -math.log(0.95), 0.05 - math.log(0.9), 0.13 - math.log(0.85), 0.45])


def test_cli_report_huge_budget_solves_25_budgets(tmp_path, capsys):
    data = _costly_hand(tmp_path, 60.0)
    assert main(["report", "--data", str(data), "--budget", "1e18", "--out",
                 str(tmp_path / "out"), "--no-map", "--no-timeline", "--runs", "0"]) == 0
    err = capsys.readouterr().err
    assert ("routes report: budget curve of 25 budgets 0, 2.5, ..., 60 (step 2.5; at most 25 "
            "by default, evenly spaced; --step to choose): 25 exact solves (MILP") in err
    assert sum(s.startswith("report: budget ") for s in err.splitlines()) == 25
    curve = pd.read_csv(tmp_path / "out" / "baseline" / "budget_curve.csv")
    assert curve["budget"].tolist() == [2.5 * i for i in range(25)]


def test_cli_report_step(tmp_path, capsys):
    """``routes report --step`` chooses the curve's budgets as ``priorities --step`` does, and
    the provenance records it (a report without --step records none)."""
    data = _costly_hand(tmp_path, 60.0)
    out = tmp_path / "out"
    assert main(["report", "--data", str(data), "--budget", "50", "--step", "20", "--out",
                 str(out), "--no-map", "--no-timeline", "--runs", "0"]) == 0
    err = capsys.readouterr().err
    assert ("routes report: budget curve of 4 budgets 0, 20, ..., 50 (step 20; --step given): "
            "4 exact solves") in err
    assert pd.read_csv(out / "baseline" / "budget_curve.csv")["budget"].tolist() == [
        0, 20, 40, 50]
    prov = json.loads((out / "baseline" / "provenance.json").read_text(encoding="utf-8"))
    assert prov["options"]["step"] == 20
    code = main(["report", "--data", str(data), "--budget", "50", "--step", "0.001", "--out",
                 str(out), "--no-map", "--no-timeline", "--runs", "0"])
    assert code == 2 and "makes 50001 budgets; at most 1000" in capsys.readouterr().err
