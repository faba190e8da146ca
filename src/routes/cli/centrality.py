"""``routes centrality``: which crossings and countries carry the modelled flow."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..crossings.centrality import country_table, crossing_table, edge_centrality, node_centrality
from ._common import (
    add_analysis_args,
    load_network,
    out_dir,
    points,
    print_table,
    print_written,
    write_table,
)


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
