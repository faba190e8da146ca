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
