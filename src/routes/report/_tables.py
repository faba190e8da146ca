"""Tables of a report: CSV files (every row, full precision) and display views (top rows).

CSV files are deterministic: rows in the order the analysis returned them (sorted by rank,
ties by id), floats written with ``%.10g``, lists joined with ``" > "``, no timestamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..io import write_csv

__all__ = ["TableSpec", "TABLE_SPECS", "FLOAT_FORMAT", "flat", "csv_frame", "write_table",
           "display_rows", "format_value"]

#: Float format of every CSV file: 10 significant digits, the same on every run.
FLOAT_FORMAT = "%.10g"
#: Separator of list values (paths, countries) in CSV cells.
LIST_SEP = " > "


@dataclass(frozen=True)
class TableSpec:
    """How a table is shown: its title, a sentence on what it holds, the shown columns.

    ``columns`` holds ``(column, label, format)``; the column may be the index's name; the
    format is a Python format spec (``".1%"``), ``""`` for text, ``"bool"`` for yes/no.
    ``sort`` (column, ascending) orders the shown rows when not the table's own order.
    """

    name: str
    title: str
    about: str
    columns: tuple[tuple[str, str, str], ...]
    sort: tuple[str, bool] | None = None


TABLE_SPECS: dict[str, TableSpec] = {s.name: s for s in (
    TableSpec("summary", "The network at a glance",
              "Counts of the built network; a closed crossing is a node without edges.",
              (("measure", "measure", ""), ("value", "value", ",.6g"))),
    TableSpec("crossings", "Top crossings by flow betweenness",
              "The modelled flow through each crossing when every origin-market pair uses its "
              "best routes (ties split evenly); share = of the routed flow. Plain betweenness, "
              "closeness and current-flow betweenness for comparison.",
              (("rank", "rank", "d"), ("id", "id", ""), ("name", "crossing", ""),
               ("country_a", "from", ""), ("country_b", "to", ""), ("status", "status", ""),
               ("mode", "mode", ""), ("flow_betweenness", "flow betweenness", ",.1f"),
               ("share", "share", ".1%"), ("betweenness", "betweenness", ",.0f"),
               ("closeness", "closeness", ".3g"),
               ("current_flow_betweenness", "current-flow betw.", ",.1f"))),
    TableSpec("chokepoints", "Chokepoint crossings",
              "Each open crossing closed in turn: the rise in flow-weighted route cost, the flow "
              "left without any route, and membership in the minimum crossing cut; "
              "priority rank 1 = most critical.",
              (("priority_rank", "priority", "d"), ("id", "id", ""), ("name", "crossing", ""),
               ("country_a", "from", ""), ("country_b", "to", ""), ("status", "status", ""),
               ("share", "flow share", ".1%"), ("cost_rise_pct", "cost rise if closed", ".2f"),
               ("unserved_share", "unserved if closed", ".1%"),
               ("stranded_supply", "stranded supply", ",.1f"),
               ("articulation_point", "articulation point", "bool"),
               ("in_min_cut", "in min cut", "bool"))),
    TableSpec("countries", "Transit countries (best routes)",
              "Each country's share of the routed flow whose best route transits it (origin "
              "and market countries excluded); shares add up to more than 100%.",
              (("rank", "rank", "d"), ("country", "country", ""),
               ("transit_flow", "transit flow", ",.1f"), ("transit_share", "share", ".1%"),
               ("n_routes", "routes", "d"))),
    TableSpec("country_flows", "Transit countries (logit assignment)",
              "The same with each pair's flow split over its k best routes by the logit model.",
              (("rank", "rank", "d"), ("country", "country", ""),
               ("transit_flow", "transit flow", ",.1f"), ("transit_share", "share", ".1%"),
               ("n_routes", "routes", "d"))),
    TableSpec("corridors", "Corridor shares",
              "The flow on each corridor (logit assignment over the k best routes).",
              (("corridor", "corridor", ""), ("flow", "flow", ",.1f"),
               ("share", "share", ".1%"))),
    TableSpec("routes", "Routes carrying the most flow",
              "The k best routes of every origin-market pair with the flow the logit model "
              "gives them; p_detect = probability of detection along the whole route.",
              (("route_id", "route", ""), ("corridor", "corridor", ""),
               ("countries", "countries", ""), ("n_crossings", "crossings", "d"),
               ("length_km", "km", ",.0f"), ("time_h", "hours", ",.0f"),
               ("p_detect", "p_detect", ".1%"), ("choice_prob", "choice", ".1%"),
               ("flow", "flow", ",.2f")),
              sort=("flow", False)),
    TableSpec("parameters", "Cost model parameters",
              "Every parameter of the cost model file with its value and the rationale written "
              "above it in the file.",
              (("parameter", "parameter", ""), ("value", "value", ""),
               ("rationale", "rationale and source", ""))),
    TableSpec("inputs", "Input files",
              "The files the report was computed from, with their SHA-256.",
              (("input", "input", ""), ("file", "file", ""), ("sha256", "sha256", ""))),
    TableSpec("scenario_changes", "Scenario changes",
              "What the scenario changes in the shipped data.",
              (("target", "target", ""), ("id", "id", ""), ("field", "field", ""),
               ("value", "value", ""))),
)}


def flat(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy without geometry, with list and tuple cells joined by ``" > "``.

    Examples
    --------
    >>> flat(pd.DataFrame({"path": [["a", "b"]], "n": [1]}))["path"].tolist()
    ['a > b']
    """
    out = pd.DataFrame(df.drop(columns=[df.geometry.name])
                       if isinstance(df, gpd.GeoDataFrame) else df).copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda x: LIST_SEP.join(map(str, x))
                                if isinstance(x, list | tuple) else x)
    return out


