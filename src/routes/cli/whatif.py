"""``routes whatif``: the planner's page: close, reopen or upgrade crossings in the browser."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..maps import write_whatif
from ..settings import REPORTS_DIR
from ._common import add_data_args, load_inputs, scenario_label


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``routes whatif``."""
    p = sub.add_parser(
        "whatif", help="write the what-if page: close, reopen or upgrade crossings on a map "
                       "and see the flow re-route (one self-contained HTML file)",
        description="Write one self-contained HTML page with the network embedded. On its map "
                    "a planner closes, reopens or upgrades any border crossing with a click; "
                    "the page recomputes at once, in the browser, the k best routes by cost "
                    "(Yen, ties as the engine breaks them), the logit split of each pair's flow, "
                    "the flow on every corridor and crossing, the corridor shares, the expected "
                    "detected share (each consignment on its least-risk route, as `routes "
                    "priorities --objective flow`), the upgrade budget spent and the change "
                    "against the starting scenario. The changes download as a scenario TOML "
                    "that the other commands read back (--scenario, routes compare). The page "
                    "requests nothing outside itself: Leaflet is inlined and the basemap drawn "
                    "from the country polygons.")
    add_data_args(p)
    p.add_argument("--output", "-o", type=Path, default=None, metavar="FILE",
                   help="HTML file to write (default: reports/<scenario>/whatif.html)")
    p.add_argument("--offline", action="store_true",
                   help="accepted for symmetry with `routes map`: the page is always "
                        "self-contained and works without internet")
    p.add_argument("--title", default=None, help="title of the page (default from the scenario)")
    return p


def run(args: argparse.Namespace) -> int:
    """Build the page's data from the network and write it."""
    ds, cm, sc = load_inputs(args)
    out = args.output or REPORTS_DIR / scenario_label(args) / "whatif.html"
    path = write_whatif(ds, cm, out, sc, title=args.title)
    print(f"whatif {sc.name}: self-contained page, {path.stat().st_size / 1e6:.2f} MB")
    print(f"  wrote {path}")
    return 0
