"""Trade-off: the exact Pareto front at budget 6 on the shipped network, beside the curve.

The single-objective flow budget curve 0..6 (``routes priorities``) and the Pareto front of
detected share against legitimate cost at budget 6 (``routes tradeoff``), timed in the same
run (wall and process CPU seconds); the front's most-detecting point is checked equal to the
curve's value at 6. Target (issue 21): the front in under 30 s on 2 cores.
"""

from __future__ import annotations

import time

from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.priorities.interdiction import budget_curve
from routes.priorities.legit import legit_params, post_delays, post_traffic
from routes.priorities.tradeoff import front_table, pareto_front
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

BUDGET = 6.0


def main() -> None:
    cm = load_cost_model(DEFAULT_COST_MODEL)
    ds = load_dataset(DATA_DIR, classes=set(cm.classes))
    G = network_from_data(ds, cm)
    params = legit_params(cm)
    delays = post_delays(post_traffic(ds.crossings, ds.border_traffic, params), params)
    w0, c0 = time.perf_counter(), time.process_time()
    curve = budget_curve(G, [float(b) for b in range(int(BUDGET) + 1)], objective="flow",
                         cm=cm)
    w1, c1 = time.perf_counter(), time.process_time()
    front = pareto_front(G, BUDGET, delays, cm=cm)
    w2, c2 = time.perf_counter(), time.process_time()
    print(f"  flow budget curve 0..{BUDGET:g}: {w1 - w0:6.1f} s wall, {c1 - c0:6.1f} s CPU")
    print(f"  Pareto front at {BUDGET:g}:      {w2 - w1:6.1f} s wall, {c2 - c1:6.1f} s CPU, "
          f"{len(front)} points, all optimal: {all(p.optimal for p in front)}")
    top = float(curve.loc[curve["budget"] == BUDGET, "value"].iloc[0])
    print(f"  most-detecting point {front[0].detected_share:.12f} vs curve {top:.12f} "
          f"(difference {abs(front[0].detected_share - top):.1e})")
    t = front_table(front, delays)
    for r in t.itertuples():
        print(f"  {r.detected_share:.6f}  {r.legit_delay_h_per_day:10,.0f} h/day  "
              f"USD {r.legit_cost_usd_per_day:10,.0f}/day  {'knee ' if r.knee else ''}"
              f"{r.posts or '-'}")
