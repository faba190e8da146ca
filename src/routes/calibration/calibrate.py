"""Calibration: fit the cost model's least-known parameters to the seizures countries report.

The observation model (:mod:`routes.calibration.observe`) turns a network, its flows and its
detection probabilities into the seizures each country is expected to report. Calibration
chooses a few free parameters (:data:`PARAMETERS`), each within a documented range, so that
the modelled seizures come as close as possible to the reported ones on the fitted years, and
then says how well the model does on a year it never saw.

Objective
---------
Weighted least squares on log seizures: over the country-years of the fitted years that
reported a figure (a missing figure is not a zero and is left out),
``SSE = sum w_cy * (ln(obs_cy + a) - ln(mod_cy + a))^2`` with ``a = offset_kg`` (10 kg: below
that, a country's figure is a handful of cases, and a modelled zero stays finite). Equal
weights in the fit; bootstrap replicates resample the country-years (weights = how often each
is drawn). Minimised with Powell's method (scipy, bounded, derivative-free: the route choice
switches routes, so the objective is only piecewise smooth) on parameters mapped to
``[0, 1]`` (log scale between the bounds for the multipliers, the weight of risk, theta and
the share), from the cost model's own values and ``starts - 1`` seeded random points.

Route choice
------------
Detection, the weight of risk and theta change the routes' costs and so the route choice. Each
year's choice set (:class:`routes.calibration._fastobs.YearModel`) holds each pair's
``k_routes`` best routes under the cost model's own values; after each fit it is extended with
the k best routes at the fitted values and the fit is repeated from there, until no route is
added (at most four rounds; the set is extended a last time at the estimate).
An evaluation re-prices the set, takes each pair's k cheapest routes and their logit shares,
and sums the detected flow by country: a few milliseconds. The final fit is recomputed
exactly (network rebuilt with the calibrated cost model, :func:`assign_flows`,
:func:`modelled_seizures`) and the largest difference is reported (``check_max_rel_diff``).

Intervals
---------
90% percentile intervals from ``bootstrap`` replicates over the fitted country-years
(replicate ``b`` draws from ``SeedSequence(seed, spawn_key=(b,))``: the same numbers in-process
or on any number of Dask workers), each refitted from the estimate. A parameter is flagged
``pinned = False`` when its interval covers more than half of its (transformed) range or the
estimate sits on a bound: the data cannot pin it down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy.optimize import minimize, minimize_scalar

from .._errors import RoutesError
from ..costs import CostModel
from ..network import od_demand
from ._fastobs import Theta, YearModel, stack
from .observe import ObservationParams, _countries, modelled_seizures, observation_params

__all__ = ["FreeParameter", "PARAMETERS", "Calibration", "calibrate", "apply_parameters",
           "fit_statistics", "observed_vs_modelled", "year_builder", "DEFAULT_OFFSET_KG",
           "DEFAULT_EXCLUDE"]

log = logging.getLogger(__name__)

#: Offset (kg) in the log of observed and modelled seizures.
DEFAULT_OFFSET_KG = 10.0
#: A parameter whose 90% interval covers more than this share of its range is not pinned.
_PIN_SHARE = 0.5
#: Rounds of choice-set extension and refit after the first fit.
_ROUNDS = 4
#: Largest detection probability a calibrated class may get.
P_MAX = 0.95
Build = Callable[[int, CostModel], nx.DiGraph]


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the calibration may fit.

    ``kind``: ``"group"`` (multiplier of the post risk ``-ln(1 - p_detect)`` of ``classes``),
    ``"inland"`` (multiplier of every mode's ``risk_per_1000km``), ``"hours_per_risk"``,
    ``"logit_theta"`` or ``"trafficked_share"`` (values). ``lo``/``hi``: the documented range.
    """

    name: str
    kind: str
    lo: float
    hi: float
    about: str
    classes: tuple[str, ...] = ()


