"""The report's "Security and legitimate trade" section (issue 21), self-contained.

Shown when the report is asked for it (``ReportOptions.tradeoff_budget > 0``, ``routes report
--tradeoff N``) and the data has ``border_traffic.csv`` and the cost model a ``[legit]`` table:
the exact Pareto front at budget N of the detected share against the added cost to legitimate
traffic (:mod:`routes.priorities.tradeoff`), its knee, and how the recommended posts change
between the most-detecting point and the knee.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ._charts import _BLUE, _GREY, _figure, save_png
from ._model import ReportOptions, ReportResults, optional_module
from ._sections import OptionalAnalysis, Section, table_block
from ._tables import TableSpec

__all__ = ["tradeoff_analysis", "front_chart", "TRADEOFF_SPECS"]

TRADEOFF_SPECS = {s.name: s for s in (
    TableSpec("pareto", "Pareto front: detection against the cost to legitimate traffic",
              "Each point: the post set with the highest expected detected share among those "
              "whose added delay costs legitimate traffic no more (exact epsilon-constraint "
              "MILP, proven optimal); the knee is the point farthest from the line between the "
              "front's ends (both axes scaled to 0-1).",
              (("detected_share", "detected share", ".4f"),
               ("legit_delay_h_per_day", "added delay, h/day", ",.0f"),
               ("legit_cost_usd_per_day", "its value, USD/day", ",.0f"),
               ("n_posts", "posts", "d"), ("posts", "chosen posts", ""),
               ("imputed_posts", "of them on imputed traffic", ""),
               ("knee", "knee", "bool"), ("optimal", "optimal", "bool"))),
    TableSpec("tradeoff_posts", "Legitimate traffic and added delay of the posts on the front",
              "Trucks and people a day at each post on the most-detecting or knee set: sourced "
              "(border_traffic.csv), capacity or imputed (median of sourced crossings of the "
              "same kind, with its range); the minutes a physical upgrade adds per truck and "
              "per person through the queueing rule, and the hours and USD a day.",
              (("id", "id", ""), ("name", "crossing", ""),
               ("trucks_per_day", "trucks/day", ",.0f"), ("trucks_basis", "basis", ""),
               ("people_per_day", "people/day", ",.0f"), ("people_basis", "basis", ""),
               ("rho0", "utilisation", ".2f"), ("truck_min", "+min/truck", ".1f"),
               ("person_min", "+min/person", ".1f"),
               ("delay_h_per_day", "h/day", ",.0f"),
               ("cost_usd_per_day", "USD/day", ",.0f"))),
)}


def front_chart(table: pd.DataFrame, path: Path, *, budget: float) -> Path:
    """Draw the fronts of ``table`` (:data:`routes.priorities.tradeoff.PARETO_COLUMNS`) as PNG.

    One line per budget (detected share against the added cost a day), knees circled.
    """
    fig, ax = _figure(7.5, 4.0)
    budgets = sorted(set(table["budget"]))
    for i, b in enumerate(budgets):
        t = table[table["budget"] == b]
        last = i == len(budgets) - 1
        # the front is a set of points: the dotted line only guides the eye
        ax.plot(t["legit_cost_usd_per_day"], t["detected_share"], "o:",
                color=_BLUE if last else _GREY, markersize=4 if last else 2,
                linewidth=1.5 if last else 0.8,
                label=f"Pareto front, budget {b:g}" if last or len(budgets) < 4 else None)
        k = t[t["knee"]]
        if len(k):
            ax.plot(k["legit_cost_usd_per_day"], k["detected_share"], "o", color=_GREY,
                    markersize=10, fillstyle="none", label="knee" if last else None)
    ax.set_xlabel("added cost to legitimate traffic (USD a day)")
    ax.set_ylabel("expected detected share")
    ax.set_title(f"Detection against legitimate trade, budget up to {budget:g}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return save_png(fig, path)


def _front_chart(res: ReportResults, out: Path) -> list[Path]:
    return [front_chart(res.tables["pareto"], out / "chart_pareto.png",
                        budget=res.options.tradeoff_budget)]


def _names(res: ReportResults, posts: str) -> list[str]:
    return [f"{res.G.nodes[p].get('name', p)}" for p in posts.split(";") if p]


def _section(res: ReportResults) -> Section:
    t = res.tables["pareto"]
    posts = res.tables["tradeoff_posts"]
    on = res.extra["tradeoff_upgradable"]
    n_t = int((posts.loc[on, "trucks_basis"] != "imputed").sum())
    n_p = int((posts.loc[on, "people_basis"] != "imputed").sum())
    top = t.iloc[0]
    text = [f"Strengthening a post slows the legitimate trucks and travellers crossing it. Of "
            f"the {len(on)} posts that can be upgraded, {n_t} have a sourced truck figure and "
            f"{n_p} a sourced people figure (border_traffic.csv); the others' traffic is "
            f"imputed from sourced crossings of the same kind and marked as such. At a "
            f"budget of {res.options.tradeoff_budget:g}, the front has {len(t)} points, "
            f"{'all' if t['optimal'].all() else 'not all'} proven optimal. The most-detecting "
            f"set (the one `routes priorities` recommends) detects "
            f"{top['detected_share']:.4f} of the flow and adds "
            f"{top['legit_delay_h_per_day']:,.0f} hours a day "
            f"(USD {top['legit_cost_usd_per_day']:,.0f}): "
            + "; ".join(_names(res, top["posts"])) + "."]
    k = t[t["knee"]]
    if len(k):
        kn = k.iloc[0]
        a, b = set(top["posts"].split(";")) - {""}, set(kn["posts"].split(";")) - {""}
        dropped, added = sorted(a - b), sorted(b - a)
        change = []
        if dropped:
            change.append("drops " + "; ".join(_names(res, ";".join(dropped))))
        if added:
            change.append("adds " + "; ".join(_names(res, ";".join(added))))
        text.append(
            f"When delay counts, the knee of the front detects {kn['detected_share']:.4f} "
            f"({kn['detected_share'] - top['detected_share']:+.4f}) for USD "
            f"{kn['legit_cost_usd_per_day']:,.0f} a day "
            f"({kn['legit_cost_usd_per_day'] - top['legit_cost_usd_per_day']:+,.0f}): it "
            + (" and ".join(change) if change else "keeps the same posts") + ".")
    text.append("The added delay uses a queueing rule (Kingman's approximation at the post's "
                "utilisation, read from its CPMM clearance time where known), so a busy post "
                "costs far more per added minute than a quiet one; the weakest input is the "
                "imputed traveller volume at posts without counts.")
    blocks: list[dict] = [{"kind": "text", "text": s} for s in text]
    blocks.append({"kind": "chart", "file": "chart_pareto.png", "alt": "Pareto front"})
    blocks.append(table_block(res, "pareto", spec=TRADEOFF_SPECS["pareto"], top=None))
    shown = sorted({p for s in (top["posts"], *k["posts"]) for p in s.split(";") if p})
    frame = posts.loc[shown].reset_index()
    blocks.append(table_block(res, "tradeoff_posts", spec=TRADEOFF_SPECS["tradeoff_posts"],
                              top=None, frame=frame))
    return {"id": "tradeoff", "title": "Security and legitimate trade",
            "intro": "What strengthening the posts costs the goods and people crossing them, "
                     "and the posts to choose when that cost counts.", "blocks": blocks}


def tradeoff_analysis(options: ReportOptions) -> OptionalAnalysis | None:
    """Return the section's analysis, or ``None`` when not asked for or not available."""
    trade = optional_module("tradeoff")
    legit = optional_module("legit")
    if trade is None or legit is None or getattr(options, "tradeoff_budget", 0) <= 0:
        return None

    def stage(res: ReportResults) -> None:
        ds = res.dataset
        if ds is None or ds.border_traffic is None or not (res.cm.raw or {}).get("legit"):
            return
        params = legit.legit_params(res.cm)
        traffic = legit.post_traffic(ds.crossings, ds.border_traffic, params)
        delays = legit.post_delays(traffic, params, "physical")
        pts = trade.pareto_front(res.G, res.options.tradeoff_budget, delays, cm=res.cm,
                                 progress=res.detail)
        res.tables["pareto"] = trade.front_table(pts, delays)
        table = traffic.join(delays)
        table.insert(0, "name", [res.G.nodes[n].get("name", n) if n in res.G else n
                                 for n in table.index])
        res.tables["tradeoff_posts"] = table
        res.extra["tradeoff_upgradable"] = [
            n for n, d in res.G.nodes(data=True)
            if d.get("kind") == "crossing" and d.get("status") != "closed" and n in table.index]

    def charts(res: ReportResults, out: Path) -> list[Path]:
        return _front_chart(res, out) if "pareto" in res.tables else []

    def section(res: ReportResults) -> Section | None:
        return _section(res) if "pareto" in res.tables else None

    return OptionalAnalysis("tradeoff", stage, charts, section)
