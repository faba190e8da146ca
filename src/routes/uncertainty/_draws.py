"""The draws, the re-weighting and the ranks of one Monte-Carlo run (:mod:`.uncertainty`).

:class:`Ranges` holds the multiplicative uniform ranges (:func:`load_ranges`,
:func:`ranges_from_cost_model`), :func:`run_rng` the seeded generator of a run,
:class:`WeightModel` recombines the edge weights for a draw of :class:`Multipliers`, and
:func:`rank_crossings` and :func:`kendall_tau_b` rank the crossings and compare rankings. The
public names are re-exported by :mod:`routes.uncertainty.uncertainty`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from .._errors import Problem, RoutesError, ScenarioError
from ..costs import CORRIDOR_MODES, CostModel

__all__ = [
    "PARAMETERS",
    "CROSSING_PARAMETERS",
    "P_DETECT_MAX",
    "Ranges",
    "ranges_from_cost_model",
    "load_ranges",
    "Multipliers",
    "WeightModel",
    "run_rng",
    "kendall_tau_b",
    "rank_crossings",
]

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
