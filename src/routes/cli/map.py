"""``routes map``: an interactive HTML map of the network and its analyses."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import networkx as nx
from branca.element import Element

from .._errors import RoutesError
from ..costs import CostModel
from ..io import check_output_file
from ..maps import MapAnalyses, compare_map, map_generator, route_map, write_map
from ..network import network_from_data
from ..scenario import BASELINE, Scenario, load_scenario
from ..settings import REPORTS_DIR
from ._common import add_data_args, compare_label, load_inputs, scenario_label

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``routes map``."""
    p = sub.add_parser(
        "map", help="write an interactive HTML map (online, or --offline self-contained)",
        description="Write an interactive map (Leaflet, via folium): countries shaded by transit "
                    "share, corridors as wide as their assigned flow, the k best routes, border "
                    "crossings sized by flow betweenness and coloured by priority (closed ones "
                    "hollow), origins and markets; popups with each element's figures, a legend, "
                    "a layer control, a scale bar, search by name and fullscreen. --offline "
                    "writes one self-contained file (Leaflet inlined, basemap drawn from the "
                    "country polygons) that requests nothing outside itself. --compare A B puts "
                    "two scenarios side by side with synchronised views.")
    add_data_args(p)
    p.add_argument("--output", "-o", type=Path, default=None, metavar="FILE",
                   help="HTML file to write (default: reports/<scenario>/map_online.html, or "
                        "map_offline.html with --offline; reports/compare_<A>_vs_<B>/ with "
                        "--compare). An existing file that `routes map` did not write (the "
                        "report's map.html, say) is never replaced without --force")
    p.add_argument("--force", action="store_true",
                   help="replace --output even if another command (or you) wrote it")
    p.add_argument("--offline", action="store_true",
                   help="one self-contained file for machines without internet")
    p.add_argument("--compare", nargs=2, type=Path, default=None, metavar=("A.toml", "B.toml"),
                   help="two scenarios side by side (either may be the word 'baseline')")
    p.add_argument("--title", default=None,
                   help="title in the legend and the browser tab (with --compare: the prefix "
                        "of both titles)")
    p.add_argument("--tiles", default="OpenStreetMap", metavar="NAME",
                   help="online tile provider (xyzservices name; default %(default)s)")
    p.add_argument("--no-analyses", action="store_true",
                   help="draw the network alone, without running the analyses")
    return p


def _scenario(path: Path) -> Scenario:
    return BASELINE if str(path) == "baseline" else load_scenario(path)


def map_analyses(G: nx.DiGraph, cm: CostModel) -> MapAnalyses:
    """Run what the map draws: logit flow assignment over the k best routes, chokepoints.

    An analysis that cannot run on this network (say, no origin reaches a market) is left
    out with a note on stderr; the map then shows the network without it.
    """
    from ..crossings import chokepoint_table
    from ..routing import assign_flows

    parts: dict[str, Any] = {}
    try:
        fa = assign_flows(G, cm)
        parts.update(edges=fa.edges, countries=fa.countries, routes=fa.routes)
    except RoutesError as exc:
        print(f"routes map: note: no flows drawn ({exc})", file=sys.stderr)
    try:
        parts["crossings"] = chokepoint_table(G, cm)
    except RoutesError as exc:
        print(f"routes map: note: no chokepoints drawn ({exc})", file=sys.stderr)
    return MapAnalyses.coerce(parts)


#: What this command records as the generator of its pages (see ``_check_overwrite``).
GENERATOR = "routes map"


def _default_output(args: argparse.Namespace) -> Path:
    # Never the report's map.html: `routes report` embeds that one and promises it works
    # offline, so `routes map` writes map_online.html or map_offline.html beside it.
    name = "map_offline.html" if args.offline else "map_online.html"
    if args.compare:
        return REPORTS_DIR / compare_label(*args.compare) / name
    return REPORTS_DIR / scenario_label(args) / name


def _check_overwrite(path: Path, force: bool) -> None:
    """Refuse to replace a file that `routes map` did not write, unless ``force``."""
    if force or not path.is_file() or map_generator(path) == GENERATOR:
        return
    by = map_generator(path)
    who = f"`{by}`" if by else "another program or by hand"
    raise RoutesError(f"{path} exists and was written by {who}, not by `routes map`; "
                      "choose another --output, or pass --force to replace it")


def run(args: argparse.Namespace) -> int:
    """Build the network(s), run the analyses, write the map."""
    if args.compare:
        args.scenario = None
    out = check_output_file(args.output or _default_output(args), what="map file")
    ds, cm, sc = load_inputs(args)
    _check_overwrite(out, args.force)
    tiles = None if args.offline else args.tiles
    page: Element
    if args.compare:
        graphs = [network_from_data(ds, cm, _scenario(p)) for p in args.compare]
        analyses = [MapAnalyses() if args.no_analyses else map_analyses(G, cm) for G in graphs]
        titles = [f"{args.title or 'routes'}: {G.graph['scenario']}" for G in graphs]
        page = compare_map(graphs[0], graphs[1], countries=ds.countries, analyses=analyses,
                           offline=args.offline, titles=titles, tiles=tiles)
        described = " vs ".join(G.graph["scenario"] for G in graphs)
    else:
        G = network_from_data(ds, cm, sc)
        an = MapAnalyses() if args.no_analyses else map_analyses(G, cm)
        page = route_map(G, countries=ds.countries, analyses=an, offline=args.offline,
                         title=args.title, tiles=tiles)
        described = G.graph["scenario"]
    path = write_map(page, out, generator=GENERATOR)
    kind = "offline (self-contained)" if args.offline else "online"
    print(f"map {described}: {kind}, {path.stat().st_size / 1e6:.2f} MB")
    print(f"  wrote {path}")
    return 0
