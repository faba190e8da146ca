"""``routes uncertainty``: Monte-Carlo rank stability of the crossings, locally or on Dask."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from ..io import atomic_write_text
from ..network import network_from_data
from ..uncertainty.uncertainty import (
    DEFAULT_SEED,
    WEIGHTS,
    load_ranges,
    ranges_from_cost_model,
    rank_stability,
)
from ._common import (
    MAX_RUNS,
    MAX_SEED,
    MAX_TOP,
    add_data_args,
    add_engine_arg,
    add_output_args,
    clamp_budget,
    float_range,
    int_range,
    load_inputs,
    out_dir,
    print_table,
    print_written,
    write_table,
)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "uncertainty", help="Monte-Carlo rank stability of the crossings (local or Dask)",
        description="Draw the uncertain cost-model parameters N times (multiplicative uniform "
                    "ranges of the cost model's [uncertainty] table, or --ranges: p_detect and "
                    "delay_h per crossing, speed_kmh per mode, hours_per_risk global), "
                    "recompute the flow betweenness of every crossing in each run and report "
                    "each crossing's baseline rank, median rank, 5-95%% interval and share of "
                    "runs in the top K, and each run's Kendall tau to the baseline. Seeded: "
                    "the same --seed gives the same tables whatever the number of workers. "
                    "Runs on local Dask worker processes (--workers), an existing Dask cluster "
                    "(--scheduler) or in-process (--workers 0). Writes to OUT/<scenario>/: "
                    "uncertainty_crossings.csv, uncertainty_runs.csv, uncertainty_ranks.csv, "
                    "uncertainty_failures.csv, uncertainty_summary.json. Exit code 1 when a "
                    "run failed (unless --allow-failures).")
    add_data_args(p)
    g = p.add_argument_group("Monte Carlo")
    g.add_argument("--runs", type=int_range(1, MAX_RUNS), default=1000, metavar="N",
                   help="number of runs (default: %(default)s)")
    g.add_argument("--seed", type=int_range(0, MAX_SEED), default=DEFAULT_SEED, metavar="S",
                   help="master seed; run i uses SeedSequence(S).spawn(N)[i] "
                        "(default: %(default)s)")
    g.add_argument("--top", type=int_range(1, MAX_TOP), default=10, metavar="K",
                   help="report the share of runs in which each crossing is in the top K "
                        "(default: %(default)s)")
    g.add_argument("--ranges", type=Path, default=None, metavar="FILE",
                   help="TOML with an [uncertainty] table (and [uncertainty.crossings.<id>] "
                        "tables for per-crossing p_detect/delay_h ranges); its ranges replace "
                        "the cost model's (and the scenario's) for the parameters it names")
    g.add_argument("--weight", choices=WEIGHTS, default="cost",
                   help="edge weight the routes minimise (default: %(default)s)")
    g.add_argument("--priorities", type=float_range(0), default=None, metavar="BUDGET",
                   help="also run greedy border-post priorities with this budget in every run "
                        "(slow; reports how often each crossing is chosen)")
    g.add_argument("--objective", choices=("flow", "single"), default="flow",
                   help="objective of --priorities (default: %(default)s)")
    add_engine_arg(g, what="the flow betweenness")
    x = p.add_argument_group("execution").add_mutually_exclusive_group()
    x.add_argument("--workers", type=int_range(0, MAX_WORKERS), default=None, metavar="N",
                   help="Dask LocalCluster of N worker processes on 127.0.0.1; 0 runs "
                        "in-process (default: the number of CPUs)")
    x.add_argument("--scheduler", type=scheduler_address, default=None, metavar="ADDR",
                   help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(its workers need routes installed)")
    e = p.add_argument_group("execution")
    e.add_argument("--chunk-size", type=int_range(1, MAX_RUNS), default=None, metavar="N",
                   help="runs per Dask task (default: about ten tasks per worker); results do "
                        "not depend on it")
    e.add_argument("--allow-failures", action="store_true",
                   help="exit 0 even if some runs failed (they are still listed)")
    e.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_output_args(p)
    return p


#: Most local Dask worker processes.
MAX_WORKERS = 256


def scheduler_address(text: str) -> str:
    """Return ``text`` if it is a Dask scheduler address (an argparse type).

    ``tcp://host:port``, ``host:port``, ``tls://...``; anything else is refused at once.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, loc = parse_address(text)
        if scheme in ("tcp", "tls"):
            parse_host_port(loc)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not a Dask scheduler address ({exc}); e.g. tcp://10.0.0.5:8786") from None
    return text


