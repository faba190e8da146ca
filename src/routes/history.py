"""The dated inputs: crossing statuses by period, supply by origin and year, demand by market.

A data row is a claim about the world at a date. Three files make the network true on any
date from 2018 on (all optional; without them the statuses of ``crossings.csv`` and the figures
of ``places.csv`` hold for every date):

``status_history.csv``
    ``crossing_id, status, valid_from, valid_to, note, source``: one row per crossing and
    period. Both dates are inclusive; an empty ``valid_to`` means "until further notice" and
    is allowed only on a crossing's last period. Each crossing is covered from its first
    period on with no gap and no overlap (a period starts the day after the previous one ends).
``supply.csv``
    ``origin_id, year, opium_t, source``: opium production by origin and year.
``demand.csv``
    ``market_id, year, demand, figure, conversion, source``: demand (thousand high-risk opioid
    users) by market and the year its estimate refers to.

This module reads and checks the files on their own (pure functions over DataFrames);
:mod:`routes.geodata` checks them against the other files and :func:`routes.geodata.dataset_as_of`
applies them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ._csv import check_date, check_enum, check_required, read_table, to_float
from ._errors import Problem

__all__ = [
    "HISTORY_FIELDS",
    "SUPPLY_FIELDS",
    "DEMAND_FIELDS",
    "read_status_history",
    "read_supply",
    "read_demand",
    "check_history",
    "status_on",
    "supply_in",
    "demand_in",
    "to_date",
]

HISTORY_FIELDS = ("crossing_id", "status", "valid_from", "valid_to", "note", "source")
SUPPLY_FIELDS = ("origin_id", "year", "opium_t", "source")
DEMAND_FIELDS = ("market_id", "year", "demand", "figure", "conversion", "source")
_STATUSES = ("open", "restricted", "closed")
#: Years a supply or demand row may refer to.
YEAR_RANGE = (1990, 2100)


def to_date(value: date | str | pd.Timestamp) -> date:
    """Return ``value`` as a :class:`datetime.date` (ISO strings accepted).

    Raises
    ------
    ValueError
        When a string is not an ISO date.

    Examples
    --------
    >>> to_date("2025-07-08")
    datetime.date(2025, 7, 8)
    """
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _years(df: pd.DataFrame, file: str, problems: list[Problem]) -> pd.Series:
    y = to_float(df, file, "year", problems, lo=YEAR_RANGE[0], hi=YEAR_RANGE[1])
    for i in df.index:
        if pd.notna(y.at[i]) and y.at[i] != int(y.at[i]):
            problems.append(Problem(file, int(df.at[i, "line_no"]), "year",
                                    f"not a whole year: {df.at[i, 'year']!r}"))
            y.at[i] = np.nan
    return y


def read_status_history(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``status_history.csv``; check each row on its own.

    ``valid_from``/``valid_to`` become timestamps (``NaT`` for an open end). Checks that span
    rows (gaps, overlaps) and files (unknown ids) are :func:`check_history`'s.
    """
    file = str(path)
    df = read_table(Path(path), HISTORY_FIELDS, problems, optional={"note"})
    check_required(df, file, ("crossing_id", "status", "valid_from", "source"), problems)
    check_enum(df, file, "status", _STATUSES, problems)
    df["valid_from"] = check_date(df, file, "valid_from", problems)
    df["valid_to"] = check_date(df, file, "valid_to", problems)
    for i in df.index:
        a, b = df.at[i, "valid_from"], df.at[i, "valid_to"]
        if pd.notna(a) and pd.notna(b) and b < a:
            problems.append(Problem(file, int(df.at[i, "line_no"]), "valid_to",
                                    f"{b.date()} is before valid_from {a.date()}"))
    return df


