"""``routes priorities``: which border posts to upgrade within a budget, with re-routing."""

from __future__ import annotations

import argparse
import math
import textwrap
from pathlib import Path

from ..comparison.compare import CRITERIA, priority_table, rank_correlations
from ..costs import WEIGHTS
from ..network import network_from_data
from ..priorities.interdiction import (
    MAX_CURVE_BUDGETS,
    METHODS,
    OBJECTIVES,
    budget_curve_solutions,
    curve_budgets,
    post_effectiveness,
    upgrade_table,
)
from ._common import (
    MAX_TOP,
    Stages,
    add_data_args,
    add_engine_arg,
    add_output_args,
    add_step,
    add_time_limit,
    announce_curve,
    clamp_budget,
    float_range,
    int_range,
    load_inputs,
    out_dir,
    points,
    print_table,
    print_written,
    write_table,
)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "priorities", help="border posts to upgrade within a budget (interdiction with "
                           "re-routing), budget curve, priority comparison",
        description="Choose the border posts to upgrade within --budget (in upgrade-cost "
                    "units, cost model classes or crossing rows) so as to maximise the least "
                    "route risk from the origins to the markets (--objective single, shortest-"
                    "path interdiction, Israeli & Wood 2002) or the expected share of the flow "
                    "detected (--objective flow), traffickers re-routing on least-risk routes. "
                    "--method exact solves the MILP with HiGHS (and reports the greedy "
                    "heuristic's gap); greedy upgrades by the best gain per cost. Writes to "
                    f"OUT/<scenario>/: priorities_curve.csv (budgets 0..N: every whole budget, or "
                    f"{MAX_CURVE_BUDGETS} evenly spaced when there would be more; --step to "
                    "choose), priorities_posts.csv "
                    "(the chosen posts), priorities_table.csv/.geojson (every post ranked by "
                    "flow betweenness, closure impact and interdiction value), "
                    "priorities_correlations.csv, priorities_upgrades.csv.")
    add_data_args(p)
    g = p.add_argument_group("interdiction")
    g.add_argument("--budget", type=float_range(0), required=True, metavar="N",
                   help="budget in upgrade-cost units (a budget above the cost of upgrading "
                        "every post is that cost); the curve covers 0, 1, ..., N, or, when "
                        f"that is more than {MAX_CURVE_BUDGETS} budgets, {MAX_CURVE_BUDGETS} "
                        "evenly spaced budgets from 0 to N (one exact solve each)")
    add_step(g)
    g.add_argument("--method", choices=METHODS, default="exact",
                   help="exact MILP or greedy heuristic (default: %(default)s)")
    g.add_argument("--objective", choices=OBJECTIVES, default="flow",
                   help="single: least route risk over all origin-market pairs; flow: "
                        "expected detected share of the flow (default: %(default)s)")
    g.add_argument("--weight", choices=WEIGHTS[::-1], default="risk",
                   help="route weight of the flow-betweenness and closure rankings "
                        "(default: %(default)s, the interdiction evader's)")
    add_time_limit(g)
    g.add_argument("--no-curve", action="store_true",
                   help="solve only at --budget, not at the budgets 0..N")
    g.add_argument("--no-progress", action="store_true",
                   help="no progress on stderr (a bar in a terminal, one line per stage "
                        "elsewhere)")
    g.add_argument("--top", type=int_range(0, MAX_TOP), default=10, metavar="N",
                   help="rows to print (default: %(default)s)")
    add_engine_arg(g, what="the ranking path kernels")
    add_output_args(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    out = out_dir(args)  # checked before the solves
    plan = ["load data", "network", "budget curve", "priority table", "write"]
    with Stages("priorities", plan, enabled=not args.no_progress) as progress:
        ds, cm, sc = load_inputs(args)
        progress.done("load data")
        G = network_from_data(ds, cm, sc)
        args.budget = clamp_budget(G, cm, args.budget, command="priorities")
        progress.done("network")
        budgets = ([args.budget] if args.no_curve else
                   curve_budgets(G, args.budget, step=args.step, cm=cm))
        announce_curve(budgets, method=args.method, command="priorities", step=args.step,
                       enabled=not args.no_progress)
        # One solve per budget: the solution at --budget is the curve's last row.
        curve, solutions = budget_curve_solutions(
            G, budgets, method=args.method, objective=args.objective, cm=cm,
            time_limit=args.time_limit, progress=progress.note)
        sol = solutions[float(args.budget)]
        progress.done("budget curve")
        posts = post_effectiveness(G, sol, cm=cm)
        table = priority_table(G, cm, weight=args.weight, objective=args.objective,
                               solution=sol, engine=args.engine)
        corr = rank_correlations(table, CRITERIA)
        progress.done("priority table")
        written: list[Path] = []
        write_table(curve, out / "priorities_curve.csv", written)
        write_table(posts, out / "priorities_posts.csv", written)
        write_table(table, out / "priorities_table.csv", written)
        write_table(points(G, table), out / "priorities_table.geojson", written)
        write_table(corr, out / "priorities_correlations.csv", written)
        write_table(upgrade_table(G, cm), out / "priorities_upgrades.csv", written)
        progress.done("write")
    what = ("least route risk" if args.objective == "single"
            else "expected detected share of the flow")
    status = "optimal" if sol.optimal else ("heuristic" if args.method == "greedy"
                                             else "NOT proven optimal (time limit)")
    print(f"priorities {G.graph.get('scenario', '')}: {args.method} ({status}), objective "
          f"{args.objective} ({what}); {len(table)} upgradable posts; budget {args.budget:g}")
    print(f"  value {sol.base_value:.4f} -> {sol.value:.4f} (gain {sol.gain:+.4f}); "
          f"p_undetected {_p_undetected(sol.base_value, args.objective):.4f} -> "
          f"{sol.p_undetected:.4f}; cost used {sol.cost:g}")
    if sol.route:
        print(f"  evader's least-risk route after the upgrades: {' > '.join(sol.route)}")
    view = curve.copy()
    cols = ["budget", "value", "p_undetected", "marginal_gain", "gain_per_cost"]
    if "greedy_gap_pct" in view:
        cols.append("greedy_gap_pct")
    print_table("Budget curve (value = " + what + ")", view.set_index("budget"), cols[1:],
                len(view), {"value": ".4f", "p_undetected": ".4f", "marginal_gain": "+.4f",
                            "gain_per_cost": ".4f", "greedy_gap_pct": ".1f"})
    _print_curve_posts(G, curve)
    print_table(f"Chosen posts at budget {args.budget:g} (contribution = value lost without "
                "the post)", posts, ["name", "upgrade_cost", "gain_alone", "contribution",
                                     "contribution_per_cost"], len(posts),
                {"gain_alone": ".4f", "contribution": ".4f", "contribution_per_cost": ".4f"})
    print("\n" + textwrap.fill(
        f"Ranks (1 = first; ties share their mean rank), over the {len(table)} upgradable "
        "posts only: flow_rank by flow betweenness (flow on the best routes), so it can "
        "differ from `routes centrality`'s rank over all crossings; vital_rank by the flow "
        "left without a route if closed, then the cost rise; interdiction_rank by the gain "
        "of upgrading the post alone, traffickers re-routing.", width=100))
    print_table(f"Top {args.top} posts by interdiction value, with their ranks by the other "
                "criteria",
                table, ["name", "interdiction_gain", *CRITERIA, "in_solution"], args.top,
                {"interdiction_gain": ".4f", "flow_rank": ".1f", "vital_rank": ".1f",
                 "interdiction_rank": ".1f"})
    print_table("Rank correlations between criteria", corr.set_index(["a", "b"]),
                ["n", "kendall_tau", "spearman_rho"], len(corr),
                {"kendall_tau": ".3f", "spearman_rho": ".3f"})
    print()
    print_written(written)
    return 0


def _print_curve_posts(G, curve) -> None:
    """Print every post chosen at each budget of the curve, wrapped, never truncated."""
    print("\nPosts chosen at each budget")
    for b, posts in zip(curve["budget"], curve["posts"]):
        names = ([str(G.nodes[p].get("name") or p) for p in posts.split(";")]
                 if isinstance(posts, str) and posts else [])
        text = "; ".join(names) if names else "-"
        print(textwrap.fill(text, width=100, initial_indent=f"  {b:g}: ",
                            subsequent_indent="      "))


def _p_undetected(value: float, objective: str) -> float:
    return math.exp(-value) if objective == "single" else 1.0 - value