def _has_uncertainty(path: Path) -> bool:
    try:
        return "uncertainty" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if hasattr(x, "item"):
        return _jsonable(x.item())
    return x


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    ds, cm, sc = load_inputs(args)
    G = network_from_data(ds, cm, sc)
    ranges = ranges_from_cost_model(cm)
    if args.scenario is not None and _has_uncertainty(Path(args.scenario)):
        # A scenario's own [uncertainty] table refines the cost model's ranges, and --ranges
        # refines both.
        ranges = load_ranges(args.scenario, base=ranges)
    if args.ranges is not None:
        ranges = load_ranges(args.ranges, base=ranges)
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    if args.priorities is not None:
        args.priorities = clamp_budget(G, cm, args.priorities, command="uncertainty")
    out = out_dir(args)  # checked before the runs
    # A bar in a terminal; in a log, one plain line (no carriage-return frames).
    bar = not args.no_progress and sys.stderr.isatty()
    if not args.no_progress and not bar:
        print(f"uncertainty: {args.runs} runs ...", file=sys.stderr, flush=True)
    res = rank_stability(G, cm, runs=args.runs, seed=args.seed, top_k=args.top,
                         weight=args.weight, ranges=ranges, workers=workers,
                         scheduler=args.scheduler, chunk_size=args.chunk_size,
                         priorities=args.priorities, objective=args.objective,
                         engine=args.engine, progress=bar,
                         on_failure="report")
    written: list[Path] = []
    write_table(res.crossings, out / "uncertainty_crossings.csv", written)
    write_table(res.runs, out / "uncertainty_runs.csv", written)
    write_table(res.ranks, out / "uncertainty_ranks.csv", written)
    write_table(res.failures, out / "uncertainty_failures.csv", written)
    summary = res.summary()
    written.append(atomic_write_text(out / "uncertainty_summary.json",
                                     json.dumps(_jsonable(summary), indent=2) + "\n"))
    p = res.params
    tau = summary["kendall_tau"]
    ok = args.runs - len(res.failures)
    print(f"uncertainty {G.graph.get('scenario', '')}: {ok} of {args.runs} runs (seed "
          f"{p['seed']}, weight {args.weight}) in {p['runs_s']:.1f} s, {p['scheduler']}, "
          f"chunks of {p['chunk_size']}; {p['crossings_ranked']} crossings ranked")
    if ok:
        print(f"  Kendall tau of the runs to the baseline: median {tau['median']:.3f} "
              f"(5-95%: {tau['p05']:.3f} to {tau['p95']:.3f})")
    cols = ["name", "baseline_rank", "median_rank", "rank_p05", "rank_p95", "top_k_share"]
    fmt = {"median_rank": ".1f", "rank_p05": ".1f", "rank_p95": ".1f", "top_k_share": ".2f"}
    if args.priorities is not None:
        cols.append("priority_share")
        fmt["priority_share"] = ".2f"
    print_table("Five least stable crossings (widest 5-95% rank interval)",
                res.least_stable(5), cols, 5, fmt)
    print_table(f"Top {args.top} crossings in the baseline (top_k_share: runs in the top "
                f"{args.top})", res.crossings, cols, args.top, fmt)
    print()
    print_written(written)
    if len(res.failures):
        f = res.failures
        print(f"routes uncertainty: {len(f)} of {args.runs} runs failed:", file=sys.stderr)
        for r, e in list(zip(f["run"], f["error"]))[:10]:
            print(f"  run {r}: {e}", file=sys.stderr)
        if len(f) > 10:
            print(f"  ... and {len(f) - 10} more (uncertainty_failures.csv)", file=sys.stderr)
        return 0 if args.allow_failures else 1
    return 0
