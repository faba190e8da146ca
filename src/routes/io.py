"""Exports at the edge of the pipeline, every one written atomically.

Each writer writes to a temporary file in the destination folder and moves it into place with
``os.replace``, so a failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd

from .network import network_to_gdfs

__all__ = [
    "atomic_path",
    "atomic_write_text",
    "write_graphml",
    "read_graphml",
    "write_geopackage",
    "write_geojson",
    "write_csv",
    "write_network",
]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it to ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix or ".tmp",
                               dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _graphml_safe(G: nx.DiGraph) -> nx.DiGraph:
    """Return a copy whose attribute values GraphML can hold (str, int, float, bool)."""
    H = G.copy()
    for _, d in list(H.nodes(data=True)) + [(None, d) for *_, d in H.edges(data=True)]:
        for k, v in list(d.items()):
            if v is None:
                del d[k]
            elif not isinstance(v, str | int | float | bool):
                d[k] = json.dumps(v) if isinstance(v, list | dict | tuple) else str(v)
    for k, v in list(H.graph.items()):
        if not isinstance(v, str | int | float | bool):
            H.graph[k] = str(v)
    return H


def write_graphml(G: nx.DiGraph, path: str | Path) -> Path:
    """Write GraphML (opens in Gephi, yEd, Cytoscape); read back with :func:`read_graphml`."""
    with atomic_path(path) as tmp:
        nx.write_graphml(_graphml_safe(G), tmp)
    return Path(path)


def read_graphml(path: str | Path) -> nx.DiGraph:
    """Read a GraphML file written by :func:`write_graphml`."""
    G = nx.read_graphml(path)
    return nx.DiGraph(G)


def write_geopackage(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame],
                     path: str | Path) -> Path:
    """Write several layers into one GeoPackage (opens in QGIS), atomically."""
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            frame = gdf.reset_index() if gdf.index.name else gdf
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(tmp, layer=name, driver="GPKG")
            else:
                gpd.GeoDataFrame(frame).to_file(tmp, layer=name, driver="GPKG")
    return Path(path)


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write one GeoJSON FeatureCollection (EPSG:4326), atomically."""
    frame = gdf.reset_index() if gdf.index.name else gdf
    with atomic_path(path) as tmp:
        frame.to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON")
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write a CSV (UTF-8, unix line ends, no index unless named), atomically."""
    frame = df.drop(columns=[df.geometry.name]) if isinstance(df, gpd.GeoDataFrame) else df
    index = frame.index.name is not None
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index, lineterminator="\n", **kwargs)
    return Path(path)


def write_network(G: nx.DiGraph, out_dir: str | Path, *, stem: str = "network") -> list[Path]:
    """Write the network as GraphML, GeoPackage (``nodes``, ``edges``) and GeoJSON.

    Returns the paths written: ``stem.graphml``, ``stem.gpkg``, ``stem_nodes.geojson``,
    ``stem_edges.geojson``.
    """
    out = Path(out_dir)
    nodes, edges = network_to_gdfs(G)
    return [
        write_graphml(G, out / f"{stem}.graphml"),
        write_geopackage({"nodes": nodes, "edges": edges}, out / f"{stem}.gpkg"),
        write_geojson(nodes, out / f"{stem}_nodes.geojson"),
        write_geojson(edges, out / f"{stem}_edges.geojson"),
    ]
