"""The flow files of issue 19: wholesale hubs, opium stocks, published figures, observed links.

Four optional files, each row a sourced claim:

``hubs.csv`` (data folder)
    ``place_id, serves, valid_from, valid_to, note, source``: a place that is a wholesale hub
    from ``valid_from`` to ``valid_to`` (inclusive; empty = until further notice) and the
    markets it supplies, ``serves``: space-separated market place ids or ISO3 codes of
    countries in ``countries.geojson``.
``stocks.csv`` (data folder)
    ``year, stock_t, drawdown_t, low_t, high_t, note, source``: dated opium stock estimates
    (tonnes at the start of ``year``) and drawdowns. A number may be empty when the source is
    only qualitative; such a row must say so in ``note``.
``published_flows.csv`` (observed folder)
    ``indicator, region_or_route, year, low, high, unit, note, source``: published figures to
    check the model against (``low``/``high`` a range; one of them may be empty).
``heroin_links.csv`` (observed folder)
    ``from_iso3, to_iso3, period, source``: observed country-to-country heroin trafficking
    links; ``period`` is a year or ``YYYY-YYYY``.

The readers check each file on its own (schema, types, dates, ranges, a source on every row,
duplicates), appending one :class:`~routes._errors.Problem` per problem with file, row and
field; :func:`check_hubs` checks ``hubs.csv`` against the places and countries. Pure functions
over DataFrames; the files are never modified.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._csv import check_date, check_enum, check_required, read_table, to_float
from ._errors import Problem

__all__ = [
    "HUBS_FIELDS",
    "STOCKS_FIELDS",
    "PUBLISHED_FIELDS",
    "LINKS_FIELDS",
    "INDICATORS",
    "FLOW_FILES",
    "OBSERVED_FILES",
    "read_hubs",
    "read_stocks",
    "read_published_flows",
    "read_heroin_links",
    "check_hubs",
    "read_observed",
]

HUBS_FIELDS = ("place_id", "serves", "valid_from", "valid_to", "note", "source")
STOCKS_FIELDS = ("year", "stock_t", "drawdown_t", "low_t", "high_t", "note", "source")
PUBLISHED_FIELDS = ("indicator", "region_or_route", "year", "low", "high", "unit", "note",
                    "source")
LINKS_FIELDS = ("from_iso3", "to_iso3", "period", "source")
#: The indicators a published figure may be.
INDICATORS = ("exit_share", "route_share", "flow_t", "consumption_t", "seizure_share",
              "seizure_t", "seizure_change", "users")
#: Optional flow files of the data folder (read by :func:`routes.geodata.load_dataset`).
FLOW_FILES = ("hubs", "stocks")
#: Files of the observed folder read by :func:`read_observed`.
OBSERVED_FILES = ("published_flows", "heroin_links")
#: Years a stock or published figure may refer to.
YEAR_RANGE = (1990, 2100)
_ISO3 = re.compile(r"[A-Z]{3}")
_PERIOD = re.compile(r"(\d{4})(?:-(\d{4}))?")


def _years(df: pd.DataFrame, file: str, problems: list[Problem]) -> pd.Series:
    y = to_float(df, file, "year", problems, lo=YEAR_RANGE[0], hi=YEAR_RANGE[1])
    for i in df.index:
        if pd.notna(y.at[i]) and y.at[i] != int(y.at[i]):
            problems.append(Problem(file, int(df.at[i, "line_no"]), "year",
                                    f"not a whole year: {df.at[i, 'year']!r}"))
            y.at[i] = np.nan
    return y


def _low_high(df: pd.DataFrame, file: str, lo_col: str, hi_col: str,
              problems: list[Problem]) -> None:
    for i in df.index:
        lo, hi = df.at[i, lo_col], df.at[i, hi_col]
        if pd.notna(lo) and pd.notna(hi) and lo > hi:
            problems.append(Problem(file, int(df.at[i, "line_no"]), lo_col,
                                    f"{lo_col} {lo:g} is above {hi_col} {hi:g}"))


def _duplicates(df: pd.DataFrame, file: str, cols: tuple[str, ...], field: str,
                problems: list[Problem]) -> None:
    first: dict[tuple, int] = {}
    for i in df.index:
        key = tuple(df.at[i, c] for c in cols)
        if any(k == "" or (isinstance(k, float) and np.isnan(k)) for k in key):
            continue
        row = int(df.at[i, "line_no"])
        if key in first:
            shown = (int(k) if isinstance(k, float) and k.is_integer() else k for k in key)
            problems.append(Problem(file, row, field,
                                    f"second row for {', '.join(map(str, shown))} "
                                    f"(first at row {first[key]})"))
        else:
            first[key] = row


def read_hubs(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``hubs.csv``; ``valid_from``/``valid_to`` become timestamps (``NaT`` = open)."""
    file = str(path)
    df = read_table(Path(path), HUBS_FIELDS, problems)
    check_required(df, file, ("place_id", "serves", "valid_from", "source"), problems)
    df["valid_from"] = check_date(df, file, "valid_from", problems)
    df["valid_to"] = check_date(df, file, "valid_to", problems)
    for i in df.index:
        a, b = df.at[i, "valid_from"], df.at[i, "valid_to"]
        if pd.notna(a) and pd.notna(b) and b < a:
            problems.append(Problem(file, int(df.at[i, "line_no"]), "valid_to",
                                    f"{b.date()} is before valid_from {a.date()}"))
    _duplicates(df, file, ("place_id", "valid_from"), "valid_from", problems)
    return df


