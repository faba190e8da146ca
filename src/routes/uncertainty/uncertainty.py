"""Monte-Carlo rank stability of the crossings under cost-model uncertainty.

This module holds the analysis and its result; the draws, weights and ranks of a run live in
:mod:`._draws` and the execution (in-process or Dask) in :mod:`._montecarlo`, whose public
names are re-exported here.

How robust is the ranking of the crossings by flow betweenness
(:func:`routes.crossings.centrality.crossing_table`) when the cost model's parameters are
uncertain? Each Monte-Carlo run draws multipliers for the uncertain parameters, recomputes the
edge weights, the flow betweenness of every crossing and its rank, and (optionally) the greedy
border-post priorities; :func:`rank_stability` then reports each crossing's rank distribution.

The draws
---------
Ranges are multiplicative and uniform: a parameter with range ``(low, high)`` is multiplied by
``U(low, high)`` in each run (``data/geo/cost_model.toml``, table ``[uncertainty]``). Per run:

- ``p_detect``: one multiplier **per crossing** (capped at :data:`P_DETECT_MAX`); the crossing
  risk ``-ln(1 - p)`` (times the restricted factor) follows;
- ``delay_h``: one multiplier per crossing, on its effective delay;
- ``speed_kmh``: one multiplier **per corridor mode** (road, rail, ferry, sea, track);
- ``hours_per_risk``: one global multiplier (the trafficker's aversion to detection).

Per-crossing ranges (``p_detect``, ``delay_h``) can override the global ones
(:class:`Ranges`, :func:`load_ranges`). Run ``i`` draws from
``numpy.random.default_rng(SeedSequence(seed).spawn(runs)[i])`` (built directly as
``SeedSequence(seed, spawn_key=(i,))``, the same stream): the draws depend on the seed and the
run's index only, so results are identical whatever the number of workers or the chunking.
The draws of a run are made in a fixed order (p_detect, delay_h, speed_kmh, hours_per_risk), all
of them even when a range is empty.

The weights
-----------
:class:`WeightModel` splits every edge's weights once into components (travel hours
``length_km / speed_kmh``, fixed hours, the delay and crossing risk of the crossing it enters,
travel risk, length) and recombines them with numpy for each draw, in the order of
:func:`routes.costs.edge_weights`, so that multipliers of 1 give the network's own weights
bit for bit (checked when the model is built). The network is converted to the compiled engine
(:class:`routes.engine.Engine`) once per worker process, never per run; a run is one
re-weighted :meth:`~routes.engine.Engine.flow_betweenness`.

Ranks and agreement
-------------------
Crossings (closed ones left out: they carry nothing) are ranked by flow betweenness, rounded to
``1e-9`` of the total flow so that float noise does not break ties, ties by id (1 = most
flow); the crossings that carry nothing in a run share the last rank
(:func:`rank_crossings`). Each run's agreement with the baseline is Kendall's tau-b [1]_
between the run's and the baseline's flow betweenness of the crossings: crossings tied in
either (for instance two that both carry nothing) count as ties, not as agreement. It is
computed vectorised over all pairs and equals :func:`scipy.stats.kendalltau` (tested),
without its p-value, which would cost about as much as the run itself.

Execution
---------
``workers=0`` runs in-process. ``workers=N`` starts a Dask ``LocalCluster`` of ``N`` worker
processes with one thread each on 127.0.0.1 (igraph holds the GIL, so processes, not threads),
``scheduler="tcp://host:port"`` (or a ``distributed.Client``) uses an existing cluster whose
workers have ``routes`` installed [2]_. Runs are sent in chunks, one task per chunk. A run that
raises is recorded (run, error) and the others go on; a task that fails as a whole marks all its
runs failed. Failures are never dropped: :func:`rank_stability` raises
:class:`RunsFailedError` (or, with ``on_failure="report"``, returns them in
:attr:`Uncertainty.failures`).

References
----------
.. [1] M. G. Kendall, "The treatment of ties in ranking problems", Biometrika 33(3), 239-251,
   1945.
.. [2] M. Rocklin, "Dask: parallel computation with blocked algorithms and task scheduling",
   Proceedings of the 14th Python in Science Conference, 130-136, 2015.
"""


