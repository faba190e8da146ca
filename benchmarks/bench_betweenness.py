"""Route-restricted betweenness: networkx against the engine, measured in the same run.

Road-like synthetic graphs: n random points in a square, joined by their Delaunay triangulation
(planar, mean degree ~6 like a road network), each edge both ways with its Euclidean length
times a random detour factor in [1, 1.3] per direction (float weights, so routes are unique as
on the shipped data). The origins and markets are random nodes, the same for every engine;
node ids are in random spatial order (no locality trick).

Rows per size:

- ``networkx subset (pair-unweighted)``: ``networkx.betweenness_centrality_subset`` with the
  origins as sources and markets as targets: one Dijkstra per origin, networkx's own function.
- ``networkx flow-weighted``: the same quantity as ours (each pair weighted by its flow) with
  ``engine="networkx"`` (networkx's shortest-path counting, Python accumulation).
- ``igraph subset (pair-unweighted)``: igraph's own subset betweenness, for context.
- ``ours``: ``Engine.flow_betweenness`` (scipy Dijkstra + numpy tree walk / DAG solve), the
  graph converted once (conversion time printed apart).

Then 1,000 re-weighted runs on the shipped baseline network (every edge cost multiplied by a
random factor in [0.5, 1.5]), the graph converted once; networkx timed on 20 runs and scaled.
"""

from __future__ import annotations

import time

import igraph  # noqa: F401  (imported before timing: igraph loads matplotlib)
import networkx as nx
import numpy as np
from scipy.spatial import Delaunay

from benchmarks._timing import median_time, row
from routes.engine import Engine

SIZES = ((300, 20, 20), (3_000, 30, 30), (30_000, 30, 30))  # nodes, origins, markets
N_RUNS = 1_000


def road_graph(n: int, seed: int) -> nx.DiGraph:
    """A Delaunay 'road' graph on n random points (weights: length times detour)."""
    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2)) * np.sqrt(n)
    tri = Delaunay(pts)
    ptr, idx = tri.vertex_neighbor_vertices
    G = nx.DiGraph()
    for i in range(n):
        for j in idx[ptr[i]:ptr[i + 1]]:
            d = float(np.hypot(*(pts[i] - pts[j])))
            G.add_edge(i, int(j), cost=d * (1.0 + 0.3 * rng.random()))
    return G


def flows_for(G: nx.DiGraph, n_o: int, n_m: int, seed: int) -> dict[tuple[int, int], float]:
    rng = np.random.default_rng(seed)
    nodes = np.array(sorted(G))
    chosen = rng.choice(nodes, n_o + n_m, replace=False)
    o, m = chosen[:n_o].tolist(), chosen[n_o:].tolist()
    supply = rng.uniform(1, 100, n_o)
    demand = rng.uniform(1, 100, n_m)
    return {(a, b): float(s * d / demand.sum()) for a, s in zip(o, supply)
            for b, d in zip(m, demand)}


def bench_sizes() -> None:
    print(f"{'road-like graph, route-restricted betweenness':<44} {'networkx':>12} "
          f"{'ours':>12} {'ratio':>9}")
    for n, n_o, n_m in SIZES:
        G = road_graph(n, seed=n)
        flows = flows_for(G, n_o, n_m, seed=n + 1)
        srcs = sorted({o for o, _ in flows})
        tgts = sorted({m for _, m in flows})
        rep_nx = 1 if n >= 30_000 else 3
        t0 = time.perf_counter()
        E = Engine(G, engine="igraph")
        conv = time.perf_counter() - t0
        w = E.edge_attr("cost")
        ours = median_time(lambda E=E, w=w, f=flows: E.flow_betweenness(weights=w, flows=f),
                           repeat=5)
        ref = Engine(G, engine="networkx")
        t_nx_sub = median_time(lambda G=G, s=srcs, t=tgts: nx.betweenness_centrality_subset(
            G, s, t, weight="cost", normalized=False), repeat=rep_nx)
        t_nx_flow = median_time(lambda r=ref, w=w, f=flows: r.flow_betweenness(weights=w,
                                                                                flows=f),
                                repeat=rep_nx)
        wl = E.fixed_point(w).astype(float).tolist()
        si, ti = [E.index[s] for s in srcs], [E.index[t] for t in tgts]
        t_ig = median_time(lambda E=E, wl=wl, si=si, ti=ti: E._ig.betweenness(
            sources=si, targets=ti, weights=wl), repeat=3)
        a = E.flow_betweenness(weights=w, flows=flows)[0]
        b = ref.flow_betweenness(weights=w, flows=flows)[0]
        err = float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
        label = f"n={n:,} ({G.number_of_edges():,} edges, {n_o}x{n_m} pairs)"
        print(label)
        print(row("  networkx subset (pair-unweighted)", t_nx_sub, ours))
        print(row("  networkx flow-weighted (same quantity)", t_nx_flow, ours))
        print(row("  igraph subset (pair-unweighted)", t_ig, ours))
        print(f"  {'(conversion to the engine, once per graph)':<42} {conv:12.4f} s;"
              f" max relative difference ours vs networkx {err:.1e}", flush=True)


def bench_reweighted() -> None:
    from routes.costs import load_cost_model
    from routes.geodata import load_dataset
    from routes.network import network_from_data, od_demand
    from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

    if not (DATA_DIR / "crossings.csv").exists():
        print(f"\n{N_RUNS:,} re-weighted runs on the shipped network: skipped "
              f"(no shipped data in {DATA_DIR} yet)")
        return
    cm = load_cost_model(DEFAULT_COST_MODEL)
    G = network_from_data(load_dataset(DATA_DIR, classes=set(cm.classes)), cm)
    flows = od_demand(G)
    E = Engine(G, engine="igraph")
    ref = Engine(G, engine="networkx")
    base = E.edge_attr("cost")
    rng = np.random.default_rng(0)
    draws = base[None, :] * rng.uniform(0.5, 1.5, (N_RUNS, E.m))
    t0 = time.perf_counter()
    for w in draws:
        E.flow_betweenness(weights=w, flows=flows)
    ours = time.perf_counter() - t0
    k = 20
    t0 = time.perf_counter()
    for w in draws[:k]:
        ref.flow_betweenness(weights=w, flows=flows)
    nx_total = (time.perf_counter() - t0) * N_RUNS / k
    print(f"\nshipped network: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, "
          f"{len(flows)} origin-market pairs")
    print(row(f"  {N_RUNS:,} re-weighted runs (networkx: {k} runs scaled)", nx_total, ours))
    print(f"  ours: {ours / N_RUNS * 1e3:.2f} ms per run, {ours:.2f} s for {N_RUNS:,} "
          "in one process (target < 10 s on 2 cores)")


def main() -> None:
    bench_sizes()
    bench_reweighted()


if __name__ == "__main__":
    main()