def check_hubs(hubs: pd.DataFrame, file: str, places: dict[str, tuple[str, str]],
               iso3: set[str], problems: list[Problem]) -> None:
    """Check ``hubs.csv`` against the places and countries.

    Parameters
    ----------
    hubs : DataFrame
        As read by :func:`read_hubs`.
    file : str
        Its path, for the problems.
    places : dict
        Place id -> (role, ISO3 country) from ``places.csv``.
    iso3 : set of str
        The countries of ``countries.geojson`` (not checked when empty).
    problems : list of Problem
        Appended to.

    Notes
    -----
    A hub is a known place; a ``serves`` token is a market place id or a country code; a
    hub may not serve only itself or only its own country.
    """
    for r in hubs.itertuples():
        row = int(r.line_no)
        if r.place_id and r.place_id not in places:
            problems.append(Problem(file, row, "place_id", f"unknown place id {r.place_id!r}"))
        tokens = str(r.serves).split()
        for tok in tokens:
            if tok.startswith("p_"):
                if tok not in places:
                    problems.append(Problem(file, row, "serves", f"unknown place id {tok!r}"))
                elif places[tok][0] != "market":
                    problems.append(Problem(file, row, "serves",
                                            f"{tok!r} is a {places[tok][0]}, not a market"))
            elif not _ISO3.fullmatch(tok):
                problems.append(Problem(file, row, "serves",
                                        f"{tok!r} is neither a place id nor an ISO3 code"))
            elif iso3 and tok not in iso3:
                problems.append(Problem(file, row, "serves",
                                        f"{tok!r} is not a country of countries.geojson"))
        own = places.get(r.place_id, ("", ""))[1]
        if tokens and (tokens == [r.place_id] or tokens == [own]):
            problems.append(Problem(file, row, "serves", "a hub must serve another market"))


