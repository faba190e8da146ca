"""Validation: the shipped data passes; each kind of bad input gives a clear error."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from routes import DataError
from routes.cli import main
from routes.geodata import border_distances, link_within_countries, load_dataset
from routes.network import markets, network_from_data, origins
from routes.settings import DATA_DIR

FILES = ("countries.geojson", "crossings.csv", "places.csv", "corridors.csv", "cost_model.toml")


@pytest.fixture
def data_copy(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for f in FILES:
        shutil.copy(DATA_DIR / f, d / f)
    return d


def _edit(path: Path, row: int, field: str, value: str) -> None:
    """Set ``field`` of the data row at editor line ``row`` (header = line 1)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row - 2, field] = value
    df.to_csv(path, index=False)


def _problems(d: Path, cost_model) -> list[str]:
    with pytest.raises(DataError) as ei:
        load_dataset(d, classes=set(cost_model.classes))
    return [str(p) for p in ei.value.problems]


def test_shipped_data_is_valid(dataset):
    assert len(dataset.countries) >= 35
    assert len(dataset.crossings) >= 100
    assert len(dataset.places) >= 60
    assert (dataset.crossings["source"] != "").all()
    assert (dataset.places["source"] != "").all()
    assert (dataset.corridors["source"] != "").all()
    assert border_distances(dataset).max() <= 15.0


def test_shipped_data_covers_the_region(dataset):
    iso = set(dataset.countries["iso3"])
    for c in ("AFG", "KAZ", "KGZ", "TJK", "TKM", "UZB", "IRN", "PAK", "RUS", "TUR", "AZE",
              "GEO", "ARM", "BGR", "SRB", "DEU"):
        assert c in iso
    pairs = {frozenset(p) for p in zip(dataset.crossings.country_a, dataset.crossings.country_b)}
    for a in ("UZB", "TJK", "TKM", "IRN", "PAK"):
        assert frozenset(("AFG", a)) in pairs, f"no AFG-{a} crossing"
    assert frozenset(("KAZ", "RUS")) in pairs
    assert set(dataset.places["role"]) >= {"origin", "market", "transit"}


@pytest.mark.parametrize(
    ("file", "field", "value", "expect"),
    [
        ("crossings.csv", "lat", "north", r"crossings.csv, row 2, field 'lat': not a number"),
        ("crossings.csv", "lat", "95", r"crossings.csv, row 2, field 'lat': 95.0 out of range"),
        ("crossings.csv", "country_b", "XYZ", r"row 2, field 'country_b': unknown ISO3 code"),
        ("crossings.csv", "status", "ajar", r"row 2, field 'status': 'ajar' is not one of"),
        ("crossings.csv", "mode", "teleport", r"row 2, field 'mode': 'teleport' is not one of"),
        ("crossings.csv", "source", "", r"row 2, field 'source': empty; a value is required"),
        ("crossings.csv", "as_of", "last year", r"row 2, field 'as_of': not an ISO date"),
        ("crossings.csv", "crossing_class", "vip",
         r"row 2, field 'crossing_class': 'vip' is not one of"),
        ("places.csv", "role", "hideout", r"places.csv, row 2, field 'role'"),
        ("places.csv", "source", "", r"places.csv, row 2, field 'source': empty"),
        ("corridors.csv", "to_id", "p_atlantis",
         r"corridors.csv, row 2, field 'to_id': unknown place or crossing id 'p_atlantis'"),
        ("corridors.csv", "mode", "balloon", r"corridors.csv, row 2, field 'mode'"),
        ("corridors.csv", "oneway", "maybe",
         r"corridors.csv, row 2, field 'oneway': 'maybe' is not one of no, yes"),
    ],
)
def test_bad_field(data_copy, cost_model, file, field, value, expect):
    _edit(data_copy / file, 2, field, value)
    problems = _problems(data_copy, cost_model)
    assert any(re.search(expect, p) for p in problems), problems


def test_swapped_lat_lon_is_caught(data_copy, cost_model):
    df = pd.read_csv(data_copy / "crossings.csv", dtype=str, keep_default_na=False)
    i = df.index[df["mode"].isin(["road", "rail", "river_bridge", "mountain_pass"])][0]
    df.loc[i, ["lat", "lon"]] = df.loc[i, ["lon", "lat"]].values
    df.to_csv(data_copy / "crossings.csv", index=False)
    problems = _problems(data_copy, cost_model)
    assert any(f"row {i + 2}, field 'lat'" in p and "km from the" in p for p in problems)