def _named_index(df: pd.DataFrame) -> bool:
    return any(n is not None for n in df.index.names)


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return the frame exactly as written to CSV (see :func:`write_table`).

    A named index is kept (as the first column); a named multi-index becomes columns.
    """
    out = flat(df)
    if isinstance(out.index, pd.MultiIndex) and _named_index(out):
        out = out.reset_index()
    return out


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV, deterministically and atomically; return the path."""
    return write_csv(csv_frame(df), path, float_format=FLOAT_FORMAT)


def format_value(value: Any, fmt: str) -> str:
    """Format one cell for display (``""`` for missing values).

    Examples
    --------
    >>> format_value(0.1234, ".1%"), format_value(True, "bool"), format_value(None, ".1f")
    ('12.3%', 'yes', '')
    >>> format_value(["AFG", "IRN"], "")
    'AFG > IRN'
    """
    if isinstance(value, list | tuple):
        return LIST_SEP.join(map(str, value))
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if fmt == "bool":
        return "yes" if bool(value) else "no"
    if not fmt:
        return str(value)
    try:
        if fmt.endswith("d"):
            return format(int(value), fmt)
        x = float(value)
        return format(0.0 if abs(x) < 1e-12 else x, fmt)  # no "-0.0%" from float noise
    except (TypeError, ValueError):
        return str(value)


def display_rows(df: pd.DataFrame, spec: TableSpec, top: int | None
                 ) -> tuple[list[str], list[list[str]]]:
    """Return the labels and the formatted first ``top`` rows (all if ``None``) of a table."""
    frame = df.reset_index() if _named_index(df) else df
    if spec.sort is not None and spec.sort[0] in frame:
        frame = frame.sort_values([spec.sort[0]], ascending=[spec.sort[1]], kind="stable")
    cols = [c for c in spec.columns if c[0] in frame.columns]
    view = frame if top is None else frame.head(top)
    rows = [[format_value(v, fmt) for v, (_, _, fmt) in zip(rec, cols)]
            for rec in view[[c[0] for c in cols]].itertuples(index=False, name=None)]
    return [c[1] for c in cols], rows
