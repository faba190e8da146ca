"""Monte-Carlo rank stability of the crossings under cost-model uncertainty.

How robust is the ranking of the crossings by flow betweenness
(:func:`routes.analysis.centrality.crossing_table`) when the cost model's parameters are
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

import contextlib
import logging
import math
import os
import time
import tomllib
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import NoRouteError, Problem, RoutesError, ScenarioError
from ..costs import CORRIDOR_MODES, CostModel
from ..engine import Engine, check_engine
from ..network import od_demand

__all__ = [
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

#: The uncertain parameters, in the order each run draws them.
PARAMETERS = ("p_detect", "delay_h", "speed_kmh", "hours_per_risk")
#: Parameters that may have a range per crossing.
CROSSING_PARAMETERS = ("p_detect", "delay_h")
#: Cap on a drawn detection probability (the cost model's own upper bound).
P_DETECT_MAX = 0.99
#: Relative tolerance of the check that multipliers of 1 give the network's weights.
_CHECK_RTOL = 1e-9
#: Flow betweenness is rounded to this fraction of the total flow before ranking.
_RANK_RESOLUTION = 1e-9
#: How long to try to reach an existing Dask scheduler.
_CONNECT_TIMEOUT = "15s"
#: Weights a run may route by.
WEIGHTS = ("cost", "risk", "time_h")
#: Columns of :attr:`Uncertainty.crossings`.
UNCERTAINTY_COLUMNS = ("name", "country_a", "country_b", "status", "baseline_flow",
                       "baseline_rank", "median_rank", "rank_p05", "rank_p95", "rank_spread",
                       "rank_std", "top_k_share", "flow_median", "flow_p05", "flow_p95",
                       "instability_rank")


# --------------------------------------------------------------------------- ranges
@dataclass(frozen=True)
class Ranges:
    """Multiplicative uniform ranges: global ones and per-crossing overrides.

    Attributes
    ----------
    default : dict
        ``{parameter: (low, high)}`` for any of :data:`PARAMETERS`; a missing parameter is
        not varied.
    crossings : dict
        ``{crossing id: {parameter: (low, high)}}`` for :data:`CROSSING_PARAMETERS`, which
        replace the default range for that crossing.

    Examples
    --------
    >>> r = Ranges({"p_detect": (0.5, 1.5)}, {"x_a": {"p_detect": (1.0, 1.0)}})
    >>> r.for_crossing("x_a", "p_detect"), r.for_crossing("x_b", "p_detect")
    ((1.0, 1.0), (0.5, 1.5))
    >>> r.for_crossing("x_b", "delay_h")
    (1.0, 1.0)
    """

    default: dict[str, tuple[float, float]] = field(default_factory=dict)
    crossings: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        for k, rng in self.default.items():
            if k not in PARAMETERS:
                problems.append(f"unknown parameter {k!r} (varied: {', '.join(PARAMETERS)})")
            else:
                problems += _check_range(k, rng)
        for cid, vals in self.crossings.items():
            for k, rng in vals.items():
                if k not in CROSSING_PARAMETERS:
                    problems.append(f"crossing {cid}: {k!r} cannot vary per crossing "
                                    f"(only {', '.join(CROSSING_PARAMETERS)})")
                else:
                    problems += _check_range(f"{cid}.{k}", rng)
        if problems:
            raise RoutesError("uncertainty ranges: " + "; ".join(problems))

    def for_crossing(self, cid: str, parameter: str) -> tuple[float, float]:
        """Return the range of ``parameter`` at crossing ``cid`` (``(1.0, 1.0)``: fixed)."""
        rng = self.crossings.get(cid, {}).get(parameter, self.default.get(parameter, (1, 1)))
        return float(rng[0]), float(rng[1])

    def get(self, parameter: str) -> tuple[float, float]:
        """Return the global range of ``parameter`` (``(1.0, 1.0)`` if not varied)."""
        rng = self.default.get(parameter, (1.0, 1.0))
        return float(rng[0]), float(rng[1])

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able copy."""
        return {"default": {k: list(v) for k, v in sorted(self.default.items())},
                "crossings": {c: {k: list(v) for k, v in sorted(d.items())}
                              for c, d in sorted(self.crossings.items())}}


