"""What changed between the dates of a timeline: status changes and supply or demand shifts.

Between two consecutive dates: every status change in the history that takes effect after the
first date and on or before the second (crossing, from, to, the day it took effect, the
history's note and source), and every origin's supply and every market's demand that differs
between the two dates' years, with the source of the new figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .. import history
from ..geodata import Dataset

__all__ = ["EVENT_COLUMNS", "timeline_events"]

#: Columns of :func:`timeline_events`.
EVENT_COLUMNS = ("date", "since", "kind", "key", "name", "from", "to", "change", "effective",
                 "note", "source")


def _event(when: date, since: date, kind: str, key: str, name: str, a: Any, b: Any,
           change: float, effective: str, note: str, source: str) -> dict[str, Any]:
    return dict(zip(EVENT_COLUMNS, (when.isoformat(), since.isoformat(), kind, key, name, a, b,
                                    change, effective, note, source)))


def _status_changes(ds: Dataset) -> pd.DataFrame:
    """Rows of the history whose status differs from the crossing's previous period."""
    h = ds.status_history
    if h is None or not len(h):
        return pd.DataFrame(columns=["crossing_id", "prev", "status", "valid_from", "note",
                                     "source"])
    h = h.sort_values(["crossing_id", "valid_from"], kind="stable")
    prev = h.groupby("crossing_id", sort=False)["status"].shift()
    out = h.assign(prev=prev)[prev.notna() & (prev != h["status"])]
    note = out["note"] if "note" in out else pd.Series("", index=out.index)
    return out.assign(note=note.where(note.map(lambda x: isinstance(x, str)), ""))


def _status_events(changes: pd.DataFrame, since: date, when: date, names: dict[str, str]
                   ) -> list[dict[str, Any]]:
    start = changes["valid_from"].dt.date
    rows = changes[(start > since) & (start <= when)]
    return [_event(when, since, "status", str(c), names.get(c, str(c)), a, b, np.nan,
                   f.date().isoformat(), str(n), str(src))
            for c, a, b, f, n, src in zip(rows["crossing_id"], rows["prev"], rows["status"],
                                          rows["valid_from"], rows["note"], rows["source"])]


def _figure_events(kind: str, a: dict[str, tuple], b: dict[str, tuple], since: date,
                   when: date, names: dict[str, str], year: Callable[[tuple], int]
                   ) -> list[dict[str, Any]]:
    """Figures (first item of each tuple, source last) that differ between ``a`` and ``b``."""
    out = []
    for key in sorted(set(a) | set(b)):
        va = a[key][0] if key in a else 0.0
        vb = b[key][0] if key in b else 0.0
        if np.isclose(va, vb):
            continue
        new = b[key] if key in b else a[key]
        out.append(_event(when, since, kind, key, names.get(key, key), va, vb, vb - va,
                          str(year(new)), "", str(new[-1])))
    return out


def _constant(year: int) -> Callable[[tuple], int]:
    return lambda _: year


def timeline_events(ds: Dataset, dates: Sequence[date | str]) -> pd.DataFrame:
    """Return what changed between each two consecutive dates (module notes).

    Parameters
    ----------
    ds : Dataset
        The loaded data with its dated files.
    dates : sequence of dates
        The timeline's dates, in order.

    Returns
    -------
    DataFrame
        Columns :data:`EVENT_COLUMNS`: ``date`` (the later timeline date) and ``since`` (the
        earlier one); ``kind`` ``"status"``, ``"supply"`` (opium t by origin) or ``"demand"``
        (by market); ``key`` and ``name`` (crossing, origin or market); ``from`` and ``to``
        (status or figure); ``change`` (``to - from`` for figures); ``effective`` (the day a
        status took effect; for a figure the year it refers to: the supply year, the demand
        estimate's year); ``note`` and ``source`` (the history's, or the new figure's
        source). Sorted by date, kind, effective day, key.
    """
    when = [history.to_date(d) for d in dates]
    names = {**dict(zip(ds.crossings["id"], ds.crossings["name"])),
             **dict(zip(ds.places["id"], ds.places["name"]))}
    changes = _status_changes(ds)
    rows: list[dict[str, Any]] = []
    for since, d in zip(when, when[1:]):
        rows += _status_events(changes, since, d, names)
        if d.year == since.year:
            continue
        if ds.supply is not None and len(ds.supply):
            y = min(d.year, int(ds.supply["year"].max()))  # the year supply_in uses
            sa = history.supply_in(ds.supply, since.year)
            sb = history.supply_in(ds.supply, d.year)
            rows += _figure_events("supply", sa, sb, since, d, names, _constant(y))
        if ds.demand is not None:
            da = history.demand_in(ds.demand, since.year)
            db = history.demand_in(ds.demand, d.year)
            rows += _figure_events("demand", da, db, since, d, names, lambda t: int(t[1]))
    df = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    if len(df):
        df = df.sort_values(["date", "kind", "effective", "key"], kind="stable")
    return df.reset_index(drop=True)
