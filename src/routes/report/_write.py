"""Write a report folder: tables, GeoPackage, charts, map, pages, provenance.

The folder is written whole beside its target and swapped in at once, under a lock
(:func:`routes.io.replace_dir`): a killed run leaves the previous report intact, and a
second run into the same folder fails clearly. The tables, charts and the GeoPackage are
byte-identical on every run with the same inputs and options (the GeoPackage's layers are
dated with the scenario's ``as_of`` date, else the latest ``as_of`` of the crossings);
``index.html``, ``report.md`` and ``brief.html`` differ only in their timestamp (in the
provenance section, the brief's footer), ``provenance.json`` holds it too. The map is drawn
by folium, whose element ids are random, so ``map.html`` differs between runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

from ..io import atomic_write_text, data_date, replace_dir, write_geopackage
from ..network import network_to_gdfs
from ._brief import BRIEF_FILE, BRIEF_MAP, brief_context, brief_map
from ._findings import findings_section
from ._model import Progress, ReportResults
from ._provenance import previous_files, provenance
from ._render import render_brief, render_html, render_markdown
from ._sections import Section, core_charts, core_sections
from ._tables import flat, write_table

__all__ = ["write_report", "report_layers", "WRITE_STAGES", "CSV_TABLES"]

log = logging.getLogger(__name__)

#: The writing stages, in order (after the analysis stages).
WRITE_STAGES = ("tables", "geopackage", "charts", "map", "pages")
#: Tables written as CSV, in this order (those a report has); optional analyses add theirs.
CSV_TABLES = ("summary", "crossings", "chokepoints", "countries", "country_flows", "corridors",
              "routes", "parameters", "inputs", "scenario_changes")


def _crossing_points(res: ReportResults) -> gpd.GeoDataFrame:
    """Crossings with their scores (chokepoint table + comparison measures), as points."""
    ch = res.tables["chokepoints"]
    ct = res.tables["crossings"]
    extra = [c for c in ("betweenness", "closeness", "current_flow_betweenness")
             if c in ct and c not in ch]
    df = ch.join(ct[extra])
    for name in ("priorities", "rank_stability"):
        if name in res.tables and res.tables[name].index.name == "id":
            t = res.tables[name]
            df = df.join(t[[c for c in t.columns if c not in df.columns]])
    G = res.G
    geom = [Point(G.nodes[n]["lon"], G.nodes[n]["lat"]) for n in df.index]
    return gpd.GeoDataFrame(df, geometry=geom, crs=G.graph.get("crs", "EPSG:4326"))


def report_layers(res: ReportResults) -> dict[str, gpd.GeoDataFrame]:
    """Return the GeoPackage layers: ``nodes``, ``edges``, ``crossings`` (with scores), ``routes``.

    ``nodes`` adds each node's flow betweenness and share; ``edges`` adds the logit flow and
    its share; list values (paths, countries) are joined with ``" > "``.
    """
    nodes, edges = network_to_gdfs(res.G)
    nodes = nodes.sort_index()
    nc = res.extra.get("node_centrality")
    if nc is not None:
        nodes = nodes.join(nc[["flow_betweenness", "share"]])
    if res.flows is not None:
        fe = res.flows.edges.set_index(["u", "v"])[["flow", "share"]]
        edges = edges.join(fe, on=["u", "v"])
    edges = edges.sort_values(["u", "v"]).reset_index(drop=True)
    layers = {"nodes": nodes, "edges": edges, "crossings": _crossing_points(res)}
    if res.routes is not None:
        r = res.routes
        layers["routes"] = gpd.GeoDataFrame(flat(r), geometry=r.geometry.to_numpy(),
                                            crs=r.crs)
    for name, gdf in layers.items():
        gdf.attrs = {}
        layers[name] = gpd.GeoDataFrame(flat(gdf), geometry=gdf.geometry.to_numpy(),
                                        crs=gdf.crs)
    return layers


def _write_map(res: ReportResults, out: Path) -> list[Path]:
    from ..maps import MapAnalyses, route_map, write_map

    fa = res.flows
    an = MapAnalyses(crossings=res.tables.get("chokepoints"),
                     countries=fa.countries if fa is not None else None,
                     edges=fa.edges if fa is not None else None,
                     routes=fa.routes if fa is not None else None)
    countries = res.dataset.countries if res.dataset is not None else None
    m = route_map(res.G, countries=countries, analyses=an, offline=True,
                  title=f"routes: {res.scenario.label}")
    return [write_map(m, out / "map.html", generator="routes report")]


def _write_whatif(res: ReportResults, out: Path) -> list[Path]:
    """Write the what-if page of the report's scenario (when the report has its data)."""
    from ..maps import write_whatif

    if res.dataset is None:
        return []
    return [write_whatif(res.dataset, res.cm, out / "whatif.html", res.scenario,
                         title=f"routes what-if: {res.scenario.label}")]


