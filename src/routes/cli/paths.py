"""``routes paths``: the k best routes of each origin-market pair, flows and corridor shares."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..calibration.observe import modelled_seizures
from ..calibration.published import (
    corridors_vs_published,
    exits_vs_published,
    observed_dir,
    published_vs_modelled,
    read_observed,
)
from ..geodata import dataset_as_of
from ..history import to_date
from ..network import network_from_data
from ..routing.flows import METHODS, assign_flows, exit_shares
from ..routing.journeys import journey_routes, link_coverage, markets_beyond
from ..supplyside import demand_ages
from ._common import (
    add_analysis_args,
    float_range,
    int_range,
    load_inputs,
    out_dir,
    print_table,
    print_written,
    write_table,
)

#: Most routes per origin-market pair (each is a k-shortest-paths search).
MAX_K = 100


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "paths", help="the k best routes per origin-market pair, assigned flows, corridor shares",
        description="The k best loopless routes (Yen) of every origin-market pair by --weight, "
                    "each with its countries, crossings, length, time, risk, probability of "
                    "passing undetected and corridor (Northern, Caucasus, Balkan, Southern, "
                    "Other); the pair's flow split over them by a logit (--theta) or all on "
                    "the best (--method aon). Writes to OUT/<scenario>/: routes.csv, "
                    "routes.geojson (LineStrings), corridors.csv, countries.csv, "
                    "flows_edges.csv/.geojson, flows_crossings.csv, exits.csv; journeys.csv "
                    "(whole journeys, through a wholesale hub where there is one: AFG > PAK > "
                    "NLD > DEU), demand_ages.csv (age of each market's demand figure, stale "
                    "when older than 5 years); with data/observed/published_flows.csv beside "
                    "the data folder, published_vs_modelled.csv (each published figure beside "
                    "the model's), exits_published.csv and corridors_published.csv; and with "
                    "heroin_links.csv, links_coverage.csv (observed links a route with flow "
                    "runs along).")
    add_analysis_args(p)
    g = p.add_argument_group("routes")
    g.add_argument("--k", type=int_range(1, MAX_K), default=None, metavar="K",
                   help="routes per pair (default: k_routes of the cost model)")
    g.add_argument("--method", choices=METHODS, default="logit",
                   help="flow split: logit over the k routes, or all-or-nothing "
                        "(default: %(default)s)")
    g.add_argument("--theta", type=float_range(0, lo_open=True), default=None,
                   help="logit scale (default: logit_theta of the cost model)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    ds, cm, sc = load_inputs(args)
    G = network_from_data(ds, cm, sc)
    res = assign_flows(G, cm, method=args.method, weight=args.weight, k=args.k,
                       theta=args.theta, engine=args.engine)
    routes = res.routes.sort_values(["flow", "origin", "market", "rank"],
                                    ascending=[False, True, True, True])
    out = out_dir(args)
    written: list[Path] = []
    write_table(res.routes, out / "routes.csv", written)
    write_table(res.routes, out / "routes.geojson", written)
    write_table(res.corridors, out / "corridors.csv", written)
    write_table(res.countries, out / "countries.csv", written)
    write_table(res.edges, out / "flows_edges.csv", written)
    write_table(res.edges, out / "flows_edges.geojson", written)
    write_table(res.crossings, out / "flows_crossings.csv", written)
    exits = exit_shares(G, res.routes)
    write_table(exits.reset_index(), out / "exits.csv", written)
    journeys = journey_routes(G, res.routes)
    write_table(journeys, out / "journeys.csv", written)
    when = to_date(G.graph["as_of"]) if G.graph.get("as_of") else None
    # the places as of the network's date (also when that date is the default, last covered)
    ages = demand_ages(dataset_as_of(ds, when).places, when) if when else None
    if ages is not None:
        write_table(ages, out / "demand_ages.csv", written)
    published, links = read_observed(observed_dir(ds))
    ex_pub = co_pub = None
    if published is not None:
        cmp = published_vs_modelled(published, G, exits, journeys,
                                    modelled_seizures(G, cm, routes=res.routes), cm)
        ex_pub = exits_vs_published(exits, cmp)
        co_pub = corridors_vs_published(res.corridors, cmp)
        write_table(cmp, out / "published_vs_modelled.csv", written)
        write_table(ex_pub, out / "exits_published.csv", written)
        write_table(co_pub, out / "corridors_published.csv", written)
    coverage = None
    if links is not None:
        coverage, cov = link_coverage(G, res.routes, links)
        write_table(cov, out / "links_coverage.csv", written)
    print(f"paths {G.graph.get('scenario', '')}: {len(res.routes)} routes for "
          f"{res.routes.groupby(['origin', 'market']).ngroups} pairs, weight {args.weight}, "
          f"method {res.method}; routed flow {res.total_flow:.1f}, unserved "
          f"{res.unserved_flow:.1f}")
    print_table("Corridor shares of the modelled flow", res.corridors, ["flow", "share"],
                len(res.corridors), {"flow": ".1f", "share": ".1%"})
    print_table("Where the flow leaves its origin country", exits.reset_index(),
                ["from_country", "into", "flow", "share"], len(exits),
                {"flow": ".1f", "share": ".1%"})
    if ex_pub is not None and co_pub is not None:
        fmt = {"modelled": ".1%", "low": ".1%", "high": ".1%", "year": ".0f"}
        print_table(f"Exits from Afghanistan ({when}) beside the published shares of Afghan "
                    "opiates (published year)", ex_pub,
                    ["modelled", "low", "high", "year"], len(ex_pub), fmt)
        print_table(f"Corridor shares ({when}) beside the published shares", co_pub,
                    ["modelled", "low", "high", "year"], len(co_pub), fmt)
    beyond = markets_beyond(G, journeys, "PAK")
    n_hub = int((journeys["hub"] != "").sum()) if len(journeys) else 0
    print(f"\nJourneys: {len(journeys)} routes ({n_hub} through a wholesale hub); journeys "
          f"through Pakistan reach {len(beyond)} markets beyond it"
          + (f" ({', '.join(beyond)})" if beyond else ""))
    if coverage is not None:
        on = cov[cov["on_network"]]
        print(f"Observed heroin links covered by a modelled route with flow: "
              f"{int(on['covered'].sum())} of {len(on)} between network countries "
              f"({coverage:.2f}); {int(on['direct'].sum())} of them as consecutive countries "
              f"({on['direct'].mean():.2f})")
    if ages is not None and ages["stale"].any():
        st = ages[ages["stale"]]
        print(f"Demand figures older than 5 years at {when} (or from after it): {len(st)} of "
              f"{len(ages)} markets ({', '.join(st.index[:8])}{', ...' if len(st) > 8 else ''})")
    print_table(f"Top {args.top} routes by flow", routes,
                ["flow", "corridor", "n_crossings", "length_km", "time_h", "p_undetected",
                 "countries"], args.top,
                {"flow": ".1f", "length_km": ".0f", "time_h": ".0f", "p_undetected": ".3f"})
    print_table(f"Top {args.top} crossings by assigned flow", res.crossings,
                ["rank", "name", "flow", "share"], args.top, {"flow": ".1f", "share": ".1%"})
    print()
    print_written(written)
    return 0
