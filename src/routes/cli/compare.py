"""``routes compare``: what changes between two scenarios."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..comparison.compare import compare_scenarios
from ..costs import WEIGHTS
from ..io import check_output_dir
from ..network import network_from_data
from ..priorities.interdiction import METHODS, OBJECTIVES
from ..scenario import BASELINE, Scenario, load_scenario
from ._common import (
    MAX_TOP,
    add_data_args,
    add_engine_arg,
    add_output_args,
    clamp_budget,
    compare_label,
    float_range,
    int_range,
    load_inputs,
    print_table,
    print_written,
    write_table,
)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "compare", help="compare two scenarios: routes, corridor shares, chokepoints, "
                        "priorities",
        description="Build the network under scenarios A and B (TOML files, or the word "
                    "'baseline') and compare them: the best route of each origin-market pair, "
                    "corridor shares of the assigned flow, crossing flows and closure impact, "
                    "and the border posts an interdiction budget would upgrade. Writes to "
                    "OUT/compare_<A>_vs_<B>/: compare_summary.csv, compare_routes.csv, "
                    "compare_corridors.csv, compare_crossings.csv, compare_priorities.csv.")
    p.add_argument("scenario_a", metavar="A.toml", help="scenario A (or 'baseline')")
    p.add_argument("scenario_b", metavar="B.toml", help="scenario B (or 'baseline')")
    add_data_args(p, scenario=False)
    g = p.add_argument_group("analysis")
    g.add_argument("--weight", choices=WEIGHTS[::-1], default="cost",
                   help="route weight of routes, flows and closure impact "
                        "(default: %(default)s; priorities always use risk)")
    g.add_argument("--budget", type=float_range(0), default=3.0, metavar="N",
                   help="interdiction budget for the priorities (default: %(default)s)")
    g.add_argument("--method", choices=METHODS, default="exact",
                   help="interdiction method (default: %(default)s)")
    g.add_argument("--objective", choices=OBJECTIVES, default="flow",
                   help="interdiction objective (default: %(default)s)")
    g.add_argument("--top", type=int_range(0, MAX_TOP), default=10, metavar="N",
                   help="rows to print (default: %(default)s)")
    add_engine_arg(g)
    add_output_args(p)
    return p


def _scenario(arg: str) -> Scenario:
    return BASELINE if arg == "baseline" else load_scenario(arg)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    ds, cm, _ = load_inputs(args)
    sa, sb = _scenario(args.scenario_a), _scenario(args.scenario_b)
    out = check_output_dir(Path(args.out) / compare_label(args.scenario_a, args.scenario_b))
    GA, GB = network_from_data(ds, cm, sa), network_from_data(ds, cm, sb)
    args.budget = clamp_budget([GA, GB], cm, args.budget, command="compare")
    res = compare_scenarios(GA, GB, cm, budget=args.budget, weight=args.weight,
                            objective=args.objective, method=args.method, engine=args.engine)
    written: list[Path] = []
    write_table(res.summary, out / "compare_summary.csv", written)
    write_table(res.routes, out / "compare_routes.csv", written)
    write_table(res.corridors, out / "compare_corridors.csv", written)
    write_table(res.crossings, out / "compare_crossings.csv", written)
    write_table(res.priorities, out / "compare_priorities.csv", written)
    a, b = res.names
    print(f"compare A = {a} vs B = {b}: weight {args.weight}; interdiction {args.method} "
          f"{args.objective}, budget {args.budget:g}")
    summary = res.summary.copy()
    for c in summary:
        summary[c] = summary[c].map(lambda x: f"{x:.4g}" if isinstance(x, float) else x)
    print_table("Summary", summary, ["a", "b", "change"], len(summary))
    moved = res.routes[~res.routes["same_route"]]
    print_table(f"Origin-market pairs whose best route changes ({len(moved)} of "
                f"{len(res.routes)})", moved,
                ["corridor_a", "corridor_b", "cost_change", "risk_change"], args.top,
                {"cost_change": "+.1f", "risk_change": "+.4f"})
    print_table("Corridor shares of the assigned flow", res.corridors,
                ["share_a", "share_b", "share_change"], len(res.corridors),
                {"share_a": ".1%", "share_b": ".1%", "share_change": "+.1%"})
    print_table(f"Top {args.top} crossings by change in flow share", res.crossings,
                ["name", "status_a", "status_b", "share_a", "share_b", "vital_rank_a",
                 "vital_rank_b"], args.top, {"share_a": ".1%", "share_b": ".1%"})
    print_table(f"Top {args.top} posts to upgrade in B (interdiction value), ranks in A and B",
                res.priorities, ["name", "interdiction_rank_a", "interdiction_rank_b",
                                 "in_solution_a", "in_solution_b"], args.top,
                {"interdiction_rank_a": ".1f", "interdiction_rank_b": ".1f"})
    print()
    print_written(written)
    return 0
