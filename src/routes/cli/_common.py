"""Options and loading steps shared by the subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx

from ..costs import CostModel, load_cost_model
from ..geodata import Dataset, load_dataset
from ..network import network_from_data
from ..scenario import BASELINE, Scenario, load_scenario
from ..settings import DATA_DIR, DEFAULT_COST_MODEL, REPORTS_DIR

__all__ = ["add_data_args", "add_output_args", "load_inputs", "load_network", "scenario_label"]


def add_data_args(p: argparse.ArgumentParser, *, scenario: bool = True) -> None:
    """Add the input options ``--data``, ``--cost-model``, ``--scenario``, ``--auto-link``."""
    g = p.add_argument_group("input")
    g.add_argument("--data", type=Path, default=DATA_DIR, metavar="DIR",
                   help="folder with countries.geojson, crossings.csv, places.csv, "
                        "corridors.csv (default: the shipped data, %(default)s)")
    g.add_argument("--cost-model", type=Path, default=None, metavar="FILE",
                   help="cost model TOML (default: DIR/cost_model.toml, else the shipped one)")
    if scenario:
        g.add_argument("--scenario", type=Path, default=None, metavar="FILE",
                       help="scenario TOML overlay, e.g. "
                            "data/geo/scenarios/eu_east_border_closed.toml (default: the baseline)")
    g.add_argument("--auto-link", action="store_true",
                   help="data without corridors.csv: link the nodes inside each country to "
                        "their nearest neighbours (k=3) instead")


def add_output_args(p: argparse.ArgumentParser, *, default_sub: str = "") -> None:
    """Add ``--out DIR``."""
    p.add_argument("--out", type=Path, default=REPORTS_DIR / default_sub if default_sub
                   else REPORTS_DIR, metavar="DIR",
                   help="output folder (default: %(default)s)")


def _cost_model_path(args: argparse.Namespace) -> Path:
    if args.cost_model is not None:
        return Path(args.cost_model)
    local = Path(args.data) / "cost_model.toml"
    return local if local.exists() else DEFAULT_COST_MODEL


def load_inputs(args: argparse.Namespace) -> tuple[Dataset, CostModel, Scenario]:
    """Load the data, cost model and scenario named by the arguments."""
    cm = load_cost_model(_cost_model_path(args))
    ds = load_dataset(args.data, classes=set(cm.classes),
                      corridors="auto" if getattr(args, "auto_link", False) else True)
    path = getattr(args, "scenario", None)
    sc = load_scenario(path) if path else BASELINE
    return ds, cm, sc


def load_network(args: argparse.Namespace) -> nx.DiGraph:
    """Load the inputs and build the network."""
    ds, cm, sc = load_inputs(args)
    return network_from_data(ds, cm, sc)


def scenario_label(args: argparse.Namespace) -> str:
    """Return a folder-safe name for the scenario in use."""
    path = getattr(args, "scenario", None)
    return Path(path).stem if path else "baseline"