#: The free parameters, with their ranges and why.
PARAMETERS: dict[str, FreeParameter] = {p.name: p for p in (
    FreeParameter("detect_iran", "group", 0.1, 10.0,
                  "Iran's posts (iran_east, iran_west): multiplier of -ln(1 - p_detect); "
                  "0.1-10 spans p_detect 0.02-0.89 at iran_east", ("iran_east", "iran_west")),
    FreeParameter("detect_afghan_pakistan", "group", 0.1, 10.0,
                  "Pakistan's posts on the Afghan border (afghan_pakistan)",
                  ("afghan_pakistan",)),
    FreeParameter("detect_central_asia", "group", 0.1, 10.0,
                  "Central Asian and EAEU posts (central_asia, bomca, eaeu_internal)",
                  ("central_asia", "bomca", "eaeu_internal")),
    FreeParameter("detect_turkey_caucasus", "group", 0.1, 10.0,
                  "Turkey's and the South Caucasus' posts (turkey, caucasus)",
                  ("turkey", "caucasus")),
    FreeParameter("detect_europe", "group", 0.1, 10.0,
                  "EU and Western Balkan posts (eu_external, eu_internal, western_balkans)",
                  ("eu_external", "eu_internal", "western_balkans")),
    FreeParameter("detect_ports", "group", 0.1, 10.0,
                  "Sea and Caspian ports (sea_port, caspian_port)", ("sea_port", "caspian_port")),
    FreeParameter("inland", "inland", 0.1, 20.0,
                  "multiplier of risk_per_1000km of every mode (police and customs checks "
                  "inland)"),
    FreeParameter("hours_per_risk", "hours_per_risk", 50.0, 5000.0,
                  "traffickers' aversion to detection, hours per unit of risk (a tenth to ten "
                  "times the shipped 500)"),
    FreeParameter("logit_theta", "logit_theta", 1.0, 50.0,
                  "logit scale of the route choice (1: nearly even split; 50: nearly "
                  "all-or-nothing)"),
    FreeParameter("trafficked_share", "trafficked_share", 0.01, 1.0,
                  "share of the supply that moves on the modelled routes toward the modelled "
                  "markets (at most all of it)"),
)}


# --------------------------------------------------------------------------- problem
@dataclass
class _Problem:
    """The data of a fit: year models, observations, parameter set-up (picklable)."""

    models: list[YearModel]
    years: list[int]
    free: list[FreeParameter]
    base: dict[str, float]
    kg_per_unit: float
    obs_year: np.ndarray
    obs_country: np.ndarray
    obs_kg: np.ndarray
    offset: float
    group_names: list[str]
    evaluations: int = 0
    _stacked: YearModel | None = None
    _unique: list[YearModel] = field(default_factory=list)
    _which: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def values(self, z: np.ndarray) -> dict[str, float]:
        """Parameter values at unit-cube point ``z`` (log scale between the bounds)."""
        out = dict(self.base)
        for p, x in zip(self.free, np.clip(z, 0.0, 1.0)):
            out[p.name] = float(np.exp(np.log(p.lo) + x * (np.log(p.hi) - np.log(p.lo))))
        return out

    def unit(self, values: dict[str, float]) -> np.ndarray:
        return np.array([(np.log(np.clip(values[p.name], p.lo, p.hi)) - np.log(p.lo))
                         / (np.log(p.hi) - np.log(p.lo)) for p in self.free])

    def theta(self, v: dict[str, float]) -> Theta:
        return Theta(np.array([v[g] for g in self.group_names]), v["inland"],
                     v["hours_per_risk"], v["logit_theta"])

    def modelled(self, v: dict[str, float]) -> np.ndarray:
        """Modelled kg, years x countries."""
        self.evaluations += 1
        th = self.theta(v)
        scale = v["trafficked_share"] * self.kg_per_unit
        if self._stacked is None:
            self.restack()
        assert self._stacked is not None
        rows = self._stacked.seized(th).reshape(len(self._unique), -1)
        return rows[self._which] * scale

    def restack(self) -> None:
        """Stack the distinct year models into one (after their choice sets change)."""
        self._unique = list({id(m): m for m in self.models}.values())
        pos = {id(m): i for i, m in enumerate(self._unique)}
        self._which = np.array([pos[id(m)] for m in self.models], dtype=np.int64)
        self._stacked = stack(self._unique)

    def sse(self, v: dict[str, float], w: np.ndarray) -> float:
        mod = self.modelled(v)[self.obs_year, self.obs_country]
        r = np.log(self.obs_kg + self.offset) - np.log(mod + self.offset)
        return float(np.sum(w * r * r))


