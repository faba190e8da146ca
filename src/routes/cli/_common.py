"""Options, loading steps and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import geopandas as gpd
import networkx as nx
import pandas as pd
from shapely.geometry import Point

from ..costs import WEIGHTS, CostModel, load_cost_model
from ..engine import ENGINES
from ..geodata import Dataset, dataset_as_of, load_dataset
from ..io import check_output_dir, safe_name, write_csv, write_geojson
from ..network import network_from_data
from ..scenario import BASELINE, Scenario, load_scenario
from ..settings import DATA_DIR, DEFAULT_COST_MODEL, ENGINE, REPORTS_DIR

__all__ = [
    "int_range",
    "float_range",
    "announce_curve",
    "MAX_RUNS",
    "MAX_TOP",
    "MAX_SEED",
    "clamp_budget",
    "Stages",
    "add_data_args",
    "add_output_args",
    "add_engine_arg",
    "add_analysis_args",
    "load_inputs",
    "load_network",
    "scenario_label",
    "compare_label",
    "out_dir",
    "flat",
    "points",
    "write_table",
    "print_table",
    "print_written",
]

#: Upper bounds of the numeric options (nothing is allocated in proportion to a larger number).
MAX_RUNS = 100_000
MAX_TOP = 100_000
MAX_SEED = 2**32 - 1


def int_range(lo: int, hi: int) -> Callable[[str], int]:
    """Return an argparse ``type`` accepting whole numbers in ``lo..hi``.

    Examples
    --------
    >>> int_range(0, 5)("3")
    3
    >>> int_range(0, 5)("-1")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: -1 is out of range: give a whole number from 0 to 5
    """
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(
                f"{v} is out of range: give a whole number from {lo} to {hi}")
        return v

    parse.__name__ = "int"
    return parse


#: Longest MILP time limit, in seconds (a day).
MAX_TIME_LIMIT = 86_400.0


def add_time_limit(group: argparse._ArgumentGroup) -> None:
    """Add ``--time-limit S``: seconds per MILP solve (priorities, tradeoff)."""
    group.add_argument("--time-limit", type=float_range(0, MAX_TIME_LIMIT, lo_open=True),
                       default=60.0, metavar="S",
                       help="seconds per MILP solve (default: %(default)s)")


def add_step(group: argparse._ArgumentGroup) -> None:
    """Add ``--step S``: the budgets of a budget curve (priorities, report)."""
    from ..priorities.interdiction import MAX_CURVE_BUDGETS, MAX_STEP_BUDGETS

    group.add_argument("--step", type=float_range(0, lo_open=True), default=None, metavar="S",
                       help="budgets of the curve: 0, S, 2S, ... below N, then N (at most "
                            f"{MAX_STEP_BUDGETS}; default: whole budgets, at most "
                            f"{MAX_CURVE_BUDGETS} evenly spaced)")


def float_range(lo: float, hi: float = math.inf, *, lo_open: bool = False
                ) -> Callable[[str], float]:
    """Return an argparse ``type`` accepting finite numbers from ``lo`` to ``hi``.

    ``lo_open`` excludes ``lo`` itself.

    Examples
    --------
    >>> float_range(0)("2.5")
    2.5
    >>> float_range(0)("nan")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: not a finite number: 'nan'
    """
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
        if v < lo or (lo_open and v == lo) or v > hi:
            low = f"above {lo:g}" if lo_open else f">= {lo:g}"
            high = "" if math.isinf(hi) else f" and <= {hi:g}"
            raise argparse.ArgumentTypeError(f"{v:g} is out of range: give a number {low}{high}")
        return v

    parse.__name__ = "float"
    return parse


def clamp_budget(graphs: nx.DiGraph | Sequence[nx.DiGraph], cm: CostModel, budget: float, *,
                 command: str) -> float:
    """Return ``budget``, or the cost of upgrading every post if that is less (said on stderr).

    With several networks (a comparison), the largest of their costs.
    """
    from ..priorities.interdiction import total_upgrade_cost

    many = [graphs] if isinstance(graphs, nx.DiGraph) else list(graphs)
    total = max(total_upgrade_cost(G, cm=cm) for G in many)
    if budget > total:
        print(f"routes {command}: budget {budget:g} is more than the cost of upgrading every "
              f"post ({total:g}); using {total:g}", file=sys.stderr)
        return total
    return budget


def announce_curve(budgets: Sequence[float], *, method: str, command: str,
                   step: float | None = None, enabled: bool = True) -> None:
    """Say on stderr how many budgets a budget curve solves, and how, before it starts.

    The time is estimated as the curve runs (each budget's progress line gives the time so
    far and the time left at that pace); the budgets in the middle of a range usually take
    longest. Quiet unless ``enabled`` (the command's progress).
    """
    from ..priorities.interdiction import MAX_CURVE_BUDGETS

    if not enabled:
        return

    n = len(budgets)
    if n > 2:
        gaps = {round(b - a, 9) for a, b in zip(budgets, budgets[1:-1])}
        spacing = f"step {budgets[1] - budgets[0]:g}" if len(gaps) == 1 else "uneven steps"
        what = f"{n} budgets {budgets[0]:g}, {budgets[1]:g}, ..., {budgets[-1]:g} ({spacing}"
    else:
        what = f"{n} budget{'s' if n > 1 else ''} {', '.join(f'{b:g}' for b in budgets)} ("
        what += "no step" if n < 2 else f"step {budgets[1] - budgets[0]:g}"
    how = ("--step given" if step is not None else
           f"at most {MAX_CURVE_BUDGETS} by default, evenly spaced; --step to choose")
    solves = (f"{n} exact solve{'s' if n > 1 else ''} (MILP, one after another; the time "
              "so far and left is shown as each budget is solved)" if method == "exact"
              else "greedy, no MILP")
    print(f"routes {command}: budget curve of {what}; {how}): {solves}", file=sys.stderr)


class Stages:
    """Progress of a command on stderr, naming the stage that is running.

    In a terminal a bar (tqdm) whose label is the running stage; elsewhere (a log, a pipe)
    one plain line per stage, no carriage-return frames. ``done(stage)`` marks a stage finished and
    names the next one of ``plan`` as running.
    """

    def __init__(self, command: str, plan: Sequence[str], *, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        from tqdm import tqdm

        self.command, self.plan, self.i = command, list(plan), 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.bar = tqdm(total=len(self.plan), file=self.stream, disable=not self.tty,
                        unit="stage", bar_format="{desc:<36}{bar:30} {n_fmt}/{total_fmt} "
                                                 "[{elapsed}]")
        self._announce()

    def _announce(self) -> None:
        if self.i >= len(self.plan):
            return
        stage = self.plan[self.i]
        if self.tty:
            self.bar.set_description_str(f"{self.command}: {stage} ...")
        elif self.enabled:
            print(f"{self.command} [{self.i + 1}/{len(self.plan)}]: {stage} ...",
                  file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """Say what the running stage is doing (e.g. which budget it solves)."""
        if self.tty:
            self.bar.set_description_str(f"{self.command}: {text}")
        elif self.enabled:
            print(f"{self.command}: {text}", file=self.stream, flush=True)

    def done(self, stage: str) -> None:
        """Mark ``stage`` finished (the next stage of the plan runs now)."""
        if stage in self.plan[self.i:]:
            self.i = self.plan.index(stage, self.i) + 1
        else:
            self.i += 1
        self.bar.update(self.i - self.bar.n)
        self._announce()

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()

    def __enter__(self) -> Stages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_data_args(p: argparse.ArgumentParser, *, scenario: bool = True) -> None:
    """Add the input options (data folder, cost model, scenario, as-of date, auto-link)."""
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
    g.add_argument("--as-of", default=None, metavar="DATE",
                   help="build the network as it was on DATE (YYYY-MM-DD): crossing statuses "
                        "from status_history.csv, that year's supply and demand (default: the "
                        "scenario's as_of, else the last date the data covers)")
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
    made = getattr(sc, "cost_model_sha256", "")
    if made and made != cm.source_hash:
        print(f"routes: warning: scenario {Path(str(path)).name} was made with the cost model "
              f"{sc.cost_model or '?'} (sha256 {made[:12]}); this run uses {cm.name} "
              f"({Path(cm.path).name if cm.path else '?'}, sha256 {cm.source_hash[:12]}): "
              "its figures will differ from the page's; pass --cost-model to match",
              file=sys.stderr)
    as_of = getattr(args, "as_of", None)
    if as_of is not None:
        # An explicit date wins over the scenarios' own as_of (network_from_data keeps it).
        ds = dataset_as_of(ds, as_of)
    return ds, cm, sc


def load_network(args: argparse.Namespace) -> nx.DiGraph:
    """Load the inputs and build the network."""
    ds, cm, sc = load_inputs(args)
    return network_from_data(ds, cm, sc)


def scenario_label(args: argparse.Namespace) -> str:
    """Return a folder-safe name for the scenario in use (never leaves ``--out``)."""
    path = getattr(args, "scenario", None)
    return safe_name(Path(path).stem, default="scenario") if path else "baseline"


def compare_label(a: str | Path, b: str | Path) -> str:
    """Return the one name of a comparison's outputs: ``compare_<A>_vs_<B>``.

    ``a`` and ``b`` are scenario files or the word ``baseline``; each is named as
    :func:`scenario_label` names a scenario's folder. ``routes compare``, ``routes report
    --compare`` and ``routes map --compare`` all write under this name.

    >>> compare_label("baseline", "data/geo/scenarios/eu_east_border_closed.toml")
    'compare_baseline_vs_eu_east_border_closed'
    """
    a_, b_ = (scenario_label(argparse.Namespace(scenario=None if str(x) == "baseline" else x))
              for x in (a, b))
    return f"compare_{a_}_vs_{b_}"


def add_engine_arg(g: argparse._ActionsContainer, *, what: str = "the path kernels") -> None:
    """Add ``--engine`` (igraph or networkx; both give the same numbers)."""
    g.add_argument("--engine", choices=ENGINES, default=ENGINE,
                   help=f"engine for {what}; both give the same numbers (default: %(default)s)")


def add_analysis_args(p: argparse.ArgumentParser, *, top: int = 10) -> None:
    """``--scenario`` (with the data options), ``--weight``, ``--top``, ``--engine``, ``--out``."""
    add_data_args(p)
    g = p.add_argument_group("analysis")
    g.add_argument("--weight", choices=WEIGHTS[::-1], default="cost",
                   help="edge weight that defines the best routes (default: %(default)s)")
    g.add_argument("--top", type=int_range(0, MAX_TOP), default=top, metavar="N",
                   help="rows to print (default: %(default)s; the files hold every row)")
    add_engine_arg(g)
    add_output_args(p)


def out_dir(args: argparse.Namespace) -> Path:
    """Return ``OUT/<scenario>``, created, after checking that it can be written."""
    return check_output_dir(Path(args.out) / scenario_label(args))


def flat(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with list columns joined by ``" > "`` (CSV and GeoJSON hold no lists)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda x: isinstance(x, list)).any():
            out[c] = out[c].map(lambda x: " > ".join(map(str, x)) if isinstance(x, list) else x)
    return out


def points(G: nx.DiGraph, df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return ``df`` (indexed by node id) with each node's Point, EPSG:4326."""
    geom = [Point(G.nodes[n]["lon"], G.nodes[n]["lat"]) for n in df.index]
    return gpd.GeoDataFrame(df.copy(), geometry=geom, crs="EPSG:4326")


def write_table(df: pd.DataFrame, path: Path, written: list[Path]) -> None:
    """Write ``df`` as CSV, or GeoJSON when ``path`` ends in .geojson (atomically)."""
    frame = flat(df)
    if path.suffix == ".geojson":
        written.append(write_geojson(frame, path))
    else:
        written.append(write_csv(frame, path))


def print_table(title: str, df: pd.DataFrame, cols: Sequence[str], top: int,
                formats: dict[str, str] | None = None) -> None:
    """Print the first ``top`` rows of ``cols`` under ``title``."""
    formats = formats or {}
    view = flat(df[list(cols)].head(max(top, 0)))
    for c, f in formats.items():
        if c in view:
            view[c] = view[c].map(lambda x, f=f: "" if pd.isna(x) else format(x, f))
    print(f"\n{title}")
    if view.empty:
        print("  (none)")
        return
    text = view.to_string(max_colwidth=48)
    print("\n".join("  " + line for line in text.splitlines()))


def print_written(written: list[Path]) -> None:
    """List the files written."""
    for p in written:
        print(f"  wrote {p}")