def _check_range(name: str, rng: Any) -> list[str]:
    ok = (isinstance(rng, tuple | list) and len(rng) == 2
          and all(isinstance(x, int | float) and not isinstance(x, bool)
                  and math.isfinite(x) for x in rng)
          and 0 < rng[0] <= rng[1])
    return [] if ok else [f"{name} must be (low, high) with 0 < low <= high, got {rng!r}"]


def ranges_from_cost_model(cm: CostModel) -> Ranges:
    """Return the cost model's ``[uncertainty]`` table as :class:`Ranges`.

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> ranges_from_cost_model(load_cost_model(DEFAULT_COST_MODEL)).get("speed_kmh")
    (0.8, 1.2)
    """
    return Ranges(default={k: (float(a), float(b)) for k, (a, b) in cm.uncertainty.items()})


def load_ranges(path: str | Path, *, base: Ranges | None = None) -> Ranges:
    """Read the ``[uncertainty]`` table of a TOML file (a ranges file, or a scenario).

    Format::

        [uncertainty]                      # global ranges, replace those of ``base``
        hours_per_risk = [0.5, 2.0]

        [uncertainty.crossings.x_some_id]  # per-crossing ranges
        p_detect = [0.9, 1.1]

    Parameters
    ----------
    path : path
        The TOML file.
    base : Ranges, optional
        Ranges to start from (typically :func:`ranges_from_cost_model`); the file's global
        ranges replace the same parameters and its crossing tables are added.

    Raises
    ------
    ScenarioError
        Unreadable file, or every problem with the table (file and dotted key as the field).
    """
    path = Path(path)
    file = str(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ScenarioError(Problem(file, None, None, f"cannot read: {exc.strerror}")) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(Problem(file, None, None, f"not valid TOML: {exc}")) from None
    table = raw.get("uncertainty", {})
    problems: list[Problem] = []
    default = dict(base.default) if base else {}
    crossings = {c: dict(d) for c, d in base.crossings.items()} if base else {}
    if not isinstance(table, dict):
        problems.append(Problem(file, None, "uncertainty", "must be a table"))
        table = {}
    for key, val in table.items():
        if key == "crossings" and isinstance(val, dict):
            for cid, vals in val.items():
                if not isinstance(vals, dict):
                    problems.append(Problem(file, None, f"uncertainty.crossings.{cid}",
                                            "must be a table"))
                    continue
                for k, rng in vals.items():
                    where = f"uncertainty.crossings.{cid}.{k}"
                    msg = ([f"only {', '.join(CROSSING_PARAMETERS)} vary per crossing"]
                           if k not in CROSSING_PARAMETERS else _check_range(k, rng))
                    problems += [Problem(file, None, where, m) for m in msg]
                    if not msg:
                        crossings.setdefault(cid, {})[k] = (float(rng[0]), float(rng[1]))
            continue
        msg = ([f"unknown parameter; varied: {', '.join(PARAMETERS)}"]
               if key not in PARAMETERS else _check_range(key, val))
        problems += [Problem(file, None, f"uncertainty.{key}", m) for m in msg]
        if not msg:
            default[key] = (float(val[0]), float(val[1]))
    if problems:
        raise ScenarioError(problems)
    return Ranges(default=default, crossings=crossings)


# --------------------------------------------------------------------------- weights
@dataclass(frozen=True)
class Multipliers:
    """One run's draws of the multipliers.

    Per crossing (:attr:`WeightModel.crossings` order), per mode
    (:data:`routes.costs.CORRIDOR_MODES` order) and global.
    """

    p_detect: np.ndarray
    delay_h: np.ndarray
    speed_kmh: np.ndarray
    hours_per_risk: float


def run_rng(seed: int, run: int) -> np.random.Generator:
    """Return the generator of run ``run``: ``default_rng(SeedSequence(seed).spawn(n)[run])``.

    Examples
    --------
    >>> a = run_rng(7, 3).random()
    >>> b = np.random.default_rng(np.random.SeedSequence(7).spawn(5)[3]).random()
    >>> a == b
    True
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(run,)))


class WeightModel:
    """Edge weights as a function of the uncertain parameters, vectorised over the edges.

    Built once from a network and the cost model it was built with; :meth:`weights` returns
    ``time_h``, ``risk`` and ``cost`` for any :class:`Multipliers`, in the edge order of
    :class:`routes.engine.Engine` (sorted ``(u, v)``). Multipliers of 1 reproduce the network's
    weights exactly (checked here: :class:`RoutesError` if ``cm`` is not the network's model).

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> G = _toy(cm)
    >>> wm = WeightModel(G, cm)
    >>> wm.edges[:2], wm.crossings
    ([('m', 'x_a'), ('m', 'x_b')], ['x_a', 'x_b'])
    >>> m = wm.ones()
    >>> bool(wm.weights(m)["time_h"][0] == G.edges["m", "x_a"]["time_h"])
    True
    >>> m.delay_h[:] = 2.0   # twice the delay at both crossings: 8 more hours into each
    >>> float(wm.weights(m)["time_h"][0] - G.edges["m", "x_a"]["time_h"])
    8.0
    """

    def __init__(self, G: nx.DiGraph, cm: CostModel, *, ranges: Ranges | None = None) -> None:
        ranges = ranges_from_cost_model(cm) if ranges is None else ranges
        self.ranges = ranges
        self.edges: list[tuple[Any, Any]] = sorted(G.edges())
        self.crossings: list[Any] = sorted(n for n, d in G.nodes(data=True)
                                           if d.get("kind") == "crossing")
        unknown = sorted(set(ranges.crossings) - set(self.crossings))
        if unknown:
            raise RoutesError(f"uncertainty ranges name crossings not in the network: "
                              f"{', '.join(map(str, unknown[:5]))}")
        cidx = {c: i for i, c in enumerate(self.crossings)}
        nd = G.nodes
        try:
            self.p0 = np.array([float(nd[c]["p_detect"]) for c in self.crossings])
            self.risk0 = np.array([float(nd[c]["crossing_risk"]) for c in self.crossings])
            self.delay0 = np.array([float(nd[c]["delay_h"]) for c in self.crossings])
            # The reverse direction (into country_a), where its class differs (network.py).
            self.p0_a = np.array([float(nd[c].get("p_detect_into_a", nd[c]["p_detect"]))
                                  for c in self.crossings])
            self.risk0_a = np.array([float(nd[c].get("crossing_risk_into_a",
                                                     nd[c]["crossing_risk"]))
                                     for c in self.crossings])
            self.delay0_a = np.array([float(nd[c].get("delay_h_into_a", nd[c]["delay_h"]))
                                      for c in self.crossings])
            self.p_up0 = np.array([float(nd[c].get("p_detect_upgraded", nd[c]["p_detect"]))
                                   for c in self.crossings])
            modes = [G.edges[e]["mode"] for e in self.edges]
            self.length_km = np.array([float(G.edges[e]["length_km"]) for e in self.edges])
        except KeyError as exc:
            raise RoutesError(f"the network lacks attribute {exc.args[0]!r}: build it with "
                              "routes.network.network_from_data") from None
        self.status = [nd[c].get("status", "open") for c in self.crossings]
        bad = sorted(set(modes) - set(cm.modes))
        if bad:
            raise RoutesError(f"edge modes not in the cost model: {', '.join(bad)}")
        self.mode = np.array([CORRIDOR_MODES.index(m) if m in CORRIDOR_MODES else -1
                              for m in modes], dtype=np.int64)
        speed = np.array([cm.modes[m].speed_kmh if m in cm.modes else 1.0
                          for m in CORRIDOR_MODES])
        fixed = np.array([cm.modes[m].fixed_h if m in cm.modes else 0.0 for m in CORRIDOR_MODES])
        rpk = np.array([cm.modes[m].risk_per_1000km if m in cm.modes else 0.0
                        for m in CORRIDOR_MODES])
        self.head = np.array([cidx.get(v, -1) for _, v in self.edges], dtype=np.int64)
        self.into = self.head >= 0
        # Edges entering a crossing from country_b's side pay its into-country_a terms.
        self.into_a = np.array([bool(G.edges[e].get("enters"))
                                and G.edges[e].get("enters") == nd[e[1]].get("country_a")
                                and nd[e[1]].get("country_a") != nd[e[1]].get("country_b")
                                for e in self.edges], dtype=bool)
        self.travel_h = self.length_km / speed[self.mode]
        self.fixed_h = fixed[self.mode]
        self.travel_risk = self.length_km / 1000.0 * rpk[self.mode]
        self.hours_per_hour = cm.hours_per_hour
        self.hours_per_risk = cm.hours_per_risk
        self.hours_per_km = cm.hours_per_km
        self._r0 = -np.log1p(-self.p0)
        self._r0_a = -np.log1p(-self.p0_a)
        # Range bounds, arranged for one vectorised draw per parameter.
        pr = np.array([ranges.for_crossing(c, "p_detect") for c in self.crossings],
                      dtype=float).reshape(-1, 2)
        dr = np.array([ranges.for_crossing(c, "delay_h") for c in self.crossings],
                      dtype=float).reshape(-1, 2)
        self.p_lo, self.p_hi = pr[:, 0].copy(), pr[:, 1].copy()
        self.d_lo, self.d_hi = dr[:, 0].copy(), dr[:, 1].copy()
        self.s_lo, self.s_hi = ranges.get("speed_kmh")
        self.h_lo, self.h_hi = ranges.get("hours_per_risk")
        self._check(G)

    def _check(self, G: nx.DiGraph) -> None:
        w = self.weights(self.ones())
        for name in ("time_h", "risk", "cost"):
            have = np.array([float(G.edges[e].get(name, np.nan)) for e in self.edges])
            if not np.allclose(w[name], have, rtol=_CHECK_RTOL, atol=1e-12):
                j = int(np.argmax(np.abs(w[name] - have)))
                raise RoutesError(
                    f"the network's {name} of edge {self.edges[j]} is {have[j]!r} but the cost "
                    f"model gives {w[name][j]!r}: pass the cost model the network was built with")

    def ones(self) -> Multipliers:
        """Multipliers of 1 (the network as built)."""
        k = len(self.crossings)
        return Multipliers(np.ones(k), np.ones(k), np.ones(len(CORRIDOR_MODES)), 1.0)

    def draw(self, rng: np.random.Generator) -> Multipliers:
        """Draw one run's multipliers, in the fixed order of :data:`PARAMETERS`."""
        p = rng.uniform(self.p_lo, self.p_hi)
        d = rng.uniform(self.d_lo, self.d_hi)
        s = rng.uniform(self.s_lo, self.s_hi, len(CORRIDOR_MODES))
        h = float(rng.uniform(self.h_lo, self.h_hi))
        return Multipliers(p, d, s, h)

    def crossing_values(self, m: Multipliers) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                        np.ndarray]:
        """``(p_detect, crossing_risk, delay_h, p_detect_upgraded)`` per crossing."""
        p = np.minimum(self.p0 * m.p_detect, P_DETECT_MAX)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.p0 > 0, -np.log1p(-p) / self._r0, 1.0)
        p_up = np.minimum(np.maximum(self.p_up0 * m.p_detect, p), P_DETECT_MAX)
        return p, self.risk0 * ratio, self.delay0 * m.delay_h, p_up

    def _into_a_values(self, m: Multipliers) -> tuple[np.ndarray, np.ndarray]:
        """``(crossing_risk, delay_h)`` per crossing for traffic entering its country_a."""
        p = np.minimum(self.p0_a * m.p_detect, P_DETECT_MAX)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.p0_a > 0, -np.log1p(-p) / self._r0_a, 1.0)
        return self.risk0_a * ratio, self.delay0_a * m.delay_h

    def weights(self, m: Multipliers) -> dict[str, np.ndarray]:
        """``time_h``, ``risk``, ``cost`` per edge (same arithmetic as ``edge_weights``)."""
        _, risk_c, delay_c, _ = self.crossing_values(m)
        h = self.head[self.into]
        edge_risk_c, edge_delay_c = risk_c[h], delay_c[h]
        rev = self.into_a[self.into]
        if rev.any():
            risk_a, delay_a = self._into_a_values(m)
            edge_risk_c = np.where(rev, risk_a[h], edge_risk_c)
            edge_delay_c = np.where(rev, delay_a[h], edge_delay_c)
        time_h = self.travel_h / m.speed_kmh[self.mode] + self.fixed_h
        time_h[self.into] = time_h[self.into] + edge_delay_c
        risk = self.travel_risk.copy()
        risk[self.into] = risk[self.into] + edge_risk_c
        cost = (self.hours_per_hour * time_h + (self.hours_per_risk * m.hours_per_risk) * risk
                + self.hours_per_km * self.length_km)
        return {"time_h": time_h, "risk": risk, "cost": cost}