def _fit(pb: _Problem, z0: np.ndarray, w: np.ndarray, maxfev: int, xtol: float = 1e-3
         ) -> tuple[np.ndarray, float]:
    if len(z0) == 0:
        return z0, pb.sse(pb.values(z0), w)
    res = minimize(lambda z: pb.sse(pb.values(z), w), z0, method="Powell",
                   bounds=[(0.0, 1.0)] * len(z0),
                   options={"xtol": xtol, "ftol": 1e-6, "maxfev": maxfev})
    return np.clip(res.x, 0.0, 1.0), float(res.fun)


def _multistart(pb: _Problem, w: np.ndarray, starts: int, seed: int, maxfev: int
                ) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    points = [pb.unit(pb.base)] + [rng.random(len(pb.free)) for _ in range(starts - 1)]
    best: tuple[np.ndarray, float] | None = None
    for z0 in points:
        z, f = _fit(pb, z0, w, maxfev)
        if best is None or f < best[1] - 1e-12:
            best = (z, f)
    assert best is not None
    return best


def _boot_chunk(pb: _Problem, z_hat: np.ndarray, seed: int, start: int, stop: int,
                maxfev: int) -> list[np.ndarray]:
    """Bootstrap replicates ``start..stop-1``: resampled weights, refit from the estimate."""
    out = []
    n = len(pb.obs_kg)
    for b in range(start, stop):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b,)))
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        z, _ = _fit(pb, z_hat, w, maxfev, xtol=1e-2)
        out.append(z)
    return out


