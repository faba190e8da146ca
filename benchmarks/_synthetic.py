"""A synthetic road-like route network, shared by the benchmarks and the tests."""

from __future__ import annotations

import networkx as nx
import numpy as np


def synthetic_network(n_corridors: int, *, seed: int = 0) -> nx.DiGraph:
    """Return a jittered grid over Central Asia to Europe with ``n_corridors`` two-way corridors.

    Every seventh node is a crossing; the first column holds origins, the last markets. Used by
    the map benchmark and the large-network browser test, so both draw the same network.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil((1 + np.sqrt(1 + 2 * n_corridors)) / 2)) + 1
    G = nx.DiGraph(scenario=f"synthetic {n_corridors}", crs="EPSG:4326")
    lon = np.linspace(20.0, 75.0, side)
    lat = np.linspace(30.0, 55.0, side)
    jitter = rng.uniform(-0.05, 0.05, size=(side, side, 2))
    roles = ("transit", "staging", "transit", "port")
    for i in range(side):
        for j in range(side):
            nid = f"n{i:04d}_{j:04d}"
            y, x = float(lat[i] + jitter[i, j, 0]), float(lon[j] + jitter[i, j, 1])
            if (i + j) % 7 == 0:
                G.add_node(nid, kind="crossing", name=f"Crossing {i}-{j}", country_a="AAA",
                           country_b="BBB", lat=y, lon=x, mode="road", status="open",
                           source="synthetic")
            else:
                role = "origin" if j == 0 else "market" if j == side - 1 else roles[(i * j) % 4]
                G.add_node(nid, kind="place", name=f"Place {i}-{j}", country="AAA", lat=y,
                           lon=x, role=role, supply=1.0 if role == "origin" else 0.0,
                           demand=1.0 if role == "market" else 0.0, source="synthetic")
    pairs = [((i, j), (i, j + 1)) for i in range(side) for j in range(side - 1)]
    pairs += [((i, j), (i + 1, j)) for i in range(side - 1) for j in range(side)]
    keep = sorted(rng.choice(len(pairs), size=n_corridors, replace=False))
    for k in keep:
        (a, b), (c, d) = pairs[k]
        u, v = f"n{a:04d}_{b:04d}", f"n{c:04d}_{d:04d}"
        for s, t in ((u, v), (v, u)):
            G.add_edge(s, t, corridor_id=f"c{k}", mode="road", length_km=1.0, time_h=1.0,
                       risk=0.1, cost=1.0, source="synthetic")
    G.remove_nodes_from([n for n in list(G) if G.degree(n) == 0])
    return G
