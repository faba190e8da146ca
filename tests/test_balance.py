"""The yearly balance by region (routes.calibration.balance), on hand-worked inputs.

Two origins (``o1`` in AFG, ``o2`` in TJK) and two markets (DEU, RUS); four journeys of
4.5, 1.5, 1.5 and 0.5 t (``od_journeys``: each origin's supply of 6 and 2 split over the
markets' demand of 3 and 1). Every expected figure is worked by hand beside it.
"""

from __future__ import annotations

import math
from datetime import date
from types import SimpleNamespace

import networkx as nx
import pandas as pd
import pytest

from routes.calibration import balance
from routes.calibration.balance import BALANCE_COLUMNS, balance_date, balance_of, yearly_balance

REGIONS = {"Afghanistan": ["AFG"], "Europe": ["DEU", "TUR"], "Russia": ["RUS"],
           "Central Asia": ["TJK", "KAZ"], "Empty": ["XXX"]}
# (origin, market, countries)
ROUTES = [("o1", "m_de", ["AFG", "IRN", "TUR", "DEU"]),
          ("o1", "m_ru", ["AFG", "TJK", "KAZ", "RUS"]),
          ("o2", "m_de", ["TJK", "KAZ", "RUS", "DEU"]), ("o2", "m_ru", ["TJK", "KAZ", "RUS"])]


def _graph() -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_node("o1", role="origin", supply=6.0, country="AFG")
    G.add_node("o2", role="origin", supply=2.0, country="TJK")
    G.add_node("m_de", role="market", demand=3.0, country="DEU")
    G.add_node("m_ru", role="market", demand=1.0, country="RUS")
    return G


def _routes() -> pd.DataFrame:
    return pd.DataFrame({"origin": [r[0] for r in ROUTES], "market": [r[1] for r in ROUTES],
                         "rank": 1, "choice_prob": 1.0, "corridor": "Other",
                         "countries": [r[2] for r in ROUTES]})


def _ds(supply: bool = True) -> SimpleNamespace:
    # production: 2021 o1 4, o2 0; 2022 o1 6, o2 2; the 2023 drawdown of 3 t is spread by the
    # production before 2023 (o1 10, o2 2): 2.5 and 0.5
    s = pd.DataFrame({"origin_id": ["o1", "o2", "o1", "o2"], "year": [2021, 2021, 2022, 2022],
                      "opium_t": [4.0, 0.0, 6.0, 2.0]})
    return SimpleNamespace(
        supply=s if supply else None,
        places=pd.DataFrame({"id": ["o1", "o2", "m_de", "m_ru"],
                             "country": ["AFG", "TJK", "DEU", "RUS"]}),
        stocks=pd.DataFrame({"year": [2023], "stock_t": [math.nan], "drawdown_t": [3.0]}))


def _cm() -> SimpleNamespace:
    return SimpleNamespace(regions=REGIONS, stocks_last_year=None)


def test_balance_by_region_worked_by_hand() -> None:
    """Per region (sorted, ``Other`` for a country in none, a region without anything at 0):
    production of the last supply year at or before the year, the year's drawdown spread over
    the origins, consumption where journeys end, inflow of journeys entering a region not
    their origin's (once per journey however many of its countries), seizures; ``World``
    sums every column but the inflow (NaN)."""
    seized = pd.DataFrame({"seized": {"AFG": 0.1, "IRN": 0.2, "TJK": 0.3, "KAZ": 0.05,
                                      "DEU": 0.15, "RUS": 0.25}})
    b = balance_of(_graph(), _routes(), seized, _ds(), _cm(), 2023)
    assert list(b.columns) == list(BALANCE_COLUMNS)
    assert b["region"].tolist() == ["Afghanistan", "Central Asia", "Empty", "Europe", "Other",
                                    "Russia", "World"]
    assert b["year"].tolist() == [2023] * 7 and b.index.tolist() == list(range(7))
    t = b.set_index("region")
    assert t["production_t"].tolist() == [6.0, 2.0, 0.0, 0.0, 0.0, 0.0, 8.0]
    assert t["drawdown_t"].tolist() == pytest.approx([2.5, 0.5, 0, 0, 0, 0, 3.0])
    assert t["supply_t"].tolist() == pytest.approx([8.5, 2.5, 0, 0, 0, 0, 11.0])
    # DEU: 4.5 + 1.5; RUS: 1.5 + 0.5
    assert t["consumption_t"].tolist() == [0.0, 0.0, 0.0, 6.0, 0.0, 2.0, 8.0]
    # o1 -> DEU enters Other (IRN) and Europe: 4.5; o1 -> RUS enters Central Asia (TJK and KAZ,
    # once) and Russia: 1.5; o2 (home Central Asia) -> DEU enters Russia and Europe: 1.5;
    # o2 -> RUS enters Russia: 0.5
    assert t["inflow_t"].tolist()[:6] == [0.0, 1.5, 0.0, 6.0, 4.5, 3.5]
    assert math.isnan(t.loc["World", "inflow_t"])
    assert t["seizures_t"].tolist() == pytest.approx([0.1, 0.35, 0.0, 0.15, 0.2, 0.25, 1.05])