from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import NoRouteError, RoutesError
from ..costs import CORRIDOR_MODES, CostModel
from ..engine import check_engine
from ..network import od_demand
from ._draws import (
    CROSSING_PARAMETERS,
    P_DETECT_MAX,
    PARAMETERS,
    Multipliers,
    Ranges,
    WeightModel,
    _rank_key,
    _Tau,
    _toy,  # noqa: F401 - the examples of rank_stability use it
    kendall_tau_b,
    load_ranges,
    ranges_from_cost_model,
    rank_crossings,
    run_rng,
)
from ._montecarlo import (  # _dask_client: used by routes.calibration.calibrate
    _STATES,
    _dask_client,  # noqa: F401
    _execute,
    _Job,
    _one_run,
    _State,
    split_flow_betweenness,
)

__all__ = [
    "DEFAULT_SEED",
    "PARAMETERS",
    "CROSSING_PARAMETERS",
    "P_DETECT_MAX",
    "UNCERTAINTY_COLUMNS",
    "Ranges",
    "ranges_from_cost_model",
    "load_ranges",
    "Multipliers",
    "WeightModel",
    "run_rng",
    "kendall_tau_b",
    "rank_crossings",
    "Uncertainty",
    "RunsFailedError",
    "rank_stability",
    "split_flow_betweenness",
]

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)

#: The master seed of the Monte-Carlo draws when none is given (``routes uncertainty`` and
#: ``routes report`` alike).
DEFAULT_SEED = 20251
#: Weights a run may route by.
WEIGHTS = ("cost", "risk", "time_h")
#: Columns of :attr:`Uncertainty.crossings`.
UNCERTAINTY_COLUMNS = ("name", "country_a", "country_b", "status", "baseline_flow",
                       "baseline_rank", "median_rank", "rank_p05", "rank_p95", "rank_spread",
                       "rank_std", "top_k_share", "flow_median", "flow_p05", "flow_p95",
                       "instability_rank")


class RunsFailedError(RoutesError):
    """Some Monte-Carlo runs raised; ``failures`` lists them and ``result`` holds the rest."""

    def __init__(self, result: Uncertainty) -> None:
        self.result = result
        self.failures = result.failures
        f = result.failures
        head = "; ".join(f"run {r}: {e}" for r, e in zip(f["run"][:3], f["error"][:3]))
        more = f" (and {len(f) - 3} more)" if len(f) > 3 else ""
        super().__init__(f"{len(f)} of {result.params['runs']} Monte-Carlo runs failed: "
                         f"{head}{more}")



# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Uncertainty:
    """The result of :func:`rank_stability`.

    Attributes
    ----------
    crossings : DataFrame
        One row per ranked crossing, indexed by id, in baseline rank order: columns
        :data:`UNCERTAINTY_COLUMNS` (ranks over the successful runs; quantiles linear;
        ``rank_spread = rank_p95 - rank_p05``; ``top_k_share`` the share of runs in the top
        ``top_k``; ``instability_rank`` 1 = least stable, by spread, then standard deviation,
        then baseline rank), plus ``priority_baseline`` (greedy order in the baseline, 0 = not
        chosen) and ``priority_share`` (share of runs choosing it) with ``priorities``.
    runs : DataFrame
        One row per run (``run`` index): ``ok``, ``kendall_tau``, the drawn global multipliers
        (``hours_per_risk``, ``speed_<mode>``), ``top_crossing``, ``error``.
    ranks : DataFrame
        The rank of every crossing (columns) in every successful run (rows).
    failures : DataFrame
        ``run``, ``error`` of each failed run (empty when all succeeded).
    params : dict
        Seed, runs, ranges, workers, chunk size, timing (``setup_s``, ``runs_s`` wall time;
        ``cpu_s`` the CPU time of the runs summed over workers) and the network's provenance.
    """

    crossings: pd.DataFrame
    runs: pd.DataFrame
    ranks: pd.DataFrame
    failures: pd.DataFrame
    params: dict[str, Any]

    def least_stable(self, n: int = 5) -> pd.DataFrame:
        """Return the ``n`` crossings whose rank varies most (by ``instability_rank``)."""
        return self.crossings.sort_values("instability_rank").head(n)

    def summary(self) -> dict[str, Any]:
        """Return a JSON-able summary: parameters, failures, Kendall tau, least stable."""
        tau = self.runs.loc[self.runs["ok"], "kendall_tau"].dropna()
        q = tau.quantile([0.05, 0.5, 0.95]).tolist() if len(tau) else [math.nan] * 3
        return {**self.params, "failed_runs": [int(r) for r in self.failures["run"]],
                "kendall_tau": {"p05": q[0], "median": q[1], "p95": q[2],
                                "mean": float(tau.mean()) if len(tau) else math.nan},
                "least_stable": self.least_stable(5).index.tolist()}


