"""Legitimate traffic at the crossings: ``border_traffic.csv``, read and checked.

``border_traffic.csv`` (optional, beside ``crossings.csv``) holds sourced figures of the goods
and people crossing each post, by direction and period:

``crossing_id, direction, period_start, period_end, trucks_per_day, vehicles_per_day,
people_per_day, clearance_h, kind, note, source``

``direction``
    ``into country_b``, ``into country_a`` (the crossing's two countries in
    ``crossings.csv``) or ``both``.
``period_start``, ``period_end``
    The inclusive ISO dates the figure refers to (equal for a one-day count).
``trucks_per_day``, ``vehicles_per_day``, ``people_per_day``
    Per-day figures (non-negative): cargo trucks (rail tonnage may be given as
    truck-equivalents, the note says so), all road vehicles, people. A figure over a longer
    period is given as its daily mean and the note says how it was divided.
``clearance_h``
    Time to clear the post (hours per truck, queue included; CPMM's TFI1) or, for people and
    cars, their wait.
``kind``
    ``flow`` (a count of traffic), ``capacity`` (what the post can handle), ``cap`` (a limit
    set on the traffic) or ``queue`` (vehicles waiting at one moment, or a surge wait). Every
    row that is not a plain multi-day flow (any other kind, or a one-day count) needs a
    ``note`` saying so.

At least one of the four figures is given on each row. This module reads and checks the file
on its own (pure functions over DataFrames); :mod:`routes.geodata` checks the crossing ids
against ``crossings.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ._csv import check_date, check_enum, check_required, read_table, to_float
from ._errors import Problem

__all__ = [
    "TRAFFIC_FIELDS",
    "TRAFFIC_FIGURES",
    "DIRECTIONS",
    "TRAFFIC_KINDS",
    "read_border_traffic",
    "check_traffic_ids",
]

TRAFFIC_FIELDS = ("crossing_id", "direction", "period_start", "period_end", "trucks_per_day",
                  "vehicles_per_day", "people_per_day", "clearance_h", "kind", "note", "source")
#: The numeric columns; each row gives at least one.
TRAFFIC_FIGURES = ("trucks_per_day", "vehicles_per_day", "people_per_day", "clearance_h")
DIRECTIONS = ("into country_b", "into country_a", "both")
TRAFFIC_KINDS = ("flow", "capacity", "cap", "queue")


def read_border_traffic(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``border_traffic.csv``; check each row on its own (appending to ``problems``).

    Checks: the header; required fields; known ``direction`` and ``kind``; ISO dates with
    ``period_end >= period_start``; every figure a finite number >= 0 and at least one per
    row; a ``note`` on every capacity, cap, queue or one-day row. The dates become
    timestamps and the figures floats (NaN where empty or bad).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text(",".join(TRAFFIC_FIELDS) + chr(10)
    ...     + "x,both,2024-01-01,2024-01-31,10,,,,flow,,S" + chr(10)
    ...     + "x,up,2024-02-01,2024-01-31,-1,,,,queue,,S" + chr(10))
    >>> probs = []; t = read_border_traffic(p, probs)
    >>> for q in probs: print(q.row, q.field)
    3 direction
    3 trucks_per_day
    3 period_end
    3 note
    >>> float(t.at[0, "trucks_per_day"])
    10.0
    """
    file = str(path)
    df = read_table(Path(path), TRAFFIC_FIELDS, problems, optional={"note"})
    check_required(df, file, ("crossing_id", "direction", "period_start", "period_end", "kind",
                              "source"), problems)
    check_enum(df, file, "direction", DIRECTIONS, problems)
    check_enum(df, file, "kind", TRAFFIC_KINDS, problems)
    start = check_date(df, file, "period_start", problems)
    end = check_date(df, file, "period_end", problems)
    raw_empty = {c: df[c] == "" for c in TRAFFIC_FIGURES}
    for c in TRAFFIC_FIGURES:
        df[c] = to_float(df, file, c, problems, lo=0.0)
    for i in df.index:
        row = int(df.at[i, "line_no"])
        a, b = start.at[i], end.at[i]
        if pd.notna(a) and pd.notna(b) and b < a:
            problems.append(Problem(file, row, "period_end",
                                    f"{b.date()} is before period_start {a.date()}"))
        if all(raw_empty[c].at[i] for c in TRAFFIC_FIGURES):
            problems.append(Problem(file, row, "trucks_per_day",
                                    "no figure: give at least one of "
                                    + ", ".join(TRAFFIC_FIGURES)))
        one_day = pd.notna(a) and pd.notna(b) and a == b
        special = df.at[i, "kind"] in TRAFFIC_KINDS and df.at[i, "kind"] != "flow"
        if (special or one_day) and not str(df.at[i, "note"]).strip():
            what = f"a {df.at[i, 'kind']} row" if special else "a one-day count"
            problems.append(Problem(file, row, "note", f"{what} needs a note saying so"))
    df["period_start"], df["period_end"] = start, end
    return df


def check_traffic_ids(traffic: pd.DataFrame, file: str, crossing_ids: set[str],
                      problems: list[Problem]) -> None:
    """Report rows whose ``crossing_id`` is not in ``crossings.csv``.

    Examples
    --------
    >>> t = pd.DataFrame({"crossing_id": ["a", "zz", ""], "line_no": [2, 3, 4]})
    >>> p = []; check_traffic_ids(t, "t.csv", {"a"}, p); [str(q) for q in p]
    ["t.csv, row 3, field 'crossing_id': unknown crossing id 'zz'"]
    """
    for r in traffic.itertuples():
        if r.crossing_id and r.crossing_id not in crossing_ids:
            problems.append(Problem(file, int(r.line_no), "crossing_id",
                                    f"unknown crossing id {r.crossing_id!r}"))