def read_supply(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``supply.csv`` (opium production in tonnes by origin and year)."""
    file = str(path)
    df = read_table(Path(path), SUPPLY_FIELDS, problems)
    check_required(df, file, SUPPLY_FIELDS, problems)
    df["year"] = _years(df, file, problems)
    df["opium_t"] = to_float(df, file, "opium_t", problems, lo=0.0)
    _check_unique_pair(df, file, "origin_id", problems)
    return df


def read_demand(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``demand.csv`` (thousand high-risk opioid users by market and estimate year)."""
    file = str(path)
    df = read_table(Path(path), DEMAND_FIELDS, problems)
    check_required(df, file, ("market_id", "year", "demand", "figure", "source"), problems)
    df["year"] = _years(df, file, problems)
    df["demand"] = to_float(df, file, "demand", problems, lo=0.0, lo_open=True)
    _check_unique_pair(df, file, "market_id", problems)
    return df


def _check_unique_pair(df: pd.DataFrame, file: str, col: str, problems: list[Problem]) -> None:
    first: dict[tuple[str, float], int] = {}
    for i in df.index:
        key = (df.at[i, col], df.at[i, "year"])
        row = int(df.at[i, "line_no"])
        if key[0] == "" or pd.isna(key[1]):
            continue
        if key in first:
            problems.append(Problem(file, row, "year",
                                    f"{key[0]} has a second row for {int(key[1])} "
                                    f"(first at row {first[key]})"))
        else:
            first[key] = row


def check_history(history: pd.DataFrame, file: str, crossing_ids: set[str],
                  problems: list[Problem], *, start: date = date(2018, 1, 1)) -> None:
    """Check the periods of each crossing: known ids, full coverage, no gap, no overlap.

    Every crossing of ``crossing_ids`` must be covered from ``start`` on; only its last
    period may be open-ended and its last period must reach today (open-ended).

    Examples
    --------
    >>> h = pd.DataFrame({"crossing_id": ["x", "x"], "status": ["open", "closed"],
    ...     "valid_from": pd.to_datetime(["2018-01-01", "2020-03-02"]),
    ...     "valid_to": pd.to_datetime(["2020-03-01", None]), "line_no": [2, 3]})
    >>> p = []
    >>> check_history(h, "h.csv", {"x"}, p); p
    []
    >>> h.loc[1, "valid_from"] = pd.Timestamp("2020-03-05")
    >>> check_history(h, "h.csv", {"x", "y"}, p)
    >>> for q in p: print(q)
    h.csv, row 3, field 'valid_from': gap: x has no status from 2020-03-02 to 2020-03-04
    h.csv: crossing 'y' has no status history
    """
    one_day = pd.Timedelta(days=1)
    ok = history.dropna(subset=["valid_from"])
    ok = ok[ok["crossing_id"] != ""]
    for r in ok.itertuples():
        if r.crossing_id not in crossing_ids:
            problems.append(Problem(file, int(r.line_no), "crossing_id",
                                    f"unknown crossing id {r.crossing_id!r}"))
    for cid, g in ok.groupby("crossing_id", sort=True):
        if cid not in crossing_ids:
            continue
        g = g.sort_values(["valid_from", "line_no"])
        rows = list(g.itertuples())
        if rows[0].valid_from > pd.Timestamp(start):
            problems.append(Problem(file, int(rows[0].line_no), "valid_from",
                                    f"{cid} has no status before {rows[0].valid_from.date()}; "
                                    f"the history must start by {start}"))
        for prev, cur in zip(rows, rows[1:]):
            if pd.isna(prev.valid_to):
                problems.append(Problem(file, int(prev.line_no), "valid_to",
                                        f"empty (until further notice) but {cid} has a later "
                                        f"period from {cur.valid_from.date()} (row {cur.line_no})"))
            elif cur.valid_from <= prev.valid_to:
                problems.append(Problem(file, int(cur.line_no), "valid_from",
                                        f"overlap: {cid} is already {prev.status} until "
                                        f"{prev.valid_to.date()} (row {prev.line_no})"))
            elif cur.valid_from > prev.valid_to + one_day:
                problems.append(Problem(file, int(cur.line_no), "valid_from",
                                        f"gap: {cid} has no status from "
                                        f"{(prev.valid_to + one_day).date()} to "
                                        f"{(cur.valid_from - one_day).date()}"))
        last = rows[-1]
        if pd.notna(last.valid_to):
            problems.append(Problem(file, int(last.line_no), "valid_to",
                                    f"{cid}'s last period ends on {last.valid_to.date()}: leave "
                                    "valid_to empty on the last period (until further notice)"))
    for cid in sorted(crossing_ids - set(ok["crossing_id"])):
        problems.append(Problem(file, None, None, f"crossing {cid!r} has no status history"))


def status_on(history: pd.DataFrame, when: date) -> dict[str, tuple[str, str, str]]:
    """Return ``{crossing_id: (status, note, source)}`` of the periods covering ``when``.

    Examples
    --------
    >>> h = pd.DataFrame({"crossing_id": ["x", "x"], "status": ["open", "closed"],
    ...     "valid_from": pd.to_datetime(["2018-01-01", "2020-03-02"]),
    ...     "valid_to": pd.to_datetime(["2020-03-01", None]), "note": ["", "shut"],
    ...     "source": ["A", "B"]})
    >>> status_on(h, date(2020, 3, 1)), status_on(h, date(2020, 3, 2))
    ({'x': ('open', '', 'A')}, {'x': ('closed', 'shut', 'B')})
    """
    t = pd.Timestamp(when)
    on = history[(history["valid_from"] <= t)
                 & (history["valid_to"].isna() | (history["valid_to"] >= t))]
    note = on["note"] if "note" in on else pd.Series("", index=on.index)
    return {c: (s, n, src) for c, s, n, src in zip(on["crossing_id"], on["status"], note,
                                                    on["source"])}


def supply_in(supply: pd.DataFrame, year: int) -> dict[str, tuple[float, str]]:
    """Return ``{origin_id: (opium_t, source)}`` for ``year``.

    A year after the last one in the file takes the last year's figures; a year before the
    first one takes none (the caller rejects dates outside the covered range).

    Examples
    --------
    >>> s = pd.DataFrame({"origin_id": ["a", "a", "b"], "year": [2023.0, 2024.0, 2024.0],
    ...                   "opium_t": [1.0, 2.0, 3.0], "source": ["s23", "s24", "s24"]})
    >>> supply_in(s, 2023), supply_in(s, 2026)
    ({'a': (1.0, 's23')}, {'a': (2.0, 's24'), 'b': (3.0, 's24')})
    """
    if supply.empty:
        return {}
    y = min(int(year), int(supply["year"].max()))
    rows = supply[supply["year"] == y]
    return {o: (float(t), s) for o, t, s in zip(rows["origin_id"], rows["opium_t"],
                                                rows["source"])}


def demand_in(demand: pd.DataFrame, year: int) -> dict[str, tuple[float, int, str]]:
    """Return ``{market_id: (demand, estimate_year, source)}`` for ``year``.

    Per market, the newest estimate with ``year <=`` the given year, else its oldest estimate.

    Examples
    --------
    >>> d = pd.DataFrame({"market_id": ["m", "m"], "year": [2016.0, 2021.0],
    ...                   "demand": [5.0, 7.0], "source": ["a", "b"]})
    >>> demand_in(d, 2019), demand_in(d, 2015), demand_in(d, 2025)
    ({'m': (5.0, 2016, 'a')}, {'m': (5.0, 2016, 'a')}, {'m': (7.0, 2021, 'b')})
    """
    out: dict[str, tuple[float, int, str]] = {}
    for m, g in demand.sort_values("year").groupby("market_id", sort=True):
        before = g[g["year"] <= year]
        r = before.iloc[-1] if len(before) else g.iloc[0]
        out[str(m)] = (float(r["demand"]), int(r["year"]), str(r["source"]))
    return out
