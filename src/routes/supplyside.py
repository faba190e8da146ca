"""Wholesale hubs, opium stocks, and the published figures the model is compared with.

Four optional input files, each row a claim at a date with its source:

``data/geo/hubs.csv``
    ``place_id, serves, valid_from, valid_to, note, source``: a market that is also a
    wholesale distribution hub, the markets it serves (``serves``: space-separated market ids
    or ISO3 codes; an ISO3 code stands for every market of that country) and the period the
    claim holds (``valid_to`` empty: until further notice). The hub must be a market; it never
    serves itself.
``data/geo/stocks.csv``
    ``year, stock_t, drawdown_t, low_t, high_t, note, source``: Afghan opium stocks (tonnes of
    opium) at the end of ``year`` and the drawdown of stocks during ``year`` (empty: none
    published, taken as 0); ``low_t``/``high_t`` the published range of the stock.
``data/observed/published_flows.csv``
    ``year, measure, subject, value, low, high, unit, note, source``: a published estimate
    (:data:`MEASURES`): ``consumption``, ``seizures`` or ``inflow`` of a region (``subject``
    a region of the cost model's ``[balance.regions]``), ``exit_share`` of a country
    (``subject`` an ISO3 code, or ``Central Asia``) or ``corridor_share`` of a corridor
    (``subject`` a corridor label); ``unit`` one of :data:`UNITS`.
``data/observed/heroin_links.csv``
    ``from_iso3, to_iso3, year_from, year_to, note, source``: an observed country-to-country
    heroin trafficking link (from seizure records) and the years it was observed.

The rules applied here (pure functions over DataFrames):

Stocks
    The opiate available in a year is that year's production plus the year's drawdown of
    stocks (``drawdown_t`` of the year's row; a year without a row draws nothing). The
    drawdown is spread over the origins in proportion to each origin's production summed over
    every year of ``supply.csv`` before the drawdown year (stocks are held where the opium was
    grown and stored: farmers and traders keep them in the producing provinces, UNODC
    Afghanistan Opium Survey 2023); without an earlier year, in proportion to the year's own
    production (:func:`allocate_drawdown`).
Hubs
    :func:`hubs_on` resolves the hubs valid on a date to ``{hub id: [market ids]}``;
    :mod:`routes.network` turns it into onward legs (its module notes give the rule).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ._csv import check_date, check_enum, check_required, read_table, to_float
from ._errors import Problem

__all__ = [
    "HUB_FIELDS",
    "STOCK_FIELDS",
    "PUBLISHED_FIELDS",
    "LINK_FIELDS",
    "MEASURES",
    "UNITS",
    "read_hubs",
    "read_stocks",
    "read_published_flows",
    "read_heroin_links",
    "check_hubs",
    "hubs_on",
    "drawdown_in",
    "allocate_drawdown",
    "supply_table",
    "STALE_DEMAND_YEARS",
    "demand_ages",
]

HUB_FIELDS = ("place_id", "serves", "valid_from", "valid_to", "note", "source")
STOCK_FIELDS = ("year", "stock_t", "drawdown_t", "low_t", "high_t", "note", "source")
PUBLISHED_FIELDS = ("year", "measure", "subject", "value", "low", "high", "unit", "note",
                    "source")
LINK_FIELDS = ("from_iso3", "to_iso3", "year_from", "year_to", "note", "source")
#: What a published figure measures (module notes).
MEASURES = ("consumption", "seizures", "inflow", "exit_share", "corridor_share")
#: Units of a published figure: tonnes of heroin or of opium, or a share in [0, 1].
UNITS = ("heroin_t", "opium_t", "share")
_YEARS = (1990.0, 2100.0)
#: A demand figure more years older than the date it is used at is flagged as stale (issue 19).
STALE_DEMAND_YEARS = 5


def _whole_years(df: pd.DataFrame, file: str, col: str, problems: list[Problem]) -> pd.Series:
    y = to_float(df, file, col, problems, lo=_YEARS[0], hi=_YEARS[1])
    for i in df.index:
        if pd.notna(y.at[i]) and y.at[i] != int(y.at[i]):
            problems.append(Problem(file, int(df.at[i, "line_no"]), col,
                                    f"not a whole year: {df.at[i, col]!r}"))
            y.at[i] = np.nan
    return y


def read_hubs(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``hubs.csv`` and check each row on its own (references: :func:`check_hubs`)."""
    file = str(path)
    df = read_table(Path(path), HUB_FIELDS, problems, optional={"note", "valid_to"})
    check_required(df, file, ("place_id", "serves", "valid_from", "source"), problems)
    df["valid_from"] = check_date(df, file, "valid_from", problems)
    df["valid_to"] = check_date(df, file, "valid_to", problems)
    for i in df.index:
        a, b = df.at[i, "valid_from"], df.at[i, "valid_to"]
        if pd.notna(a) and pd.notna(b) and b < a:
            problems.append(Problem(file, int(df.at[i, "line_no"]), "valid_to",
                                    f"{b.date()} is before valid_from {a.date()}"))
    return df


