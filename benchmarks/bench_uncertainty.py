"""Monte-Carlo rank stability: 1,000 runs in-process, on 1 and on 2 Dask worker processes.

On the shipped baseline network (a synthetic two-country network while the shipped data is
missing), ``rank_stability`` with the cost model's uncertainty ranges, seed 0:

- ``in-process``: ``workers=0`` (no Dask), the network converted to the engine once;
- ``Dask, N workers``: the ``LocalCluster(n_workers=N, threads_per_worker=1, processes=True)``
  on 127.0.0.1 that ``rank_stability(workers=N)`` starts. Its start-up and the first, cold
  call (worker imports of routes, numpy, igraph) are timed apart; then the median of 5 warm
  calls (each a new job: the model is scattered and the engine built once per worker).

The three configurations are timed in turn, 5 times over (both clusters stay up), so that
they share whatever else the machine is doing.

CPU is the CPU time of the runs (summed over the workers): with other work on the machine the
wall times grow but the CPU times hold, which tells contention from overhead.

The speed-up is 1 worker's time over 2 workers'. The three results are checked identical
(same ranks in every run), as the seeding promises.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL
from routes.uncertainty._montecarlo import _dask_client
from routes.uncertainty.uncertainty import rank_stability

N_RUNS = 1_000
SEED = 0
WORKERS = (1, 2)
REPEAT = 5


def network():
    if (DATA_DIR / "crossings.csv").exists():
        cm = load_cost_model(DEFAULT_COST_MODEL)
        return network_from_data(load_dataset(DATA_DIR, classes=set(cm.classes)), cm), cm, \
            "shipped baseline"
    from tests.test_uncertainty import write_dataset

    d = write_dataset(Path(tempfile.mkdtemp()) / "synth", n_places=200, n_cross=40)
    cm = load_cost_model(d / "cost_model.toml")
    return network_from_data(load_dataset(d, classes=set(cm.classes)), cm), cm, \
        "synthetic (no shipped data yet)"


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = fn()
    return time.perf_counter() - t0, res


def main() -> None:
    G, cm, label = network()
    print(f"{label} network: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges; "
          f"{N_RUNS:,} runs, seed {SEED}, ranges {dict(cm.uncertainty)}")
    print(f"  load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other work on the machine slows every row)")
    with contextlib.ExitStack() as stack:
        clients, start, cold = {}, {}, {}
        for n in WORKERS:
            start[n], clients[n] = timed(lambda n=n: stack.enter_context(_dask_client(n, None)))
            cold[n], _ = timed(lambda n=n: rank_stability(G, cm, runs=4 * n, seed=SEED,
                                                          scheduler=clients[n]))
        # Interleaved repeats: every configuration sees the same background load.
        walls: dict[object, list[float]] = {k: [] for k in ("in-process", *WORKERS)}
        last: dict[object, object] = {}
        for _ in range(REPEAT):
            t, last["in-process"] = timed(lambda: rank_stability(G, cm, runs=N_RUNS, seed=SEED))
            walls["in-process"].append(t)
            for n in WORKERS:
                t, last[n] = timed(lambda n=n: rank_stability(G, cm, runs=N_RUNS, seed=SEED,
                                                              scheduler=clients[n]))
                walls[n].append(t)
    med = {k: statistics.median(v) for k, v in walls.items()}
    base = last["in-process"]
    print(f"  {'in-process (workers=0)':<36} {med['in-process']:7.2f} s  "
          f"({med['in-process'] / N_RUNS * 1e3:.2f} ms per run; CPU {base.params['cpu_s']:.2f} s;"
          f" range {min(walls['in-process']):.2f}-{max(walls['in-process']):.2f} s)")
    for n in WORKERS:
        res = last[n]
        same = res.ranks.equals(base.ranks) and res.crossings.equals(base.crossings)
        label = f"Dask, {n} worker process" + ("es" if n > 1 else "")
        print(f"  {label:<36} {med[n]:7.2f} s  (CPU {res.params['cpu_s']:.2f} s over the "
              f"workers; range {min(walls[n]):.2f}-{max(walls[n]):.2f} s; cluster start "
              f"{start[n]:.1f} s, first cold call {cold[n]:.1f} s; same results as "
              f"in-process: {'yes' if same else 'NO'})")
    print(f"  {'speed-up, 2 workers over 1':<36} {med[1] / med[2]:7.2f}x")
    print(f"  {'speed-up, 2 workers over in-process':<36} {med['in-process'] / med[2]:7.2f}x")
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    cols = ["name", "baseline_rank", "median_rank", "rank_p05", "rank_p95", "top_k_share"]
    with pd.option_context("display.width", 160, "display.max_colwidth", 40):
        print("\n  five least stable crossings (widest 5-95% rank interval):")
        print("\n".join("    " + s for s in
                        base.least_stable(5)[cols].to_string().splitlines()))


if __name__ == "__main__":
    main()
