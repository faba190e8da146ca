"""The rules applied to hubs.csv and stocks.csv (routes.supplyside, routes.network), by hand.

The files' schemas and row checks are routes.flowfiles's (tests/test_geodata.py).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from routes._errors import DataError
from routes.costs import load_cost_model
from routes.geodata import dataset_as_of, load_dataset
from routes.network import hubs_of, network_from_data, od_demand, od_journeys
from routes.settings import DATA_DIR
from routes.supplyside import allocate_drawdown, drawdown_in, supply_table


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


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
    cm = load_cost_model(data_copy / "cost_model.toml")
    (data_copy / "stocks.csv").unlink(missing_ok=True)
    base = network_from_data(load_dataset(data_copy), cm, as_of="2024-06-30")
    _write(data_copy, "stocks.csv", "year,stock_t,drawdown_t,low_t,high_t,note,source\n"
                                    "2024,,1000,,,,test\n")
    G = network_from_data(load_dataset(data_copy), cm, as_of="2024-06-30")
    sup = pd.read_csv(data_copy / "supply.csv")
    before = sup[sup["year"] < 2024].groupby("origin_id")["opium_t"].sum()
    added = {o: G.nodes[o]["supply"] - base.nodes[o]["supply"] for o in before.index}
    assert sum(added.values()) == pytest.approx(1000.0, abs=1e-9)
    assert added == pytest.approx((1000.0 * before / before.sum()).to_dict(), abs=1e-9)
    assert G.nodes["p_helmand"]["drawdown_t"] == pytest.approx(added["p_helmand"], abs=1e-12)


def test_the_shipped_stock_is_drawn_down_evenly_to_its_last_year() -> None:
    # 13,200 t at the start of 2023, lasting to 2027 ([stocks] last_year): 2,640 t a year.
    cm = load_cost_model(DATA_DIR / "cost_model.toml")
    stocks = pd.read_csv(DATA_DIR / "stocks.csv")
    assert cm.stocks_last_year == 2027
    assert [drawdown_in(stocks, y, 2027) for y in (2022, 2023, 2026, 2027, 2028)] == [
        0.0, 2640.0, 2640.0, 2640.0, 0.0]


def test_hubs_csv_reaches_the_network_and_unknown_ids_are_problems(data_copy: Path) -> None:
    _write(data_copy, "hubs.csv", "place_id,serves,valid_from,valid_to,note,source\n"
                                  "p_amsterdam,DEU p_nowhere,2010-01-01,,,test\n")
    with pytest.raises(DataError, match=r"hubs.csv.*row 2.*serves.*p_nowhere"):
        load_dataset(data_copy)
    _write(data_copy, "hubs.csv", "place_id,serves,valid_from,valid_to,note,source\n"
                                  "p_amsterdam,DEU,2020-01-01,,,test\n")
    ds = load_dataset(data_copy)
    assert dataset_as_of(ds, date(2019, 6, 30)).places["hub_serves"].eq("").all()
    on = dataset_as_of(ds, date(2021, 6, 30)).places.set_index("id")["hub_serves"]
    assert on["p_amsterdam"].split() == sorted(
        ds.places.loc[(ds.places["country"] == "DEU") & (ds.places["role"] == "market"), "id"])


def test_two_stage_assignment_by_hand() -> None:
    # Supply 12 at o; demand h 1, gm 2, m 2, n 5 (total 10); share 0.3 onward; h (a market)
    # serves m and n, g (a port, no market: a hub may be any place) serves n. So o -> m is
    # 2.4: 1.68 direct, 0.72 through h; o -> n is 6: 4.2 direct, 0.9 through g, 0.9 through h.
    G = nx.DiGraph(onward_share=0.3)
    G.add_node("o", role="origin", supply=12.0)
    G.add_node("h", role="market", demand=1.0, hub_serves="m n")
    G.add_node("g", role="port", hub_serves="n g")
    G.add_node("gm", role="market", demand=2.0)
    G.add_node("m", role="market", demand=2.0)
    G.add_node("n", role="market", demand=5.0)
    assert hubs_of(G) == {"m": ["h"], "n": ["g", "h"]}
    j = od_journeys(G)
    want = [("o", "", "gm", 2.4), ("o", "", "h", 1.2), ("o", "", "m", 1.68),
            ("o", "h", "m", 0.72), ("o", "", "n", 4.2), ("o", "g", "n", 0.9),
            ("o", "h", "n", 0.9)]
    assert [x[:3] for x in j] == [x[:3] for x in want]
    assert [x[3] for x in j] == pytest.approx([x[3] for x in want], abs=1e-12)
    assert od_demand(G) == pytest.approx({("g", "n"): 0.9, ("h", "m"): 0.72, ("h", "n"): 0.9,
                                          ("o", "g"): 0.9, ("o", "gm"): 2.4, ("o", "h"): 2.82,
                                          ("o", "m"): 1.68, ("o", "n"): 4.2})


def test_every_tonne_goes_somewhere_in_the_balance() -> None:
    # 2023: production 333 t + drawdown 13,200 / 5 = 2,640 t; every tonne reaches a market.
    from routes.calibration.balance import WORLD, year_balance

    cm = load_cost_model(DATA_DIR / "cost_model.toml")
    b = year_balance(load_dataset(DATA_DIR), cm, 2023).set_index("region")
    assert b.loc[WORLD, "production_t"] == pytest.approx(333.0)
    assert b.loc[WORLD, "drawdown_t"] == pytest.approx(2640.0)
    assert b.loc[WORLD, "consumption_t"] == pytest.approx(2973.0, rel=1e-9)
    assert b.loc["Afghanistan", "supply_t"] == pytest.approx(2973.0)
    assert b.drop(index=WORLD)["consumption_t"].sum() == pytest.approx(2973.0, rel=1e-9)
