"""The report's sections as plain data (titles, tables, charts), rendered to HTML and Markdown.

A section is a dict ``{"id", "title", "intro", "blocks"}``; a block is one of
``{"kind": "table", "title", "about", "labels", "rows", "csv", "total"}``,
``{"kind": "chart", "file", "alt"}``, ``{"kind": "text", "text"}``,
``{"kind": "list", "items"}``, ``{"kind": "pre", "text"}``,
``{"kind": "map", "file"}``, ``{"kind": "link", "text", "file"}`` or
``{"kind": "params", "groups"}``.
All text is data: the templates escape every value.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..maps._palette import PALETTE
from ._charts import bar_chart, paired_bar_chart
from ._methods import read_toml_notes
from ._model import ReportResults, analysis_module_name
from ._tables import TABLE_SPECS, TableSpec, display_rows

__all__ = ["Section", "OptionalAnalysis", "table_block", "core_sections", "core_charts",
           "ANALYSIS_MODULES"]

Section = dict[str, Any]
#: Corridor colours of every page and chart (the shared palette).
CORRIDOR_COLOURS: dict[str, str] = dict(PALETTE["corridors"])
#: Analysis modules whose notes the methods section quotes (first paragraph of each).
ANALYSIS_MODULES = ("centrality", "paths", "flows", "chokepoints", "interdiction",
                    "uncertainty")


@dataclass(frozen=True)
class OptionalAnalysis:
    """An analysis with its stage (computes tables), charts and section.

    Defined here, beside :data:`Section`, so that the optional analyses' modules
    (``_optional``, ``_observations``, ``_timeline``) all import it from below.
    """

    name: str
    stage: Callable[[ReportResults], None]
    charts: Callable[[ReportResults, Path], list[Path]]
    section: Callable[[ReportResults], Section | None]


def table_block(res: ReportResults, name: str, *, spec: TableSpec | None = None,
                top: int | None = -1, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """Return a table block of table ``name`` of ``res``: its first ``top`` rows.

    ``top=-1`` shows ``res.options.top`` rows, ``None`` all of them.
    """
    spec = spec or TABLE_SPECS[name]
    df = frame if frame is not None else res.tables[name]
    n = res.options.top if top == -1 else top
    labels, rows = display_rows(df, spec, n)
    # Every table says which cost model its figures come from.
    about = f"{spec.about} Cost model: {res.cm.name}."
    return {"kind": "table", "title": spec.title, "about": about, "labels": labels,
            "rows": rows, "csv": f"{name}.csv", "total": len(df), "anchor": f"table-{name}"}


def _chart(file: str, alt: str) -> dict[str, Any]:
    return {"kind": "chart", "file": file, "alt": alt}


# --------------------------------------------------------------------------- charts
def core_charts(res: ReportResults, out: Path) -> list[Path]:
    """Draw the ranking charts of the core analyses into ``out``; return the files."""
    top = res.options.top
    files = []
    ct = res.tables["crossings"].head(top)
    files.append(bar_chart(
        pd.Series(ct["share"].to_numpy(), index=ct["name"]), out / "chart_crossings.png",
        title=f"Top {len(ct)} crossings: share of the modelled flow (flow betweenness)",
        xlabel="share of routed flow (%)", percent=True,
        highlight=[s == "restricted" for s in ct["status"]]))
    ch = res.tables["chokepoints"].head(top)
    # Two panels: a crossing whose closure strands flow (the first-ranked ones) may raise the
    # cost of the routes that remain by nothing, so one cost bar would hide it.
    files.append(paired_bar_chart(
        pd.DataFrame({"stranded": ch["unserved_share"].to_numpy() * 100.0,
                      "rise": ch["cost_rise_pct"].to_numpy()}, index=ch["name"]),
        out / "chart_chokepoints.png",
        title=f"Top {len(ch)} chokepoints if closed: flow left without a route, and rise in "
              "flow-weighted route cost",
        xlabels=("flow left without a route (% of flow)", "cost rise (%)")))
    co = res.tables["countries"].head(top)
    files.append(bar_chart(co["transit_share"], out / "chart_countries.png",
                           title="Transit countries: share of the routed flow (best routes)",
                           xlabel="share of routed flow (%)", percent=True))
    cs = res.tables["corridors"]
    files.append(bar_chart(cs["share"], out / "chart_corridors.png",
                           title="Corridor shares (logit assignment over the k best routes)",
                           xlabel="share of routed flow (%)", percent=True,
                           colors=[CORRIDOR_COLOURS.get(str(c), "#666666") for c in cs.index]))
    return files


# --------------------------------------------------------------------------- sections
def _glance(res: ReportResults) -> Section:
    sc = res.scenario
    text = (f"Scenario {sc.name!s}: {sc.description}" if sc.description else
            f"Scenario {sc.name}.")
    return {"id": "glance", "title": "The network at a glance", "intro": text,
            "blocks": [table_block(res, "summary", top=None)]}


def _crossings(res: ReportResults) -> Section:
    return {"id": "crossings", "title": "Chokepoint crossings",
            "intro": "Which border crossings carry the modelled flow, and which ones the "
                     "routes cannot do without. Red bars: restricted crossings (first chart); the "
                     "flow a crossing's closure leaves without any route (second chart, left "
                     "panel; the right panel shows the rise in route cost).",
            "blocks": [_chart("chart_crossings.png", "Top crossings by flow share"),
                       table_block(res, "crossings"),
                       _chart("chart_chokepoints.png", "Top chokepoints by closure impact"),
                       table_block(res, "chokepoints"),
                       {"kind": "text", "text": _cut_text(res)}]}


def _cut_text(res: ReportResults) -> str:
    cut = res.extra.get("min_cut", [])
    if not cut:
        return "No crossing cut separates the origins from the markets."
    names = [f"{res.G.nodes[x].get('name', x)} ({x})" for x in cut]
    return (f"Minimum crossing cut: closing these {len(cut)} crossings together disconnects "
            f"every origin from every market: " + "; ".join(names) + ".")


def _countries(res: ReportResults) -> Section:
    return {"id": "countries", "title": "Transit countries",
            "intro": "The countries the routed flow passes through.",
            "blocks": [_chart("chart_countries.png", "Transit share by country"),
                       table_block(res, "countries"), table_block(res, "country_flows")]}


def _corridors(res: ReportResults) -> Section:
    fa = res.flows
    intro = ""
    if fa is not None:
        intro = (f"Flow assigned: {fa.total_flow:,.1f} (method {fa.method}, weight "
                 f"{fa.weight}); flow without any route: {fa.unserved_flow:,.1f}.")
    return {"id": "corridors", "title": "Corridors and routes", "intro": intro,
            "blocks": [_chart("chart_corridors.png", "Corridor shares"),
                       table_block(res, "corridors", top=None),
                       table_block(res, "routes")]}


def _map(res: ReportResults) -> Section | None:
    if not res.options.map:
        return None
    return {"id": "map", "title": "Map",
            "intro": "Countries shaded by transit share, corridors by assigned flow, the k best "
                     "routes, crossings sized by flow betweenness and coloured by priority. The "
                     "map is a self-contained file beside this page and works without internet.",
            "blocks": [{"kind": "map", "file": "map.html"},
                       {"kind": "link", "file": "whatif.html",
                        "text": "What if? Close, reopen or upgrade any crossing on the "
                                "planner's page and see the routes, corridor shares and the "
                                "detected share change at once (self-contained, works "
                                "offline; the changes download as a scenario file):"}]}


def _module_note(name: str) -> str | None:
    try:
        mod = importlib.import_module(analysis_module_name(name))
    except ImportError:
        return None
    doc = (mod.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split()) if doc else None


def _param_groups(params: pd.DataFrame) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for rec in params.itertuples(index=False):
        title = rec.section or "Model"
        if not groups or groups[-1]["title"] != title:
            note = rec.rationale if rec.rationale_from == "section" else ""
            groups.append({"title": title, "note": note, "rows": []})
        own = rec.rationale if rec.rationale_from in ("key", "table") else ""
        groups[-1]["rows"].append([rec.parameter, rec.value, own])
    return groups


def _methods(res: ReportResults) -> Section:
    blocks: list[dict[str, Any]] = []
    notes = [f"{name}: {n}" for name in ANALYSIS_MODULES if (n := _module_note(name))]
    blocks.append({"kind": "list", "items": notes})
    path = Path(res.cm.path) if res.cm.path else None
    if path is not None and path.exists():
        pre = read_toml_notes(path.read_text(encoding="utf-8")).preamble
        if pre:
            blocks.append({"kind": "pre", "text": pre})
    if "parameters" in res.tables:
        blocks.append({"kind": "params", "csv": "parameters.csv",
                       "labels": ["parameter", "value", "rationale and source"],
                       "groups": _param_groups(res.tables["parameters"])})
    return {"id": "methods", "title": "Methods",
            "intro": f"Cost model {res.cm.name}: {res.cm.description} Every parameter below is "
                     "read from the cost model file, with the comment written above it there.",
            "blocks": blocks}


def _scenario(res: ReportResults) -> Section:
    sc = res.scenario
    blocks: list[dict[str, Any]] = []
    if sc.sources:
        blocks.append({"kind": "list", "items": [f"Source: {s}" for s in sc.sources]})
    if "scenario_changes" in res.tables and len(res.tables["scenario_changes"]):
        blocks.append(table_block(res, "scenario_changes", top=None))
    else:
        blocks.append({"kind": "text", "text": "The scenario changes nothing: the shipped data."})
    intro = f"{sc.name}: {sc.description}" + (f" (as of {sc.as_of})" if sc.as_of else "")
    return {"id": "scenario", "title": "Scenario", "intro": intro, "blocks": blocks}


#: Builders of the core sections, in page order; ``None`` marks where optional ones go.
_ORDER: tuple[Callable[[ReportResults], Section | None] | None, ...] = (
    _glance, _crossings, _countries, _corridors, None, _map, _methods, _scenario)


def core_sections(res: ReportResults, optional: list[Section]) -> list[Section]:
    """All sections in page order, with the ``optional`` ones after the corridors."""
    out: list[Section] = []
    for build in _ORDER:
        if build is None:
            out.extend(optional)
            continue
        sec = build(res)
        if sec is not None:
            out.append(sec)
    return out
