"""Exports read back equal to the graph; writes are atomic."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
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
