"""Key findings: the report's first section, a template over the computed tables.

Every figure of a finding is read from a table of the report (never typed) and carries where
it comes from: the table's name, the row (``column=value``) and the column, and, for a change,
the row it is subtracted from. The pages link each figure to its table (the table's anchor in
``index.html``, its CSV file in ``report.md``), and the browser test reads every figure back
and compares it with the CSV file it cites.

A finding whose table is missing (no interdiction, no timeline, no seizures file) is left
out. :data:`SLOTS` holds findings keyed by the name of a table that other work adds (the
trade-off with legitimate traffic, ``pareto``): each shows as soon as its table exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._model import ReportResults

__all__ = ["Figure", "Finding", "key_findings", "findings_section", "SLOTS", "FINDING_ORDER"]

#: A figure of a finding: the shown text and its origin (see :func:`_fig`).
Figure = dict[str, Any]
#: A finding: ``{"key", "title", "parts"}``; ``parts`` are plain strings and figures.
Finding = dict[str, Any]


def _fig(text: str, table: str, key: tuple[str, Any], col: str, *,
         minus: tuple[str, Any] | None = None, fmt: str = "") -> Figure:
    """Return a figure: ``text`` shown, read from ``table`` at row ``key`` (column, value), ``col``.

    ``minus`` names a second row: the figure is the difference of the two rows' values.
    ``fmt`` tells a reader of the page how the value was formatted (``pct``: a fraction shown
    in percent with one decimal; ``pp``: a difference of fractions in percentage points;
    ``f3``: three decimals; ``g``: as is).
    """
    f: Figure = {"text": text, "table": table, "key_col": key[0], "key": str(key[1]),
                 "col": col, "fmt": fmt}
    if minus is not None:
        f["minus"] = str(minus[1])
    return f


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f}%"


def _pp(x: float) -> str:
    v = 100.0 * x
    if abs(v) < 0.05:
        v = 0.0
    return ("+" if v >= 0 else "\u2212") + f"{abs(v):.1f} pp"


def _join(items: list[Any]) -> list[Any]:
    """Parts joined with ``", "`` and a final ``" and "``."""
    out: list[Any] = []
    for i, it in enumerate(items):
        if i:
            out.append(" and " if i == len(items) - 1 else ", ")
        if isinstance(it, list):
            out.extend(it)
        else:
            out.append(it)
    return out


def _name(res: ReportResults, node: str) -> str:
    return str(res.G.nodes[node].get("name", node)) if node in res.G else str(node)


# --------------------------------------------------------------------------- findings
def _posts(res: ReportResults) -> Finding | None:
    if not {"budget_curve", "priority_posts"} <= set(res.tables):
        return None
    curve = res.tables["budget_curve"]
    sol = res.extra.get("interdiction")
    budget = float(res.options.budget)
    at = curve[curve["budget"] == budget]
    start = curve[curve["budget"] == 0]
    if not len(at) or not len(start):
        return None
    posts = res.tables["priority_posts"]
    names = [str(n) for n in posts["name"]]
    b = f"{budget:g}"
    parts: list[Any] = [f"At the chosen budget of {b} upgrade-cost units, strengthen "
                        f"{len(names)} post(s): "]
    parts += _join([_fig(n, "priority_posts", ("id", i), "name")
                    for i, n in zip(posts.index, names)]) if names else ["none"]
    objective = getattr(sol, "objective", res.options.objective)
    v0, v1 = float(start["value"].iloc[0]), float(at["value"].iloc[0])
    if objective == "flow":
        parts += [". They raise the expected detected share of the routed flow from ",
                  _fig(_pct(v0), "budget_curve", ("budget", 0), "value", fmt="pct"), " to ",
                  _fig(_pct(v1), "budget_curve", ("budget", b), "value", fmt="pct"), " (",
                  _fig(_pp(v1 - v0), "budget_curve", ("budget", b), "value",
                       minus=("budget", 0), fmt="pp"),
                  ", traffickers re-routing around them)."]
    else:
        p0, p1 = float(start["p_undetected"].iloc[0]), float(at["p_undetected"].iloc[0])
        parts += [". They lower the best chance of passing undetected from ",
                  _fig(_pct(p0), "budget_curve", ("budget", 0), "p_undetected", fmt="pct"),
                  " to ",
                  _fig(_pct(p1), "budget_curve", ("budget", b), "p_undetected", fmt="pct"),
                  " (traffickers re-routing around them)."]
    return {"key": "posts", "title": "Posts to strengthen", "parts": parts}


def _stability(res: ReportResults) -> Finding | None:
    if "rank_stability" not in res.tables or "mc_runs" not in res.tables:
        return None
    rs = res.tables["rank_stability"]
    rs = rs.set_index("id") if "id" in rs.columns else rs
    runs = res.tables["mc_runs"]
    ok = int(runs["ok"].sum())
    top = rs.sort_values("baseline_rank", kind="stable").index[0]
    parts: list[Any] = [
        f"Over {ok} Monte-Carlo runs of the uncertain parameters, the busiest crossing, ",
        _fig(str(rs.at[top, "name"]), "rank_stability", ("id", top), "name"),
        ", stays in the top 10 by flow in ",
        _fig(_pct(float(rs.at[top, "top_k_share"])), "rank_stability", ("id", top),
             "top_k_share", fmt="pct"),
        " of the runs"]
    chosen = [p for p in (res.tables["priority_posts"].index
                          if "priority_posts" in res.tables else []) if p in rs.index]
    if chosen:
        shown = sorted(chosen, key=lambda p: (-float(rs.at[p, "top_k_share"]), p))[:3]
        parts += ["; of the posts to strengthen, "]
        parts += _join([[_fig(str(rs.at[p, "name"]), "rank_stability", ("id", p), "name"),
                         " in ",
                         _fig(_pct(float(rs.at[p, "top_k_share"])), "rank_stability",
                              ("id", p), "top_k_share", fmt="pct")] for p in shown])
        parts.append(" (the flow ranking's stability; the choice itself is not re-solved "
                     "per run)")
    parts.append(".")
    return {"key": "stability", "title": "How sure", "parts": parts}


def _corridors(res: ReportResults) -> Finding | None:
    if "corridors" not in res.tables:
        return None
    cs = res.tables["corridors"].sort_values("share", ascending=False, kind="stable")
    cs = cs[cs["share"] > 0].head(2)
    tl = res.tables.get("timeline_corridors")
    dates = [str(d) for d in tl.index] if tl is not None else []
    last = dates[-1] if dates else None
    as_of = str(res.G.graph.get("as_of", ""))
    use_tl = tl is not None and len(dates) >= 2 and last == as_of
    items = []
    for c in cs.index:
        item: list[Any] = [f"{c} ", _fig(_pct(float(cs.at[c, "share"])), "corridors",
                                         ("corridor", c), "share", fmt="pct")]
        if use_tl and tl is not None and c in tl.columns:
            d = float(tl.at[dates[-1], c]) - float(tl.at[dates[-2], c])
            item += [" (", _fig(_pp(d), "timeline_corridors", ("date", dates[-1]), c,
                                minus=("date", dates[-2]), fmt="pp"),
                     f" since {dates[-2]})"]
        items.append(item)
    parts: list[Any] = ["The flow goes mostly by the "] + _join(items)
    parts.append(" corridors (share of the routed flow, logit split over the k best routes)")
    exits = _exits(res, dates if use_tl else [])
    if exits:
        parts += ["; it leaves the origin countries mostly through "] + exits
    parts.append(".")
    return {"key": "corridors", "title": "Where the flow goes", "parts": parts}


def _exits(res: ReportResults, dates: list[str]) -> list[Any]:
    """Return the three busiest crossings out of an origin country, with their change."""
    G = res.G
    src = {d.get("country") for n, d in G.nodes(data=True)
           if d.get("kind") == "place" and d.get("role") == "origin"}
    ct = res.tables["crossings"]
    ex = ct[(ct["country_a"].isin(src) | ct["country_b"].isin(src)) & (ct["share"] > 0)]
    ex = ex.sort_values(["share"], ascending=False, kind="stable").head(3)
    prev: dict[str, float] = {}
    if dates and "timeline" in res.tables:
        t = res.tables["timeline"]
        t = t[t["measure"] == "crossing_share"]
        for when, into in ((dates[-2], "prev"), (dates[-1], "last")):
            sel = t[t["date"].astype(str) == when]
            prev.update({f"{into}|{k}": float(v) for k, v in zip(sel["key"], sel["value"])})
    items = []
    for cid in ex.index:
        share = float(ex.at[cid, "share"])
        item: list[Any] = [_fig(str(ex.at[cid, "name"]), "crossings", ("id", cid), "name"),
                           " (", _fig(_pct(share), "crossings", ("id", cid), "share",
                                      fmt="pct")]
        a, b = prev.get(f"last|{cid}"), prev.get(f"prev|{cid}")
        if a is not None and b is not None:
            item += [", ", _fig(_pp(a - b), "timeline", ("measure|date|key",
                                                         f"crossing_share|{dates[-1]}|{cid}"),
                                "value", minus=("measure|date|key",
                                                f"crossing_share|{dates[-2]}|{cid}"),
                                fmt="pp"), f" since {dates[-2]}"]
        item.append(")")
        items.append(item)
    return _join(items)


def _observations(res: ReportResults) -> Finding | None:
    fit = res.tables.get("observation_fit")
    if fit is None or not len(fit):
        return None
    hold = fit[fit["split"] == "holdout"]
    if not len(hold):
        return None
    own = hold[hold["model"].isin(("calibrated", "this cost model"))]
    row = own.iloc[0] if len(own) else hold.iloc[0]
    years = res.extra.get("observation_years", ((), (), ()))[1]
    span = (f"{min(years)}-{max(years)}" if len(years) > 1 else
            str(years[0]) if years else "the held-out years")
    key = f"holdout|{row['model']}"
    parts: list[Any] = [
        "Modelled seizures against those reported, on years left out of the fit "
        f"({span}, {int(row['n'])} country-years): Spearman rank correlation ",
        _fig(f"{float(row['spearman']):.3f}", "observation_fit", ("split|model", key),
             "spearman", fmt="f3")]
    other = hold[hold["model"] == "uncalibrated"]
    if len(other) and row["model"] != "uncalibrated":
        parts += [" (uncalibrated model: ",
                  _fig(f"{float(other['spearman'].iloc[0]):.3f}", "observation_fit",
                       ("split|model", "holdout|uncalibrated"), "spearman", fmt="f3"), ")"]
    parts.append(".")
    return {"key": "observations", "title": "Against observed seizures", "parts": parts}


def _caveats(res: ReportResults) -> Finding:
    as_of = str(res.G.graph.get("as_of", "")) or "the data's last date"
    parts: list[Any] = [
        f"The network describes {as_of}; flows are modelled from estimated supply and "
        "demand, not measured; the detected share is the model's expectation, not a "
        "seizure count; budgets are in upgrade-cost units, not money."]
    fa = res.flows
    if fa is not None and fa.unserved_flow > 0:
        total = fa.total_flow + fa.unserved_flow
        parts.append(f" {100.0 * fa.unserved_flow / total:.1f}% of the demand has no route "
                     "at all in this network.")
    by = res.tables.get("observations_by_country")
    if by is not None and len(by):
        under = by[by["log_residual"] > 0].sort_values("log_residual", ascending=False,
                                                       kind="stable").head(2)
        if len(under):
            parts += [" The model under-predicts seizures most in "]
            parts += _join([_fig(str(i), "observations_by_country", ("iso3", i), "iso3")
                            for i in under.index])
            parts.append(" (routes the network may lack, or stronger enforcement).")
    return {"key": "caveats", "title": "Caveats", "parts": parts}


def _pareto(res: ReportResults) -> Finding | None:
    """Return the trade-off with legitimate traffic (the ``pareto`` table), if it exists."""
    t = res.tables.get("pareto")
    need = {"budget", "detected_share", "legit_delay_h_per_day"}
    if t is None or not len(t) or not need <= set(t.columns):
        return None
    t = t[t["budget"] <= float(res.options.budget)]
    if not len(t):
        return None
    best = t.sort_values(["detected_share", "legit_delay_h_per_day"],
                         ascending=[False, True], kind="stable").iloc[0]
    pos = int(best.name) if not isinstance(best.name, str) else best.name
    parts: list[Any] = [
        "Trade-off with legitimate traffic: the most-detecting choice within the budget "
        "(detected share ",
        _fig(_pct(float(best["detected_share"])), "pareto", ("#row", pos), "detected_share",
             fmt="pct"),
        ") adds ",
        _fig(f"{float(best['legit_delay_h_per_day']):,.1f}", "pareto", ("#row", pos),
             "legit_delay_h_per_day", fmt="g"),
        " hours a day of delay to legitimate traffic (the Pareto front in pareto.csv)."]
    return {"key": "pareto", "title": "Trade-off with legitimate traffic", "parts": parts}


#: Findings keyed by the table other work adds; each shows when its table exists.
SLOTS: dict[str, Callable[[ReportResults], Finding | None]] = {"pareto": _pareto}
#: The findings in page order (a slot's key stands where its finding goes).
FINDING_ORDER: tuple[Callable[[ReportResults], Finding | None] | str, ...] = (
    _posts, _stability, _corridors, "pareto", _observations, _caveats)


def key_findings(res: ReportResults) -> list[Finding]:
    """Return the key findings of ``res``, in page order (those whose tables exist)."""
    out = []
    for item in FINDING_ORDER:
        build = SLOTS[item] if isinstance(item, str) else item
        f = build(res)
        if f is not None:
            out.append(f)
    return out


def _anchor(name: str, shown: set[str]) -> str:
    return f"#table-{name}" if name in shown else f"{name}.csv"


def findings_section(res: ReportResults, shown: set[str]) -> dict[str, Any]:
    """Return the "Key findings" section; figures link to their table if ``shown``.

    ``shown``: names of the tables the page shows (their anchors are ``table-<name>``); a
    figure from another table links to its CSV file.
    """
    findings = key_findings(res)
    for f in findings:
        for p in f["parts"]:
            if isinstance(p, dict):
                p["href"] = _anchor(p["table"], shown)
                p["csv"] = f"{p['table']}.csv"
    sc = res.scenario
    intro = (f"Scenario {sc.name}, cost model {res.cm.name}, network as of "
             f"{res.G.graph.get('as_of', '')}. Each figure links to the table it is read "
             "from.")
    return {"id": "findings", "title": "Key findings", "intro": intro,
            "blocks": [{"kind": "findings", "items": findings},
                       {"kind": "link", "file": "brief.html",
                        "text": "The same findings with one map and one chart, laid out to "
                                "print on two A4 pages:"}]}
