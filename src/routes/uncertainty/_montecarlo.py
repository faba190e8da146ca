"""Execution of the Monte-Carlo runs (:mod:`.uncertainty`): in-process or on Dask workers.

A :class:`_Job` (the weight model, the flows, the seed) is sent once to every worker and cached
there by token (:func:`_state`); the runs go out in chunks, one task per chunk
(:func:`_run_chunk`), and each chunk returns its runs' results stacked, or their errors.
:func:`_execute` runs the chunks in-process (``workers=0``), on a local Dask cluster or on an
existing one (:func:`_dask_client`); :func:`split_flow_betweenness` spreads one flow
betweenness over tasks the same way.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import RoutesError
from ..costs import CostModel
from ..engine import Engine, check_engine
from ..network import od_demand
from ._draws import Multipliers, WeightModel, _rank_key, _Tau, rank_crossings, run_rng

__all__ = ["split_flow_betweenness"]

log = logging.getLogger("routes.uncertainty.uncertainty")

#: How long to try to reach an existing Dask scheduler.
_CONNECT_TIMEOUT = "15s"


# --------------------------------------------------------------------------- jobs and workers
@dataclass(frozen=True)
class _Job:
    """Everything a worker needs: sent once per worker (scattered), cached there by token."""

    token: str
    seed: int
    model: WeightModel
    nodes: list[Any]
    flows: dict[tuple[Any, Any], float]
    weight: str
    engine: str
    ranked: np.ndarray          # indices into model.crossings of the ranked crossings
    total: float
    base_key: np.ndarray
    top_k: int
    priorities: float | None = None
    objective: str = "flow"
    graph: nx.DiGraph | None = None   # the full network, only for priorities
    cm: CostModel | None = None


class _State:
    """A worker's converted network (built once per job and process)."""

    def __init__(self, job: _Job) -> None:
        skel = nx.DiGraph()
        skel.add_nodes_from(job.nodes)
        skel.add_edges_from(job.model.edges)
        self.engine = Engine(skel, engine=job.engine)
        if self.engine.edges != job.model.edges:  # pragma: no cover - guards the contract
            raise RoutesError("engine edge order differs from the weight model's")
        idx = self.engine.index
        self.cnode = np.array([idx[job.model.crossings[k]] for k in job.ranked], dtype=np.int64)
        self.tau = _Tau(job.base_key)
        self.greedy_graph = job.graph.copy() if job.graph is not None else None


_STATES: OrderedDict[str, _State] = OrderedDict()
_MAX_STATES = 4


def _state(job: _Job) -> _State:
    st = _STATES.get(job.token)
    if st is None:
        st = _State(job)
        _STATES[job.token] = st
        while len(_STATES) > _MAX_STATES:
            _STATES.popitem(last=False)
    return st


def _one_run(job: _Job, st: _State, m: Multipliers) -> dict[str, Any]:
    w = job.model.weights(m)
    node, _ = st.engine.flow_betweenness(weights=w[job.weight], flows=job.flows)
    flow = node[st.cnode]
    key = _rank_key(flow, job.total)
    out = {"flow": flow, "rank": rank_crossings(flow, total=job.total), "tau": st.tau(key)}
    if job.priorities is not None:
        out["priority"] = _greedy_order(job, st, m, w["risk"])
    return out


def _greedy_order(job: _Job, st: _State, m: Multipliers, risk: np.ndarray) -> np.ndarray:
    """Greedy post priorities of one run: order chosen (1, 2, ...) per ranked crossing, 0 if not."""
    from ..priorities.interdiction import interdict_greedy

    H = st.greedy_graph
    if H is None or job.cm is None or job.priorities is None:  # pragma: no cover
        raise RoutesError("priorities need the network and the cost model in the job")
    p, risk_c, delay_c, p_up = job.model.crossing_values(m)
    for k, c in enumerate(job.model.crossings):
        d = H.nodes[c]
        d["p_detect"], d["crossing_risk"] = float(p[k]), float(risk_c[k])
        d["delay_h"], d["p_detect_upgraded"] = float(delay_c[k]), float(p_up[k])
    adj = H._adj
    for (a, b), r in zip(job.model.edges, risk.tolist()):
        adj[a][b]["risk"] = r
    res = interdict_greedy(H, float(job.priorities), objective=job.objective, cm=job.cm,
                           flows=job.flows)
    pos = {c: i + 1 for i, c in enumerate(res.order)}
    return np.array([pos.get(job.model.crossings[k], 0) for k in job.ranked], dtype=np.int64)