def _assemble(G: nx.DiGraph, job: _Job, chunks: list[dict[str, Any]], runs: int,
              base: dict[str, Any], params: dict[str, Any]) -> Uncertainty:
    ids = [job.model.crossings[k] for k in job.ranked]
    n_cross = len(ids)
    ok = np.zeros(runs, dtype=bool)
    flow = np.full((runs, n_cross), np.nan)
    rank = np.zeros((runs, n_cross), dtype=np.int64)
    tau = np.full(runs, np.nan)
    glob = np.full((runs, 1 + len(CORRIDOR_MODES)), np.nan)
    prio = np.zeros((runs, n_cross), dtype=np.int64)
    errors: dict[int, str] = {}
    for ch in chunks:
        if ch["runs"]:
            idx = np.asarray(ch["runs"], dtype=np.int64)
            stk = ch["stacked"]
            ok[idx] = True
            flow[idx], rank[idx], tau[idx], glob[idx] = (stk["flow"], stk["rank"], stk["tau"],
                                                         stk["globals"])
            if "priority" in stk:
                prio[idx] = stk["priority"]
        errors.update(dict(ch["failures"]))
    R, Fl = rank[ok].astype(float), flow[ok]
    good = len(R) > 0

    def q(a: np.ndarray, p: float) -> np.ndarray:
        return np.quantile(a, p, axis=0) if good else np.full(n_cross, np.nan)

    nd = G.nodes
    df = pd.DataFrame({
        "id": ids,
        "name": [nd[c].get("name") for c in ids],
        "country_a": [nd[c].get("country_a") for c in ids],
        "country_b": [nd[c].get("country_b") for c in ids],
        "status": [nd[c].get("status") for c in ids],
        "baseline_flow": base["flow"],
        "baseline_rank": base["rank"],
        "median_rank": q(R, 0.5),
        "rank_p05": q(R, 0.05),
        "rank_p95": q(R, 0.95),
    })
    df["rank_spread"] = df["rank_p95"] - df["rank_p05"]
    df["rank_std"] = R.std(axis=0) if good else np.nan
    df["top_k_share"] = (R <= job.top_k).mean(axis=0) if good else np.nan
    df["flow_median"], df["flow_p05"], df["flow_p95"] = q(Fl, 0.5), q(Fl, 0.05), q(Fl, 0.95)
    order = np.lexsort((df["baseline_rank"].to_numpy(), -df["rank_std"].fillna(0).to_numpy(),
                        -df["rank_spread"].fillna(0).to_numpy()))
    inst = np.empty(n_cross, dtype=np.int64)
    inst[order] = np.arange(1, n_cross + 1)
    df["instability_rank"] = inst
    if job.priorities is not None:
        df["priority_baseline"] = base["priority"]
        df["priority_share"] = (prio[ok] > 0).mean(axis=0) if good else np.nan
    df = df.set_index("id").sort_values("baseline_rank")
    modes = [f"speed_{m}" for m in CORRIDOR_MODES]
    top = [ids[int(np.argmin(rank[i]))] if ok[i] and n_cross else None for i in range(runs)]
    rdf = pd.DataFrame({"run": np.arange(runs), "ok": ok, "kendall_tau": tau,
                        "hours_per_risk": glob[:, 0],
                        **{m: glob[:, k + 1] for k, m in enumerate(modes)},
                        "top_crossing": top,
                        "error": [errors.get(i, "") for i in range(runs)]}).set_index("run")
    ranks = pd.DataFrame(rank[ok], index=pd.Index(np.flatnonzero(ok), name="run"),
                         columns=pd.Index(ids, name="crossing"))
    failures = pd.DataFrame(sorted(errors.items()), columns=["run", "error"])
    return Uncertainty(df, rdf, ranks, failures, params)


