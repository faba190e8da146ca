"""``routes validate``: check every input file and report all problems at once."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..costs import load_cost_model
from ..geodata import border_distances, coverage, load_dataset
from ..settings import DATA_DIR, DEFAULT_COST_MODEL

_FILES = {"history": "status_history", "supply": "supply", "demand": "demand"}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "validate", help="check the input data; list every problem with file, row and field",
        description="Check countries.geojson, crossings.csv, places.csv, corridors.csv and the "
                    "cost model in DIR: schema and types, unique ids, ISO3 codes, coordinate "
                    "ranges, land crossings within 15 km of their shared border, places inside "
                    "their country, corridor endpoints, allowed modes and statuses, a source on "
                    "every row. Exit 0 when valid, 2 with every problem listed otherwise.")
    p.add_argument("data", nargs="?", type=Path, default=DATA_DIR, metavar="DIR",
                   help="data folder (default: %(default)s)")
    p.add_argument("--cost-model", type=Path, default=None, metavar="FILE",
                   help="cost model TOML (default: DIR/cost_model.toml, else the shipped one)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    cm_path = args.cost_model or (args.data / "cost_model.toml")
    if not Path(cm_path).exists():
        cm_path = DEFAULT_COST_MODEL
    cm = load_cost_model(cm_path)
    ds = load_dataset(args.data, classes=set(cm.classes))
    dist = border_distances(ds)
    worst = dist.index[0] if len(dist) else "-"
    print(f"{args.data}: valid")
    print(f"  countries  {len(ds.countries):5d}")
    print(f"  crossings  {len(ds.crossings):5d}  (worst distance to its border: "
          f"{dist.iloc[0] if len(dist) else 0:.1f} km, {worst})")
    print(f"  places     {len(ds.places):5d}")
    print(f"  corridors  {len(ds.corridors):5d}")
    for name, frame in (("history", ds.status_history), ("supply", ds.supply),
                        ("demand", ds.demand)):
        if frame is not None:
            print(f"  {name:<10s} {len(frame):5d}  ({Path(ds.files[_FILES[name]]).name})")
    first, last = coverage(ds)
    if first is not None:
        print(f"  dates      {first} to {last}")
    print(f"  cost model {cm.name} ({Path(cm_path).name})")
    return 0