def _run_chunk(job: _Job, start: int, stop: int, fail_runs: frozenset[int] = frozenset()
               ) -> dict[str, Any]:
    """Run ``start .. stop - 1``: each one's results, or its error (the others go on)."""
    cpu0, t0 = time.process_time(), time.time()
    st = _state(job)
    done: list[int] = []
    rows: list[dict[str, Any]] = []
    failures: list[tuple[int, str]] = []
    for i in range(start, stop):
        try:
            if i in fail_runs:
                raise RuntimeError(f"injected failure in run {i}")
            m = job.model.draw(run_rng(job.seed, i))
            res = _one_run(job, st, m)
            res["globals"] = np.concatenate([[m.hours_per_risk], m.speed_kmh])
            rows.append(res)
            done.append(i)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none dropped
            failures.append((i, f"{type(exc).__name__}: {exc}"))
    # Stacked arrays, not one small array per run: a few large frames travel back from a
    # worker much faster than hundreds of small ones.
    out: dict[str, Any] = {"runs": done, "failures": failures,
                           "cpu_s": time.process_time() - cpu0,
                           "span": (os.getpid(), t0, time.time())}
    if rows:
        out["stacked"] = {k: np.stack([r[k] for r in rows]) for k in rows[0]}
    return out


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep Dask's INFO lines (scheduler, nanny, worker start-up) off stderr.

    ``distributed`` logs about thirty INFO lines per local cluster (and shutdown warnings);
    a library stays quiet, so they show only when routes itself logs at INFO (``routes -v``).
    """
    logger = logging.getLogger("distributed")
    if log.isEnabledFor(logging.INFO):
        yield
        return
    old = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(old)


@contextlib.contextmanager
def _dask_client(workers: int, scheduler: Any) -> Iterator[Any]:
    """Yield a Dask client: the one given, one connected to ``scheduler``, or a local one.

    The client is closed before the cluster (the ``with`` order), so no worker is left behind.
    Dask is quiet unless routes logs at INFO (:func:`_quiet_dask`).
    """
    with _quiet_dask():
        with _dask_client_loud(workers, scheduler) as client:
            yield client


@contextlib.contextmanager
def _dask_client_loud(workers: int, scheduler: Any) -> Iterator[Any]:
    import dask
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is not None:
        try:
            client = Client(str(scheduler), set_as_default=False, timeout=_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: a bad address
            raise RoutesError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    # Workers get the config at spawn: no statistical profiler (it samples every task's stack
    # and cost 15-30% of the CPU time of these short numeric runs, measured); no dashboard;
    # every socket on loopback.
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         host="127.0.0.1", dashboard_address="127.0.0.1:0",
                         scheduler_kwargs={"dashboard": False},
                         silence_logs=logging.ERROR) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


def _chunks(runs: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, runs)) for a in range(0, runs, size)]


def _execute(job: _Job, runs: int, *, workers: int, scheduler: Any, chunk_size: int | None,
             progress: bool, fail_runs: frozenset[int]) -> tuple[list[dict[str, Any]], int,
                                                                   int]:
    """Run every chunk; return the chunk results, the chunk size and the worker count."""
    from tqdm.auto import tqdm

    bar = tqdm(total=runs, unit="run", desc="uncertainty", disable=not progress,
               dynamic_ncols=True)  # equivalent mutant: only follows a resized terminal
    out: list[dict[str, Any]] = []
    with bar:
        if scheduler is None and workers == 0:
            size = chunk_size or max(1, min(100, math.ceil(runs / 100)))
            for a, b in _chunks(runs, size):
                out.append(_guarded(job, a, b, fail_runs))
                bar.update(b - a)
            return out, size, 0
        from distributed import as_completed

        with _dask_client(workers, scheduler) as client:
            n = max(1, sum(client.nthreads().values()))
            size = chunk_size or max(1, min(200, math.ceil(runs / (10 * n))))
            log.info("uncertainty: %d runs in chunks of %d on %d Dask workers", runs, size, n)
            shared = client.scatter(job, broadcast=True, hash=False)
            spans = _chunks(runs, size)
            futures = {client.submit(_run_chunk, shared, a, b, fail_runs, pure=False,
                                     key=f"routes-uncertainty-{job.token}-{a}"): (a, b)
                       for a, b in spans}
            for fut in as_completed(futures, loop=client.loop):
                a, b = futures[fut]
                try:
                    out.append(fut.result())
                except Exception as exc:  # noqa: BLE001 - a failed task fails its runs
                    err = f"task failed: {type(exc).__name__}: {exc}"
                    out.append({"runs": [],
                                "failures": [(i, err) for i in range(a, b)]})
                fut.release()
                bar.update(b - a)
            return out, size, n


def _guarded(job: _Job, a: int, b: int, fail_runs: frozenset[int]) -> dict[str, Any]:
    """In-process chunk with the same failure semantics as a Dask task."""
    try:
        return _run_chunk(job, a, b, fail_runs)
    except Exception as exc:  # noqa: BLE001 - a failed chunk fails its runs, reported
        err = f"task failed: {type(exc).__name__}: {exc}"
        return {"runs": [], "failures": [(i, err) for i in range(a, b)]}


# --------------------------------------------------------------------------- split by source
def _split_task(skel: nx.DiGraph, w: np.ndarray, flows: dict[tuple[Any, Any], float],
                engine: str) -> np.ndarray:
    return Engine(skel, engine=engine).flow_betweenness(weights=w, flows=flows)[0]


def split_flow_betweenness(G: nx.DiGraph, *, weight: str = "cost",
                           flows: Mapping[tuple[Any, Any], float] | None = None,
                           splits: int = 2, workers: int = 0, scheduler: Any = None,
                           engine: str | None = None) -> pd.Series:
    """Flow betweenness of every node, the origins split into ``splits`` groups of tasks.

    Flow betweenness is a sum over origins, so each task computes it for a group of origins
    (round-robin in id order) and the parts are added: the same numbers as
    :meth:`routes.engine.Engine.flow_betweenness` in one call, for graphs too large for one
    process's time. Execution as in :func:`rank_stability` (``workers=0`` in-process; each task
    converts the graph, so use it where one Dijkstra per origin dominates the conversion).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("o", role="origin", supply=2.0); G.add_node("q", role="origin", supply=1.0)
    >>> G.add_node("m", role="market", demand=1.0)
    >>> nx.add_path(G, ["o", "x", "m"], cost=1.0); G.add_edge("q", "x", cost=1.0)
    >>> split_flow_betweenness(G, splits=2).to_dict()
    {'m': 0.0, 'o': 0.0, 'q': 0.0, 'x': 3.0}
    """
    flows = od_demand(G) if flows is None else flows
    engine = check_engine(engine)
    if splits < 1:
        raise RoutesError(f"splits must be >= 1, got {splits}")
    skel = nx.DiGraph()
    skel.add_nodes_from(sorted(G.nodes))
    skel.add_edges_from(sorted(G.edges()))
    try:
        w = np.array([float(G.edges[e][weight]) for e in sorted(G.edges())])
    except KeyError:
        raise RoutesError(f"edges have no weight attribute {weight!r}") from None
    origins = sorted({o for (o, t), f in flows.items() if f and o != t})
    groups = [set(origins[k::splits]) for k in range(min(splits, max(len(origins), 1)))]
    parts = [{p: f for p, f in flows.items() if p[0] in g} for g in groups]
    if scheduler is None and workers == 0:
        res = [_split_task(skel, w, p, engine) for p in parts]
    else:
        with _dask_client(workers, scheduler) as client:
            s_skel = client.scatter(skel, broadcast=True, hash=False)
            s_w = client.scatter(w, broadcast=True, hash=False)
            futs = [client.submit(_split_task, s_skel, s_w, p, engine, pure=False)
                    for p in parts]
            res = client.gather(futs)
    total = np.sum(res, axis=0) if res else np.zeros(len(skel))
    return pd.Series(total, index=pd.Index(sorted(G.nodes), name="id"), name="flow_betweenness")
