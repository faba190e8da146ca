"""``routes chokepoints``: articulation points, bridges, minimum cuts, vital crossings."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .._errors import RoutesError
from ..crossings.chokepoints import (
    articulation_points,
    bridges,
    chokepoint_table,
    min_edge_cut,
    min_node_cut,
)
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
        "chokepoints", help="crossings whose closure cuts or lengthens the routes; cuts, bridges",
        description="Close each open crossing in turn and measure the rise in flow-weighted "
                    "route cost (by --weight) and the flow that can no longer reach any market; "
                    "add flow betweenness, articulation points and bridges of the "
                    "origin-to-market subgraph, and minimum crossing and corridor cuts between "
                    "all origins and all markets. Writes to OUT/<scenario>/: chokepoints.csv, "
                    "chokepoints.geojson, cuts.csv (every cut, bridge and articulation point).")
    add_analysis_args(p)
    return p


def _cuts(G, table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    try:
        for n in min_node_cut(G):
            rows.append({"kind": "min_crossing_cut", "id": n, "u": None, "v": None})
    except RoutesError:
        pass
    for r in min_edge_cut(G).itertuples():
        rows.append({"kind": "min_edge_cut", "id": r.corridor_id, "u": r.u, "v": r.v})
    for r in bridges(G).itertuples():
        rows.append({"kind": "bridge", "id": r.corridor_id, "u": r.u, "v": r.v})
    for n in articulation_points(G).index:
        rows.append({"kind": "articulation_point", "id": n, "u": None, "v": None})
    df = pd.DataFrame(rows, columns=["kind", "id", "u", "v"])
    df["name"] = [G.nodes[i].get("name") if i in G else None for i in df["id"]]
    return df


def by_weight(table: pd.DataFrame, weight: str) -> pd.DataFrame:
    """Name the closure-impact columns by the weight measured (``risk_rise_pct``, ...).

    >>> by_weight(pd.DataFrame(columns=["cost_rise_pct", "name"]), "risk").columns.tolist()
    ['risk_rise_pct', 'name']
    """
    names = {"base_cost": f"base_{weight}", "cost_after": f"{weight}_after",
             "cost_rise": f"{weight}_rise", "cost_rise_pct": f"{weight}_rise_pct"}
    return table if weight == "cost" else table.rename(columns=names)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    G = load_network(args)
    table = by_weight(chokepoint_table(G, weight=args.weight, engine=args.engine), args.weight)
    cuts = _cuts(G, table)
    out = out_dir(args)
    written: list[Path] = []
    write_table(table, out / "chokepoints.csv", written)
    write_table(points(G, table), out / "chokepoints.geojson", written)
    write_table(cuts, out / "cuts.csv", written)
    counts = cuts["kind"].value_counts()
    print(f"chokepoints {G.graph.get('scenario', '')}: weight {args.weight}; "
          f"{len(table)} crossings; minimum crossing cut {counts.get('min_crossing_cut', 0)}, "
          f"minimum corridor cut {counts.get('min_edge_cut', 0)}, bridges "
          f"{counts.get('bridge', 0)}, articulation points "
          f"{counts.get('articulation_point', 0)}")
    w = args.weight
    print_table(f"Top {args.top} crossings by closure impact", table,
                ["priority_rank", "name", "status", "unserved_flow", f"{w}_rise_pct",
                 "flow_betweenness", "in_min_cut"], args.top,
                {"unserved_flow": ".1f", f"{w}_rise_pct": ".1f", "flow_betweenness": ".1f"})
    cut = cuts[cuts["kind"] == "min_crossing_cut"]
    print_table("Minimum crossing cut (closing these disconnects every origin from every market)",
                cut.set_index("id"), ["name"], len(cut))
    print()
    print_written(written)
    return 0
