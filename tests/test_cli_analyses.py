"""``routes centrality``, ``routes paths``, ``routes chokepoints``: run in-process, read back."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from routes.cli import main
from routes.settings import DATA_DIR

HAND = Path(__file__).parent / "data" / "handworked"
HAND_ARGS = ["--data", str(HAND), "--cost-model", str(HAND / "cost_model.toml")]


def run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("engine", ["igraph", "networkx"])
def test_centrality_handworked(tmp_path, capsys, engine):
    out = run(capsys, "centrality", *HAND_ARGS, "--out", str(tmp_path), "--engine", engine)
    assert "Top 10 crossings by flow betweenness" in out and "Middle post" in out
    d = tmp_path / "baseline"
    ct = pd.read_csv(d / "centrality_crossings.csv", index_col="id")
    assert ct.loc["x_mid", "flow_betweenness"] == 10.0
    assert ct.loc["x_mid", "share"] == 1.0 and ct.loc["x_mid", "rank"] == 1
    assert {"name", "country_a", "country_b", "status", "current_flow_betweenness"} <= set(ct)
    gj = gpd.read_file(d / "centrality_crossings.geojson")
    assert gj.geometry.iloc[0].geom_type == "Point" and gj["id"].tolist() == ["x_mid"]
    edges = gpd.read_file(d / "centrality_edges.geojson")
    assert len(edges) == 4 and edges.geometry.iloc[0].geom_type == "LineString"
    countries = pd.read_csv(d / "centrality_countries.csv")
    assert countries.empty  # origin and market countries are not transit countries
    assert sorted(p.name for p in d.iterdir()) == [
        "centrality_countries.csv", "centrality_crossings.csv",
        "centrality_crossings.geojson", "centrality_edges.csv", "centrality_edges.geojson",
        "centrality_nodes.csv"]


def test_paths_handworked(tmp_path, capsys):
    out = run(capsys, "paths", *HAND_ARGS, "--out", str(tmp_path), "--weight", "risk",
              "--k", "3")
    assert "Corridor shares" in out and "p_west>p_east#1" in out
    d = tmp_path / "baseline"
    routes = pd.read_csv(d / "routes.csv", index_col="route_id")
    assert routes.index.tolist() == ["p_west>p_east#1"]
    assert routes.loc["p_west>p_east#1", "path"] == "p_west > x_mid > p_east"
    assert routes.loc["p_west>p_east#1", "flow"] == 10.0
    assert routes.loc["p_west>p_east#1", "weight"] == "risk"
    gj = gpd.read_file(d / "routes.geojson")
    assert gj.geometry.iloc[0].geom_type == "LineString" and len(gj.geometry.iloc[0].coords) == 3
    corr = pd.read_csv(d / "corridors.csv", index_col="corridor")
    assert corr.loc["Other", "share"] == 1.0
    fx = pd.read_csv(d / "flows_crossings.csv", index_col="id")
    assert fx.loc["x_mid", "flow"] == 10.0
    assert (d / "flows_edges.geojson").exists() and (d / "countries.csv").exists()


def test_chokepoints_handworked(tmp_path, capsys):
    out = run(capsys, "chokepoints", *HAND_ARGS, "--out", str(tmp_path), "--top", "3")
    assert "Minimum crossing cut" in out and "Middle post" in out
    d = tmp_path / "baseline"
    t = pd.read_csv(d / "chokepoints.csv", index_col="id")
    assert t.loc["x_mid", "unserved_flow"] == 10.0 and t.loc["x_mid", "priority_rank"] == 1
    cuts = pd.read_csv(d / "cuts.csv")
    assert cuts.loc[cuts["kind"] == "min_crossing_cut", "id"].tolist() == ["x_mid"]
    assert "articulation_point" in set(cuts["kind"])
    assert gpd.read_file(d / "chokepoints.geojson")["id"].tolist() == ["x_mid"]


def test_bad_weight_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as ei:
        main(["centrality", "--weight", "speed"])
    assert ei.value.code == 2


def test_library_error_exits_2(tmp_path, capsys):
    bad = tmp_path / "data"
    bad.mkdir()
    for f in HAND.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    places = (bad / "places.csv").read_text().replace("market,,4", "transit,,")
    (bad / "places.csv").write_text(places)
    code = main(["chokepoints", "--data", str(bad), "--out", str(tmp_path)])
    assert code == 2
    assert "error" in capsys.readouterr().err


shipped = pytest.mark.skipif(not (DATA_DIR / "crossings.csv").exists(),
                             reason="shipped data not there yet")


@shipped
@pytest.mark.parametrize("cmd", ["centrality", "paths", "chokepoints"])
def test_shipped_data_through_the_cli(tmp_path, capsys, cmd):
    out = run(capsys, cmd, "--out", str(tmp_path), "--top", "5")
    d = tmp_path / "baseline"
    csvs = sorted(d.glob("*.csv"))
    assert csvs and all(len(pd.read_csv(p)) > 0 for p in csvs if p.name != "cuts.csv")
    for p in d.glob("*.geojson"):
        assert len(gpd.read_file(p)) > 0
    assert "wrote" in out
