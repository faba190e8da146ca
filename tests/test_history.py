"""The dated network: status history, supply and demand by year, detection by direction."""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import pytest

from routes import DataError, RoutesError
from routes.cli import main
from routes.costs import load_cost_model, risk_from_p
from routes.geodata import coverage, dataset_as_of, load_dataset
from routes.network import entered_country, network_from_data

HAND = Path(__file__).parent / "data" / "handworked"

HISTORY = """crossing_id,status,valid_from,valid_to,note,source
x_mid,open,2018-01-01,2020-03-19,,"Test agency, Border bulletin, 2018-01-01"
x_mid,closed,2020-03-20,2020-06-30,closed to all traffic,"Test agency, Closure notice, 2020-03-20"
x_mid,open,2020-07-01,2024-12-31,,"Test agency, Reopening notice, 2020-07-01"
x_mid,restricted,2025-01-01,,freight only,"Test agency, Freight-only notice, 2025-01-01"
"""
SUPPLY = """origin_id,year,opium_t,source
p_west,2018,6400,"UNODC, Afghanistan Opium Survey 2018, 2018"
p_west,2023,333,"UNODC, Afghanistan Opium Survey 2023, 2023"
"""
DEMAND = """market_id,year,demand,figure,conversion,source
p_east,2016,5,"5,000 users",users / 1000,"Test ministry, Estimate, 2017"
p_east,2021,7,"7,000 users",users / 1000,"Test ministry, Estimate, 2022"
"""


def _copy(tmp_path: Path, **files: str) -> Path:
    d = tmp_path / "data"
    shutil.copytree(HAND, d)
    crossings = (d / "crossings.csv").read_text().replace(",open,2025-01-01,",
                                                          ",restricted,2025-12-31,")
    (d / "crossings.csv").write_text(crossings)
    for name, text in files.items():
        (d / f"{name}.csv").write_text(text)
    return d


def _copy_with_lax_entry(tmp_path: Path) -> Path:
    """``_copy``, with x_mid's entry into AAA of a new class ``lax`` (p_detect 0.2, upgraded
    0.3; the crossing's own class still applies into BBB)."""
    d = _copy(tmp_path)
    text = (d / "crossings.csv").read_text().splitlines()
    text[0] = text[0].replace("crossing_class,", "crossing_class,class_into_a,")
    text[1] = text[1].replace(",post,", ",post,lax,")
    (d / "crossings.csv").write_text("\n".join(text) + "\n")
    (d / "cost_model.toml").write_text(
        (d / "cost_model.toml").read_text()
        + "\n[classes.lax]\np_detect = 0.2\ndelay_h = 3.0\nupgrade_cost = 1.0\n"
          "p_detect_upgraded = 0.3\n")
    return d


@pytest.fixture
def dated(tmp_path):
    d = _copy(tmp_path, status_history=HISTORY, supply=SUPPLY, demand=DEMAND)
    cm = load_cost_model(d / "cost_model.toml")
    return load_dataset(d, classes=set(cm.classes)), cm


def test_status_on_each_date(dated):
    ds, cm = dated
    for when, status, edges in (("2019-06-30", "open", 4), ("2020-03-19", "open", 4),
                                ("2020-03-20", "closed", 0), ("2020-06-30", "closed", 0),
                                ("2020-07-01", "open", 4), ("2025-06-30", "restricted", 4)):
        G = network_from_data(ds, cm, as_of=when)
        assert G.nodes["x_mid"]["status"] == status, when
        assert G.number_of_edges() == edges, when
        assert G.graph["as_of"] == when
    G = network_from_data(ds, cm, as_of="2025-06-30")
    assert G.nodes["x_mid"]["status_note"] == "freight only"
    assert G.nodes["x_mid"]["status_source"].startswith("Test agency, Freight-only")