def _bootstrap(pb: _Problem, z_hat: np.ndarray, *, runs: int, seed: int, maxfev: int,
               workers: int, scheduler: Any) -> np.ndarray:
    if runs <= 0 or len(z_hat) == 0:
        return np.zeros((0, len(z_hat)))
    if workers == 0 and scheduler is None:
        return np.array(_boot_chunk(pb, z_hat, seed, 0, runs, maxfev))
    from ..uncertainty.uncertainty import _dask_client

    with _dask_client(workers, scheduler) as client:
        n = max(1, sum(client.nthreads().values()))
        size = max(1, -(-runs // (2 * n)))
        shared = client.scatter(pb, broadcast=True, hash=False)
        futs = [client.submit(_boot_chunk, shared, z_hat, seed, a, min(a + size, runs), maxfev,
                              pure=False) for a in range(0, runs, size)]
        chunks = client.gather(futs)
    return np.array([z for c in chunks for z in c])


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    parameters : DataFrame
        Indexed by name: ``value``, ``base`` (the cost model's), ``p05``, ``p95`` (90%
        bootstrap interval), ``lo``, ``hi`` (range), ``pinned`` and ``note``, ``about``.
    fit : DataFrame
        ``iso3, year, split`` (fit or holdout), ``observed_kg``, ``modelled_kg`` (calibrated,
        exact), ``modelled_kg_uncalibrated`` (the cost model as given, only its share fitted).
    statistics : DataFrame
        Per split and model: ``n``, ``spearman``, ``male`` (mean absolute log error).
    cost_model : CostModel
        The calibrated cost model (:func:`apply_parameters`).
    info : dict
        Evaluations, timings, objective, choice-set sizes, check, years, seeds.
    """

    parameters: pd.DataFrame
    fit: pd.DataFrame
    statistics: pd.DataFrame
    cost_model: CostModel
    info: dict[str, Any] = field(default_factory=dict)


def apply_parameters(cm: CostModel, values: dict[str, float]) -> CostModel:
    """Return the cost model with fitted values applied (the original is not changed).

    Group multipliers scale each class's ``-ln(1 - p_detect)`` and ``-ln(1 -
    p_detect_upgraded)`` (capped at :data:`P_MAX`); ``inland`` scales every mode's
    ``risk_per_1000km``; the others replace the cost model's values; ``trafficked_share`` goes
    to the ``[observation]`` table of ``raw``.
    """
    from dataclasses import replace

    classes = dict(cm.classes)
    for p in PARAMETERS.values():
        if p.kind != "group" or p.name not in values:
            continue
        m = values[p.name]
        for c in p.classes:
            if c in classes:
                k = classes[c]
                pn = min(-np.expm1(m * np.log1p(-k.p_detect)), P_MAX)
                pu = min(max(-np.expm1(m * np.log1p(-k.p_detect_upgraded)), pn), P_MAX)
                classes[c] = replace(k, p_detect=float(pn), p_detect_upgraded=float(pu))
    inland = values.get("inland", 1.0)
    modes = {k: replace(v, risk_per_1000km=v.risk_per_1000km * inland)
             for k, v in cm.modes.items()}
    raw = dict(cm.raw)
    obs = dict(raw.get("observation", {}))
    if "trafficked_share" in values:
        obs["trafficked_share"] = values["trafficked_share"]
    raw["observation"] = obs
    return cm.with_changes(classes=classes, modes=modes, raw=raw,
                           hours_per_risk=values.get("hours_per_risk", cm.hours_per_risk),
                           logit_theta=values.get("logit_theta", cm.logit_theta))


def fit_statistics(fit: pd.DataFrame, *, offset: float = DEFAULT_OFFSET_KG) -> pd.DataFrame:
    """Spearman rank correlation and mean absolute log error per split, both models.

    Examples
    --------
    >>> f = pd.DataFrame({"split": ["fit"] * 3, "observed_kg": [10.0, 100.0, 1000.0],
    ...                   "modelled_kg": [20.0, 90.0, 5000.0],
    ...                   "modelled_kg_uncalibrated": [5.0, 1.0, 3.0]})
    >>> fit_statistics(f, offset=0.0).round(4).to_dict("records")[0]   # (ln 2 + ln 10/9 + ln 5) / 3
    {'split': 'fit', 'model': 'calibrated', 'n': 3, 'spearman': 1.0, 'male': 0.8026}
    """
    rows = []
    for split in ("fit", "holdout"):
        d = fit[(fit["split"] == split) & fit["observed_kg"].notna()]
        for model, col in (("calibrated", "modelled_kg"),
                           ("uncalibrated", "modelled_kg_uncalibrated")):
            if len(d) == 0:
                continue
            obs, mod = d["observed_kg"].to_numpy(float), d[col].to_numpy(float)
            rho = float(pd.Series(obs).corr(pd.Series(mod), method="spearman")) \
                if len(d) > 1 else float("nan")
            male = float(np.mean(np.abs(np.log(obs + offset) - np.log(mod + offset))))
            rows.append({"split": split, "model": model, "n": len(d), "spearman": rho,
                         "male": male})
    return pd.DataFrame(rows, columns=["split", "model", "n", "spearman", "male"])


# --------------------------------------------------------------------------- calibrate
#: Countries left out of the fit by default, and why.
DEFAULT_EXCLUDE = {
    "CHN": "95% of the heroin seized in China comes from the Golden Triangle, not Afghanistan "
           "(China's National Narcotics Control Commission, in China Daily, 'Golden Triangle "
           "threat increases', 2016-06-24)",
}


def _signature(G: nx.DiGraph) -> tuple[Any, ...]:
    """Everything of a year's network the fast model reads (equal -> one model serves both)."""
    edges = tuple((u, v, round(d.get("cost", 0.0), 9), round(d.get("risk", 0.0), 12))
                  for u, v, d in sorted(G.edges(data=True)))
    flows = tuple(sorted((str(k), round(v, 9)) for k, v in od_demand(G).items()))
    return edges, flows


def _observations(seizures: pd.DataFrame, years: Sequence[int], countries: list[str]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cidx = {c: i for i, c in enumerate(countries)}
    yidx = {y: i for i, y in enumerate(years)}
    d = seizures[seizures["year"].isin(list(years)) & seizures["iso3"].isin(list(cidx))
                 & seizures["heroin_eq_kg"].notna()]
    return (np.array([yidx[y] for y in d["year"]], dtype=np.int64),
            np.array([cidx[c] for c in d["iso3"]], dtype=np.int64),
            d["heroin_eq_kg"].to_numpy(float))


def _exact(build: Build, cm: CostModel, years: Sequence[int], engine: str | None
           ) -> dict[int, pd.Series]:
    """Return the exact observation model per year, in detected flow units."""
    out: dict[int, pd.Series] = {}
    done: dict[tuple[Any, ...], pd.Series] = {}
    for y in years:
        G = build(y, cm)
        sig = _signature(G)
        if sig not in done:
            done[sig] = modelled_seizures(G, cm, engine=engine,
                                          params=ObservationParams(1.0, 1.0))["seized"]
        out[y] = done[sig]
    return out


def _share_only(seized: dict[int, pd.Series], obs: pd.DataFrame, kg: float, offset: float,
                lo: float, hi: float) -> float:
    """Best share alone (uncalibrated model): 1-D least squares on log seizures."""
    m = np.array([seized[y].get(c, 0.0) for c, y in zip(obs["iso3"], obs["year"])]) * kg
    o = obs["heroin_eq_kg"].to_numpy(float)
    if len(o) == 0:
        return 1.0
    res = minimize_scalar(lambda ls: float(np.sum((np.log(o + offset)
                                                   - np.log(np.exp(ls) * m + offset)) ** 2)),
                          bounds=(np.log(lo), np.log(hi)), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x))


def calibrate(build: Build, cm: CostModel, seizures: pd.DataFrame, *, years: Sequence[int],
              holdout: Sequence[int] = (), free: Sequence[str] | None = None, starts: int = 4,
              bootstrap: int = 100, seed: int = 0, offset: float = DEFAULT_OFFSET_KG,
              exclude: Sequence[str] = tuple(DEFAULT_EXCLUDE), workers: int = 0,
              scheduler: Any = None, engine: str | None = None, maxfev: int = 1000,
              boot_maxfev: int = 150) -> Calibration:
    """Fit the free parameters to the seizures of ``years``; score on ``holdout`` too.

    Parameters
    ----------
    build : callable
        ``build(year, cm) -> DiGraph``: the network of a year with a cost model (e.g.
        ``network_from_data(ds, cm, as_of=...)``).
    cm : CostModel
        The cost model to start from (its values are the uncalibrated model).
    seizures : DataFrame
        :func:`routes.observed.read_seizures` rows (``iso3``, ``year``, ``heroin_eq_kg``).
    years, holdout : sequence of int
        Fitted and held-out years (disjoint). Held-out rows never enter the fit.
    free : sequence of str, optional
        Names of :data:`PARAMETERS` to fit (default: all).
    starts, bootstrap, seed : int
        Optimiser starts, bootstrap replicates, master seed.
    offset : float
        ``a`` of the objective (module notes).
    exclude : sequence of str
        ISO3 codes left out of fit and scores (default :data:`DEFAULT_EXCLUDE`).
    workers, scheduler :
        Bootstrap on Dask as in :func:`routes.uncertainty.uncertainty.rank_stability`
        (``workers=0``: in-process).
    engine : str, optional
        Path engine.
    maxfev, boot_maxfev : int
        Evaluation budget of each optimiser run (fit, bootstrap replicate).

    Returns
    -------
    Calibration
    """
    t0 = time.perf_counter()
    years, holdout = [int(y) for y in years], [int(y) for y in holdout]
    if not years:
        raise RoutesError("calibration needs at least one fitted year")
    if set(years) & set(holdout):
        raise RoutesError(f"years {sorted(set(years) & set(holdout))} are both fitted and "
                          "held out")
    names = list(PARAMETERS) if free is None else list(free)
    bad = [n for n in names if n not in PARAMETERS]
    if bad:
        raise RoutesError(f"unknown parameter(s) {', '.join(bad)}; choose from "
                          f"{', '.join(PARAMETERS)}")
    obs_par = observation_params(cm)
    base = {p.name: 1.0 for p in PARAMETERS.values() if p.kind in ("group", "inland")}
    base.update(hours_per_risk=cm.hours_per_risk, logit_theta=cm.logit_theta,
                trafficked_share=obs_par.trafficked_share)
    graphs = {y: build(y, cm) for y in years}
    countries = sorted({c for G in graphs.values() for c in _countries(G)} - set(exclude))
    groups = [p for p in PARAMETERS.values() if p.kind == "group"]
    models: list[YearModel] = []
    seen: dict[tuple[Any, ...], YearModel] = {}
    for y in years:
        sig = _signature(graphs[y])
        if sig not in seen:
            seen[sig] = YearModel(graphs[y], cm, groups=[g.classes for g in groups],
                                  countries=countries, engine=engine)
        models.append(seen[sig])
    t_prep = time.perf_counter()
    fit_rows = seizures[seizures["year"].isin(years)]
    oy, oc, ok = _observations(fit_rows, years, countries)
    if len(ok) == 0:
        raise RoutesError("no reported seizures in the fitted years for the network's "
                          "countries")
    pb = _Problem(models, years, [PARAMETERS[n] for n in names], base,
                  obs_par.heroin_kg_per_flow_unit, oy, oc, ok, offset,
                  [g.name for g in groups])
    th0 = pb.theta(base)
    for m in seen.values():
        m.extend(th0, m.k)
    pb.restack()
    w = np.ones(len(ok))
    z_hat, f_hat = _multistart(pb, w, max(1, starts), seed, maxfev)
    added = 0
    for _ in range(_ROUNDS):
        # The fitted values may prefer routes outside the choice set: add them and refit.
        th1 = pb.theta(pb.values(z_hat))
        new = sum(m.extend(th1, m.k) for m in seen.values())
        added += new
        if not new:
            break
        pb.restack()
        z_hat, f_hat = _fit(pb, z_hat, w, maxfev)
    # The choice set now holds each pair's k best routes at the estimate: the fast model there
    # is the exact one (checked below).
    th1 = pb.theta(pb.values(z_hat))
    added += sum(m.extend(th1, m.k) for m in seen.values())
    pb.restack()
    f_hat = pb.sse(pb.values(z_hat), w)
    n_fit_evals = pb.evaluations
    t_fit = time.perf_counter()
    Z = _bootstrap(pb, z_hat, runs=bootstrap, seed=seed, maxfev=boot_maxfev,
                   workers=workers, scheduler=scheduler)
    t_boot = time.perf_counter()
    values = pb.values(z_hat)
    cal = apply_parameters(cm, values)
    cal = cal.with_changes(name=f"{cm.name}-calibrated")
    # Exact recomputation: calibrated and uncalibrated, every year.
    all_years = years + [y for y in holdout if y not in years]
    exact_cal = _exact(build, cal, all_years, engine)
    exact_unc = _exact(build, cm, all_years, engine)
    fast = pb.modelled(values)
    kg = obs_par.heroin_kg_per_flow_unit
    diffs = [abs(exact_cal[y].get(c, 0.0) * values["trafficked_share"] * kg - fast[i, j])
             / max(fast[i, j], 1.0) for i, y in enumerate(years)
             for j, c in enumerate(countries)]
    share_unc = _share_only(exact_unc, fit_rows[fit_rows["iso3"].isin(countries)
                                                 & fit_rows["heroin_eq_kg"].notna()],
                            kg, offset, PARAMETERS["trafficked_share"].lo,
                            PARAMETERS["trafficked_share"].hi)
    rows = []
    for y in all_years:
        for c in countries:
            hit = seizures[(seizures["iso3"] == c) & (seizures["year"] == y)]
            o = float(hit["heroin_eq_kg"].iloc[0]) if len(hit) else float("nan")
            rows.append({"iso3": c, "year": y, "split": "fit" if y in years else "holdout",
                         "observed_kg": o,
                         "modelled_kg": float(exact_cal[y].get(c, 0.0))
                         * values["trafficked_share"] * kg,
                         "modelled_kg_uncalibrated": float(exact_unc[y].get(c, 0.0))
                         * share_unc * kg})
    fit = pd.DataFrame(rows)
    params = _parameter_table(pb, z_hat, Z, names)
    info = {
        "years": years, "holdout": holdout, "countries": countries,
        "excluded": {c: DEFAULT_EXCLUDE.get(c, "excluded by the user") for c in exclude},
        "observations": len(ok), "objective_sse": f_hat,
        "objective_msle": f_hat / len(ok), "offset_kg": offset,
        "evaluations_fit": n_fit_evals, "evaluations_total": pb.evaluations,
        "seconds_prepare": t_prep - t0, "seconds_fit": t_fit - t_prep,
        "seconds_bootstrap": t_boot - t_fit, "seconds_total": time.perf_counter() - t0,
        "seconds_per_evaluation": (t_fit - t_prep) / max(n_fit_evals, 1),
        "starts": starts, "bootstrap": bootstrap, "seed": seed,
        "choice_set": [m.summary() for m in seen.values()], "routes_added_at_fit": added,
        "check_max_rel_diff": float(max(diffs) if diffs else 0.0),
        "uncalibrated_share": share_unc, "kg_per_flow_unit": kg,
    }
    log.info("calibration: %d observations, SSE %.4f, %d evaluations in %.1f s",
             len(ok), f_hat, n_fit_evals, t_fit - t_prep)
    return Calibration(params, fit, fit_statistics(fit, offset=offset), cal, info)


def _parameter_table(pb: _Problem, z_hat: np.ndarray, Z: np.ndarray, names: list[str]
                     ) -> pd.DataFrame:
    rows = []
    val = pb.values(z_hat)
    for j, n in enumerate(names):
        p = PARAMETERS[n]
        if len(Z):
            lo_z, hi_z = np.quantile(Z[:, j], [0.05, 0.95])
            vals = pb.values(np.where(np.arange(len(z_hat)) == j, lo_z, z_hat))
            p05 = vals[n]
            p95 = pb.values(np.where(np.arange(len(z_hat)) == j, hi_z, z_hat))[n]
            spread = float(hi_z - lo_z)
        else:
            p05 = p95 = float("nan")
            spread = float("nan")
        at_bound = z_hat[j] <= 0.005 or z_hat[j] >= 0.995
        wide = bool(np.isfinite(spread) and spread > _PIN_SHARE)
        outside = bool(len(Z) and not p05 * (1 - 1e-9) <= val[n] <= p95 * (1 + 1e-9))
        note = ("at the lower bound" if at_bound and z_hat[j] <= 0.005 else
                "at the upper bound" if at_bound else
                f"interval spans {spread:.0%} of the range" if wide else
                "estimate outside its bootstrap interval (several optima)" if outside else "")
        rows.append({"parameter": n, "value": val[n], "base": pb.base[n], "p05": p05,
                     "p95": p95, "lo": p.lo, "hi": p.hi,
                     "pinned": not (at_bound or wide or outside),
                     "note": note, "about": p.about})
    return pd.DataFrame(rows).set_index("parameter")


def year_builder(ds: Any, scenario: Any = None) -> Build:
    """Return ``build(year, cm)``: the network of ``ds`` as of 1 July of the year.

    When the data is not dated (``network_from_data`` without ``as_of``), every year gets the
    network as it is.
    """
    import datetime as dt
    import inspect

    from ..network import network_from_data

    if "as_of" in inspect.signature(network_from_data).parameters:
        def build(year: int, cm: CostModel) -> nx.DiGraph:
            return network_from_data(ds, cm, scenario,  # type: ignore[call-arg]
                                     as_of=dt.date(year, 7, 1))
        return build
    return lambda year, cm: network_from_data(ds, cm, scenario)


def observed_vs_modelled(build: Build, cm: CostModel, seizures: pd.DataFrame, *,
                         years: Sequence[int], holdout: Sequence[int] = (),
                         exclude: Sequence[str] = tuple(DEFAULT_EXCLUDE),
                         offset: float = DEFAULT_OFFSET_KG,
                         engine: str | None = None) -> pd.DataFrame:
    """Observed and modelled seizures (the cost model as given) per country and year.

    Columns ``iso3, year, split, observed_kg, modelled_kg, log_residual``
    (``ln(observed + offset) - ln(modelled + offset)``: positive = the model under-predicts).
    """
    kg = observation_params(cm).kg_per_unit
    all_years = [int(y) for y in years] + [int(y) for y in holdout if y not in years]
    exact = _exact(build, cm, all_years, engine)
    obs = seizures.set_index(["iso3", "year"])["heroin_eq_kg"]
    rows = []
    for y in all_years:
        for c, v in exact[y].items():
            if c in exclude:
                continue
            o = float(obs.get((c, y), float("nan")))
            m = float(v) * kg
            rows.append({"iso3": c, "year": y, "split": "fit" if y in years else "holdout",
                         "observed_kg": o, "modelled_kg": m,
                         "log_residual": float(np.log(o + offset) - np.log(m + offset))})
    return pd.DataFrame(rows, columns=["iso3", "year", "split", "observed_kg", "modelled_kg",
                                       "log_residual"])