def read_stocks(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``stocks.csv`` (opium stocks and drawdown, tonnes, by year)."""
    file = str(path)
    df = read_table(Path(path), STOCK_FIELDS, problems,
                    optional={"stock_t", "drawdown_t", "low_t", "high_t", "note"})
    check_required(df, file, ("year", "source"), problems)
    df["year"] = _whole_years(df, file, "year", problems)
    for col in ("stock_t", "drawdown_t", "low_t", "high_t"):
        df[col] = to_float(df, file, col, problems, lo=0.0)
    seen: dict[float, int] = {}
    for i in df.index:
        y, row = df.at[i, "year"], int(df.at[i, "line_no"])
        if pd.isna(y):
            continue
        if y in seen:
            problems.append(Problem(file, row, "year", f"a second row for {int(y)} "
                                                       f"(first at row {seen[y]})"))
        seen.setdefault(y, row)
        lo, hi, s = df.at[i, "low_t"], df.at[i, "high_t"], df.at[i, "stock_t"]
        if pd.notna(lo) and pd.notna(hi) and lo > hi:
            problems.append(Problem(file, row, "high_t", f"{hi} is below low_t {lo}"))
        elif pd.notna(s) and ((pd.notna(lo) and s < lo) or (pd.notna(hi) and s > hi)):
            problems.append(Problem(file, row, "stock_t", f"{s} lies outside [low_t, high_t]"))
    return df


def read_published_flows(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``published_flows.csv`` (module notes); subjects are checked by their users."""
    file = str(path)
    df = read_table(Path(path), PUBLISHED_FIELDS, problems, optional={"low", "high", "note",
                                                                       "value"})
    check_required(df, file, ("year", "measure", "subject", "unit", "source"), problems)
    check_enum(df, file, "measure", MEASURES, problems)
    check_enum(df, file, "unit", UNITS, problems)
    df["year"] = _whole_years(df, file, "year", problems)
    for col in ("value", "low", "high"):
        df[col] = to_float(df, file, col, problems, lo=0.0)
    for i in df.index:
        row = int(df.at[i, "line_no"])
        v, lo, hi = df.at[i, "value"], df.at[i, "low"], df.at[i, "high"]
        if pd.isna(v) and (pd.isna(lo) or pd.isna(hi)):
            problems.append(Problem(file, row, "value", "empty; give a value or a low-high "
                                                        "range"))
        if pd.notna(lo) and pd.notna(hi) and lo > hi:
            problems.append(Problem(file, row, "high", f"{hi} is below low {lo}"))
        if df.at[i, "unit"] == "share" and any(pd.notna(x) and x > 1 for x in (v, lo, hi)):
            problems.append(Problem(file, row, "value", "a share lies in [0, 1]"))
    return df


def read_heroin_links(path: str | Path, problems: list[Problem]) -> pd.DataFrame:
    """Read ``heroin_links.csv`` (observed country-to-country links, module notes)."""
    file = str(path)
    df = read_table(Path(path), LINK_FIELDS, problems, optional={"note", "year_to"})
    check_required(df, file, ("from_iso3", "to_iso3", "year_from", "source"), problems)
    df["year_from"] = _whole_years(df, file, "year_from", problems)
    df["year_to"] = _whole_years(df, file, "year_to", problems)
    for i in df.index:
        row = int(df.at[i, "line_no"])
        a, b = df.at[i, "from_iso3"], df.at[i, "to_iso3"]
        for col, v in (("from_iso3", a), ("to_iso3", b)):
            if v and not (len(v) == 3 and v.isalpha() and v.isupper()):
                problems.append(Problem(file, row, col, f"{v!r} is not an ISO3 code"))
        if a and a == b:
            problems.append(Problem(file, row, "to_iso3", "a link joins two countries"))
        y0, y1 = df.at[i, "year_from"], df.at[i, "year_to"]
        if pd.notna(y0) and pd.notna(y1) and y1 < y0:
            problems.append(Problem(file, row, "year_to", f"{int(y1)} is before year_from"))
    return df


# --------------------------------------------------------------------------- hubs
def _resolve(serves: str, markets: dict[str, str]) -> tuple[list[str], list[str]]:
    """Market ids a ``serves`` value names, and the tokens that name none."""
    by_country: dict[str, list[str]] = defaultdict(list)
    for m, c in sorted(markets.items()):
        by_country[c].append(m)
    out: list[str] = []
    bad: list[str] = []
    for tok in serves.split():
        got = [tok] if tok in markets else by_country.get(tok, [])
        if not got:
            bad.append(tok)
        out.extend(g for g in got if g not in out)
    return out, bad


def check_hubs(hubs: pd.DataFrame, file: str, places: pd.DataFrame,
               problems: list[Problem]) -> None:
    """Check hub rows against the places: a market as hub, known markets or ISO3 served.

    Two periods of one hub may not overlap.
    """
    roles = dict(zip(places["id"], places["role"]))
    markets = {str(i): str(c) for i, c, r in zip(places["id"], places["country"],
                                                 places["role"]) if r == "market"}
    periods: dict[str, list[tuple[pd.Timestamp, pd.Timestamp, int]]] = defaultdict(list)
    for r in hubs.itertuples():
        row = int(r.line_no)
        if r.place_id and roles.get(r.place_id) != "market":
            what = ("unknown place id" if r.place_id not in roles
                    else f"a {roles[r.place_id]}, not a market")
            problems.append(Problem(file, row, "place_id", f"{r.place_id!r}: {what}"))
        served, bad = _resolve(str(r.serves), markets)
        for tok in bad:
            problems.append(Problem(file, row, "serves", f"{tok!r} is neither a market id nor "
                                                         "the ISO3 code of a market's country"))
        if r.serves and not bad and not [m for m in served if m != r.place_id]:
            problems.append(Problem(file, row, "serves", "serves no market but itself"))
        if pd.notna(r.valid_from):
            end = r.valid_to if pd.notna(r.valid_to) else pd.Timestamp.max
            for a, b, first in periods[r.place_id]:
                if r.valid_from <= b and a <= end:
                    problems.append(Problem(file, row, "valid_from",
                                            f"overlaps the period of row {first}"))
            periods[r.place_id].append((r.valid_from, end, row))


def hubs_on(hubs: pd.DataFrame, places: pd.DataFrame, when: date) -> dict[str, list[str]]:
    """Return ``{hub id: [market ids it serves]}`` on ``when`` (the hub itself left out).

    Examples
    --------
    >>> places = pd.DataFrame({"id": ["nl", "de", "at"], "country": ["NLD", "DEU", "AUT"],
    ...                        "role": ["market"] * 3})
    >>> h = pd.DataFrame({"place_id": ["nl"], "serves": ["DEU at nl"],
    ...                   "valid_from": [pd.Timestamp("2010-01-01")], "valid_to": [pd.NaT]})
    >>> hubs_on(h, places, date(2019, 6, 30)), hubs_on(h, places, date(2009, 6, 30))
    ({'nl': ['de', 'at']}, {})
    """
    markets = {str(i): str(c) for i, c, r in zip(places["id"], places["country"],
                                                 places["role"]) if r == "market"}
    t = pd.Timestamp(when)
    out: dict[str, list[str]] = {}
    for r in hubs.sort_values("place_id", kind="stable").itertuples():
        if pd.isna(r.valid_from) or r.valid_from > t or (pd.notna(r.valid_to) and r.valid_to < t):
            continue
        served, _ = _resolve(str(r.serves), markets)
        keep = [m for m in served if m != r.place_id]
        if keep and r.place_id in markets:
            out[str(r.place_id)] = keep
    return out


# --------------------------------------------------------------------------- stocks
def drawdown_in(stocks: pd.DataFrame | None, year: int) -> float:
    """Drawdown of stocks in ``year`` (tonnes of opium; 0 without a figure)."""
    if stocks is None or stocks.empty:
        return 0.0
    rows = stocks[stocks["year"] == year]["drawdown_t"].dropna()
    return float(rows.iloc[0]) if len(rows) else 0.0


def allocate_drawdown(supply: pd.DataFrame, year: int, drawdown_t: float
                      ) -> dict[str, float]:
    """Spread a year's drawdown over the origins (module notes: the stocks rule).

    In proportion to each origin's production over the years of ``supply`` before ``year``;
    without one, to the production of ``year`` (the last year's for a later year).

    Examples
    --------
    >>> s = pd.DataFrame({"origin_id": ["a", "b", "a", "b"], "year": [2021.0, 2021.0, 2023.0,
    ...                   2023.0], "opium_t": [300.0, 100.0, 10.0, 90.0]})
    >>> allocate_drawdown(s, 2023, 80.0)
    {'a': 60.0, 'b': 20.0}
    >>> allocate_drawdown(s, 2021, 80.0)
    {'a': 60.0, 'b': 20.0}
    """
    if drawdown_t <= 0 or supply.empty:
        return {}
    before = supply[supply["year"] < year]
    if before.empty:
        y = min(int(year), int(supply["year"].max()))
        before = supply[supply["year"] == y]
    weights = before.groupby("origin_id")["opium_t"].sum().sort_index()
    total = float(weights.sum())
    if total <= 0:
        return {}
    return {str(o): drawdown_t * float(w) / total for o, w in weights.items() if w > 0}


def supply_table(supply: pd.DataFrame, stocks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Supply used per year: ``production_t``, ``drawdown_t``, ``supply_t`` and ``stock_t``.

    One row per year of ``supply`` or ``stocks``; production of a year after the last year of
    ``supply`` is the last year's (as :func:`routes.history.supply_in` gives it).

    Examples
    --------
    >>> s = pd.DataFrame({"origin_id": ["a"], "year": [2023.0], "opium_t": [333.0]})
    >>> k = pd.DataFrame({"year": [2023.0], "stock_t": [np.nan], "drawdown_t": [1000.0]})
    >>> supply_table(s, k)[["production_t", "drawdown_t", "supply_t"]].to_dict("records")
    [{'production_t': 333.0, 'drawdown_t': 1000.0, 'supply_t': 1333.0}]
    """
    prod = supply.groupby("year")["opium_t"].sum() if not supply.empty else pd.Series(
        dtype=float)
    years = set(int(y) for y in prod.index)
    if stocks is not None and not stocks.empty:
        years |= {int(y) for y in stocks["year"].dropna()}
    rows = []
    last = int(prod.index.max()) if len(prod) else None
    for y in sorted(years):
        p = float(prod.get(float(min(y, last)), 0.0)) if last is not None and y >= min(
            int(i) for i in prod.index) else 0.0
        d = drawdown_in(stocks, y)
        stock = np.nan
        if stocks is not None and not stocks.empty:
            s = stocks[stocks["year"] == y]["stock_t"].dropna()
            stock = float(s.iloc[0]) if len(s) else np.nan
        rows.append({"year": y, "production_t": p, "drawdown_t": d, "supply_t": p + d,
                     "stock_t": stock})
    return pd.DataFrame(rows, columns=["year", "production_t", "drawdown_t", "supply_t",
                                       "stock_t"]).set_index("year")


# --------------------------------------------------------------------------- demand
def demand_ages(places: pd.DataFrame, when: date, *,
                max_age_years: int = STALE_DEMAND_YEARS) -> pd.DataFrame:
    """Age of each market's demand figure at ``when``; ``stale`` where it is too old.

    ``places`` as :func:`routes.geodata.dataset_as_of` returns them (``demand_year``: the
    year the figure used refers to, the newest at or before the date, else the oldest).
    ``age_years = when.year - demand_year``; ``stale`` when it exceeds ``max_age_years`` or
    is negative (no figure at or before the date: a later one is used). Indexed by market id.

    Examples
    --------
    >>> p = pd.DataFrame({"id": ["m", "n"], "name": ["M", "N"], "country": ["RUS", "DEU"],
    ...                   "role": ["market", "market"], "demand": [690.0, 5.0],
    ...                   "demand_year": [2010.0, 2020.0]})
    >>> demand_ages(p, date(2019, 6, 30))[["age_years", "stale"]].values.tolist()
    [[9, True], [-1, True]]
    """
    cols = ["name", "country", "demand", "demand_year", "age_years", "stale"]
    if "demand_year" not in places.columns:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
    m = places[(places["role"] == "market") & places["demand_year"].notna()]
    age = (when.year - m["demand_year"]).astype(int)
    out = pd.DataFrame({"name": m["name"].to_numpy(), "country": m["country"].to_numpy(),
                        "demand": m["demand"].astype(float).to_numpy(),
                        "demand_year": m["demand_year"].astype(int).to_numpy(),
                        "age_years": age.to_numpy(),
                        "stale": ((age > max_age_years) | (age < 0)).to_numpy()},
                       index=pd.Index(m["id"].to_numpy(), name="id"))
    return out.sort_index()
