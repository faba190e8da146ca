"""``routes timeline``: the network year by year (or quarter by quarter), its measures, events."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ..changes.timeline import (
    STEPS,
    observed_seizures,
    timeline_dates,
    timeline_events,
    timeline_frame,
    timeline_snapshots,
)
from ..costs import WEIGHTS
from ..io import write_csv
from ..report import timeline_charts
from ..settings import DATA_DIR
from ._common import add_engine_arg, add_output_args, load_inputs, out_dir, print_table

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "timeline", help="the routes year by year: corridor shares, transit countries, top "
                         "crossings, detected share, events, time-slider map",
        description="Build the network as of each date from --from to --to (mid-year dates "
                    "YYYY-06-30 with --step year, quarter ends with --step quarter, then the "
                    "last date of the range) with that date's crossing statuses and that "
                    "year's supply and demand, and run the single-date analyses on it: "
                    "corridor shares (as `routes paths`), transit shares and crossings' flow "
                    "betweenness (as `routes centrality`), the detected share (as `routes "
                    "priorities --budget 0 --objective flow`). Writes to OUT/<scenario>/: "
                    "timeline.csv (tidy: date, measure, key, value), events.csv (status "
                    "changes and supply or demand shifts between consecutive dates, with "
                    "sources), chart_timeline_corridors.png, chart_timeline_crossings.png and "
                    "timeline.html (a map with a date slider).")
    g = p.add_argument_group("input")
    g.add_argument("--data", type=Path, default=DATA_DIR, metavar="DIR",
                   help="folder with the data files (default: the shipped data, %(default)s)")
    g.add_argument("--cost-model", type=Path, default=None, metavar="FILE",
                   help="cost model TOML (default: DIR/cost_model.toml, else the shipped one)")
    g.add_argument("--scenario", type=Path, default=None, metavar="FILE",
                   help="scenario TOML overlay applied on every date (default: the baseline)")
    g.add_argument("--seizures", type=Path, default=None, metavar="FILE",
                   help="reported seizures by country and year, set beside the modelled ones "
                        "(default: DIR/seizures.csv when present)")
    g = p.add_argument_group("timeline")
    g.add_argument("--from", dest="start", default=None, metavar="YEAR|DATE",
                   help="first year or date (default: the first date the data covers, 2018)")
    g.add_argument("--to", dest="end", default=None, metavar="YEAR|DATE",
                   help="last year or date (default: the last date the data covers)")
    g.add_argument("--step", choices=STEPS, default="year",
                   help="one date per year (June 30) or per quarter (default: %(default)s)")
    g.add_argument("--weight", choices=WEIGHTS[::-1], default="cost",
                   help="edge weight that defines the best routes (default: %(default)s)")
    g.add_argument("--top", type=int, default=8, metavar="N",
                   help="crossings in the chart and the printed table (default: %(default)s)")
    add_engine_arg(g)
    g.add_argument("--offline", action="store_true",
                   help="the time-slider map as one self-contained file (no requests outside)")
    g.add_argument("--no-map", action="store_true", help="leave the time-slider map out")
    g.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_output_args(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    args.as_of = None  # each date is its own as-of
    ds, cm, sc = load_inputs(args)
    dates = timeline_dates(ds, start=args.start, end=args.end, step=args.step)  # checks range
    with tqdm(total=len(dates), file=sys.stderr, disable=args.no_progress, unit="date",
              bar_format="{desc:<22}{bar:30} {n_fmt}/{total_fmt} [{elapsed}]") as bar:
        def done(d) -> None:
            bar.set_description_str(f"timeline: {d}")
            bar.update(1)
        snaps = timeline_snapshots(ds, cm, sc, dates=dates, weight=args.weight,
                                   engine=args.engine, progress=done)
    observed = observed_seizures(args.seizures or Path(args.data) / "seizures.csv")
    frame = timeline_frame(snaps, observed)
    events = timeline_events(ds, dates)
    out = out_dir(args)
    written = [write_csv(frame, out / "timeline.csv"), write_csv(events, out / "events.csv")]
    written += timeline_charts(frame, out, top=args.top, names=_names(snaps))
    if not args.no_map:
        from ..maps import timeline_map, write_map

        m = timeline_map(snaps, events, countries=ds.countries, offline=args.offline)
        written.append(write_map(m, out / "timeline.html"))
    shares = frame[frame["measure"] == "corridor_share"].pivot(
        index="date", columns="key", values="value")
    print(f"timeline {snaps[-1].G.graph.get('scenario', '')}: {len(dates)} dates "
          f"({dates[0]} to {dates[-1]}, step {args.step}); {len(events)} events")
    print_table("Corridor shares of the modelled flow", shares, list(shares.columns),
                len(shares), {c: ".1%" for c in shares.columns})
    det = frame[frame["measure"] == "detected_share"].set_index("date")[["value"]]
    print_table("Detected share (no upgrade)", det, ["value"], len(det), {"value": ".4f"})
    ev = events.assign(change=events["change"].map(lambda x: "" if pd.isna(x) else f"{x:+.1f}"))
    print_table("Events between consecutive dates", ev.set_index("date"),
                ["kind", "name", "from", "to", "effective"], len(ev))
    print()
    for p in written:
        print(f"  wrote {p}")
    return 0


def _names(snaps) -> dict[str, str]:
    G = snaps[-1].G
    return {n: str(d.get("name", n)) for n, d in G.nodes(data=True)}