def test_wrong_country_is_caught(data_copy, cost_model):
    df = pd.read_csv(data_copy / "crossings.csv", dtype=str, keep_default_na=False)
    i = df.index[(df["country_a"] == "AFG") & (df["country_b"] == "UZB")][0]
    df.loc[i, "country_b"] = "TKM"  # the AFG-TKM border is far from Termez
    df.to_csv(data_copy / "crossings.csv", index=False)
    assert any(f"row {i + 2}" in p and "AFG-TKM border" in p
               for p in _problems(data_copy, cost_model))


def test_place_outside_its_country(data_copy, cost_model):
    df = pd.read_csv(data_copy / "places.csv", dtype=str, keep_default_na=False)
    i = df.index[df["country"] == "AFG"][0]
    df.loc[i, "country"] = "DEU"
    df.to_csv(data_copy / "places.csv", index=False)
    assert any(f"places.csv, row {i + 2}, field 'lat'" in p and "outside DEU" in p
               for p in _problems(data_copy, cost_model))


def test_origin_needs_supply_and_market_demand(data_copy, cost_model):
    df = pd.read_csv(data_copy / "places.csv", dtype=str, keep_default_na=False)
    o = df.index[df["role"] == "origin"][0]
    m = df.index[df["role"] == "market"][0]
    df.loc[o, "supply"] = ""
    df.loc[m, "demand"] = "-3"
    df.to_csv(data_copy / "places.csv", index=False)
    problems = _problems(data_copy, cost_model)
    assert any(f"row {o + 2}, field 'supply': a origin needs" in p for p in problems)
    assert any(f"row {m + 2}, field 'demand'" in p and "out of range" in p for p in problems)


def test_duplicate_id_and_self_loop(data_copy, cost_model):
    df = pd.read_csv(data_copy / "crossings.csv", dtype=str, keep_default_na=False)
    df.loc[1, "id"] = df.loc[0, "id"]
    df.to_csv(data_copy / "crossings.csv", index=False)
    co = pd.read_csv(data_copy / "corridors.csv", dtype=str, keep_default_na=False)
    co.loc[0, "to_id"] = co.loc[0, "from_id"]
    co.to_csv(data_copy / "corridors.csv", index=False)
    problems = _problems(data_copy, cost_model)
    assert any("crossings.csv, row 3, field 'id': duplicate id" in p for p in problems)
    assert any("corridors.csv, row 2, field 'to_id': self-loop" in p for p in problems)


def test_missing_column_and_file(data_copy, cost_model):
    df = pd.read_csv(data_copy / "places.csv", dtype=str, keep_default_na=False)
    df.drop(columns=["role"]).to_csv(data_copy / "places.csv", index=False)
    (data_copy / "corridors.csv").unlink()
    problems = _problems(data_copy, cost_model)
    assert any("places.csv, row 1, field 'role': required column missing" in p
               for p in problems)
    assert any("corridors.csv: file not found" in p for p in problems)


def test_all_problems_reported_at_once(data_copy, cost_model):
    _edit(data_copy / "crossings.csv", 2, "lat", "x")
    _edit(data_copy / "places.csv", 3, "source", "")
    _edit(data_copy / "corridors.csv", 4, "mode", "balloon")
    problems = _problems(data_copy, cost_model)
    files = {p.split(",")[0].rsplit("/", 1)[-1] for p in problems}
    assert {"crossings.csv", "places.csv", "corridors.csv"} <= files