def rank_stability(G: nx.DiGraph, cm: CostModel, *, runs: int, seed: int | None = DEFAULT_SEED,
                   top_k: int = 10, weight: str = "cost", ranges: Ranges | None = None,
                   workers: int = 0, scheduler: Any = None, chunk_size: int | None = None,
                   priorities: float | None = None, objective: str = "flow",
                   progress: bool = False, on_failure: str = "raise",
                   fail_runs: Iterable[int] = (), engine: str | None = None) -> Uncertainty:
    """Monte-Carlo rank stability of the crossings by flow betweenness (module notes).

    Parameters
    ----------
    G : networkx.DiGraph
        The route network (:func:`routes.network.network_from_data`).
    cm : CostModel
        The cost model ``G`` was built with (checked).
    runs : int
        Number of Monte-Carlo runs (>= 1).
    seed : int or None
        Master seed (default :data:`DEFAULT_SEED`); run ``i`` uses :func:`run_rng`
        ``(seed, i)``. ``None`` draws fresh entropy, recorded in ``params["seed"]``.
    top_k : int
        ``top_k_share`` counts the runs in which a crossing ranks ``<= top_k``.
    weight : {"cost", "risk", "time_h"}
        The weight the routes minimise.
    ranges : Ranges, optional
        Default: the cost model's ``[uncertainty]`` (:func:`ranges_from_cost_model`).
    workers : int
        0: in-process; N: a Dask ``LocalCluster`` of N processes on 127.0.0.1.
    scheduler : str or distributed.Client, optional
        An existing Dask cluster (``"tcp://host:port"``) or client; overrides ``workers``.
    chunk_size : int, optional
        Runs per task (default: about ten tasks per worker, at most 200 runs each). Results do
        not depend on it.
    priorities : float, optional
        Also run greedy border-post priorities (:func:`routes.priorities.interdiction.
        interdict_greedy`) with this budget in every run: slow, off by default. A drawn
        ``p_detect`` multiplier scales ``p_detect_upgraded`` too.
    objective : {"flow", "single"}
        The priorities' objective.
    progress : bool
        Show a tqdm progress bar (on stderr) as chunks complete.
    on_failure : {"raise", "report"}
        When runs fail: raise :class:`RunsFailedError` (after every run has finished), or
        return them in :attr:`Uncertainty.failures`.
    fail_runs : iterable of int
        Testing aid: these runs raise, to exercise the failure reporting.
    engine : {"igraph", "networkx"}, optional
        Engine of the flow betweenness kernel.

    Returns
    -------
    Uncertainty

    Raises
    ------
    RoutesError
        Bad arguments, a cost model that does not match ``G``, an unreachable scheduler.
    NoRouteError
        No origin-market pair with flow.
    RunsFailedError
        Some runs failed (``on_failure="raise"``).

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> G = _toy(cm)
    >>> u = rank_stability(G, cm, runs=50, seed=1, top_k=1)
    >>> u.crossings[["baseline_rank", "median_rank", "top_k_share"]].to_dict("index")
    {'x_b': {'baseline_rank': 1, 'median_rank': 1.0, 'top_k_share': 0.72}, \
'x_a': {'baseline_rank': 2, 'median_rank': 2.0, 'top_k_share': 0.28}}
    """
    t0 = time.perf_counter()
    job, base = _prepare(G, cm, runs=runs, seed=seed, top_k=top_k, weight=weight,
                         ranges=ranges, priorities=priorities, objective=objective,
                         engine=engine, workers=workers, on_failure=on_failure)
    t1 = time.perf_counter()
    chunks, size, n_workers = _execute(job, runs, workers=workers, scheduler=scheduler,
                                       chunk_size=chunk_size, progress=progress,
                                       fail_runs=frozenset(int(i) for i in fail_runs))
    t2 = time.perf_counter()
    _STATES.pop(job.token, None)
    params = {"runs": runs, "seed": job.seed, "top_k": top_k, "weight": weight,
              "engine": job.engine, "ranges": job.model.ranges.as_dict(),
              "priorities_budget": priorities,
              "priorities_objective": objective if priorities is not None else None,
              "workers": n_workers, "scheduler": _scheduler_label(scheduler, workers),
              "chunk_size": size, "crossings_ranked": len(job.ranked),
              "setup_s": t1 - t0, "runs_s": t2 - t1,
              "cpu_s": float(sum(c.get("cpu_s", 0.0) for c in chunks)),
              **{k: G.graph.get(k) for k in ("name", "data_hash", "cost_model",
                                              "cost_model_hash", "scenario", "scenario_hash",
                                              "as_of")}}
    res = _assemble(G, job, chunks, runs, base, params)
    if len(res.failures):
        log.warning("uncertainty: %d of %d runs failed", len(res.failures), runs)
        if on_failure == "raise":
            raise RunsFailedError(res)
    return res