def _subtitle(res: ReportResults) -> list[str]:
    sc, cm = res.scenario, res.cm
    lines = [f"Scenario: {sc.label}" + (f" (as of {sc.as_of})" if sc.as_of else "")
             + (f". {sc.description}" if sc.description else "")]
    lines.append(f"Cost model: {cm.name}. Routes weighted by {res.options.weight}.")
    return lines


def write_report(res: ReportResults, out_dir: str | Path, *, progress: Progress | None = None,
                 generated: dt.datetime | None = None, command: str | None = None
                 ) -> list[Path]:
    """Write the report of ``res`` into ``out_dir``; return the files written, sorted.

    Files: ``index.html`` (the report), ``report.md`` (the same in Markdown), one CSV per
    table (:data:`CSV_TABLES` and those of optional analyses), ``report.gpkg`` (layers
    :func:`report_layers`), ``chart_*.png``, ``map.html`` and ``whatif.html`` (offline,
    self-contained; unless ``options.map`` is false) and ``provenance.json``.

    Parameters
    ----------
    res : ReportResults
        From :func:`routes.report.collect_results`.
    out_dir : path
        Created if missing; replaced as a whole (the files of other commands in it are
        kept).
    progress : callable, optional
        Called with each writing stage's name (:data:`WRITE_STAGES`) when done.
    generated : datetime, optional
        The report's timestamp (default: now, UTC).
    command : str, optional
        The command line, recorded in the provenance.
    """
    out = Path(out_dir)
    old = previous_files(out)
    # The whole folder is written beside ``out`` and swapped in at once; the outputs of other
    # commands in ``out`` (not listed by the previous report) are carried over.
    with replace_dir(out, keep=lambda entry: entry.name not in old) as tmp:
        written = _write_files(res, tmp, progress=progress, generated=generated,
                               command=command)
    return sorted({out / p.name for p in written})


def _write_files(res: ReportResults, out: Path, *, progress: Progress | None,
                 generated: dt.datetime | None, command: str | None) -> list[Path]:
    from ._optional import available

    extras = available(res.options)
    written: list[Path] = []

    def done(stage: str) -> None:
        log.info("report %s written", stage)
        if progress is not None:
            progress(stage)

    names = [n for n in CSV_TABLES if n in res.tables]
    names += [n for n in res.tables if n not in names and not n.startswith("_")]
    for name in names:
        written.append(write_table(res.tables[name], out / f"{name}.csv"))
    done("tables")
    written.append(write_geopackage(report_layers(res), out / "report.gpkg",
                                    as_of=res.scenario.as_of or data_date(res.G)))
    done("geopackage")
    written.extend(core_charts(res, out))
    brief_png = brief_map(res, out / BRIEF_MAP)
    if brief_png is not None:
        written.append(brief_png)
    for a in extras:
        written.extend(a.charts(res, out))
    done("charts")
    if res.options.map:
        written.extend(_write_map(res, out))
        written.extend(_write_whatif(res, out))
    done("map")
    # An optional analysis without its inputs (e.g. no seizures file) has no section.
    optional: list[Section] = [s for a in extras if (s := a.section(res)) is not None]
    sections = core_sections(res, optional)
    shown = {b["csv"][:-4] for s in sections for b in s["blocks"]
             if b.get("kind") == "table" and b.get("csv")}
    sections.insert(0, findings_section(res, shown))
    prov = provenance(res, generated=generated, command=command)
    files = sorted({p.name for p in written}
                   | {"index.html", "report.md", "provenance.json", BRIEF_FILE})
    title = f"routes report: {res.scenario.label}"
    written.append(atomic_write_text(out / "provenance.json", json.dumps(
        dict(prov, files=files), indent=2, sort_keys=True) + "\n"))
    written.append(atomic_write_text(out / "report.md", render_markdown(
        title, _subtitle(res), sections, prov, files)))
    written.append(atomic_write_text(out / "index.html", render_html(
        title, _subtitle(res), sections, prov, files)))
    made = {p.name for p in written}
    chart = next(((f, alt) for f, alt in (
        ("chart_budget.png", "Budget curve: the objective the best posts reach at each budget"),
        ("chart_corridors.png", "Corridor shares of the routed flow")) if f in made), None)
    written.append(atomic_write_text(out / BRIEF_FILE, render_brief(brief_context(
        res, sections[0]["blocks"][0]["items"], prov,
        map_file=BRIEF_MAP if brief_png is not None else None, chart=chart))))
    done("pages")
    return written
