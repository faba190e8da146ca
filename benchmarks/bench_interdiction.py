"""Interdiction: how large an instance the exact MILP solves in under a minute.

Synthetic road-like networks: a jittered grid of places with border lines every few columns;
every grid link that crosses a border runs through a border post (a crossing node with
detection probability, upgrade cost and upgraded probability drawn at random). Origins sit in
the first column, markets in the last. For each size the table gives the exact solve time
(HiGHS, ``time_limit`` 60 s) and the greedy heuristic's time and gap; the first rows compare
the exact MILP with brute-force enumeration on small instances (same run).

Each exact time is given for both MILP formulations, measured in the same run: ``plain`` (the
published Israeli-Wood dual with scipy's HiGHS, as in the first release) and ``tight`` (the
default: bounded potentials on a pruned network, tightened coefficients, an incumbent and
tuned options through highspy; see ``routes.priorities._milp``). The shipped network's flow
budget curve 0..10 is timed with both as well (``tight`` with one worker and with two, the
budgets solved in threads), and its values checked equal; the CPU time is the process's.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np

from benchmarks._timing import median_time, row
from routes.costs import load_cost_model, risk_from_p
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.priorities.interdiction import (
    budget_curve,
    interdict_brute_force,
    interdict_exact,
    interdict_greedy,
)
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

LIMIT_S = 60.0


def synthetic(side: int, *, n_od: int = 3, border_every: int = 3, seed: int = 0) -> nx.DiGraph:
    """A ``side x side`` grid network with border posts on the links across border columns."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()

    def place(i: int, j: int) -> str:
        return f"p{i:03d}_{j:03d}"

    for i in range(side):
        for j in range(side):
            G.add_node(place(i, j), kind="place", role="transit", supply=0.0, demand=0.0)
    rows = sorted(rng.choice(side, size=min(n_od, side), replace=False).tolist())
    for i in rows:
        G.nodes[place(i, 0)].update(role="origin", supply=float(rng.integers(1, 10)))
        G.nodes[place(i, side - 1)].update(role="market", demand=float(rng.integers(1, 10)))

    def link(a: str, b: str) -> None:
        for u, v in ((a, b), (b, a)):
            leg = float(rng.uniform(0.002, 0.02))
            G.add_edge(u, v, risk=leg + G.nodes[v].get("crossing_risk", 0.0))

    for i in range(side):
        for j in range(side):
            if i + 1 < side:
                link(place(i, j), place(i + 1, j))
            if j + 1 < side:
                if (j + 1) % border_every == 0:
                    x = f"x{i:03d}_{j:03d}"
                    p = float(rng.uniform(0.02, 0.2))
                    G.add_node(x, kind="crossing", status="open", p_detect=p,
                               crossing_risk=risk_from_p(p),
                               p_detect_upgraded=min(0.9, p + float(rng.uniform(0.03, 0.15))),
                               upgrade_cost=float(rng.choice([1.0, 1.5, 2.0])))
                    link(place(i, j), x)
                    link(x, place(i, j + 1))
                else:
                    link(place(i, j), place(i, j + 1))
    return G


def _posts(G: nx.DiGraph) -> int:
    return sum(1 for _, d in G.nodes(data=True) if d.get("kind") == "crossing")


def _shipped_curve() -> None:
    cm = load_cost_model(DEFAULT_COST_MODEL)
    G = network_from_data(load_dataset(DATA_DIR, classes=set(cm.classes)), cm)
    print("shipped network, objective flow: exact budget curve 0..10 (with greedy per budget)")
    print(f"{'formulation':<22} {'seconds':>9} {'CPU s':>7} {'all optimal':>12}  "
          "detected share at 0, 5, 10")
    curves = {}
    for f, workers in (("plain", 1), ("tight", 1), ("tight", 2)):
        t0, c0 = time.perf_counter(), time.process_time()
        c = budget_curve(G, 10, objective="flow", cm=cm, formulation=f, time_limit=LIMIT_S,
                         workers=workers)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        curves[f, workers] = c
        v = c["value"].tolist()
        label = f"{f}, {workers} worker{'s' if workers > 1 else ''}"
        print(f"{label:<22} {dt:>9.2f} {dc:>7.2f} {bool(c['optimal'].all())!s:>12}  "
              f"{v[0]:.4f}, {v[5]:.4f}, {v[10]:.4f}", flush=True)
    assert np.allclose(curves["plain", 1]["value"], curves["tight", 1]["value"], rtol=1e-6)
    assert curves["tight", 1].equals(curves["tight", 2])


def _sizes(objective: str, budget: float) -> None:
    print(f"\nobjective {objective}, budget {budget:g}: exact solve time by size, both "
          f"formulations (time limit {LIMIT_S:g} s; a formulation stops at its first miss)")
    print(f"{'nodes':>7} {'edges':>7} {'posts':>6} {'plain s':>9} {'optimal':>8} "
          f"{'tight s':>9} {'optimal':>8} {'greedy s':>9} {'greedy gap %':>13}")
    live = {"plain": True, "tight": True}
    for side in (10, 20, 30, 45, 60, 80):
        G = synthetic(side, n_od=3 if objective == "single" else 4)
        cells, value = [], None
        for f in ("plain", "tight"):
            if not live[f]:
                cells.append(f"{'-':>9} {'-':>8}")
                continue
            t0 = time.perf_counter()
            ex = interdict_exact(G, budget, objective=objective, time_limit=LIMIT_S,
                                 formulation=f)
            t_ex = time.perf_counter() - t0
            cells.append(f"{t_ex:>9.2f} {ex.optimal!s:>8}")
            live[f] = ex.optimal and t_ex <= LIMIT_S
            if ex.optimal:
                if value is not None:
                    assert abs(ex.value - value) <= 1e-6 * max(1.0, abs(value))
                value, gain = ex.value, ex.gain
        t0 = time.perf_counter()
        gr = interdict_greedy(G, budget, objective=objective)
        t_gr = time.perf_counter() - t0
        gap = f"{100.0 * (value - gr.value) / gain:>13.1f}" if value is not None and gain > 0 \
            else f"{'-' if value is None else 0.0:>13}"
        print(f"{G.number_of_nodes():>7} {G.number_of_edges():>7} {_posts(G):>6} "
              f"{cells[0]} {cells[1]} {t_gr:>9.2f} {gap}", flush=True)
        if not any(live.values()):
            break


def main() -> None:
    print("exact MILP vs brute-force enumeration (small instances, budget 4)")
    print(f"{'instance':<44} {'brute force':>12} {'exact':>12} {'ratio':>9}")
    for side in (5, 6, 7):
        G = synthetic(side, border_every=2)
        bf = median_time(lambda G=G: interdict_brute_force(G, 4.0), repeat=1)
        ex = median_time(lambda G=G: interdict_exact(G, 4.0), repeat=3)
        assert abs(interdict_exact(G, 4.0).value - interdict_brute_force(G, 4.0).value) < 1e-6
        print(row(f"grid {side}x{side}, {_posts(G)} posts", bf, ex))
    print()
    _shipped_curve()
    for objective, budget in (("single", 5.0), ("flow", 5.0)):
        _sizes(objective, budget)


if __name__ == "__main__":
    main()
