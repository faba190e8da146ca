"""The report's "How the routes changed" section: charts, time-slider map and events table.

The timeline (:mod:`routes.changes.timeline`) runs on year steps from the first covered year
to the last covered date; the report's own network, when it is as of one of those dates,
is reused for that date instead of being built and analysed again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pandas as pd

from ..maps._palette import PALETTE
from ..routing.paths import CORRIDORS
from ._charts import series_chart
from ._model import ReportResults
from ._tables import TableSpec

__all__ = ["timeline_charts", "corridor_table", "top_crossings", "TIMELINE_SPECS",
           "CHART_CORRIDORS", "CHART_CROSSINGS", "MAP_FILE", "TOP_CROSSINGS"]

CHART_CORRIDORS = "chart_timeline_corridors.png"
CHART_CROSSINGS = "chart_timeline_crossings.png"
MAP_FILE = "timeline.html"
#: Crossings drawn in the chart of the top crossings' flow over time.
TOP_CROSSINGS = 8

TIMELINE_SPECS = {s.name: s for s in (
    TableSpec("timeline_corridors", "Corridor shares by date",
              "Share of the routed flow on each corridor (logit assignment over the k best "
              "routes) in the network as of each date.",
              (("date", "date", ""), *((c, c, ".1%") for c in CORRIDORS),
               ("detected_share", "detected", ".1%"))),
    TableSpec("events", "Events between consecutive dates",
              "Status changes in the crossing history that took effect after one date and on "
              "or before the next, and shifts of supply (opium t by origin) and demand between "
              "the two dates' years, each with its source (events.csv has every row).",
              (("date", "by", ""), ("kind", "kind", ""), ("name", "what", ""),
               ("from", "from", ""), ("to", "to", ""), ("effective", "effective", ""),
               ("note", "note", ""), ("source", "source", ""))),
)}


def corridor_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Corridor shares (one column per corridor) and the detected share, one row per date."""
    t = frame[frame["measure"] == "corridor_share"].pivot(index="date", columns="key",
                                                          values="value")
    t = t.reindex(columns=[c for c in CORRIDORS if c in t.columns])
    det = frame[frame["measure"] == "detected_share"].set_index("date")["value"]
    t["detected_share"] = det.reindex(t.index)
    t.columns.name = None
    return t


def top_crossings(frame: pd.DataFrame, top: int = TOP_CROSSINGS) -> pd.DataFrame:
    """Flow betweenness by date (rows) of the ``top`` crossings with the largest peak flow."""
    fb = frame[frame["measure"] == "crossing_flow_betweenness"].pivot(
        index="date", columns="key", values="value")
    peak = fb.max().sort_values(ascending=False, kind="stable")
    keep = [c for c in peak.index if peak[c] > 0][:top]
    return fb[keep]


def timeline_charts(frame: pd.DataFrame, out: Path, *, top: int = TOP_CROSSINGS,
                    names: Mapping[str, str] | None = None) -> list[Path]:
    """Draw the corridor shares and the top crossings' flow over time; return the files."""
    names = names or {}
    shares = corridor_table(frame).drop(columns=["detected_share"])
    shares = shares.loc[:, (shares > 0).any()]
    files = [series_chart(shares, Path(out) / CHART_CORRIDORS, percent=True,
                          title="Corridor shares of the routed flow, by date",
                          ylabel="share of routed flow (%)",
                          colors=dict(PALETTE["corridors"]))]
    fb = top_crossings(frame, top)
    fb.columns = [names.get(c, c) for c in fb.columns]
    files.append(series_chart(fb, Path(out) / CHART_CROSSINGS,
                              title=f"Flow through the top {fb.shape[1]} crossings, by date "
                                    "(flow betweenness)",
                              ylabel="flow betweenness"))
    return files


def report_snapshot(res: ReportResults, when: date):
    """Return the report's own network and analyses as a snapshot of ``when``, or ``None``.

    Only when the report's network is as of ``when`` and was analysed with the flows, the
    crossing table and the transit table the timeline uses.
    """
    from ..changes.timeline import Snapshot
    from ..priorities.interdiction import evaluate_upgrades

    if (res.G.graph.get("as_of") != when.isoformat() or res.flows is None
            or not {"crossings", "countries"} <= set(res.tables)):
        return None
    detected = evaluate_upgrades(res.G, (), objective="flow", cm=res.cm).base_value
    return Snapshot(date=when, G=res.G, flows=res.flows, crossings=res.tables["crossings"],
                    countries=res.tables["countries"], detected_share=float(detected))
