"""Wholesale hubs, opium stocks and demand ages: the rules applied to the flow files.

The files are read and checked by :mod:`routes.flowfiles` (``hubs.csv``, ``stocks.csv`` in the
data folder; ``published_flows.csv``, ``heroin_links.csv`` in ``data/observed``). This module
holds what the model does with them (pure functions over DataFrames):

Stocks
    The opiate available in a year is that year's production plus the year's drawdown of
    stocks (:func:`drawdown_in`): the year's ``drawdown_t`` where ``stocks.csv`` gives one;
    otherwise, in a year from the newest stock estimate's year (``stock_t``, tonnes of opium
    at the start of that year) to the year the stocks are expected to last until (the cost
    model's ``[stocks] last_year``), an even share of that stock,
    ``stock_t / (last_year - stock_year + 1)``; otherwise none. The drawdown is spread over
    the origins in proportion to each origin's production summed over every year of
    ``supply.csv`` before the drawdown year (stocks are held where the opium was grown and
    stored: farmers and traders keep them in the producing provinces); without an earlier
    year, in proportion to the year's own production (:func:`allocate_drawdown`).
Hubs
    :func:`hubs_on` resolves the hubs valid on a date to ``{hub id: [market ids]}``;
    :mod:`routes.network` turns it into onward legs (its module notes give the rule).
Demand ages
    :func:`demand_ages`: how old each market's demand figure is at the date it is used, and
    whether it is stale (older than :data:`STALE_DEMAND_YEARS`, or from after the date).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import pandas as pd

__all__ = [
    "hubs_on",
    "drawdown_in",
    "allocate_drawdown",
    "supply_table",
    "STALE_DEMAND_YEARS",
    "demand_ages",
]

#: A demand figure more years older than the date it is used at is flagged as stale (issue 19).
STALE_DEMAND_YEARS = 5


# --------------------------------------------------------------------------- hubs
def _resolve(serves: str, markets: dict[str, str]) -> list[str]:
    """Market ids a ``serves`` value names (an ISO3 code: every market of that country)."""
    by_country: dict[str, list[str]] = defaultdict(list)
    for m, c in sorted(markets.items()):
        by_country[c].append(m)
    out: list[str] = []
    for tok in serves.split():
        got = [tok] if tok in markets else by_country.get(tok, [])
        out.extend(g for g in got if g not in out)
    return out


def hubs_on(hubs: pd.DataFrame, places: pd.DataFrame, when: date) -> dict[str, list[str]]:
    """Return ``{hub id: [market ids it serves]}`` on ``when`` (the hub itself left out).

    A hub is any place (a port, a city); what it serves are markets: a market id, or an ISO3
    code standing for every market of that country (a code without a market names none).

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
        keep = [m for m in _resolve(str(r.serves), markets) if m != r.place_id]
        if keep:
            out.setdefault(str(r.place_id), [])
            out[str(r.place_id)] += [m for m in keep if m not in out[str(r.place_id)]]
    return out


# --------------------------------------------------------------------------- stocks
def drawdown_in(stocks: pd.DataFrame | None, year: int, last_year: int | None = None
                ) -> float:
    """Drawdown of stocks in ``year``, tonnes of opium (module notes: the stocks rule).

    Examples
    --------
    >>> k = pd.DataFrame({"year": [2023.0, 2025.0], "stock_t": [13200.0, np.nan],
    ...                   "drawdown_t": [np.nan, 1000.0]})
    >>> [drawdown_in(k, y, 2027) for y in (2022, 2023, 2024, 2025, 2027, 2028)]
    [0.0, 2640.0, 2640.0, 1000.0, 2640.0, 0.0]
    >>> drawdown_in(k, 2024)
    0.0
    """
    if stocks is None or stocks.empty:
        return 0.0
    rows = stocks[stocks["year"] == year]["drawdown_t"].dropna()
    if len(rows):
        return float(rows.iloc[0])
    if last_year is None:
        return 0.0
    est = stocks[(stocks["year"] <= year) & stocks["stock_t"].notna()]
    if est.empty:
        return 0.0
    newest = est.sort_values("year").iloc[-1]
    y0 = int(newest["year"])
    if not y0 <= year <= last_year:
        return 0.0
    return float(newest["stock_t"]) / (last_year - y0 + 1)


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


def supply_table(supply: pd.DataFrame, stocks: pd.DataFrame | None = None,
                 last_year: int | None = None) -> pd.DataFrame:
    """Supply used per year: ``production_t``, ``drawdown_t``, ``supply_t`` and ``stock_t``.

    ``last_year``: the cost model's ``[stocks] last_year``. One row per year of ``supply`` or
    ``stocks``; production of a year after the last year of
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
    if stocks is not None and not stocks.empty and years:
        years |= {int(y) for y in stocks["year"].dropna() if y >= min(years)}
    rows = []
    last = int(prod.index.max()) if len(prod) else None
    for y in sorted(years):
        p = float(prod.get(float(min(y, last)), 0.0)) if last is not None and y >= min(
            int(i) for i in prod.index) else 0.0
        d = drawdown_in(stocks, y, last_year)
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
