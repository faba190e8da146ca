"""Monte-Carlo rank stability: 1,000 runs in-process, on 1 and on 2 Dask worker processes.

On the shipped baseline network (a synthetic two-country network while the shipped data is
missing), ``rank_stability`` with the cost model's uncertainty ranges, seed 0:

- ``in-process``: ``workers=0`` (no Dask), the network converted to the engine once;
- ``Dask, N workers``: the ``LocalCluster(n_workers=N, threads_per_worker=1, processes=True)``
  on 127.0.0.1 that ``rank_stability(workers=N)`` starts. Its start-up and the first, cold
  call (worker imports of routes, numpy, igraph) are timed apart; then the median of 3 warm
  calls (each a new job: the model is scattered and the engine built once per worker).

CPU is the CPU time of the runs (summed over the workers): with other work on the machine the
wall times grow but the CPU times hold, which tells contention from overhead.

The speed-up is 1 worker's time over 2 workers'. The three results are checked identical
(same ranks in every run), as the seeding promises.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks._timing import median_time
from routes.analysis.uncertainty import _dask_client, rank_stability
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

N_RUNS = 1_000
SEED = 0


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


def on_cluster(G, cm, n: int) -> tuple[float, float, float, object]:
    """Start-up, cold call and median warm call on a LocalCluster of n processes.

    The cluster is the one ``rank_stability(workers=n)`` starts (same settings).
    """
    t0 = time.perf_counter()
    with _dask_client(n, None) as client:
        start = time.perf_counter() - t0
        t0 = time.perf_counter()
        rank_stability(G, cm, runs=4 * n, seed=SEED, scheduler=client)
        cold = time.perf_counter() - t0
        res = []
        warm = median_time(lambda: res.append(
            rank_stability(G, cm, runs=N_RUNS, seed=SEED, scheduler=client)), repeat=3)
    return start, cold, warm, res[-1]


def main() -> None:
    G, cm, label = network()
    print(f"{label} network: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges; "
          f"{N_RUNS:,} runs, seed {SEED}, ranges {dict(cm.uncertainty)}")
    serial_res = []
    serial = median_time(lambda: serial_res.append(
        rank_stability(G, cm, runs=N_RUNS, seed=SEED)), repeat=3)
    base = serial_res[-1]
    print(f"  load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other work on the machine slows every row; compare rows of one run)")
    print(f"  {'in-process (workers=0)':<34} {serial:8.2f} s  "
          f"({serial / N_RUNS * 1e3:.2f} ms per run; CPU {base.params['cpu_s']:.2f} s)",
          flush=True)
    times = {}
    for n in (1, 2):
        start, cold, warm, res = on_cluster(G, cm, n)
        times[n] = warm
        same = res.ranks.equals(base.ranks) and res.crossings.equals(base.crossings)
        print(f"  {f'Dask, {n} worker process' + ('es' if n > 1 else ''):<34} {warm:8.2f} s  "
              f"(CPU {res.params['cpu_s']:.2f} s over the workers; cluster start {start:.1f} s, "
              f"first cold call {cold:.1f} s; same results as in-process: "
              f"{'yes' if same else 'NO'})", flush=True)
    print(f"  {'speed-up, 2 workers over 1':<34} {times[1] / times[2]:8.2f}x")
    print(f"  {'speed-up, 2 workers over in-process':<34} {serial / times[2]:8.2f}x")
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    cols = ["name", "baseline_rank", "median_rank", "rank_p05", "rank_p95", "top_k_share"]
    with pd.option_context("display.width", 160, "display.max_colwidth", 40):
        print("\n  five least stable crossings (widest 5-95% rank interval):")
        print("\n".join("    " + s for s in
                        base.least_stable(5)[cols].to_string().splitlines()))


if __name__ == "__main__":
    main()
