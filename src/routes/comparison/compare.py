"""Compare border-post priorities by several criteria, and compare two scenarios.

:func:`priority_table` ranks every upgradable crossing side by side by

- **flow betweenness**: the modelled flow through the crossing on the best routes
  (:func:`routes.crossings.centrality.crossing_table`);
- **vital-crossing impact**: the damage if the crossing were closed, by unserved flow, then
  rise of the flow-weighted route length (:func:`routes.crossings.chokepoints.vital_crossings`);
- **interdiction value**: the gain in the interdiction objective when this post alone is
  upgraded and traffickers re-route (:func:`routes.priorities.interdiction.post_values`),

and :func:`rank_correlations` measures how far the criteria agree (Kendall's tau-b and
Spearman's rho, scipy.stats, ties given their mean rank). By default every criterion uses
``risk`` as the route weight, the evader of the interdiction model; pass ``weight="cost"`` to
rank the first two by generalised-cost routes instead.

:func:`compare_scenarios` builds what changes between two networks (two scenarios): the best
route of each origin-market pair, corridor shares of the assigned flow, crossing flows and
closure impact, and the interdiction priorities.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

from .._errors import RoutesError
from ..costs import CostModel
from ..crossings.centrality import crossing_table
from ..crossings.chokepoints import vital_crossings
from ..priorities.interdiction import Interdiction, interdict, post_values
from ..routing.flows import assign_flows
from ..routing.paths import shortest_routes

__all__ = [
    "PRIORITY_COLUMNS",
    "CRITERIA",
    "priority_table",
    "rank_correlations",
    "ScenarioComparison",
    "compare_scenarios",
]

#: Rank columns of :func:`priority_table`, one per criterion (1 = highest priority).
CRITERIA = ("flow_rank", "vital_rank", "interdiction_rank")
#: Columns of :func:`priority_table`.
PRIORITY_COLUMNS = ("name", "country_a", "country_b", "status", "upgrade_cost", "delta_risk",
                    "flow_betweenness", "flow_share", "unserved_flow", "cost_rise",
                    "interdiction_gain", "gain_per_cost", "in_solution", *CRITERIA)


def _mean_rank(*keys: np.ndarray) -> np.ndarray:
    """Rank rows by ``keys`` (lexicographic, larger first); exact ties share the mean rank."""
    if len(keys[0]) == 0:
        return np.zeros(0)
    order = np.lexsort([-np.asarray(k, dtype=float) for k in reversed(keys)])
    ranks = np.empty(len(order))
    tup = [tuple(float(k[i]) for k in keys) for i in order]
    start = 0
    for end in range(1, len(order) + 1):
        if end == len(order) or tup[end] != tup[start]:
            ranks[order[start:end]] = (start + 1 + end) / 2.0
            start = end
    return ranks


def priority_table(G: nx.DiGraph, cm: CostModel | None = None, *, weight: str = "risk",
                   objective: str = "single", solution: Interdiction | None = None,
                   flows: Mapping[tuple[Any, Any], float] | None = None,
                   engine: str | None = None) -> pd.DataFrame:
    """Rank the upgradable crossings by flow betweenness, closure impact and interdiction value.

    Parameters
    ----------
    G : networkx.DiGraph
        The route network.
    cm : CostModel, optional
        For restricted crossings with ``p_detect`` 0 (see
        :func:`routes.priorities.interdiction.upgrade_table`).
    weight : str
        Route weight of the flow-betweenness and closure criteria (module notes).
    objective : {"single", "flow"}
        Interdiction objective of the third criterion.
    solution : Interdiction, optional
        Marks its posts in ``in_solution``.
    flows, engine : optional
        As in :func:`routes.crossings.centrality.crossing_table`.

    Returns
    -------
    pandas.DataFrame
        Indexed by crossing id, sorted by ``interdiction_rank`` then ``flow_rank`` then id;
        columns :data:`PRIORITY_COLUMNS`. Ranks are 1 for the top priority, and crossings
        tied on a criterion share their mean rank (so zero-flow crossings tie).

    Examples
    --------
    >>> from routes.priorities.interdiction import _toy
    >>> t = priority_table(_toy())
    >>> t[["interdiction_gain", "flow_rank", "interdiction_rank"]].round(4).values.tolist()
    [[0.1, 1.0, 1.0], [0.0, 2.0, 2.0]]
    """
    pv = post_values(G, objective=objective, cm=cm, flows=flows)
    ids = list(pv.index)
    ct = crossing_table(G, weight=weight, flows=flows, engine=engine, current_flow=False)
    vc = vital_crossings(G, weight=weight, flows=flows, engine=engine)
    df = pd.DataFrame(index=pd.Index(ids, name="id"))
    for c in ("name", "country_a", "country_b", "status"):
        df[c] = [G.nodes[n].get(c) for n in ids]
    df["upgrade_cost"] = pv["upgrade_cost"]
    df["delta_risk"] = pv["delta_risk"]
    df["flow_betweenness"] = ct["flow_betweenness"].reindex(ids).fillna(0.0)
    df["flow_share"] = ct["share"].reindex(ids).fillna(0.0)
    # vital_crossings has a row of numbers for every crossing that is not closed, and every
    # post is open or restricted: each post has its row.
    df["unserved_flow"] = vc.loc[ids, "unserved_flow"]
    df["cost_rise"] = vc.loc[ids, "cost_rise"]
    df["interdiction_gain"] = pv["gain"]
    df["gain_per_cost"] = pv["gain_per_cost"]
    df["in_solution"] = [n in (solution.posts if solution else ()) for n in ids]
    df["flow_rank"] = _mean_rank(df["flow_betweenness"].to_numpy())
    df["vital_rank"] = _mean_rank(df["unserved_flow"].to_numpy(), df["cost_rise"].to_numpy())
    df["interdiction_rank"] = _mean_rank(df["interdiction_gain"].to_numpy())
    df = df.reset_index().sort_values(["interdiction_rank", "flow_rank", "id"])
    return df.set_index("id")[list(PRIORITY_COLUMNS)]


def rank_correlations(table: pd.DataFrame, columns: Sequence[str] = CRITERIA) -> pd.DataFrame:
    """Kendall's tau-b and Spearman's rho between every two rank (or score) columns.

    One row per pair ``(a, b)``: ``n``, ``kendall_tau``, ``kendall_p``, ``spearman_rho``,
    ``spearman_p``. NaN where a column is constant (no ranking to compare) or fewer than
    three rows.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [1, 2, 3, 4], "y": [1, 2, 4, 3], "z": [4, 3, 2, 1]})
    >>> r = rank_correlations(t, ["x", "y", "z"])
    >>> r[["a", "b", "kendall_tau", "spearman_rho"]].round(3).values.tolist()
    [['x', 'y', 0.667, 0.8], ['x', 'z', -1.0, -1.0], ['y', 'z', -0.667, -0.8]]
    """
    missing = [c for c in columns if c not in table]
    if missing:
        raise RoutesError(f"no column {missing[0]!r} to correlate")
    rows = []
    for a, b in itertools.combinations(columns, 2):
        x = table[a].to_numpy(dtype=float)
        y = table[b].to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        tests = [math.nan] * 4   # tau and its p, rho and its p
        if len(x) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            kt = stats.kendalltau(x, y)
            sr = stats.spearmanr(x, y)
            tests = [float(kt.statistic), float(kt.pvalue), float(sr.statistic),
                     float(sr.pvalue)]
        rows.append([a, b, int(ok.sum()), *tests])
    return pd.DataFrame(rows, columns=["a", "b", "n", "kendall_tau", "kendall_p",
                                       "spearman_rho", "spearman_p"])


# --------------------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class ScenarioComparison:
    """What changes from scenario A to scenario B (see :func:`compare_scenarios`).

    Attributes
    ----------
    names : (str, str)
        The two scenario names.
    summary : DataFrame
        Indexed by metric: ``a``, ``b``, ``change`` (``b - a`` for numbers).
    routes : DataFrame
        One row per origin-market pair: best route, corridor, cost and risk in A and B,
        ``same_route``.
    corridors : DataFrame
        Indexed by corridor: assigned flow share in A and B and ``change``.
    crossings : DataFrame
        Indexed by crossing id: status, flow share, closure impact (``unserved_flow``,
        ``cost_rise``) and ``vital_rank`` in A and B, with changes.
    priorities : DataFrame
        Indexed by crossing id: interdiction gain, rank and membership of the chosen posts
        in A and B.
    solutions : (Interdiction, Interdiction)
        The interdiction solutions at the budget.
    """

    names: tuple[str, str]
    summary: pd.DataFrame
    routes: pd.DataFrame
    corridors: pd.DataFrame
    crossings: pd.DataFrame
    priorities: pd.DataFrame
    solutions: tuple[Interdiction, Interdiction]


def _pair_routes(G: nx.DiGraph, weight: str, engine: str | None) -> pd.DataFrame:
    r = shortest_routes(G, weight=weight, engine=engine)
    out = pd.DataFrame({"origin": r["origin"].to_numpy(), "market": r["market"].to_numpy(),
                        "path": [" > ".join(map(str, p)) for p in r["path"]],
                        "corridor": r["corridor"].to_numpy(), "cost": r["cost"].to_numpy(),
                        "risk": r["risk"].to_numpy(), "pair_flow": r["pair_flow"].to_numpy()},
                       index=pd.Index([f"{o}>{m}" for o, m in zip(r["origin"], r["market"])],
                                      name="pair"))
    return out


def _names(nets: Sequence[nx.DiGraph], ids: pd.Index) -> list[Any]:
    return [nets[1].nodes[n].get("name") if n in nets[1] else nets[0].nodes[n].get("name")
            for n in ids]


def _side(frames: Sequence[pd.DataFrame], cols: Sequence[str], names: Sequence[str]
          ) -> pd.DataFrame:
    a, b = frames
    out = pd.DataFrame(index=a.index.union(b.index))
    for c in cols:
        out[f"{c}_{names[0]}"] = a[c].reindex(out.index)
        out[f"{c}_{names[1]}"] = b[c].reindex(out.index)
    return out


def compare_scenarios(GA: nx.DiGraph, GB: nx.DiGraph, cm: CostModel | None = None, *,
                      budget: float = 3.0, weight: str = "cost", objective: str = "single",
                      method: str = "exact", engine: str | None = None,
                      time_limit: float = 60.0) -> ScenarioComparison:
    """Compare two networks built from the same data under two scenarios.

    Parameters
    ----------
    GA, GB : networkx.DiGraph
        The networks of scenarios A and B (``G.graph["scenario"]`` names them).
    cm : CostModel, optional
        For the flow assignment (``k_routes``, ``logit_theta``) and upgrade data.
    budget : float
        Interdiction budget for the priorities.
    weight : str
        Route weight of the routes, flow assignment and closure impact. The interdiction
        priorities always use ``risk`` (their evader's weight).
    objective, method : str
        Interdiction objective and method (:func:`routes.priorities.interdiction.interdict`).
    engine : str, optional
        Path engine.

    Returns
    -------
    ScenarioComparison
    """
    names = ("a", "b")
    label = (str(GA.graph.get("scenario", "A")), str(GB.graph.get("scenario", "B")))
    nets = (GA, GB)
    routes = [_pair_routes(G, weight, engine) for G in nets]
    rt = _side(routes, ["corridor", "cost", "risk", "path"], names)
    ends = pd.concat([r[["origin", "market", "pair_flow"]] for r in routes])
    ends = ends[~ends.index.duplicated()].reindex(rt.index)
    rt.insert(0, "origin", ends["origin"])
    rt.insert(1, "market", ends["market"])
    rt.insert(2, "pair_flow", ends["pair_flow"])
    rt["same_route"] = rt["path_a"] == rt["path_b"]
    rt["cost_change"] = rt["cost_b"] - rt["cost_a"]
    rt["risk_change"] = rt["risk_b"] - rt["risk_a"]
    fa = [assign_flows(G, cm, weight=weight, engine=engine) for G in nets]
    co = _side([f.corridors for f in fa], ["flow", "share"], names)
    co["share_change"] = co["share_b"] - co["share_a"]
    ct = [crossing_table(G, weight=weight, engine=engine, current_flow=False) for G in nets]
    vc = [vital_crossings(G, weight=weight, engine=engine) for G in nets]
    cx = _side(ct, ["status", "share"], names)
    cx.insert(0, "name", _names(nets, cx.index))
    cx = cx.join(_side(vc, ["unserved_flow", "cost_rise", "vital_rank"], names))
    cx["share_change"] = cx["share_b"] - cx["share_a"]
    cx["vital_rank_change"] = cx["vital_rank_b"] - cx["vital_rank_a"]
    cx = cx.sort_values(["share_change", "share_b"], key=lambda s: -s.abs())
    sols = tuple(interdict(G, budget, method=method, objective=objective, cm=cm,
                           time_limit=time_limit) for G in nets)
    pt = [priority_table(G, cm, objective=objective, solution=s, engine=engine)
          for G, s in zip(nets, sols)]
    pr = _side(pt, ["interdiction_gain", "interdiction_rank", "in_solution"], names)
    pr.insert(0, "name", _names(nets, pr.index))
    for c in ("in_solution_a", "in_solution_b"):
        pr[c] = pr[c].astype("boolean").fillna(False).astype(bool)
    pr["gain_change"] = pr["interdiction_gain_b"] - pr["interdiction_gain_a"]
    pr = pr.sort_values(["interdiction_rank_b", "interdiction_rank_a"])
    summary = _summary(label, routes, fa, sols, rt, pr)
    return ScenarioComparison(names=label, summary=summary, routes=rt, corridors=co,
                              crossings=cx, priorities=pr, solutions=(sols[0], sols[1]))


def _summary(label: tuple[str, str], routes: Sequence[pd.DataFrame], fa: Sequence[Any],
             sols: Sequence[Interdiction], rt: pd.DataFrame, pr: pd.DataFrame
             ) -> pd.DataFrame:
    def wmean(r: pd.DataFrame, c: str) -> float:
        w = r["pair_flow"].to_numpy()
        return float((r[c].to_numpy() * w).sum() / w.sum()) if w.sum() > 0 else math.nan

    def top(f: Any) -> str:
        c = f.corridors["share"]
        return str(c.idxmax()) if len(c) and c.max() > 0 else ""

    rows: list[tuple[str, Any, Any]] = [
        ("scenario", label[0], label[1]),
        ("routed_flow", fa[0].total_flow, fa[1].total_flow),
        ("unserved_flow", fa[0].unserved_flow, fa[1].unserved_flow),
        ("mean_route_cost", wmean(routes[0], "cost"), wmean(routes[1], "cost")),
        ("mean_route_risk", wmean(routes[0], "risk"), wmean(routes[1], "risk")),
        ("main_corridor", top(fa[0]), top(fa[1])),
        ("pairs_changing_route", "", int((~rt["same_route"]).sum())),
        ("interdiction_base_value", sols[0].base_value, sols[1].base_value),
        ("interdiction_value", sols[0].value, sols[1].value),
        ("interdiction_posts", ";".join(sols[0].posts), ";".join(sols[1].posts)),
    ]
    both = pr.dropna(subset=["interdiction_gain_a", "interdiction_gain_b"])
    corr = rank_correlations(both, ["interdiction_gain_a", "interdiction_gain_b"])
    rows.append(("priority_kendall_tau", "", corr["kendall_tau"].iloc[0]))
    out = pd.DataFrame(rows, columns=["metric", "a", "b"]).set_index("metric")
    out["change"] = [b - a if isinstance(a, int | float) and isinstance(b, int | float)
                     and not isinstance(a, bool) else "" for a, b in zip(out["a"], out["b"])]
    return out