def test_balance_without_supply_or_seizures_is_zero_there() -> None:
    """No supply file: no production and no drawdown; no modelled seizures: 0 seized."""
    b = balance_of(_graph(), _routes(), None, _ds(supply=False), _cm(), 2022).set_index(
        "region")
    assert (b[["production_t", "drawdown_t", "supply_t", "seizures_t"]] == 0.0).all().all()
    assert b.loc["World", "consumption_t"] == 8.0
    # a year inside the supply's years takes that year's production (2021: o1 4, o2 0)
    b = balance_of(_graph(), _routes(), None, _ds(), _cm(), 2021).set_index("region")
    assert b.loc["World", "production_t"] == 4.0 and b.loc["World", "drawdown_t"] == 0.0


def test_balance_date_is_june_30_clamped_to_the_data() -> None:
    """June 30 of the year, or the first or last date the data covers (here 2019-01-01 to
    2021-12-31: the supply years); without dated data, June 30."""
    ds = SimpleNamespace(status_history=None,
                         supply=pd.DataFrame({"year": [2019, 2021]}))
    assert [balance_date(ds, y) for y in (2018, 2020, 2022)] == [
        date(2019, 1, 1), date(2020, 6, 30), date(2021, 12, 31)]
    assert balance_date(SimpleNamespace(status_history=None, supply=None), 2020) == date(
        2020, 6, 30)


def test_yearly_balance_takes_each_year_once_in_order(monkeypatch) -> None:
    """Each distinct year once, in increasing order, with the engine asked for; no year: the
    empty table of :data:`BALANCE_COLUMNS`."""
    seen = []

    def one(ds, cm, year, *, engine):
        seen.append((year, engine))
        return pd.DataFrame({"year": [year], "region": ["World"]})

    monkeypatch.setattr(balance, "year_balance", one)
    got = yearly_balance("ds", "cm", [2021, 2019, 2021], engine="networkx")
    assert seen == [(2019, "networkx"), (2021, "networkx")]
    assert got["year"].tolist() == [2019, 2021] and got.index.tolist() == [0, 1]
    empty = yearly_balance("ds", "cm", [])
    assert empty.empty and list(empty.columns) == list(BALANCE_COLUMNS)


def test_year_balance_runs_the_years_network_with_the_model_and_engine_given(monkeypatch):
    """One year: the network as of :func:`balance_date`, its flow assigned and its seizures
    modelled with the cost model and engine asked for, then :func:`balance_of`."""
    calls = []
    monkeypatch.setattr(balance, "network_from_data",
                        lambda ds, cm, *, as_of: calls.append(("net", cm, as_of)) or "G")
    monkeypatch.setattr(balance, "assign_flows", lambda G, cm, *, engine: calls.append(
        ("flows", G, cm, engine)) or SimpleNamespace(routes="R"))
    monkeypatch.setattr(balance, "modelled_seizures", lambda G, cm, *, routes: calls.append(
        ("seized", G, cm, routes)) or "S")
    monkeypatch.setattr(balance, "balance_of", lambda *a: a)
    ds = SimpleNamespace(status_history=None, supply=pd.DataFrame({"year": [2019, 2021]}))
    assert balance.year_balance(ds, "cm", 2022, engine="scipy") == ("G", "R", "S", ds, "cm",
                                                                     2022)
    assert calls == [("net", "cm", date(2021, 12, 31)), ("flows", "G", "cm", "scipy"),
                     ("seized", "G", "cm", "R")]