def test_supply_and_demand_by_year(dated):
    ds, cm = dated
    sup = {y: network_from_data(ds, cm, as_of=f"{y}-06-30").nodes["p_west"]["supply"]
           for y in (2018, 2022, 2023, 2025)}
    # 2022 has no row: supply.csv holds 2018 and 2023 only, so p_west supplies nothing then.
    assert sup == {2018: 6400.0, 2022: 0.0, 2023: 333.0, 2025: 333.0}
    dem = {y: network_from_data(ds, cm, as_of=f"{y}-06-30").nodes["p_east"]["demand"]
           for y in (2018, 2021, 2025)}
    assert dem == {2018: 5.0, 2021: 7.0, 2025: 7.0}


def test_default_date_is_the_last_covered(dated):
    ds, cm = dated
    first, last = coverage(ds)
    assert first == date(2018, 1, 1)
    assert last == date(2025, 12, 31)  # the newest stated date: the crossing's as_of
    assert network_from_data(ds, cm).graph["as_of"] == "2025-12-31"


def test_as_of_outside_the_data_is_an_error(dated):
    ds, cm = dated
    with pytest.raises(RoutesError, match=r"2017-12-31 is outside .*2018-01-01 to 2025-12-31"):
        dataset_as_of(ds, "2017-12-31")
    with pytest.raises(RoutesError, match="not a date"):
        dataset_as_of(ds, "31/12/2019")


def test_as_of_does_not_change_the_input(dated):
    ds, cm = dated
    before = ds.crossings.copy()
    dataset_as_of(ds, "2020-04-01")
    assert ds.crossings.equals(before) and ds.as_of is None


