"""``routes centrality``: which crossings and countries carry the modelled flow.

This module also holds the small helpers the analysis subcommands share (options, outputs,
printing): ``routes paths`` and ``routes chokepoints`` import them from here.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
from shapely.geometry import Point

from ..analysis.centrality import country_table, crossing_table, edge_centrality, node_centrality
from ..costs import WEIGHTS
from ..engine import ENGINES
from ..io import write_csv, write_geojson
from ..settings import ENGINE
from ._common import add_data_args, add_output_args, load_network, scenario_label


def add_analysis_args(p: argparse.ArgumentParser, *, top: int = 10) -> None:
    """``--scenario`` (with the data options), ``--weight``, ``--top``, ``--engine``, ``--out``."""
    add_data_args(p)
    g = p.add_argument_group("analysis")
    g.add_argument("--weight", choices=WEIGHTS[::-1], default="cost",
                   help="edge weight that defines the best routes (default: %(default)s)")
    g.add_argument("--top", type=int, default=top, metavar="N",
                   help="rows to print (default: %(default)s; the files hold every row)")
    g.add_argument("--engine", choices=ENGINES, default=ENGINE,
                   help="engine for the path kernels; both give the same numbers "
                        "(default: %(default)s)")
    add_output_args(p)


def out_dir(args: argparse.Namespace) -> Path:
    """Return ``OUT/<scenario>``."""
    return Path(args.out) / scenario_label(args)


def flat(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with list columns joined by ``" > "`` (CSV and GeoJSON hold no lists)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda x: isinstance(x, list)).any():
            out[c] = out[c].map(lambda x: " > ".join(map(str, x)) if isinstance(x, list) else x)
    return out


def points(G: nx.DiGraph, df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return ``df`` (indexed by node id) with each node's Point, EPSG:4326."""
    geom = [Point(G.nodes[n]["lon"], G.nodes[n]["lat"]) for n in df.index]
    return gpd.GeoDataFrame(df.copy(), geometry=geom, crs="EPSG:4326")


def write_table(df: pd.DataFrame, path: Path, written: list[Path]) -> None:
    """Write ``df`` as CSV, or GeoJSON when ``path`` ends in .geojson (atomically)."""
    frame = flat(df)
    if path.suffix == ".geojson":
        written.append(write_geojson(frame, path))
    else:
        written.append(write_csv(frame, path))


def print_table(title: str, df: pd.DataFrame, cols: Sequence[str], top: int,
                formats: dict[str, str] | None = None) -> None:
    """Print the first ``top`` rows of ``cols`` under ``title``."""
    formats = formats or {}
    view = flat(df[list(cols)].head(max(top, 0)))
    for c, f in formats.items():
        if c in view:
            view[c] = view[c].map(lambda x, f=f: "" if pd.isna(x) else format(x, f))
    print(f"\n{title}")
    if view.empty:
        print("  (none)")
        return
    text = view.to_string(max_colwidth=48)
    print("\n".join("  " + line for line in text.splitlines()))


def print_written(written: list[Path]) -> None:
    """List the files written."""
    for p in written:
        print(f"  wrote {p}")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "centrality", help="route-restricted, flow-weighted centrality of crossings and countries",
        description="Flow betweenness: the modelled flow (origin supply spread over markets by "
                    "demand) that passes each node and corridor when every origin-market pair "
                    "uses its best routes by --weight (ties split evenly), with plain "
                    "betweenness, closeness and current-flow betweenness for comparison; and "
                    "each country's share of the flow that transits it. Writes to "
                    "OUT/<scenario>/: centrality_crossings.csv/.geojson, centrality_nodes.csv, "
                    "centrality_edges.csv/.geojson, centrality_countries.csv.")
    add_analysis_args(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    G = load_network(args)
    nodes = node_centrality(G, weight=args.weight, engine=args.engine)
    crossings = crossing_table(G, weight=args.weight, engine=args.engine, nodes=nodes)
    edges = edge_centrality(G, weight=args.weight, engine=args.engine)
    countries = country_table(G, weight=args.weight, engine=args.engine)
    out = out_dir(args)
    written: list[Path] = []
    write_table(crossings, out / "centrality_crossings.csv", written)
    write_table(points(G, crossings), out / "centrality_crossings.geojson", written)
    write_table(nodes, out / "centrality_nodes.csv", written)
    write_table(edges, out / "centrality_edges.csv", written)
    write_table(edges, out / "centrality_edges.geojson", written)
    write_table(countries, out / "centrality_countries.csv", written)
    print(f"centrality {G.graph.get('scenario', '')}: weight {args.weight}, engine "
          f"{args.engine}; {len(crossings)} crossings, {len(countries)} transit countries")
    print_table(f"Top {args.top} crossings by flow betweenness (share = of the modelled flow)",
                crossings, ["rank", "name", "country_a", "country_b", "status",
                            "flow_betweenness", "share", "current_flow_betweenness"],
                args.top, {"flow_betweenness": ".1f", "share": ".1%",
                           "current_flow_betweenness": ".1f"})
    print_table(f"Top {args.top} transit countries (share of the modelled flow)", countries,
                ["rank", "transit_flow", "transit_share"], args.top,
                {"transit_flow": ".1f", "transit_share": ".1%"})
    print()
    print_written(written)
    return 0
