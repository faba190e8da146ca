"""Analyses a report shows when this version of routes has them.

Interdiction priorities (``routes.priorities.interdiction``) and rank stability
(``routes.uncertainty.uncertainty``) are built by separate work; each is wired in here through
its public functions as soon as its module provides them. A missing analysis leaves its
section out of the report; nothing is ever filled in by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..geodata import coverage
from ._charts import interval_chart, line_chart
from ._model import ReportOptions, ReportResults, optional_module
from ._sections import OptionalAnalysis, Section, table_block
from ._tables import TableSpec, display_rows

__all__ = ["OptionalAnalysis", "available", "optional_stages"]


def available(options: ReportOptions) -> list[OptionalAnalysis]:
    """Return the optional analyses this version of routes provides, in page order."""
    found: list[OptionalAnalysis] = []
    for probe in _PROBES:
        a = probe(options)
        if a is not None:
            found.append(a)
    return found


def optional_stages(options: ReportOptions
                    ) -> list[tuple[str, Callable[[ReportResults], None]]]:
    """(name, stage) of every available optional analysis."""
    return [(a.name, a.stage) for a in available(options)]


# --------------------------------------------------------------------------- interdiction
_PRIORITY_SPECS = {s.name: s for s in (
    TableSpec("budget_curve", "Budget curve",
              "The posts to upgrade at each budget (exact MILP), the objective they reach, the "
              "marginal gain of each budget step, and the greedy heuristic's gap to the optimum.",
              (("budget", "budget", "g"), ("value", "value", ".4f"),
               ("p_undetected", "p undetected", ".4f"),
               ("marginal_gain", "marginal gain", "+.4f"),
               ("gain_per_cost", "gain per cost", ".4f"), ("n_posts", "posts", "d"),
               ("posts", "chosen posts", ""), ("optimal", "optimal", "bool"),
               ("greedy_gap_pct", "greedy gap %", ".1f"))),
    TableSpec("priority_posts", "Chosen posts",
              "The posts of the solution at the full budget: their gain alone and their "
              "contribution given the others (the value lost without the post, with "
              "re-routing).",
              (("id", "id", ""), ("name", "crossing", ""), ("upgrade_cost", "cost", "g"),
               ("delta_risk", "added risk", ".4f"), ("gain_alone", "gain alone", ".4f"),
               ("contribution", "contribution", ".4f"),
               ("contribution_per_cost", "per cost", ".4f"))),
    TableSpec("priorities", "Posts ranked by three criteria",
              "Every upgradable crossing ranked by flow betweenness (flow on the best "
              "routes), closure impact (flow left without a route if closed, then cost rise) "
              "and interdiction value (its gain upgraded alone, with re-routing); ties share "
              "their mean rank. The ranks are among the upgradable posts only, so the flow "
              "rank differs from the crossings table's rank over all crossings.",
              (("id", "id", ""), ("name", "crossing", ""), ("country_a", "from", ""),
               ("country_b", "to", ""), ("upgrade_cost", "cost", "g"),
               ("interdiction_gain", "interdiction gain", ".4f"),
               ("interdiction_rank", "interdiction rank", ".1f"),
               ("flow_rank", "flow rank", ".1f"), ("vital_rank", "closure rank", ".1f"),
               ("in_solution", "chosen", "bool"))),
    TableSpec("priority_correlations", "Agreement between the criteria",
              "Rank correlations between every two criteria.",
              (("a", "criterion", ""), ("b", "and", ""), ("n", "posts", "d"),
               ("kendall_tau", "Kendall tau", ".3f"), ("spearman_rho", "Spearman rho", ".3f"))),
)}
_OBJECTIVE_TEXT = {"single": "least route risk from any origin to any market",
                   "flow": "expected share of the routed flow detected"}


def _interdiction(options: ReportOptions) -> OptionalAnalysis | None:
    mod = optional_module("interdiction")
    need = ("budget_curve_solutions", "curve_budgets", "interdict", "post_effectiveness")
    if mod is None or not all(hasattr(mod, f) for f in need):
        return None
    cmp = optional_module("compare")
    has_table = cmp is not None and all(hasattr(cmp, f) for f in ("priority_table",
                                                                   "rank_correlations"))

    def stage(res: ReportResults) -> None:
        o = res.options
        kw = {"objective": o.objective, "cm": res.cm}
        budgets = mod.curve_budgets(res.G, o.budget, step=o.step, cm=res.cm)
        curve, solutions = mod.budget_curve_solutions(res.G, budgets, method="exact",
                                                      progress=res.detail, **kw)
        # The curve's budgets end at o.budget (unless it is above the cost of every post).
        sol = solutions.get(float(o.budget)) or mod.interdict(res.G, o.budget, method="exact",
                                                                **kw)
        res.extra["interdiction"] = sol
        res.tables["budget_curve"] = curve
        res.tables["priority_posts"] = mod.post_effectiveness(res.G, sol, cm=res.cm)
        if has_table and cmp is not None:
            table = cmp.priority_table(res.G, res.cm, objective=o.objective, solution=sol,
                                       engine=o.engine)
            res.tables["priorities"] = table
            res.tables["priority_correlations"] = cmp.rank_correlations(table)

    def charts(res: ReportResults, out: Path) -> list[Path]:
        c = res.tables["budget_curve"]
        greedy = c["greedy_value"] if "greedy_value" in c else None
        return [line_chart(c["budget"], c["value"], out / "chart_budget.png",
                           title="Budget curve: objective reached by the best posts per budget",
                           xlabel="budget (upgrade-cost units)",
                           ylabel=_OBJECTIVE_TEXT.get(res.options.objective, "value"),
                           y2=greedy, y2label="greedy heuristic")]

    def section(res: ReportResults) -> Section:
        sol = res.extra["interdiction"]
        names = [f"{res.G.nodes[p].get('name', p)} ({p})" for p in sol.posts]
        what = _OBJECTIVE_TEXT.get(sol.objective, sol.objective)
        status = "proven optimal" if sol.optimal else "not proven optimal (time limit)"
        chance = ("best chance of passing undetected" if sol.objective == "single"
                  else "expected share passing undetected")
        base_p = (math.exp(-sol.base_value) if sol.objective == "single"
                  else 1.0 - sol.base_value)
        text = (f"Objective: maximise the {what}, traffickers re-routing around upgraded "
                f"posts (shortest-path interdiction, Israeli and Wood 2002, solved exactly "
                f"as a MILP with HiGHS). With a budget of {sol.budget:g}, upgrading "
                f"{len(sol.posts)} post(s) costing {sol.cost:g} raises the objective from "
                f"{sol.base_value:.4f} to {sol.value:.4f} ({status}); the {chance} falls "
                f"from {base_p:.4f} to {sol.p_undetected:.4f}.")
        if names:
            text += " Posts: " + "; ".join(names) + "."
        blocks: list[dict] = [{"kind": "text", "text": text},
                              {"kind": "chart", "file": "chart_budget.png",
                               "alt": "Budget curve"}]
        for name in ("budget_curve", "priority_posts", "priorities", "priority_correlations"):
            if name in res.tables:
                blocks.append(table_block(res, name, spec=_PRIORITY_SPECS[name],
                                          top=None if name != "priorities" else -1))
        return {"id": "priorities", "title": "Border-post priorities",
                "intro": "Which posts to strengthen within a budget, knowing that traffickers "
                         "re-route around a strengthened post.", "blocks": blocks}

    return OptionalAnalysis("priorities", stage, charts, section)


# --------------------------------------------------------------------------- uncertainty
#: Crossings counted in ``top_k_share`` of the rank-stability table.
TOP_K = 10
_STABILITY_SPECS = {s.name: s for s in (
    TableSpec("rank_stability", "Rank stability of the crossings",
              f"Each crossing's rank by flow betweenness over the Monte-Carlo runs: median and "
              f"5-95% interval, share of runs in the top {TOP_K}; instability rank 1 = least "
              f"stable.",
              (("baseline_rank", "baseline rank", "d"), ("id", "id", ""),
               ("name", "crossing", ""), ("median_rank", "median rank", ".1f"),
               ("rank_p05", "rank 5%", ".1f"), ("rank_p95", "rank 95%", ".1f"),
               ("top_k_share", f"in top {TOP_K}", ".0%"),
               ("instability_rank", "instability rank", "d"))),
)}


def _uncertainty(options: ReportOptions) -> OptionalAnalysis | None:
    mod = optional_module("uncertainty")
    if mod is None or not hasattr(mod, "rank_stability") or options.runs <= 0:
        return None

    def stage(res: ReportResults) -> None:
        o = res.options
        u = mod.rank_stability(res.G, res.cm, runs=o.runs, seed=o.seed, top_k=TOP_K,
                               weight=o.weight, engine=o.engine, workers=0)
        res.extra["uncertainty"] = u
        res.tables["rank_stability"] = u.crossings
        res.tables["mc_runs"] = u.runs

    def charts(res: ReportResults, out: Path) -> list[Path]:
        t = res.tables["rank_stability"].head(res.options.top)
        frame = t.set_index("name")[["rank_p05", "median_rank", "rank_p95", "baseline_rank"]]
        return [interval_chart(frame, out / "chart_stability.png",
                               title=f"Rank of the top {len(t)} crossings over "
                                     f"{res.options.runs} Monte-Carlo runs",
                               xlabel="rank by flow betweenness (1 = most flow)",
                               mid="median_rank", lo="rank_p05", hi="rank_p95",
                               base="baseline_rank",
                               labels=("5-95% of runs", "median", "baseline"))]

    def section(res: ReportResults) -> Section:
        u = res.extra["uncertainty"]
        runs = res.tables["mc_runs"]
        tau = runs.loc[runs["ok"], "kendall_tau"].dropna()
        least = u.least_stable(5)
        text = (f"{int(runs['ok'].sum())} of {len(runs)} runs (seed {res.options.seed}); each "
                f"draws the uncertain parameters from the ranges of the cost model's "
                f"[uncertainty] table (p_detect and delay_h per crossing, speed_kmh per mode, "
                f"hours_per_risk) and re-ranks the crossings by flow betweenness.")
        if len(tau):
            text += (f" Kendall tau of each run's ranking to the baseline: median "
                     f"{tau.median():.3f} (5-95%: {tau.quantile(0.05):.3f} to "
                     f"{tau.quantile(0.95):.3f}).")
        if len(least):
            text += " Least stable: " + "; ".join(
                f"{n} ({i})" for i, n in zip(least.index, least["name"])) + "."
        blocks: list[dict] = [
            {"kind": "text", "text": text},
            {"kind": "chart", "file": "chart_stability.png", "alt": "Rank stability"},
            table_block(res, "rank_stability", spec=_STABILITY_SPECS["rank_stability"])]
        return {"id": "stability", "title": "Rank stability",
                "intro": "How robust the ranking of the crossings is when the cost model's "
                         "parameters are uncertain (Monte Carlo).", "blocks": blocks}

    return OptionalAnalysis("uncertainty", stage, charts, section)


# --------------------------------------------------------------------------- timeline
def _timeline(options: ReportOptions) -> OptionalAnalysis | None:
    mod = optional_module("timeline")
    if mod is None or not options.timeline:
        return None
    from . import _timeline as tl

    def stage(res: ReportResults) -> None:
        ds = res.dataset
        if ds is None or coverage(ds)[1] is None:
            return
        o = res.options
        dates = mod.timeline_dates(ds, step="year")
        known = {d: s for d in dates if (s := tl.report_snapshot(res, d)) is not None}
        snaps = mod.timeline_snapshots(ds, res.cm, res.scenario, dates=dates, weight=o.weight,
                                       engine=o.engine, known=known)
        observed = mod.observed_seizures(Path(ds.files.get("crossings", ".")).parent
                                         / "seizures.csv") if ds.files else None
        frame = mod.timeline_frame(snaps, observed)
        res.extra["timeline"] = snaps
        res.tables["timeline"] = frame
        res.tables["timeline_corridors"] = tl.corridor_table(frame)
        res.tables["events"] = mod.timeline_events(ds, dates)

    def charts(res: ReportResults, out: Path) -> list[Path]:
        if "timeline" not in res.tables:
            return []
        snaps = res.extra["timeline"]
        names = {n: str(d.get("name", n)) for n, d in res.G.nodes(data=True)}
        files = tl.timeline_charts(res.tables["timeline"], out, names=names)
        if res.options.map:
            from ..maps import timeline_map, write_map

            ds = res.dataset
            m = timeline_map(snaps, res.tables["events"], offline=True,
                             countries=ds.countries if ds is not None else None,
                             title=f"routes through time: {res.scenario.label}")
            files.append(write_map(m, out / tl.MAP_FILE))
        return files

    def section(res: ReportResults) -> Section:
        if "timeline" not in res.tables:
            return {"id": "timeline", "title": "How the routes changed",
                    "intro": "The data has no dated files: no timeline.", "blocks": []}
        snaps = res.extra["timeline"]
        ev = res.tables["events"]
        kinds = ev["kind"].value_counts()
        text = (f"The network rebuilt as of {len(snaps)} dates, mid-year from "
                f"{snaps[0].date.year} and the last date the data covers "
                f"({snaps[-1].date}), each with that date's crossing statuses and that "
                f"year's supply and demand, and analysed exactly as on a single date. "
                f"Between consecutive dates: {int(kinds.get('status', 0))} status change(s), "
                f"{int(kinds.get('supply', 0))} supply shift(s), "
                f"{int(kinds.get('demand', 0))} demand shift(s). All measures by date: "
                f"timeline.csv (tidy: date, measure, key, value).")
        blocks: list[dict] = [
            {"kind": "text", "text": text},
            {"kind": "chart", "file": tl.CHART_CORRIDORS, "alt": "Corridor shares by date"},
            table_block(res, "timeline_corridors", spec=tl.TIMELINE_SPECS["timeline_corridors"],
                        top=None),
            {"kind": "chart", "file": tl.CHART_CROSSINGS, "alt": "Top crossings by date"}]
        if res.options.map:
            blocks.append({"kind": "map", "file": tl.MAP_FILE})
        blocks.append(_events_block(res, tl.TIMELINE_SPECS["events"]))
        return {"id": "timeline", "title": "How the routes changed",
                "intro": "The routes year by year: what each date's closures, openings and "
                         "supply did to the corridors and crossings. The map beside this page "
                         "(timeline.html, self-contained) steps through the dates with a "
                         "slider.", "blocks": blocks}

    return OptionalAnalysis("timeline", stage, charts, section)


def largest_events(events: pd.DataFrame, top: int) -> pd.DataFrame:
    """Return the ``top`` events a reader looks at first, in date order.

    Closures and reopenings first (a status change to or from ``closed``), then the other
    status changes, then the supply and demand shifts by their size; ties: the latest first,
    then by key.
    """
    ev = events.reset_index(drop=True)
    status = ev["kind"] == "status"
    closed = status & ((ev["from"].astype(str) == "closed") | (ev["to"].astype(str) == "closed"))
    size = pd.to_numeric(ev.get("change"), errors="coerce").abs().fillna(0.0)
    order = pd.DataFrame({"cls": (~closed).astype(int) + (~status).astype(int),
                          "size": -size, "date": ev["date"].astype(str),
                          "key": ev["key"].astype(str)})
    keep = order.sort_values(["cls", "size", "date", "key"], ascending=[True, True, False, True],
                             kind="stable").index[:top]
    return ev.loc[sorted(keep)]


def _events_block(res: ReportResults, spec: TableSpec) -> dict:
    """Return the events table: the largest changes shown, every event folded away."""
    ev = res.tables["events"]
    top = res.options.top
    shown = largest_events(ev, top)
    for col in ("note", "source"):   # cut long texts: the collapsed table and events.csv hold them
        if col in shown:
            shown[col] = shown[col].map(lambda x: x if not isinstance(x, str) or len(x) <= 140
                                        else x[:139].rstrip() + "\u2026")
    block = table_block(res, "events", spec=spec, top=None, frame=shown)
    block["total"] = len(ev)
    if len(ev) > top:
        block["shown_as"] = ("the largest changes: closures and reopenings first, then other "
                             "status changes, then the largest supply and demand shifts")
        block["all_rows"] = display_rows(ev, spec, None)[1]
    return block


# --------------------------------------------------------------------------- observations
def _observations(options: ReportOptions) -> OptionalAnalysis | None:
    from ._observations import observations_analysis

    return observations_analysis(options)


# --------------------------------------------------------------------------- flow balance
def _flow_balance(options: ReportOptions) -> OptionalAnalysis | None:
    from ._flowbalance import flow_balance_analysis

    return flow_balance_analysis(options)


def _tradeoff(options: ReportOptions) -> OptionalAnalysis | None:
    from ._tradeoff import tradeoff_analysis

    return tradeoff_analysis(options)


#: Probes: each returns its analysis when the module and its functions exist, else None.
#: The flow balance comes after the timeline, whose yearly networks it reads.
_PROBES: tuple[Callable[[ReportOptions], OptionalAnalysis | None], ...] = (_interdiction,
                                                                           _tradeoff,
                                                                           _uncertainty,
                                                                           _timeline,
                                                                           _observations,
                                                                           _flow_balance)
