"""``routes build``: build the weighted network and export it."""

from __future__ import annotations

import argparse
from collections import Counter

from ..io import write_network
from ..network import markets, origins
from ._common import add_data_args, add_output_args, load_network, out_dir


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "build", help="build the weighted network; export GraphML, GeoPackage and GeoJSON",
        description="Build the directed, weighted route network (edge weights length_km, "
                    "time_h, risk, cost from the cost model) and write it to OUT/<scenario>/ as "
                    "network.graphml (Gephi), network.gpkg with layers nodes and edges (QGIS), "
                    "and network_nodes.geojson / network_edges.geojson.")
    add_data_args(p)
    add_output_args(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    out = out_dir(args)
    G = load_network(args)
    paths = write_network(G, out)
    kinds = Counter(d["kind"] for _, d in G.nodes(data=True))
    closed = sum(1 for _, d in G.nodes(data=True) if d.get("status") == "closed")
    print(f"network {G.graph['name']}: {G.number_of_nodes()} nodes "
          f"({kinds['place']} places, {kinds['crossing']} crossings, {closed} closed), "
          f"{G.number_of_edges()} directed edges")
    print(f"  origins {len(origins(G))}, markets {len(markets(G))}; "
          f"cost model {G.graph['cost_model']}")
    for p in paths:
        print(f"  wrote {p}")
    return 0