def _tree_hash(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def test_cli_bad_input_exit_2_and_nothing_written(data_copy, tmp_path, capsys):
    _edit(data_copy / "crossings.csv", 5, "lon", "east")
    before = _tree_hash(data_copy)
    out = tmp_path / "out"
    assert main(["build", "--data", str(data_copy), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "crossings.csv, row 5, field 'lon': not a number: 'east'" in err
    assert not out.exists()
    assert _tree_hash(data_copy) == before  # inputs are never modified
    assert main(["validate", str(data_copy)]) == 2


def test_cli_validate_shipped(capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "crossings" in out


def test_auto_link_serves_data_without_corridors(data_copy, cost_model):
    (data_copy / "corridors.csv").unlink()
    ds = load_dataset(data_copy, classes=set(cost_model.classes), corridors="auto")
    assert len(ds.corridors) > 0
    assert ds.corridors["source"].str.startswith("auto:").all()
    G = network_from_data(ds, cost_model)
    ms = set(markets(G))
    for o in origins(G):
        assert nx.descendants(G, o) & ms


def test_link_within_countries_connects_each_country(dataset):
    links = link_within_countries(dataset.crossings, dataset.places, k=2)
    H = nx.Graph()
    H.add_edges_from(zip(links.from_id, links.to_id))
    for iso in ("AFG", "KAZ", "TUR"):
        members = set(dataset.places.loc[dataset.places.country == iso, "id"])
        members |= set(dataset.crossings.loc[(dataset.crossings.country_a == iso)
                                             | (dataset.crossings.country_b == iso), "id"])
        assert nx.is_connected(H.subgraph(members))


# The hand-worked countries share the meridian lon = 1 between lat -1 and 1; on the equator
# one degree of longitude is DEG_KM on the WGS84 ellipsoid.
HAND = Path(__file__).parent / "data" / "handworked"
DEG_KM = 111.31949079327357


def _hand_with_post_at(tmp_path: Path, km_west: float) -> Path:
    d = tmp_path / "hand"
    shutil.copytree(HAND, d)
    _edit(d / "crossings.csv", 2, "lon", repr(1.0 - km_west / DEG_KM))
    return d


@pytest.mark.parametrize("km", [10.0, 14.0])
def test_crossing_inside_border_tolerance_is_accepted(tmp_path, km):
    d = _hand_with_post_at(tmp_path, km)
    ds = load_dataset(d, classes={"post"})
    assert border_distances(ds)["x_mid"] == pytest.approx(km, rel=1e-6)


@pytest.mark.parametrize("km", [16.0, 25.0])
def test_crossing_outside_border_tolerance_is_an_error(tmp_path, km):
    d = _hand_with_post_at(tmp_path, km)
    with pytest.raises(DataError) as ei:
        load_dataset(d, classes={"post"})
    problems = [str(p) for p in ei.value.problems]
    assert any("row 2, field 'lat'" in p and f"x_mid lies {km:.1f} km from the AAA-BBB border"
               in p and "limit 15 km" in p for p in problems), problems


# ------------------------------------------------------------------ flow files (issue 19)
def _flow_copy(data_copy: Path) -> Path:
    for f in ("hubs.csv", "stocks.csv"):
        shutil.copy(DATA_DIR / f, data_copy / f)
    return data_copy


def test_shipped_flow_files_are_read(dataset):
    assert dataset.hubs is not None and dataset.stocks is not None
    assert set(dataset.hubs["place_id"]) <= set(dataset.places["id"])
    assert (dataset.hubs["source"] != "").all() and (dataset.stocks["source"] != "").all()
    # the one sourced stock figure: 13,200 t at the end of 2022 (UNODC, Mar 2025)
    assert dataset.stocks.set_index("year").at[2023, "stock_t"] == 13200.0


@pytest.mark.parametrize(
    ("file", "row", "field", "value", "expect"),
    [
        ("hubs.csv", 2, "place_id", "p_atlantis",
         r"hubs.csv, row 2, field 'place_id': unknown place id 'p_atlantis'"),
        ("hubs.csv", 2, "serves", "DEU p_kashgar",
         r"hubs.csv, row 2, field 'serves': 'p_kashgar' is a transit, not a market"),
        ("hubs.csv", 2, "serves", "DEU XYZ",
         r"hubs.csv, row 2, field 'serves': 'XYZ' is not a country of countries.geojson"),
        ("hubs.csv", 2, "serves", "Germany",
         r"hubs.csv, row 2, field 'serves': 'Germany' is neither a place id nor an ISO3 code"),
        ("hubs.csv", 2, "valid_from", "spring 2016",
         r"hubs.csv, row 2, field 'valid_from': not an ISO date"),
        ("hubs.csv", 2, "valid_to", "2000-01-01",
         r"hubs.csv, row 2, field 'valid_to': 2000-01-01 is before valid_from"),
        ("hubs.csv", 3, "source", "", r"hubs.csv, row 3, field 'source': empty"),
        ("stocks.csv", 3, "stock_t", "-5",
         r"stocks.csv, row 3, field 'stock_t': -5.0 out of range"),
        ("stocks.csv", 3, "year", "2023.5", r"stocks.csv, row 3, field 'year': not a whole year"),
        ("stocks.csv", 4, "note", "",
         r"stocks.csv, row 4, field 'note': a row without figures must say"),
        ("stocks.csv", 2, "low_t", "20000",
         r"stocks.csv, row 2, field 'low_t': low_t 20000 is above high_t 12000"),
        ("stocks.csv", 3, "year", "2010",
         r"stocks.csv, row 3, field 'year': second row for 2010 \(first at row 2\)"),
    ],
)
def test_bad_flow_field(data_copy, cost_model, file, row, field, value, expect):
    d = _flow_copy(data_copy)
    _edit(d / file, row, field, value)
    problems = _problems(d, cost_model)
    assert any(re.search(expect, p) for p in problems), problems


def test_hub_serving_only_its_own_country(data_copy, cost_model):
    d = _flow_copy(data_copy)
    hubs = pd.read_csv(d / "hubs.csv", dtype=str, keep_default_na=False)
    row = int(hubs.index[hubs["place_id"] == "p_rotterdam"][0]) + 2
    _edit(d / "hubs.csv", row, "serves", "NLD")
    problems = _problems(d, cost_model)
    assert f"{d / 'hubs.csv'}, row {row}, field 'serves': a hub must serve another market" \
        in problems


def _observed_copy(tmp_path: Path) -> Path:
    obs = tmp_path / "observed"
    obs.mkdir()
    for f in ("published_flows.csv", "heroin_links.csv"):
        shutil.copy(DATA_DIR.parent / "observed" / f, obs / f)
    return obs


def test_shipped_observed_files_are_valid():
    from routes.flowfiles import read_observed

    problems: list = []
    obs = read_observed(DATA_DIR.parent / "observed", problems)
    assert problems == []
    links = obs["heroin_links"]
    assert (links["from_iso3"] != links["to_iso3"]).all() and (links["source"] != "").all()
    assert {("PAK", "BEL"), ("NLD", "GBR"), ("MOZ", "ZAF")} <= set(
        zip(links["from_iso3"], links["to_iso3"]))
    flows = obs["published_flows"]
    nr = flows[(flows["region_or_route"] == "northern_route") & (flows["year"] == 2010)
               & (flows["unit"] == "t heroin")]
    assert nr[["low", "high"]].values.tolist() == [[90.0, 90.0]]


@pytest.mark.parametrize(
    ("file", "row", "field", "value", "expect"),
    [
        ("published_flows.csv", 2, "indicator", "vibes",
         r"published_flows.csv, row 2, field 'indicator': 'vibes' is not one of"),
        ("published_flows.csv", 2, "high", "1.7",
         r"published_flows.csv, row 2, field 'high': 1.7 outside 0..1 for route_share"),
        ("published_flows.csv", 3, "low", "",
         None),  # one bound may be empty
        ("published_flows.csv", 2, "source", "", r"published_flows.csv, row 2, field 'source'"),
        ("heroin_links.csv", 2, "to_iso3", "Pakistan",
         r"heroin_links.csv, row 2, field 'to_iso3': not an ISO3 code: 'Pakistan'"),
        ("heroin_links.csv", 2, "period", "2019-2012",
         r"heroin_links.csv, row 2, field 'period': '2019-2012': years out of order"),
        ("heroin_links.csv", 2, "period", "recent",
         r"heroin_links.csv, row 2, field 'period': not YYYY or YYYY-YYYY"),
    ],
)
def test_bad_observed_field(tmp_path, file, row, field, value, expect):
    """Each bad field is one problem naming file, row and field (read without the network:
    the command's exit code and output are the next test's)."""
    from routes.flowfiles import read_observed

    obs = _observed_copy(tmp_path)
    _edit(obs / file, row, field, value)
    problems: list = []
    read_observed(obs, problems)
    text = [str(p) for p in problems]
    if expect is None:
        assert text == []
    else:
        assert len(text) == 1 and re.search(expect, text[0]), text


def test_bad_observed_field_through_validate(tmp_path, capsys):
    """``routes validate --observed`` prints the problem and exits with 2."""
    obs = _observed_copy(tmp_path)
    _edit(obs / "heroin_links.csv", 2, "to_iso3", "Pakistan")
    code = main(["validate", "--observed", str(obs)])
    err = capsys.readouterr().err
    assert code == 2 and re.search(
        r"heroin_links.csv, row 2, field 'to_iso3': not an ISO3 code: 'Pakistan'", err), err


def test_heroin_link_periods_hand_worked(tmp_path):
    from routes.flowfiles import read_heroin_links

    p = tmp_path / "links.csv"
    p.write_text("from_iso3,to_iso3,period,source\nPAK,BEL,2019,a\nMKD,AUT,2010-2014,b\n"
                 "AUT,AUT,2011,c\nPAK,BEL,2020,d\n", encoding="utf-8")
    problems: list = []
    df = read_heroin_links(p, problems)
    assert df[["first_year", "last_year"]].values.tolist()[:2] == [[2019, 2019], [2010, 2014]]
    assert [str(x) for x in problems] == [
        f"{p}, row 4, field 'to_iso3': a link joins two countries",
        f"{p}, row 5, field 'to_iso3': second row for PAK, BEL (first at row 2)",
    ]