@pytest.mark.parametrize(("rows", "row", "field", "message"), [
    ("x_mid,open,2018-01-01,2020-03-19,,s\nx_mid,closed,2020-03-19,,,s\n", 3, "valid_from",
     "overlap"),
    ("x_mid,open,2018-01-01,2020-03-19,,s\nx_mid,closed,2020-03-25,,,s\n", 3, "valid_from",
     "gap: x_mid has no status from 2020-03-20 to 2020-03-24"),
    ("x_mid,open,2018-01-01,2020-02-30,,s\nx_mid,closed,2020-03-01,,,s\n", 2, "valid_to",
     "not an ISO date"),
    ("x_mid,open,2018-01-01,,,s\nx_nowhere,open,2018-01-01,,,s\n", 3, "crossing_id",
     "unknown crossing id 'x_nowhere'"),
    ("x_mid,open,2019-01-01,,,s\n", 2, "valid_from", "the history must start by 2018-01-01"),
    ("x_mid,shut,2018-01-01,,,s\n", 2, "status", "'shut' is not one of"),
    ("x_mid,open,2018-01-01,2024-12-31,,s\n", 2, "valid_to", "leave valid_to empty"),
    ("x_mid,open,2018-01-01,,,s\n", 2, "status", "'restricted' on 2025-12-31 but"),
])
def test_bad_history_rows(tmp_path, rows, row, field, message, capsys):
    d = _copy(tmp_path, status_history="crossing_id,status,valid_from,valid_to,note,source\n"
              + rows)
    out = tmp_path / "out"
    before = {p: p.read_bytes() for p in d.iterdir()}
    assert main(["build", "--data", str(d), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    file = "crossings.csv" if field == "status" and "on 2025-12" in message else "status_history"
    assert f"row {row}, field '{field}'" in err and message in err and file in err, err
    assert not out.exists()
    assert {p: p.read_bytes() for p in d.iterdir()} == before


def test_supply_on_a_market_is_an_error(tmp_path):
    d = _copy(tmp_path, supply="origin_id,year,opium_t,source\np_east,2020,5,s\n")
    cm = load_cost_model(d / "cost_model.toml")
    with pytest.raises(DataError) as ei:
        load_dataset(d, classes=set(cm.classes))
    p = ei.value.problems[0]
    assert (Path(p.file).name, p.row, p.field) == ("supply.csv", 2, "origin_id")
    assert "a market, not an origin" in p.message


def test_cli_as_of(tmp_path, capsys):
    d = _copy(tmp_path, status_history=HISTORY, supply=SUPPLY, demand=DEMAND)
    assert main(["build", "--data", str(d), "--out", str(tmp_path / "o"),
                 "--as-of", "2020-04-01"]) == 0
    assert "1 closed" in capsys.readouterr().out
    assert main(["build", "--data", str(d), "--out", str(tmp_path / "o"),
                 "--as-of", "2030-01-01"]) == 2
    assert "outside the range the data covers" in capsys.readouterr().err


# --------------------------------------------------------------------------- direction
def test_detection_by_direction(tmp_path):
    """Entering BBB pays the crossing's class; entering AAA pays class_into_a."""
    d = _copy_with_lax_entry(tmp_path)
    cm = load_cost_model(d / "cost_model.toml")
    G = network_from_data(load_dataset(d, classes=set(cm.classes)), cm)
    east_in, west_in = G.edges["p_east", "x_mid"], G.edges["p_west", "x_mid"]
    assert entered_country(G, "p_east", "x_mid") == "AAA" == east_in["enters"]
    assert entered_country(G, "p_west", "x_mid") == "BBB" == west_in["enters"]
    # The post is restricted in _copy: risk x 3 and delay x 2 (the hand-worked cost model).
    travel = west_in["risk"] - 3 * risk_from_p(0.5)  # class post: p_detect 0.5 into BBB
    assert travel == pytest.approx(0.1 * 1.5 * 111.31949079327357 / 1000, rel=1e-9)
    assert east_in["risk"] == pytest.approx(travel - 3 * math.log(0.8), rel=1e-12)  # lax: 0.2
    assert west_in["time_h"] - east_in["time_h"] == pytest.approx(2 * (10.0 - 3.0), rel=1e-12)
    assert G.nodes["x_mid"]["p_detect_into_a"] == 0.2


# --------------------------------------------------------------------------- shipped data
def test_shipped_history_covers_every_crossing(dataset):
    assert dataset.status_history is not None
    assert set(dataset.status_history["crossing_id"]) == set(dataset.crossings["id"])
    first, last = coverage(dataset)
    assert first == date(2018, 1, 1) and last >= date(2025, 12, 1)


@pytest.mark.parametrize(("crossing", "closed_on", "open_on"), [
    ("x_torkham_torkham", "2025-11-01", "2019-06-30"),  # closed by Pakistan, Oct 2025
    ("x_kyzyl_art_kyzyl_art", "2023-06-30", "2025-08-01"),  # 2021 clashes; reopened
])
def test_shipped_crossing_closed_and_open_by_date(dataset, cost_model, crossing, closed_on,
                                                  open_on):
    closed = network_from_data(dataset, cost_model, as_of=closed_on)
    opened = network_from_data(dataset, cost_model, as_of=open_on)
    assert closed.nodes[crossing]["status"] == "closed"
    assert closed.degree(crossing) == 0
    assert opened.nodes[crossing]["status"] in ("open", "restricted")
    assert opened.degree(crossing) > 0


def test_an_upgrade_adds_the_same_risk_in_both_directions(tmp_path):
    """A scenario's p_detect (an upgrade) shifts both directions by interdiction's delta risk."""
    from routes.priorities.interdiction import upgrade_table
    from routes.scenario import Scenario

    d = _copy_with_lax_entry(tmp_path)
    cm = load_cost_model(d / "cost_model.toml")
    ds = load_dataset(d, classes=set(cm.classes))
    G = network_from_data(ds, cm)
    delta = float(upgrade_table(G, cm).at["x_mid", "delta_risk"])
    p_up = G.nodes["x_mid"]["p_detect_upgraded"]
    H = network_from_data(ds, cm, Scenario("up", crossings={"x_mid": {"p_detect": p_up}}))
    for u in ("p_west", "p_east"):
        assert H.edges[u, "x_mid"]["risk"] - G.edges[u, "x_mid"]["risk"] == pytest.approx(
            delta, rel=1e-12)
    assert delta == pytest.approx(3 * (risk_from_p(0.75) - risk_from_p(0.5)), rel=1e-12)
