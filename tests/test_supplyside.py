"""hubs.csv, stocks.csv, published_flows.csv, heroin_links.csv: schema, rules, hand-worked."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from routes._errors import DataError, Problem
from routes.geodata import dataset_as_of, load_dataset
from routes.network import hub_of, od_demand, od_journeys
from routes.settings import DATA_DIR
from routes.supplyside import (
    allocate_drawdown,
    check_hubs,
    read_heroin_links,
    read_hubs,
    read_published_flows,
    read_stocks,
    supply_table,
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


PLACES = pd.DataFrame({"id": ["nl", "de", "at", "o", "t"],
                       "country": ["NLD", "DEU", "AUT", "AFG", "DEU"],
                       "role": ["market", "market", "market", "origin", "transit"]})


def test_hubs_rows_checked_with_file_row_field(tmp_path: Path) -> None:
    p = _write(tmp_path, "hubs.csv",
               "place_id,serves,valid_from,valid_to,note,source\n"
               "nl,DEU at,2010-01-01,,,s\n"
               "t,DEU,2010-01-01,,,s\n"
               "nl,XXX,2015-01-01,2009-01-01,,s\n"
               "nl,at,2012-01-01,2013-01-01,,s\n"
               "de,de,2010-01-01,,,\n")
    probs: list[Problem] = []
    df = read_hubs(p, probs)
    check_hubs(df, str(p), PLACES, probs)
    got = sorted((x.row, x.field, x.message.split(":")[0]) for x in probs)
    assert got == [
        (3, "place_id", "'t'"),
        (4, "serves", "'XXX' is neither a market id nor the ISO3 code of a market's country"),
        (4, "valid_to", "2009-01-01 is before valid_from 2015-01-01"),
        (5, "valid_from", "overlaps the period of row 2"),
        (6, "serves", "serves no market but itself"),
        (6, "source", "empty; a value is required"),
    ]


def test_stocks_and_published_schema(tmp_path: Path) -> None:
    s = _write(tmp_path, "stocks.csv", "year,stock_t,drawdown_t,low_t,high_t,note,source\n"
                                       "2023,5000,1000,4000,6000,,s\n"
                                       "2023,,x,,,,s\n"
                                       "2024,9000,,1000,2000,,\n")
    probs: list[Problem] = []
    read_stocks(s, probs)
    assert sorted((x.row, x.field) for x in probs) == [(3, "drawdown_t"), (3, "year"),
                                                       (4, "source"), (4, "stock_t")]
    f = _write(tmp_path, "published_flows.csv",
               "year,measure,subject,value,low,high,unit,note,source\n"
               "2009,consumption,Europe,87,,,heroin_t,,s\n"
               "2019,exit_share,PAK,,0.3,0.5,share,,s\n"
               "2019,exits,PAK,0.4,,,share,,s\n"
               "2019,exit_share,PAK,1.4,,,share,,s\n"
               "2019,inflow,Europe,,,,kg,,s\n")
    probs = []
    df = read_published_flows(f, probs)
    assert len(df) == 5
    assert sorted((x.row, x.field) for x in probs) == [(4, "measure"), (5, "value"),
                                                       (6, "unit"), (6, "value")]
    h = _write(tmp_path, "heroin_links.csv", "from_iso3,to_iso3,year_from,year_to,note,source\n"
                                             "PAK,NLD,2006,2017,,s\n"
                                             "nld,nld,2010,2008,,s\n"
                                             "NLD,NLD,2010,,,s\n")
    probs = []
    read_heroin_links(h, probs)
    assert sorted((x.row, x.field) for x in probs) == [
        (3, "from_iso3"), (3, "to_iso3"), (3, "to_iso3"), (3, "year_to"), (4, "to_iso3")]


def test_drawdown_changes_the_years_supply_by_exactly_the_rule(tmp_path: Path) -> None:
    # Two origins; stocks built 2021-2022 in proportion 3:1 (300+150 vs 100+50); 2023 draws
    # down 700 t: 525 t and 175 t on top of 2023's own production (20 and 13).
    supply = pd.DataFrame({"origin_id": ["a", "b"] * 3, "year": [2021.0] * 2 + [2022.0] * 2
                           + [2023.0] * 2, "opium_t": [300.0, 100.0, 150.0, 50.0, 20.0, 13.0],
                           "source": "s"})
    assert allocate_drawdown(supply, 2023, 700.0) == {"a": 525.0, "b": 175.0}
    stocks = pd.DataFrame({"year": [2023.0], "stock_t": [2500.0], "drawdown_t": [700.0]})
    t = supply_table(supply, stocks)
    assert t.loc[2023, ["production_t", "drawdown_t", "supply_t"]].tolist() == [33.0, 700.0,
                                                                               733.0]
    assert t.loc[2021, "drawdown_t"] == 0.0


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    d = tmp_path / "geo"
    shutil.copytree(DATA_DIR, d, ignore=shutil.ignore_patterns("scenarios"))
    return d


def test_stocks_csv_adds_the_drawdown_to_the_origins(data_copy: Path) -> None:
    base = dataset_as_of(load_dataset(data_copy), "2024-06-30")
    _write(data_copy, "stocks.csv", "year,stock_t,drawdown_t,low_t,high_t,note,source\n"
                                    "2024,,1000,,,,test\n")
    ds = dataset_as_of(load_dataset(data_copy), "2024-06-30")
    sup = pd.read_csv(data_copy / "supply.csv")
    before = sup[sup["year"] < 2024].groupby("origin_id")["opium_t"].sum()
    o = base.places["role"] == "origin"
    added = (ds.places.loc[o].set_index("id")["supply"]
             - base.places.loc[o].set_index("id")["supply"])
    assert added.sum() == pytest.approx(1000.0, abs=1e-9)
    assert added.to_dict() == pytest.approx((1000.0 * before / before.sum()).to_dict(),
                                            abs=1e-9)


def test_hubs_csv_reaches_the_network_and_unknown_ids_are_problems(data_copy: Path) -> None:
    _write(data_copy, "hubs.csv", "place_id,serves,valid_from,valid_to,note,source\n"
                                  "p_amsterdam,DEU p_nowhere,2010-01-01,,,test\n")
    with pytest.raises(DataError, match=r"hubs.csv.* row 2.*serves.*p_nowhere"):
        load_dataset(data_copy)
    _write(data_copy, "hubs.csv", "place_id,serves,valid_from,valid_to,note,source\n"
                                  "p_amsterdam,DEU,2020-01-01,,,test\n")
    ds = load_dataset(data_copy)
    assert dataset_as_of(ds, date(2019, 6, 30)).places["hub_serves"].eq("").all()
    on = dataset_as_of(ds, date(2021, 6, 30)).places.set_index("id")["hub_serves"]
    assert on["p_amsterdam"].split() == sorted(
        ds.places.loc[(ds.places["country"] == "DEU") & (ds.places["role"] == "market"), "id"])


def test_two_stage_assignment_by_hand() -> None:
    # Supply 12 at o; demand h 1, m 2, n 5 (total 8); share 0.3 onward; h serves m and n but
    # n is nearer hub g (which serves n only).
    G = nx.DiGraph(onward_share=0.3)
    G.add_node("o", role="origin", supply=12.0)
    G.add_node("h", role="market", demand=1.0, lon=0.0, lat=0.0, hub_serves="m n")
    G.add_node("g", role="market", demand=0.0, lon=9.0, lat=0.0, hub_serves="n")
    G.add_node("m", role="market", demand=2.0, lon=1.0, lat=0.0)
    G.add_node("n", role="market", demand=5.0, lon=8.0, lat=0.0)
    # g has no demand: it is no market of the model, so n's hub is h.
    assert hub_of(G) == {"m": "h", "n": "h"}
    G.nodes["g"]["demand"] = 2.0   # now total 10; n nearer g
    assert hub_of(G) == {"m": "h", "n": "g"}
    j = od_journeys(G)
    want = [("o", "", "g", 2.4), ("o", "", "h", 1.2), ("o", "", "m", 1.68),
            ("o", "h", "m", 0.72), ("o", "", "n", 4.2), ("o", "g", "n", 1.8)]
    assert [x[:3] for x in j] == [x[:3] for x in want]
    assert [x[3] for x in j] == pytest.approx([x[3] for x in want], abs=1e-12)
    assert od_demand(G) == pytest.approx({("g", "n"): 1.8, ("h", "m"): 0.72,
                                          ("o", "g"): 4.2, ("o", "h"): 1.92,
                                          ("o", "m"): 1.68, ("o", "n"): 4.2})
