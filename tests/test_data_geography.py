"""Geography of the shipped data: travel inside a country never crosses a border."""

from __future__ import annotations

import networkx as nx


def _country_subgraph(G: nx.DiGraph, iso3: str) -> nx.DiGraph:
    keep = [n for n, d in G.nodes(data=True)
            if d.get("kind") == "place" and d.get("country") == iso3]
    return G.subgraph(keep)


def test_paths_inside_a_country_stay_inside_and_skip_crossings(baseline: nx.DiGraph) -> None:
    """For every pair of places of one country joined by that country's own corridors, the
    least-cost path on the whole network visits only places of that country (no crossing node).

    Pairs that the country's own corridors do not join (exclaves such as Kaliningrad or
    Nakhchivan) must leave the country and are not checked.
    """
    G = baseline
    countries = {d["country"] for _, d in G.nodes(data=True) if d.get("kind") == "place"}
    bad = []
    checked = 0
    for iso3 in sorted(countries):
        sub = _country_subgraph(G, iso3)
        for src in sub.nodes:
            inside = nx.descendants(sub, src)
            if not inside:
                continue
            paths = nx.single_source_dijkstra_path(G, src, weight="cost")
            for dst in inside:
                checked += 1
                path = paths[dst]
                off = [n for n in path if G.nodes[n].get("kind") != "place"
                       or G.nodes[n].get("country") != iso3]
                if off:
                    bad.append(f"{src} -> {dst} via {off}")
    assert checked > 500
    assert not bad, "\n".join(bad[:20])


def test_no_corridor_joins_two_places_of_one_country_through_a_crossing(
        baseline: nx.DiGraph) -> None:
    """A crossing node's neighbours on one side never need it to reach each other: two places
    of the same country linked only through a crossing node have their own corridor."""
    G = baseline
    bad = []
    for n, d in G.nodes(data=True):
        if d.get("kind") != "crossing":
            continue
        nbrs = [m for m in set(G.predecessors(n)) | set(G.successors(n))
                if G.nodes[m].get("kind") == "place"]
        for i, a in enumerate(nbrs):
            for b in nbrs[i + 1:]:
                ca, cb = G.nodes[a]["country"], G.nodes[b]["country"]
                if ca != cb:
                    continue
                sub = _country_subgraph(G, ca)
                if not nx.has_path(sub, a, b):
                    bad.append(f"{a} and {b} ({ca}) joined only through {n}")
    assert not bad, "\n".join(bad)