def _reachable(G: nx.DiGraph, sources: set[Any]) -> dict[Any, set[Any]]:
    """Return the nodes each source reaches (a closed crossing has no edges)."""
    return {o: nx.descendants(G, o) for o in sources}


def _scheduler_label(scheduler: Any, workers: int) -> str:
    if scheduler is None:
        return "in-process" if workers == 0 else f"LocalCluster({workers} processes, 127.0.0.1)"
    addr = getattr(scheduler, "scheduler", None)
    return str(getattr(addr, "address", scheduler))


def _prepare(G: nx.DiGraph, cm: CostModel, *, runs: int, seed: int | None, top_k: int,
             weight: str, ranges: Ranges | None, priorities: float | None, objective: str,
             engine: str | None, workers: int, on_failure: str) -> tuple[_Job, dict[str, Any]]:
    """Check the arguments, build the job and run the baseline in-process."""
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 1:
        raise RoutesError(f"runs must be an integer >= 1, got {runs!r}")
    if not isinstance(workers, int) or workers < 0:
        raise RoutesError(f"workers must be an integer >= 0, got {workers!r}")
    if top_k < 1:
        raise RoutesError(f"top_k must be >= 1, got {top_k}")
    if weight not in WEIGHTS:
        raise RoutesError(f"weight must be one of {', '.join(WEIGHTS)}, got {weight!r}")
    if on_failure not in ("raise", "report"):
        raise RoutesError(f"on_failure must be 'raise' or 'report', got {on_failure!r}")
    if priorities is not None and not (math.isfinite(priorities) and priorities >= 0):
        raise RoutesError(f"the priorities budget must be >= 0, got {priorities!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise RoutesError(f"seed must be an integer >= 0, got {seed!r}")
    flows = {p: float(f) for p, f in od_demand(G).items() if f and p[0] != p[1]}
    if not flows:
        raise NoRouteError("no origin-market pair with flow: the network needs at least one "
                           "origin (supply > 0) and one market (demand > 0)")
    reach = _reachable(G, {o for o, _ in flows})
    if not any(m in reach[o] for o, m in flows):
        raise NoRouteError("no route from any origin to any market: nothing to rank")
    model = WeightModel(G, cm, ranges=ranges)
    ranked = np.array([k for k, s in enumerate(model.status) if s != "closed"], dtype=np.int64)
    total = float(sum(flows.values()))
    job = _Job(token=uuid.uuid4().hex, seed=int(seed), model=model, nodes=sorted(G.nodes),
               flows=flows, weight=weight, engine=check_engine(engine), ranked=ranked,
               total=total, base_key=np.zeros(len(ranked)), top_k=top_k, priorities=priorities,
               objective=objective, graph=G if priorities is not None else None,
               cm=cm if priorities is not None else None)
    st = _State(job)
    base = _one_run(job, st, model.ones())
    job = replace(job, base_key=_rank_key(base["flow"], total))
    st.tau = _Tau(job.base_key)
    if workers == 0:  # the in-process runs reuse this conversion (dropped after the runs)
        _STATES[job.token] = st
    return job, base
