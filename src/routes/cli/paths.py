"""``routes paths``: the k best routes of each origin-market pair, flows and corridor shares."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..network import network_from_data
from ..routing.flows import METHODS, assign_flows, exit_shares
from ._common import (
    add_analysis_args,
    float_range,
    int_range,
    load_inputs,
    out_dir,
    print_table,
    print_written,
    write_table,
)

#: Most routes per origin-market pair (each is a k-shortest-paths search).
MAX_K = 100


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "paths", help="the k best routes per origin-market pair, assigned flows, corridor shares",
        description="The k best loopless routes (Yen) of every origin-market pair by --weight, "
                    "each with its countries, crossings, length, time, risk, probability of "
                    "passing undetected and corridor (Northern, Caucasus, Balkan, Southern, "
                    "Other); the pair's flow split over them by a logit (--theta) or all on "
                    "the best (--method aon). Writes to OUT/<scenario>/: routes.csv, "
                    "routes.geojson (LineStrings), corridors.csv, countries.csv, "
                    "flows_edges.csv/.geojson, flows_crossings.csv.")
    add_analysis_args(p)
    g = p.add_argument_group("routes")
    g.add_argument("--k", type=int_range(1, MAX_K), default=None, metavar="K",
                   help="routes per pair (default: k_routes of the cost model)")
    g.add_argument("--method", choices=METHODS, default="logit",
                   help="flow split: logit over the k routes, or all-or-nothing "
                        "(default: %(default)s)")
    g.add_argument("--theta", type=float_range(0, lo_open=True), default=None,
                   help="logit scale (default: logit_theta of the cost model)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    ds, cm, sc = load_inputs(args)
    G = network_from_data(ds, cm, sc)
    res = assign_flows(G, cm, method=args.method, weight=args.weight, k=args.k,
                       theta=args.theta, engine=args.engine)
    routes = res.routes.sort_values(["flow", "origin", "market", "rank"],
                                    ascending=[False, True, True, True])
    out = out_dir(args)
    written: list[Path] = []
    write_table(res.routes, out / "routes.csv", written)
    write_table(res.routes, out / "routes.geojson", written)
    write_table(res.corridors, out / "corridors.csv", written)
    write_table(res.countries, out / "countries.csv", written)
    write_table(res.edges, out / "flows_edges.csv", written)
    write_table(res.edges, out / "flows_edges.geojson", written)
    write_table(res.crossings, out / "flows_crossings.csv", written)
    exits = exit_shares(G, res.routes)
    write_table(exits.reset_index(), out / "exits.csv", written)
    print(f"paths {G.graph.get('scenario', '')}: {len(res.routes)} routes for "
          f"{res.routes.groupby(['origin', 'market']).ngroups} pairs, weight {args.weight}, "
          f"method {res.method}; routed flow {res.total_flow:.1f}, unserved "
          f"{res.unserved_flow:.1f}")
    print_table("Corridor shares of the modelled flow", res.corridors, ["flow", "share"],
                len(res.corridors), {"flow": ".1f", "share": ".1%"})
    print_table("Where the flow leaves its origin country", exits.reset_index(),
                ["from_country", "into", "flow", "share"], len(exits),
                {"flow": ".1f", "share": ".1%"})
    print_table(f"Top {args.top} routes by flow", routes,
                ["flow", "corridor", "n_crossings", "length_km", "time_h", "p_undetected",
                 "countries"], args.top,
                {"flow": ".1f", "length_km": ".0f", "time_h": ".0f", "p_undetected": ".3f"})
    print_table(f"Top {args.top} crossings by assigned flow", res.crossings,
                ["rank", "name", "flow", "share"], args.top, {"flow": ".1f", "share": ".1%"})
    print()
    print_written(written)
    return 0
