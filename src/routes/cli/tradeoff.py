"""``routes tradeoff``: detection against the delay to legitimate traffic, as a Pareto front."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..priorities.curves import MAX_CURVE_BUDGETS
from ._common import (
    Stages,
    add_data_args,
    add_output_args,
    add_time_limit,
    clamp_budget,
    float_range,
    load_inputs,
    out_dir,
    print_table,
    print_written,
    write_table,
)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "tradeoff", help="Pareto fronts of posts: detected share against the delay and cost "
                         "to legitimate traffic",
        description="The exact Pareto front, at each budget up to --budget (or at "
                    "--budget alone with --only-budget), of the expected detected share "
                    "of the trafficked flow (traffickers re-routing, as `routes priorities "
                    "--objective flow`) against the added cost (USD a day) of the upgrades' "
                    "delay to the legitimate trucks and travellers crossing the chosen posts "
                    "(border_traffic.csv, sourced or imputed; queueing by Kingman's rule; the "
                    "cost model's [legit] table). Epsilon-constraint over the exact MILP: each "
                    "point proven optimal, dominated points removed. Writes to OUT/<scenario>/: "
                    "pareto.csv (budget, detected_share, legit_delay_h_per_day, "
                    "legit_cost_usd_per_day, posts, optimal, ...), pareto.png (the chart), "
                    "tradeoff_posts.csv and "
                    ".geojson (every post's traffic, basis and added delay). Prints each "
                    "front and its knee.")
    add_data_args(p)
    g = p.add_argument_group("trade-off")
    g.add_argument("--budget", type=float_range(0), required=True, metavar="N",
                   help="budget in upgrade-cost units")
    g.add_argument("--upgrade", default="physical", metavar="TYPE",
                   help="upgrade type of the cost model's [legit.upgrades] (shipped: physical, "
                        "targeted = risk-based; default: %(default)s)")
    g.add_argument("--only-budget", action="store_true",
                   help="the front at N alone (default: a front at each budget up to N, the "
                        "budgets of `routes priorities`' curve: 1, 2, ..., N, or "
                        f"{MAX_CURVE_BUDGETS} evenly spaced budgets when that is more)")
    add_time_limit(g)
    g.add_argument("--no-progress", action="store_true",
                   help="no progress on stderr (by default: each budget and each point "
                        "of its front as it is solved)")
    add_output_args(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    from .._errors import RoutesError
    from ..network import network_from_data
    from ..priorities.legit import graph_for_upgrade, legit_params, post_delays, post_traffic
    from ..priorities.tradeoff import front_table, pareto_fronts
    from ..report._tradeoff import front_chart
    from ._common import points

    out = out_dir(args)
    plan = ["load data", "network", "front", "write"]
    with Stages("tradeoff", plan, enabled=not args.no_progress) as progress:
        ds, cm, sc = load_inputs(args)
        params = legit_params(cm)
        if args.upgrade not in params.upgrades:
            raise RoutesError(f"unknown upgrade type {args.upgrade!r}; the cost model has "
                              f"{', '.join(sorted(params.upgrades))}")
        progress.done("load data")
        G = graph_for_upgrade(network_from_data(ds, cm, sc), params, args.upgrade)
        budget = clamp_budget(G, cm, args.budget, command="tradeoff")
        traffic = post_traffic(ds.crossings, ds.border_traffic, params)
        delays = post_delays(traffic, params, args.upgrade)
        progress.done("network")
        pts = pareto_fronts(G, budget, delays, cm=cm, every_budget=not args.only_budget,
                            time_limit=args.time_limit, progress=progress.note)
        table = front_table(pts, delays)
        progress.done("front")
        posts = traffic.join(delays)
        posts.insert(0, "name", [G.nodes[n].get("name", n) if n in G else n
                                 for n in posts.index])
        written: list[Path] = []
        write_table(table, out / "pareto.csv", written)
        written.append(front_chart(table, out / "pareto.png", budget=budget))
        write_table(posts.reset_index(), out / "tradeoff_posts.csv", written)
        write_table(points(G, posts[posts.index.isin(list(G.nodes))]),
                    out / "tradeoff_posts.geojson", written)
        progress.done("write")
    on = posts[posts.index.isin([n for n, d in G.nodes(data=True)
                                 if d.get("kind") == "crossing" and d.get("status") != "closed"])]
    src = int((on["trucks_basis"] != "imputed").sum())
    srcp = int((on["people_basis"] != "imputed").sum())
    print(f"tradeoff {G.graph.get('scenario', '')}: upgrade {args.upgrade}, budget {budget:g}; "
          f"{len(on)} upgradable posts: trucks sourced at {src} (imputed at {len(on) - src}), "
          f"people sourced at {srcp} (imputed at {len(on) - srcp})")
    for b in sorted(set(table["budget"])):
        view = table[table["budget"] == b].reset_index(drop=True)
        print_table(f"Pareto front at budget {b:g} (knee marked)", view,
                    ["detected_share", "legit_delay_h_per_day", "legit_cost_usd_per_day",
                     "knee", "posts"], len(view),
                    {"detected_share": ".6f", "legit_delay_h_per_day": ",.0f",
                     "legit_cost_usd_per_day": ",.0f"})
        knee = view[view["knee"]]
        if len(knee):
            k = knee.iloc[0]
            print(f"  knee: detected {k['detected_share']:.6f} at USD "
                  f"{k['legit_cost_usd_per_day']:,.0f} a day: {k['posts'] or '-'}")
    print()
    print_written(written)
    return 0