# --------------------------------------------------------------------------- ranks
def rank_crossings(flow: np.ndarray, *, total: float) -> np.ndarray:
    """Return the ranks (1 = most flow) of ``flow``, rounded to ``1e-9 * total``.

    Crossings that carry flow are ranked one by one, ties broken by position (id order);
    crossings that carry nothing share the last rank, one more than the number that carry
    flow. (Breaking that tie by id too would rank the idle crossings alphabetically, and a
    crossing would look unstable merely because its id sorts late.)

    Examples
    --------
    >>> rank_crossings(np.array([1.0, 3.0, 1.0 + 1e-15, 0.0, 0.0]), total=5.0).tolist()
    [2, 1, 3, 4, 4]
    """
    key = _rank_key(flow, total)
    order = np.lexsort((np.arange(len(key)), -key))
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(1, len(key) + 1)
    idle = key <= 0
    rank[idle] = len(key) - int(idle.sum()) + 1
    return rank


def _rank_key(flow: np.ndarray, total: float) -> np.ndarray:
    return np.round(np.asarray(flow, dtype=float) / (total * _RANK_RESOLUTION))


class _Tau:
    """Kendall's tau-b against a fixed reference, vectorised over all pairs."""

    def __init__(self, ref: np.ndarray) -> None:
        self.i, self.j = np.triu_indices(len(ref), 1)
        self.x = np.sign(ref[self.i] - ref[self.j])
        self.nx = float(np.count_nonzero(self.x))

    def __call__(self, y: np.ndarray) -> float:
        sy = np.sign(y[self.i] - y[self.j])
        ny = float(np.count_nonzero(sy))
        if self.nx == 0 or ny == 0:
            return math.nan
        # An elementwise sum, not ``x @ sy``: a BLAS dot of this size was measured 1,000x
        # slower (threaded OpenBLAS on 2 busy cores) than the loop it replaces.
        return float((self.x * sy).sum()) / math.sqrt(self.nx * ny)


