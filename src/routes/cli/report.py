"""``routes report``: the main job, from the data to a citable report folder."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from .._errors import RoutesError
from ..costs import WEIGHTS
from ..io import check_output_dir, dir_lock
from ..network import network_from_data
from ..priorities.interdiction import MAX_CURVE_BUDGETS, curve_budgets
from ..report import (
    DEFAULT_SEED,
    ReportOptions,
    analysis_stages,
    collect_results,
    write_report,
)
from ..report._compare import COMPARE_STAGES, write_compare_report
from ..report._write import WRITE_STAGES
from ..scenario import BASELINE, Scenario, load_scenario
from ._common import (
    MAX_RUNS,
    MAX_SEED,
    MAX_TOP,
    Stages,
    add_data_args,
    add_engine_arg,
    add_output_args,
    add_step,
    announce_curve,
    clamp_budget,
    compare_label,
    float_range,
    int_range,
    load_inputs,
    scenario_label,
)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "report", help="the main job: a complete, citable report of a scenario (or two)",
        description="Run every analysis on the data and write OUT/<scenario>/: index.html (the "
                    "network at a glance, chokepoint crossings and countries, corridor shares, "
                    "border-post priorities with the budget curve, charts, the embedded offline "
                    "map, a methods section generated from the cost model, provenance), "
                    "report.md, every table as CSV, report.gpkg (layers nodes, edges, crossings, "
                    "routes), chart_*.png, map.html and provenance.json. Tables, charts and the "
                    "GeoPackage are byte-identical between runs; the pages differ only in their "
                    "timestamp. "
                    "--compare A.toml B.toml writes OUT/compare_<A>_vs_<B>/ instead.")
    add_data_args(p)
    g = p.add_argument_group("report")
    g.add_argument("--compare", nargs=2, type=Path, default=None, metavar=("A.toml", "B.toml"),
                   help="compare two scenarios (either may be the word 'baseline')")
    g.add_argument("--weight", choices=WEIGHTS[::-1], default="cost",
                   help="edge weight that defines the best routes (default: %(default)s)")
    g.add_argument("--budget", type=float_range(0), default=10.0, metavar="N",
                   help="largest budget of the interdiction budget curve, in upgrade-cost "
                        "units; at most the cost of upgrading every post. The curve solves "
                        "every whole budget 0, 1, ..., N, or, when that is more than "
                        f"{MAX_CURVE_BUDGETS} budgets, {MAX_CURVE_BUDGETS} evenly spaced "
                        "budgets from 0 to N (default: %(default)g)")
    add_step(g)
    g.add_argument("--objective", choices=("single", "flow"), default="flow",
                   help="interdiction objective: least route risk, or expected detected share "
                        "of the flow (slower) (default: %(default)s)")
    g.add_argument("--runs", type=int_range(0, MAX_RUNS), default=200, metavar="N",
                   help="Monte-Carlo runs of the rank-stability analysis, when available "
                        "(default: %(default)s; 0 leaves it out)")
    g.add_argument("--seed", type=int_range(0, MAX_SEED), default=DEFAULT_SEED,
                   help="seed of every random draw (default: %(default)s)")
    g.add_argument("--top", type=int_range(0, MAX_TOP), default=15, metavar="N",
                   help="rows shown per table in the pages (the CSV files hold every row; "
                        "default: %(default)s)")
    add_engine_arg(g)
    g.add_argument("--no-map", action="store_true", help="leave the map out")
    g.add_argument("--no-timeline", action="store_true",
                   help="leave out \"How the routes changed\" (the network on each year's "
                        "mid-year date; needs the dated data files)")
    t = g.add_mutually_exclusive_group()
    t.add_argument("--tradeoff", type=float_range(0), default=None, metavar="N",
                   help="budget of \"Security and legitimate trade\", the Pareto front of "
                        "detection against the delay cost to legitimate traffic (as routes "
                        "tradeoff --only-budget N; default: the report's --budget)")
    t.add_argument("--no-tradeoff", action="store_true",
                   help="leave out \"Security and legitimate trade\"")
    g.add_argument("--no-progress", action="store_true",
                   help="no progress bar on stderr")
    add_output_args(p)
    return p


def _options(args: argparse.Namespace) -> ReportOptions:
    return ReportOptions(weight=args.weight, engine=args.engine, seed=args.seed,
                         runs=args.runs, budget=args.budget, objective=args.objective,
                         top=args.top, map=not args.no_map,
                         # a comparison shows no timeline: do not compute one per side
                         timeline=not args.no_timeline and not args.compare,
                         tradeoff_budget=0.0 if args.compare or args.no_tradeoff
                         else args.tradeoff, step=args.step)


def _scenario(path: Path) -> Scenario:
    return BASELINE if str(path) == "baseline" else load_scenario(path)


def _out(args: argparse.Namespace) -> Path:
    if args.compare:
        return Path(args.out) / compare_label(*args.compare)
    return Path(args.out) / scenario_label(args)


def _plan(args: argparse.Namespace, opts: ReportOptions) -> list[str]:
    """Return the stages of the run, in order (the progress names the one running)."""
    sides = 2 if args.compare else 1
    per_side = ["network", *(name for name, _ in analysis_stages(opts))]
    return ["load data", "scenarios", *per_side * sides,
            *(COMPARE_STAGES if args.compare else WRITE_STAGES)]


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    t0 = time.perf_counter()
    opts = _options(args)
    command = "routes " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if Path(sys.argv[0]).name == "routes" else None
    out = _out(args)
    # Check the output folder and take its lock before spending time on the analyses.
    if out.exists() and not out.is_dir():
        raise RoutesError(f"output folder {out} is a file, not a folder")
    check_output_dir(out.parent)
    with dir_lock(out), Stages("report", _plan(args, opts),
                               enabled=not args.no_progress) as progress:
        if args.compare:
            args.scenario = None
        ds, cm, sc = load_inputs(args)
        progress.done("load data")
        scenarios = [_scenario(p) for p in args.compare] if args.compare else [sc]
        progress.done("scenarios")
        results = []
        for s in scenarios:
            G = network_from_data(ds, cm, s)
            progress.done("network")
            if args.budget > 0:
                opts = replace(opts, budget=clamp_budget(G, cm, opts.budget, command="report"))
                announce_curve(curve_budgets(G, opts.budget, step=opts.step, cm=cm),
                               method="exact", command="report", step=opts.step,
                               enabled=not args.no_progress)
            results.append(collect_results(G, cm, scenario=s, dataset=ds, options=opts,
                                           progress=progress.done, detail=progress.note))
        if args.compare:
            files = write_compare_report(results[0], results[1], out,
                                         progress=progress.done, command=command)
        else:
            files = write_report(results[0], out, progress=progress.done, command=command)
    what = " vs ".join(r.scenario.label for r in results)
    print(f"report {what}: {len(files)} files in {out} ({time.perf_counter() - t0:.1f} s)")
    for f in files:
        print(f"  wrote {f}")
    print(f"open {out / 'index.html'}")
    return 0
