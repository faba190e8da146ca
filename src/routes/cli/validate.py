"""``routes validate``: check every input file and report all problems at once."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._errors import DataError, Problem
from ..costs import CostModel, load_cost_model
from ..flowfiles import read_observed
from ..geodata import Dataset, border_distances, coverage, load_dataset
from ..scenario import scenario_problems
from ..settings import DATA_DIR, DEFAULT_COST_MODEL

_FILES = {"history": "status_history", "supply": "supply", "demand": "demand", "hubs": "hubs",
          "stocks": "stocks", "traffic": "border_traffic"}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "validate", help="check the input data; list every problem with file, row and field",
        description="Check countries.geojson, crossings.csv, places.csv, corridors.csv, the "
                    "cost model and the scenarios (DIR/scenarios/*.toml, or --scenario) in one "
                    "pass: schema and types, unique ids, ISO3 codes, coordinate ranges, land "
                    "crossings within 15 km of their shared border, places inside their "
                    "country, corridor endpoints, allowed modes and statuses, a source on every "
                    "row, scenario keys, values and ids; the dated and flow files (status "
                    "history, supply, demand, hubs, stocks) and the observed files "
                    "(published_flows.csv, heroin_links.csv). Every problem found is listed (the "
                    "first 50 and the count of the rest), with the checks that could not run "
                    "and why. Exit 0 when valid, 2 otherwise.")
    p.add_argument("data", nargs="?", type=Path, default=DATA_DIR, metavar="DIR",
                   help="data folder (default: %(default)s)")
    p.add_argument("--cost-model", type=Path, default=None, metavar="FILE",
                   help="cost model TOML (default: DIR/cost_model.toml, else the shipped one)")
    p.add_argument("--scenario", type=Path, action="append", default=None, metavar="FILE",
                   help="scenario TOML to check against the data (repeatable; default: "
                        "every DIR/scenarios/*.toml)")
    p.add_argument("--observed", type=Path, default=None, metavar="DIR",
                   help="folder of the observed files published_flows.csv and "
                        "heroin_links.csv (default: DIR/../observed)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    cm_path = args.cost_model or (args.data / "cost_model.toml")
    if not Path(cm_path).exists():
        cm_path = DEFAULT_COST_MODEL
    problems: list[Problem] = []
    skipped: list[str] = []
    cm: CostModel | None = None
    ds: Dataset | None = None
    try:
        cm = load_cost_model(cm_path)
    except DataError as exc:
        problems += exc.problems
        skipped.append(f"crossing classes against the cost model ({Path(cm_path).name} could "
                       "not be read)")
    try:
        ds = load_dataset(args.data, classes=set(cm.classes) if cm else None)
    except DataError as exc:
        problems += exc.problems
        skipped += exc.skipped
    scenarios = args.scenario if args.scenario is not None else sorted(
        (Path(args.data) / "scenarios").glob("*.toml"))
    for path in scenarios:
        if ds is not None and cm is not None:
            problems += scenario_problems(path, ds, cm)
        else:
            problems += scenario_problems(path, None, None)
    if scenarios and (ds is None or cm is None):
        skipped.append("the scenarios' ids against the data (the data or the cost model have "
                       "problems)")
    observed_dir = args.observed or (Path(args.data).parent / "observed")
    observed = read_observed(observed_dir, problems) if observed_dir.is_dir() else {}
    if problems:
        raise DataError(problems, skipped=skipped)
    assert ds is not None and cm is not None
    dist = border_distances(ds)
    worst = dist.index[0] if len(dist) else "-"
    print(f"{args.data}: valid")
    print(f"  countries  {len(ds.countries):5d}")
    print(f"  crossings  {len(ds.crossings):5d}  (worst distance to its border: "
          f"{dist.iloc[0] if len(dist) else 0:.1f} km, {worst})")
    print(f"  places     {len(ds.places):5d}")
    print(f"  corridors  {len(ds.corridors):5d}")
    for name, frame in (("history", ds.status_history), ("supply", ds.supply),
                        ("demand", ds.demand), ("hubs", ds.hubs), ("stocks", ds.stocks),
                        ("traffic", ds.border_traffic)):
        if frame is not None:
            print(f"  {name:<10s} {len(frame):5d}  ({Path(ds.files[_FILES[name]]).name})")
    for name, frame in observed.items():
        label = {"published_flows": "published", "heroin_links": "links"}[name]
        print(f"  {label:<10s} {len(frame):5d}  ({observed_dir.name}/{name}.csv)")
    first, last = coverage(ds)
    if first is not None:
        print(f"  dates      {first} to {last}")
    print(f"  cost model {cm.name} ({Path(cm_path).name})")
    print(f"  scenarios  {len(scenarios):5d}")
    return 0