def kendall_tau_b(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Kendall's tau-b of two score vectors (NaN if either is constant).

    The same number as ``scipy.stats.kendalltau(x, y).statistic`` [1]_, without the p-value.

    Examples
    --------
    >>> kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4])
    0.6666666666666666
    """
    return _Tau(np.asarray(x, dtype=float))(np.asarray(y, dtype=float))


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
    from .interdiction import interdict_greedy

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


# --------------------------------------------------------------------------- execution
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


@contextlib.contextmanager
def _dask_client(workers: int, scheduler: Any) -> Iterator[Any]:
    """Yield a Dask client: the one given, one connected to ``scheduler``, or a local one.

    The client is closed before the cluster (the ``with`` order), so no worker is left behind.
    """
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
               dynamic_ncols=True)
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


def rank_stability(G: nx.DiGraph, cm: CostModel, *, runs: int, seed: int | None = 0,
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
        Master seed; run ``i`` uses :func:`run_rng` ``(seed, i)``. ``None`` draws fresh
        entropy, recorded in ``params["seed"]``.
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
        Also run greedy border-post priorities (:func:`routes.analysis.interdiction.
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
    {'x_b': {'baseline_rank': 1, 'median_rank': 1.0, 'top_k_share': 0.78}, \
'x_a': {'baseline_rank': 2, 'median_rank': 2.0, 'top_k_share': 0.22}}
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


def _toy(cm: CostModel) -> nx.DiGraph:
    """Two routes o -> x_a -> m and o -> x_b -> m, weights from ``cm`` (for the examples)."""
    from ..costs import crossing_terms, edge_weights

    G = nx.DiGraph(name="toy")
    G.add_node("o", kind="place", role="origin", supply=10.0, demand=0.0)
    G.add_node("m", kind="place", role="market", demand=1.0, supply=0.0)
    for x, p, km in (("x_a", 0.05, 400.0), ("x_b", 0.04, 420.0)):
        d, r = crossing_terms(cm, "central_asia", "open", p_detect=p)
        G.add_node(x, kind="crossing", status="open", p_detect=p, delay_h=d, crossing_risk=r,
                   p_detect_upgraded=0.2, upgrade_cost=1.0, crossing_class="central_asia",
                   name=x)
        for a, b in (("o", x), (x, "o")):
            G.add_edge(a, b, mode="road", **edge_weights(
                cm, "road", km, crossing=(d, r) if b == x else None))
        for a, b in ((x, "m"), ("m", x)):
            G.add_edge(a, b, mode="road", **edge_weights(
                cm, "road", 300.0, crossing=(d, r) if b == x else None))
    return G