def read_stocks(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``stocks.csv`` (tonnes of opium; empty numbers allowed with a ``note``)."""
    file = str(path)
    df = read_table(Path(path), STOCKS_FIELDS, problems)
    check_required(df, file, ("year", "source"), problems)
    df["year"] = _years(df, file, problems)
    for col in ("stock_t", "drawdown_t", "low_t", "high_t"):
        df[col] = to_float(df, file, col, problems, lo=0.0)
    _low_high(df, file, "low_t", "high_t", problems)
    for i in df.index:
        nums = [df.at[i, c] for c in ("stock_t", "drawdown_t", "low_t", "high_t")]
        if all(pd.isna(v) for v in nums) and df.at[i, "note"] == "":
            problems.append(Problem(file, int(df.at[i, "line_no"]), "note",
                                    "a row without figures must say in note what the source "
                                    "states"))
        s, lo, hi = df.at[i, "stock_t"], df.at[i, "low_t"], df.at[i, "high_t"]
        if pd.notna(s) and ((pd.notna(lo) and s < lo) or (pd.notna(hi) and s > hi)):
            problems.append(Problem(file, int(df.at[i, "line_no"]), "stock_t",
                                    f"{s:g} lies outside low_t-high_t"))
    _duplicates(df, file, ("year",), "year", problems)
    return df


def read_published_flows(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``published_flows.csv`` (shares within 0..1, or -1..1 for a change)."""
    file = str(path)
    df = read_table(Path(path), PUBLISHED_FIELDS, problems, optional={"note"})
    check_required(df, file, ("indicator", "region_or_route", "year", "unit", "source"),
                   problems)
    check_enum(df, file, "indicator", INDICATORS, problems)
    df["year"] = _years(df, file, problems)
    raw = df[["low", "high"]].copy()
    for col in ("low", "high"):
        df[col] = to_float(df, file, col, problems)
    _low_high(df, file, "low", "high", problems)
    for i in df.index:
        row = int(df.at[i, "line_no"])
        lo, hi = df.at[i, "low"], df.at[i, "high"]
        if raw.at[i, "low"] == "" and raw.at[i, "high"] == "":
            problems.append(Problem(file, row, "low", "empty; low or high is required"))
        ind = df.at[i, "indicator"]
        bounds = (-1.0, 1.0) if ind == "seizure_change" else (
            (0.0, 1.0) if ind.endswith("_share") else (0.0, None))
        for col, v in (("low", lo), ("high", hi)):
            if pd.notna(v) and (v < bounds[0] or (bounds[1] is not None and v > bounds[1])):
                rng = f"{bounds[0]:g}..{bounds[1]:g}" if bounds[1] is not None else ">= 0"
                problems.append(Problem(file, row, col, f"{v:g} outside {rng} for {ind}"))
    return df


def read_heroin_links(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``heroin_links.csv``; adds ``first_year``/``last_year`` from ``period``."""
    file = str(path)
    df = read_table(Path(path), LINKS_FIELDS, problems)
    check_required(df, file, LINKS_FIELDS, problems)
    df["first_year"] = np.nan
    df["last_year"] = np.nan
    for i in df.index:
        row = int(df.at[i, "line_no"])
        for col in ("from_iso3", "to_iso3"):
            v = df.at[i, col]
            if v and not _ISO3.fullmatch(v):
                problems.append(Problem(file, row, col, f"not an ISO3 code: {v!r}"))
        if df.at[i, "from_iso3"] and df.at[i, "from_iso3"] == df.at[i, "to_iso3"]:
            problems.append(Problem(file, row, "to_iso3", "a link joins two countries"))
        p = df.at[i, "period"]
        if not p:
            continue
        m = _PERIOD.fullmatch(p)
        if m is None:
            problems.append(Problem(file, row, "period", f"not YYYY or YYYY-YYYY: {p!r}"))
            continue
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if not (YEAR_RANGE[0] <= a <= b <= YEAR_RANGE[1]):
            problems.append(Problem(file, row, "period",
                                    f"{p!r}: years out of order or outside "
                                    f"{YEAR_RANGE[0]}-{YEAR_RANGE[1]}"))
            continue
        df.at[i, "first_year"], df.at[i, "last_year"] = a, b
    _duplicates(df, file, ("from_iso3", "to_iso3"), "to_iso3", problems)
    return df


def read_observed(folder: str | Path, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    """Read the observed files present in ``folder`` (name -> frame)."""
    d = Path(folder)
    readers = {"published_flows": read_published_flows, "heroin_links": read_heroin_links}
    return {name: readers[name](d / f"{name}.csv", problems)
            for name in OBSERVED_FILES if (d / f"{name}.csv").exists()}
