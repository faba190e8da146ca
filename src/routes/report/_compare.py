"""A comparison report: two scenarios of the same data side by side.

The side-by-side tables are joins of the two reports' tables (nothing is recomputed); when
``routes.comparison.compare`` provides :func:`compare_scenarios`, its route and priority changes
are added. The page holds the tables, charts, the two maps side by side (offline), the methods
and the provenance of both scenarios.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_write_text, replace_dir
from ._charts import bar_chart, grouped_bar_chart
from ._model import Progress, ReportResults, optional_module
from ._provenance import previous_files, provenance
from ._render import render_html, render_markdown
from ._sections import Section, _methods
from ._tables import TableSpec, display_rows, write_table

__all__ = ["compare_tables", "write_compare_report", "COMPARE_STAGES"]

log = logging.getLogger(__name__)

#: The stages of :func:`write_compare_report`, in order.
COMPARE_STAGES = ("compare", "tables", "charts", "map", "pages")


def _side(a: pd.Series, b: pd.Series, names: tuple[str, str]) -> pd.DataFrame:
    idx = a.index.union(b.index, sort=False)
    out = pd.DataFrame({names[0]: a.reindex(idx), names[1]: b.reindex(idx)}, index=idx)
    out.index.name = a.index.name
    return out


def _labels(a: ReportResults, b: ReportResults, *, files: bool = False) -> tuple[str, str]:
    """Return the two scenarios' names, told apart.

    With ``files``, as headings show them: with the file where its name differs
    (:attr:`routes.scenario.Scenario.label`); without, as table columns name them.
    """
    la, lb = ((a.scenario.label, b.scenario.label) if files
              else (a.scenario.name, b.scenario.name))
    return (la, lb) if la != lb else (f"{la} (A)", f"{lb} (B)")


def compare_tables(a: ReportResults, b: ReportResults) -> dict[str, pd.DataFrame]:
    """Side-by-side tables of two reports' results (``a`` and ``b``: two scenarios).

    - ``summary``: each network count in A and B, and the change;
    - ``corridors``: flow share of each corridor in A and B (``share_a``, ``share_b``,
      ``share_change``);
    - ``crossings``: each crossing's flow share, flow rank and priority rank in A and B,
      sorted by the size of the share change, then id;
    - ``countries``: transit share of each country (best routes) in A and B;
    - with ``routes.comparison.compare.compare_scenarios``: ``route_changes`` (best route of
      each pair in A and B) and ``priority_changes`` (interdiction priorities).
    """
    out: dict[str, pd.DataFrame] = {}
    sa, sb = a.tables["summary"]["value"], b.tables["summary"]["value"]
    s = pd.DataFrame({"a": sa, "b": sb.reindex(sa.index)})
    s["change"] = s["b"] - s["a"]
    out["summary"] = s
    ca, cb = a.tables["corridors"], b.tables["corridors"]
    c = pd.DataFrame({"share_a": ca["share"], "share_b": cb["share"].reindex(ca.index),
                      "flow_a": ca["flow"], "flow_b": cb["flow"].reindex(ca.index)})
    c["share_change"] = c["share_b"] - c["share_a"]
    out["corridors"] = c
    xa, xb = a.tables["crossings"], b.tables["crossings"]
    pa, pb = a.tables["chokepoints"], b.tables["chokepoints"]
    idx = xa.index.union(xb.index)
    x = pd.DataFrame(index=idx)
    x["name"] = xa["name"].reindex(idx).fillna(xb["name"].reindex(idx))
    x["status_a"], x["status_b"] = xa["status"].reindex(idx), xb["status"].reindex(idx)
    x["share_a"], x["share_b"] = xa["share"].reindex(idx), xb["share"].reindex(idx)
    x["share_change"] = x["share_b"].fillna(0.0) - x["share_a"].fillna(0.0)
    x["rank_a"], x["rank_b"] = xa["rank"].reindex(idx), xb["rank"].reindex(idx)
    x["priority_rank_a"] = pa["priority_rank"].reindex(idx)
    x["priority_rank_b"] = pb["priority_rank"].reindex(idx)
    x["cost_rise_pct_a"] = pa["cost_rise_pct"].reindex(idx)
    x["cost_rise_pct_b"] = pb["cost_rise_pct"].reindex(idx)
    x.index.name = "id"
    order = np.lexsort((x.index.to_numpy(dtype=str), -x["share_change"].abs().to_numpy()))
    out["crossings"] = x.iloc[order]
    ta, tb = a.tables["countries"], b.tables["countries"]
    idx = ta.index.union(tb.index)
    t = pd.DataFrame(index=idx)
    t["transit_share_a"] = ta["transit_share"].reindex(idx).fillna(0.0)
    t["transit_share_b"] = tb["transit_share"].reindex(idx).fillna(0.0)
    t["change"] = t["transit_share_b"] - t["transit_share_a"]
    t.index.name = "country"
    order = np.lexsort((t.index.to_numpy(dtype=str), -t["change"].abs().to_numpy()))
    out["countries"] = t.iloc[order]
    cmp = optional_module("compare")
    if cmp is not None and hasattr(cmp, "compare_scenarios"):
        o = a.options
        sc = cmp.compare_scenarios(a.G, b.G, a.cm, budget=o.budget, weight=o.weight,
                                   objective=o.objective, engine=o.engine)
        out["scenario_summary"] = sc.summary
        out["route_changes"] = sc.routes
        out["priority_changes"] = sc.priorities
    return out


_SPECS = {s.name: s for s in (
    TableSpec("summary", "The two networks", "Counts of each network; change = B - A.",
              (("measure", "measure", ""), ("a", "A", ",.6g"), ("b", "B", ",.6g"),
               ("change", "change", "+,.6g"))),
    TableSpec("scenario_summary", "What changes", "Flows, route cost and risk, and the "
              "interdiction value in A and B.",
              (("metric", "metric", ""), ("a", "A", ".6g"), ("b", "B", ".6g"),
               ("change", "change", "+.6g"))),
    TableSpec("corridors", "Corridor shares", "Share of the routed flow on each corridor "
              "(logit assignment) in A and B.",
              (("corridor", "corridor", ""), ("share_a", "A", ".1%"), ("share_b", "B", ".1%"),
               ("share_change", "change", "+.1%"))),
    TableSpec("crossings", "Crossings whose flow changes most",
              "Flow share (flow betweenness) and priority rank of each crossing in A and B, "
              "sorted by the size of the change.",
              (("id", "id", ""), ("name", "crossing", ""), ("status_a", "status A", ""),
               ("status_b", "status B", ""), ("share_a", "share A", ".1%"),
               ("share_b", "share B", ".1%"), ("share_change", "change", "+.1%"),
               ("priority_rank_a", "priority A", ".0f"),
               ("priority_rank_b", "priority B", ".0f"))),
    TableSpec("countries", "Transit countries", "Share of the routed flow transiting each "
              "country (best routes) in A and B, sorted by the size of the change.",
              (("country", "country", ""), ("transit_share_a", "A", ".1%"),
               ("transit_share_b", "B", ".1%"), ("change", "change", "+.1%"))),
    TableSpec("route_changes", "Best routes of each origin-market pair",
              "The best route (by the report's weight) of each pair in A and B.",
              (("origin", "origin", ""), ("market", "market", ""),
               ("corridor_a", "corridor A", ""), ("corridor_b", "corridor B", ""),
               ("cost_a", "cost A", ",.1f"), ("cost_b", "cost B", ",.1f"),
               ("same_route", "same route", "bool"))),
    TableSpec("priority_changes", "Interdiction priorities",
              "Each post's interdiction gain and rank in A and B, and whether it is chosen at "
              "the budget.",
              (("id", "id", ""), ("name_a", "crossing", ""),
               ("interdiction_gain_a", "gain A", ".4f"), ("interdiction_gain_b", "gain B", ".4f"),
               ("interdiction_rank_a", "rank A", ".1f"), ("interdiction_rank_b", "rank B", ".1f"),
               ("in_solution_a", "chosen A", "bool"), ("in_solution_b", "chosen B", "bool"))),
)}


def _block(name: str, df: pd.DataFrame, top: int | None) -> dict[str, Any]:
    spec = _SPECS[name]
    labels, rows = display_rows(df, spec, top)
    return {"kind": "table", "title": spec.title, "about": spec.about, "labels": labels,
            "rows": rows, "csv": f"{name}.csv", "total": len(df)}


def _charts(tables: dict[str, pd.DataFrame], names: tuple[str, str], top: int, out: Path
            ) -> list[Path]:
    c = tables["corridors"][["share_a", "share_b"]].set_axis(list(names), axis=1)
    files = [grouped_bar_chart(c, out / "chart_corridors.png", xlabel="share of routed flow (%)",
                               title="Corridor shares in the two scenarios", percent=True)]
    x = tables["crossings"].head(top)
    x = x[x["share_change"] != 0]
    files.append(bar_chart(pd.Series(x["share_change"].to_numpy(), index=x["name"]),
                           out / "chart_crossings.png", percent=True,
                           title=f"Change of flow share, {names[0]} to {names[1]}",
                           xlabel="change of share (percentage points)",
                           highlight=[v < 0 for v in x["share_change"]]))
    return files


def _write_map(a: ReportResults, b: ReportResults, out: Path) -> list[Path]:
    from ..maps import MapAnalyses, compare_map, write_map

    def an(r: ReportResults) -> MapAnalyses:
        fa = r.flows
        return MapAnalyses(crossings=r.tables.get("chokepoints"),
                           countries=fa.countries if fa else None,
                           edges=fa.edges if fa else None, routes=fa.routes if fa else None)

    countries = a.dataset.countries if a.dataset is not None else None
    fig = compare_map(a.G, b.G, countries=countries, analyses=[an(a), an(b)], offline=True,
                      titles=[f"A: {a.scenario.label}", f"B: {b.scenario.label}"])
    return [write_map(fig, out / "map.html", generator="routes report")]


def _scenario_block(r: ReportResults, tag: str) -> dict[str, Any]:
    sc = r.scenario
    items = [f"{tag}: {sc.label}. {sc.description}" + (f" (as of {sc.as_of})" if sc.as_of
                                                       else "")]
    items += [f"{tag} source: {s}" for s in sc.sources]
    ch = r.tables.get("scenario_changes")
    if ch is not None:
        items += [f"{tag} sets {t}.{i}.{f} = {v}" for t, i, f, v in ch.itertuples(index=False)]
    return {"kind": "list", "items": items}


def _sections(a: ReportResults, b: ReportResults, tables: dict[str, pd.DataFrame]
              ) -> list[Section]:
    top = a.options.top
    blocks = [_block(n, tables[n], None) for n in ("scenario_summary", "summary")
              if n in tables]
    secs: list[Section] = [
        {"id": "scenarios", "title": "The two scenarios", "intro": "",
         "blocks": [_scenario_block(a, "A"), _scenario_block(b, "B"), *blocks]},
        {"id": "corridors", "title": "Corridors", "intro": "",
         "blocks": [{"kind": "chart", "file": "chart_corridors.png", "alt": "Corridor shares"},
                    _block("corridors", tables["corridors"], None)]},
        {"id": "crossings", "title": "Crossings", "intro": "",
         "blocks": [{"kind": "chart", "file": "chart_crossings.png",
                     "alt": "Change of flow share"},
                    _block("crossings", tables["crossings"], top)]},
        {"id": "countries", "title": "Transit countries", "intro": "",
         "blocks": [_block("countries", tables["countries"], top)]},
    ]
    more = [_block(n, tables[n], top if n == "priority_changes" else None)
            for n in ("route_changes", "priority_changes") if n in tables]
    if more:
        secs.append({"id": "changes", "title": "Routes and priorities", "intro": "",
                     "blocks": more})
    if a.options.map:
        secs.append({"id": "map", "title": "Maps side by side",
                     "intro": "A on the left, B on the right; panning or zooming one moves the "
                              "other. Self-contained, works without internet.",
                     "blocks": [{"kind": "map", "file": "map.html"}]})
    secs.append(_methods(a))
    return secs


def _provenance(a: ReportResults, b: ReportResults, generated: dt.datetime | None,
                command: str | None) -> dict[str, Any]:
    pa = provenance(a, generated=generated, command=command)
    pb = provenance(b, generated=generated, command=command)
    prov = dict(pa)
    prov["scenario"] = {k: f"A: {pa['scenario'][k]} | B: {pb['scenario'][k]}"
                        for k in ("name", "file", "sha256")}
    seen = {(r["input"], r["sha256"]) for r in pa["inputs"]}
    prov["inputs"] = pa["inputs"] + [r for r in pb["inputs"]
                                     if (r["input"], r["sha256"]) not in seen]
    prov["network"] = dict(pa["network"], name=f"{pa['network']['name']} | "
                                                f"{pb['network']['name']}")
    prov["scenarios"] = [pa["scenario"], pb["scenario"]]
    return prov


def write_compare_report(a: ReportResults, b: ReportResults, out_dir: str | Path, *,
                         progress: Progress | None = None, generated: dt.datetime | None = None,
                         command: str | None = None) -> list[Path]:
    """Write a report comparing scenario ``a`` with scenario ``b`` into ``out_dir``.

    Files: ``index.html``, ``report.md``, one CSV per table of :func:`compare_tables`,
    ``chart_corridors.png``, ``chart_crossings.png``, ``map.html`` (the two maps side by
    side, offline) and ``provenance.json``. Returns the files written, sorted.
    """
    out = Path(out_dir)
    old = previous_files(out)
    with replace_dir(out, keep=lambda entry: entry.name not in old) as tmp:
        written = _write_compare_files(a, b, tmp, progress=progress, generated=generated,
                                       command=command)
    return sorted({out / p.name for p in written})


def _write_compare_files(a: ReportResults, b: ReportResults, out: Path, *,
                         progress: Progress | None, generated: dt.datetime | None,
                         command: str | None) -> list[Path]:

    def done(stage: str) -> None:
        log.info("comparison %s done", stage)
        if progress is not None:
            progress(stage)

    names = _labels(a, b)
    tables = compare_tables(a, b)
    done("compare")
    written = [write_table(df, out / f"{name}.csv") for name, df in tables.items()]
    if "parameters" in a.tables:
        written.append(write_table(a.tables["parameters"], out / "parameters.csv"))
    done("tables")
    written.extend(_charts(tables, names, a.options.top, out))
    done("charts")
    if a.options.map:
        written.extend(_write_map(a, b, out))
    done("map")
    sections = _sections(a, b, tables)
    prov = _provenance(a, b, generated, command)
    files = sorted({p.name for p in written} | {"index.html", "report.md", "provenance.json"})
    heads = _labels(a, b, files=True)
    title = f"routes comparison: {heads[0]} vs {heads[1]}"
    sub = [f"A: {heads[0]}. {a.scenario.description}", f"B: {heads[1]}. {b.scenario.description}",
           f"Cost model: {a.cm.name}. Routes weighted by {a.options.weight}."]
    written.append(atomic_write_text(out / "provenance.json",
                                     json.dumps(dict(prov, files=files), indent=2,
                                                sort_keys=True) + "\n"))
    written.append(atomic_write_text(out / "report.md",
                                     render_markdown(title, sub, sections, prov, files)))
    written.append(atomic_write_text(out / "index.html",
                                     render_html(title, sub, sections, prov, files)))
    done("pages")
    return written
