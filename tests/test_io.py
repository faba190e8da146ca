"""Exports read back equal to the graph; writes are atomic."""

from __future__ import annotations

import json
import time

import geopandas as gpd
import networkx as nx
import pyogrio
import pytest

from routes.io import atomic_path, read_graphml, write_csv, write_network
from routes.network import network_from_gdfs, network_to_gdfs


def test_exports_read_back(baseline, tmp_path):
    paths = write_network(baseline, tmp_path)
    assert [p.name for p in paths] == ["network.graphml", "network.gpkg",
                                       "network_nodes.geojson", "network_edges.geojson"]
    H = read_graphml(tmp_path / "network.graphml")
    assert set(H.nodes) == set(baseline.nodes) and set(H.edges) == set(baseline.edges)
    for u, v, d in baseline.edges(data=True):
        for w in ("length_km", "time_h", "risk", "cost"):
            assert H.edges[u, v][w] == pytest.approx(d[w], rel=1e-12)
    for n, d in baseline.nodes(data=True):
        assert H.nodes[n]["kind"] == d["kind"] and H.nodes[n]["lat"] == d["lat"]
    assert H.graph["cost_model_hash"] == baseline.graph["cost_model_hash"]

    nodes = gpd.read_file(tmp_path / "network.gpkg", layer="nodes").set_index("id")
    edges = gpd.read_file(tmp_path / "network.gpkg", layer="edges")
    G2 = network_from_gdfs(nodes, edges, baseline.graph)
    assert set(G2.edges) == set(baseline.edges)
    for u, v, d in baseline.edges(data=True):
        assert G2.edges[u, v]["cost"] == pytest.approx(d["cost"], rel=1e-12)
    assert nodes.crs.to_epsg() == 4326
    gj = gpd.read_file(tmp_path / "network_edges.geojson")
    assert len(gj) == baseline.number_of_edges()
    assert len(gpd.read_file(tmp_path / "network_nodes.geojson")) == baseline.number_of_nodes()


def test_gdfs_round_trip_is_exact(baseline):
    nodes, edges = network_to_gdfs(baseline)
    assert nx.utils.graphs_equal(network_from_gdfs(nodes, edges), baseline)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_csv(tmp_path):
    import pandas as pd

    p = write_csv(pd.DataFrame({"a": [1, 2]}), tmp_path / "x" / "t.csv")
    assert p.read_text() == "a\n1\n2\n"


def test_geojson_layer_name_is_the_file_name(baseline, tmp_path):
    # Before: the temporary file's name (".network_nodes.ls35um9s") was the layer name.
    write_network(baseline, tmp_path)
    for stem in ("network_nodes", "network_edges"):
        gj = json.loads((tmp_path / f"{stem}.geojson").read_text(encoding="utf-8"))
        assert gj["name"] == stem
        assert pyogrio.list_layers(tmp_path / f"{stem}.geojson")[0][0] == stem


def test_network_exports_are_byte_identical_between_runs(baseline, tmp_path):
    # Before: network.gpkg carried the time of writing in gpkg_contents.last_change.
    write_network(baseline, tmp_path / "a")
    time.sleep(1.1)
    write_network(baseline, tmp_path / "b")
    for name in ("network.gpkg", "network.graphml", "network_nodes.geojson",
                 "network_edges.geojson"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_engines_write_the_same_csv(baseline, tmp_path):
    # The engines agree to ~1e-15 (not bit for bit); the CSV writes 10 significant digits.
    from routes.crossings.centrality import node_centrality

    for engine in ("networkx", "igraph"):
        write_csv(node_centrality(baseline, weight="cost", engine=engine),
                  tmp_path / f"{engine}.csv")
    assert (tmp_path / "networkx.csv").read_bytes() == (tmp_path / "igraph.csv").read_bytes()


def test_csv_floats_rounded_to_ten_digits(tmp_path):
    import pandas as pd

    write_csv(pd.DataFrame({"x": [0.1 + 0.2, 1 / 3, 2.0]}), tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text() == "x\n0.3\n0.3333333333\n2\n"
