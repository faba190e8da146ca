"""Calibration: what countries seize, apart from what traffickers perceive, fitted to seizures.

Two kinds of parameter, kept apart
----------------------------------
- **What seizes**: a seizure rate per country, ``s_c`` (kg seized per kg of modelled flow
  through the country). They never enter the route choice.
- **What traffickers perceive**: the route-choice parameters of :data:`ROUTE_PARAMETERS`, the
  weight of the perceived risk (``hours_per_risk``; the risk itself is the cost model's sourced
  ``p_detect`` and inland hazard, not fitted), the cost of distance (``hours_per_km``) and the
  logit's dispersion (``logit_theta``). Perceived risk does not follow the fitted seizure rates
  (no feedback rule: the perceived detection is the cost model's, fixed across years).

Observation model
-----------------
For country ``c`` in year ``y``, with ``F_cy(theta)`` the modelled flow through ``c``
(:meth:`routes.analysis._fastobs.YearModel.through`: each route's logit flow, once in every
country it runs in or enters, in heroin-equivalent kg: flow units times ``trafficked_share``
times ``heroin_kg_per_flow_unit``; flows are set by demand, not reduced by seizures):

``ln(obs_cy + A) ~ Normal(ln(s_c * F_cy(theta) + A), sigma^2)``

``ln s_c ~ Normal(mu, tau^2)``, ``mu ~ Normal(mu0, omega^2)``,
``ln theta_k ~ Normal(ln median_k, sd_k^2)``

plus ``background_flow_kg`` (``[observation]``, flow the modelled routes do not carry) in
``F_cy``. ``A`` = ``offset_kg`` (10 kg: reported zeros stay finite and a handful of kilograms
does not weigh like tonnes). The hierarchical centre ``mu0 = ln(g / L)``: ``g`` the global
interception rate (``[observation] global_interception``, UNODC's "about a fifth"), ``L``
the flow-weighted number of countries a unit of flow passes through at the prior's centre (so
that rates of ``g / L`` everywhere seize ``g`` of the flow). Every prior is in the cost model,
beside the parameter's rationale. A country that did not report is missing, not zero.

Fit
---
For fixed ``theta`` the rates, ``mu`` and ``sigma`` are profiled out
(:func:`routes.analysis._posterior.profile_rates`: the ratio estimator ``sum obs / sum F``
shrunk by the prior, polished by Gauss-Newton). The negative log posterior of ``theta``
(profiled) is minimised over ``ln theta`` within three prior sds by
:func:`routes.analysis._optimise.multistart` (grid, then Nelder-Mead from the best grid points,
the prior's centre and seeded random points). Each year's choice set
(:class:`routes.analysis._fastobs.YearModel`) is extended with the k best routes at the
estimate and the fit polished again until no route is added; the final fit is recomputed
exactly (networks rebuilt with the calibrated cost model, :func:`modelled_seizures`).

Intervals
---------
The route choice switches routes as the parameters move, so the objective has kinks and small
steps, and a Laplace approximation would read its curvature from a step. The posterior of
``ln theta`` (rates profiled out) is instead evaluated on a grid over the search box
(``posterior_grid`` points per parameter) and integrated: each parameter's marginal gives its
90% interval (5% and 95% quantiles) and sd. A parameter whose posterior sd is more than
:data:`PIN_RATIO` of its prior sd is reported as not pinned by the data (the prior carries
it). Rates: at each grid point the conditional posterior of ``ln s_c`` is normal (Gauss-Newton
sd at the mode); their mixture, weighted by the grid posterior, gives the 90% interval. A rate
is pinned when its conditional sd at the estimate is below :data:`PIN_RATIO` of ``tau``.
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
from scipy.optimize import minimize_scalar

from .._errors import DataError, Problem, RoutesError
from ..costs import CostModel
from ..network import od_demand
from ._fastobs import Theta, YearModel, stack
from ._optimise import multistart
from ._posterior import (
    GridPosterior,
    RateFit,
    RatePrior,
    grid_posterior,
    mixture_quantiles,
    profile_rates,
)
from .observe import ObservationParams, _countries, modelled_seizures, observation_params

__all__ = ["RouteParameter", "ROUTE_PARAMETERS", "Prior", "Calibration", "calibrate", "Workspace",
           "apply_parameters", "priors", "fit_statistics", "year_builder",
           "observed_vs_modelled", "DEFAULT_OFFSET_KG", "DEFAULT_EXCLUDE", "PIN_RATIO", "Build"]

log = logging.getLogger(__name__)

#: Offset (kg) in the log of observed and modelled seizures.
DEFAULT_OFFSET_KG = 10.0
#: Posterior sd above this share of the prior sd: the data do not pin the parameter.
PIN_RATIO = 0.7
#: z of a central 90% interval.
_Z90 = 1.6448536269514722
#: Rounds of choice-set extension and refit after the first fit.
_ROUNDS = 4
Build = Callable[[int, CostModel], nx.DiGraph]


@dataclass(frozen=True)
class RouteParameter:
    """A route-choice parameter the calibration fits: its cost-model table and meaning."""

    name: str
    table: str
    about: str


#: The route-choice parameters, in fitting order.
ROUTE_PARAMETERS: dict[str, RouteParameter] = {p.name: p for p in (
    RouteParameter("hours_per_risk", "weights",
                   "weight of the perceived risk in the route cost (hours per unit of risk)"),
    RouteParameter("logit_theta", "flow", "logit dispersion of the route choice"),
    RouteParameter("hours_per_km", "weights", "cost of distance (hours-equivalent per km)"),
)}


@dataclass(frozen=True)
class Prior:
    """Log-normal prior: ``ln x ~ Normal(ln median, sd_log^2)``."""

    median: float
    sd_log: float


def _prior_pair(problems: list[Problem], cm: CostModel, where: str, v: Any) -> Prior:
    ok = (isinstance(v, list) and len(v) == 2 and all(
        isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in v))
    if not ok:
        problems.append(Problem(cm.path or cm.name, None, where,
                                f"must be [median, sd_log], both > 0, got {v!r}"))
        return Prior(1.0, 1.0)
    return Prior(float(v[0]), float(v[1]))


def priors(cm: CostModel) -> tuple[dict[str, Prior], tuple[float, float, float]]:
    """Read the priors from the cost model.

    Returns the route parameters' priors (``<name>_prior = [median, sd_log]`` in the
    parameter's table) and ``(global_interception, its sd_log, tau)`` from ``[observation]``
    (``global_interception``, ``global_interception_sd_log``, ``rate_sd_log``).

    Raises
    ------
    DataError
        A prior that is missing or not two positive numbers.

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> route, rate = priors(load_cost_model(DEFAULT_COST_MODEL))
    >>> route["hours_per_risk"].median, rate[0]
    (500.0, 0.2)
    """
    raw = cm.raw if isinstance(cm.raw, dict) else {}
    problems: list[Problem] = []
    out = {}
    for p in ROUTE_PARAMETERS.values():
        out[p.name] = _prior_pair(problems, cm, f"{p.table}.{p.name}_prior",
                                  raw.get(p.table, {}).get(f"{p.name}_prior"))
    obs = raw.get("observation", {})
    vals = []
    for key in ("global_interception", "global_interception_sd_log", "rate_sd_log"):
        v = obs.get(key)
        if not (isinstance(v, int | float) and not isinstance(v, bool) and v > 0):
            problems.append(Problem(cm.path or cm.name, None, f"observation.{key}",
                                    f"must be a number > 0, got {v!r}"))
            v = 1.0
        vals.append(float(v))
    if problems:
        raise DataError(problems)
    return out, (vals[0], vals[1], vals[2])


# --------------------------------------------------------------------------- problem
@dataclass
class _Problem:
    """The data of a fit: stacked year models, observations, priors."""

    models: list[YearModel]
    names: list[str]
    base: dict[str, float]
    route_priors: dict[str, Prior]
    kg: float
    obs_year: np.ndarray
    obs_country: np.ndarray
    obs_kg: np.ndarray
    n_countries: int
    rate_prior: RatePrior | None = None
    background: float = 0.0
    evaluations: int = 0
    _stacked: YearModel | None = None
    _which: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def values(self, u: np.ndarray) -> dict[str, float]:
        out = dict(self.base)
        out.update({n: float(np.exp(x)) for n, x in zip(self.names, u)})
        return out

    def restack(self) -> None:
        unique = list({id(m): m for m in self.models}.values())
        pos = {id(m): i for i, m in enumerate(unique)}
        self._which = np.array([pos[id(m)] for m in self.models], dtype=np.int64)
        self._stacked = stack(unique)
        self._n_unique = len(unique)

    def flows_kg(self, v: dict[str, float]) -> np.ndarray:
        """Flow through each country, years x countries, kg."""
        self.evaluations += 1
        th = Theta(np.ones(0), 1.0, v["hours_per_risk"], v["logit_theta"], v["hours_per_km"])
        if self._stacked is None:
            self.restack()
        assert self._stacked is not None
        rows = self._stacked.through(th).reshape(self._n_unique, -1)
        return rows[self._which] * self.kg + self.background

    def profile(self, u: np.ndarray) -> RateFit:
        assert self.rate_prior is not None
        F = self.flows_kg(self.values(u))[self.obs_year, self.obs_country]
        return profile_rates(self.obs_kg, self.obs_country, F, self.n_countries,
                             self.rate_prior)

    def prior_nlp(self, u: np.ndarray) -> float:
        return float(sum((x - np.log(self.route_priors[n].median)) ** 2
                         / (2 * self.route_priors[n].sd_log ** 2)
                         for n, x in zip(self.names, u)))

    def objective(self, u: np.ndarray) -> float:
        return self.profile(u).nlp + self.prior_nlp(u)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    parameters : DataFrame
        Route parameters, indexed by name: ``value``, ``p05``, ``p95`` (90% Laplace interval),
        ``prior_median``, ``prior_p05``, ``prior_p95``, ``sd_log``, ``prior_sd_log``,
        ``pinned``, ``note``, ``about``.
    rates : DataFrame
        Seizure rates, indexed by ISO3: ``rate``, ``p05``, ``p95``, ``n_obs``, ``flow_kg``
        (mean over the fitted years of the modelled flow through the country), ``pinned``.
    fit : DataFrame
        ``iso3, year, split`` (fit or holdout), ``observed_kg``, ``modelled_kg`` (calibrated,
        exact), ``modelled_kg_uncalibrated`` (the cost model as given with its detection
        observation model, only its share fitted), ``demand`` (the country's markets' demand).
    statistics : DataFrame
        Per split and model: ``n``, ``spearman``, ``male`` (mean absolute log error).
    cost_model : CostModel
        The calibrated cost model (:func:`apply_parameters`).
    info : dict
        Objective, optimiser record, hyperparameters, evaluations, timings, check, years.
    """

    parameters: pd.DataFrame
    rates: pd.DataFrame
    fit: pd.DataFrame
    statistics: pd.DataFrame
    cost_model: CostModel
    info: dict[str, Any] = field(default_factory=dict)


def apply_parameters(cm: CostModel, values: dict[str, float],
                     rates: dict[str, float] | None = None,
                     default_rate: float | None = None) -> CostModel:
    """Return the cost model with fitted values (the original is not changed).

    Route parameters replace the cost model's values; ``rates`` become
    ``[observation.seizure_rates]`` and ``default_rate`` ``[observation] default_rate`` of
    ``raw`` (so :func:`routes.analysis.observe.modelled_seizures` uses them).
    """
    raw = dict(cm.raw)
    obs = dict(raw.get("observation", {}))
    if rates is not None:
        obs["seizure_rates"] = dict(sorted(rates.items()))
        obs["default_rate"] = float(default_rate if default_rate is not None else 0.0)
    raw["observation"] = obs
    return cm.with_changes(raw=raw,
                           hours_per_risk=values.get("hours_per_risk", cm.hours_per_risk),
                           hours_per_km=values.get("hours_per_km", cm.hours_per_km),
                           logit_theta=values.get("logit_theta", cm.logit_theta))


def _without_rates(cm: CostModel) -> CostModel:
    """Return the cost model with its seizure rates removed (its detection observation model)."""
    raw = dict(cm.raw)
    obs = {k: v for k, v in raw.get("observation", {}).items()
           if k not in ("seizure_rates", "default_rate")}
    raw["observation"] = obs
    return cm.with_changes(raw=raw)


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
    edges = tuple((u, v, round(d.get("time_h", 0.0), 9), round(d.get("risk", 0.0), 12),
                   round(d.get("length_km", 0.0), 9))
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


def _demand(G: nx.DiGraph) -> dict[str, float]:
    """Demand of each country's markets (flow units)."""
    out: dict[str, float] = {}
    for (_, m), f in od_demand(G).items():
        c = str(G.nodes[m].get("country"))
        out[c] = out.get(c, 0.0) + float(f)
    return out


class Workspace:
    """Networks, year models and uncalibrated results shared by fits on the same data.

    The rolling-origin evaluation (:func:`routes.analysis._holdout.rolling_origin`) fits the
    same years several times: the networks of the base cost model, each year's choice set
    (only ever extended, so a set grown by one fit serves the next) and the uncalibrated
    model's seizures are computed once. ``years``: every year any fit will see or predict
    (its networks give the countries).
    """

    def __init__(self, build: Build, cm: CostModel, years: Sequence[int], *,
                 exclude: Sequence[str] = tuple(DEFAULT_EXCLUDE),
                 engine: str | None = None) -> None:
        self.build, self.cm, self.engine = build, _without_rates(cm), engine
        self.exclude = list(exclude)
        self._graphs: dict[int, nx.DiGraph] = {}
        self._models: dict[tuple[Any, ...], YearModel] = {}
        self._unc: dict[tuple[Any, ...], pd.Series] = {}
        self.yen: dict[Any, Any] = {}     # k-shortest routes shared by identical networks
        self.countries = sorted({c for y in years for c in _countries(self.graph(int(y)))}
                                - set(exclude))

    def graph(self, year: int) -> nx.DiGraph:
        """Return the network of ``year`` with the base cost model (built once)."""
        if year not in self._graphs:
            self._graphs[year] = self.build(year, self.cm)
        return self._graphs[year]

    def model(self, year: int) -> YearModel:
        """Return the year's fast model (one per distinct network)."""
        sig = _signature(self.graph(year))
        if sig not in self._models:
            self._models[sig] = YearModel(self.graph(year), self.cm, groups=[],
                                          countries=self.countries, engine=self.engine)
        return self._models[sig]

    def uncalibrated(self, year: int) -> pd.Series:
        """Return the detected flow by country, base cost model's detection model (flow units)."""
        G = self.graph(year)
        sig = _signature(G)
        if sig not in self._unc:
            self._unc[sig] = modelled_seizures(G, self.cm, engine=self.engine,
                                               params=ObservationParams(1.0, 1.0))["seized"]
        return self._unc[sig]

    def calibrated(self, year: int, cal: CostModel) -> pd.Series:
        """Modelled seizures (kg) of a calibrated cost model, its network rebuilt with it."""
        return modelled_seizures(self.build(year, cal), cal, engine=self.engine)["modelled_kg"]


def _share_only(seized: dict[int, pd.Series], obs: pd.DataFrame, kg: float,
                offset: float) -> float:
    """Best share alone (uncalibrated model): 1-D least squares on log seizures."""
    m = np.array([seized[y].get(c, 0.0) for c, y in zip(obs["iso3"], obs["year"])]) * kg
    o = obs["heroin_eq_kg"].to_numpy(float)
    if len(o) == 0:
        return 1.0
    res = minimize_scalar(lambda ls: float(np.sum((np.log(o + offset)
                                                   - np.log(np.exp(ls) * m + offset)) ** 2)),
                          bounds=(np.log(1e-3), 0.0), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x))


def _background(cm: CostModel) -> float:
    """``[observation] background_flow_kg`` (0 when absent)."""
    v = cm.raw.get("observation", {}).get("background_flow_kg", 0.0) \
        if isinstance(cm.raw, dict) else 0.0
    if not (isinstance(v, int | float) and not isinstance(v, bool) and v >= 0):
        raise DataError(Problem(cm.path or cm.name, None, "observation.background_flow_kg",
                                f"must be a number >= 0, got {v!r}"))
    return float(v)


def _theta(v: dict[str, float]) -> Theta:
    return Theta(np.ones(0), 1.0, v["hours_per_risk"], v["logit_theta"], v["hours_per_km"])


def calibrate(build: Build, cm: CostModel, seizures: pd.DataFrame, *, years: Sequence[int],
              holdout: Sequence[int] = (), free: Sequence[str] | None = None, starts: int = 2,
              grid: int = 4, seed: int = 0, offset: float = DEFAULT_OFFSET_KG,
              exclude: Sequence[str] = tuple(DEFAULT_EXCLUDE), engine: str | None = None,
              maxfev: int = 120, posterior_grid: int = 9, check: bool = True,
              workspace: Workspace | None = None) -> Calibration:
    """Fit seizure rates and route-choice parameters to the seizures of ``years`` (module notes).

    Parameters
    ----------
    build : callable
        ``build(year, cm) -> DiGraph``: the network of a year with a cost model
        (:func:`year_builder`).
    cm : CostModel
        The cost model to start from: its values are the uncalibrated model, its priors
        (:func:`priors`) the calibration's.
    seizures : DataFrame
        :func:`routes.observed.read_seizures` rows (``iso3``, ``year``, ``heroin_eq_kg``).
    years, holdout : sequence of int
        Fitted and held-out years (disjoint). Held-out rows never enter the fit.
    free : sequence of str, optional
        Route parameters to fit (default: all of :data:`ROUTE_PARAMETERS`); the others keep
        the cost model's values.
    starts, grid, seed : int
        Seeded random starts, grid points per parameter, seed (:func:`multistart`).
    offset : float
        ``A`` of the observation model.
    exclude : sequence of str
        ISO3 codes left out of fit and scores (default :data:`DEFAULT_EXCLUDE`).
    engine : str, optional
        Path engine.
    maxfev : int
        Evaluation budget of each local search.
    posterior_grid : int
        Grid points per route parameter of the posterior (module notes).
    check : bool
        Recompute the fitted years exactly too (``check_max_rel_diff``); the held-out years
        are always computed exactly.
    workspace : Workspace, optional
        Networks and choice sets shared with other fits (default: a new one; its base cost
        model, ``exclude`` and engine are used).

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
    names = list(ROUTE_PARAMETERS) if free is None else list(free)
    bad = [n for n in names if n not in ROUTE_PARAMETERS]
    if bad:
        raise RoutesError(f"unknown parameter(s) {', '.join(bad)}; choose from "
                          f"{', '.join(ROUTE_PARAMETERS)}")
    ws = workspace or Workspace(build, cm, years + holdout, exclude=exclude, engine=engine)
    base_cm, exclude, countries = ws.cm, ws.exclude, ws.countries
    route_priors, (g_rate, g_sd, tau) = priors(base_cm)
    obs_par = observation_params(base_cm)
    base = {"hours_per_risk": base_cm.hours_per_risk, "logit_theta": base_cm.logit_theta,
            "hours_per_km": base_cm.hours_per_km}
    models = [ws.model(y) for y in years]
    n_models = len({id(m) for m in models})
    oy, oc, ok = _observations(seizures[seizures["year"].isin(years)], years, countries)
    if len(ok) == 0:
        raise RoutesError("no reported seizures in the fitted years for the network's "
                          "countries")
    pb = _Problem(models, names, base, route_priors, obs_par.kg_per_unit, oy, oc, ok,
                  len(countries))
    centre = {n: route_priors[n].median for n in names}
    for m in {id(m): m for m in models}.values():
        m.extend(_theta({**base, **centre}), m.k, ws.yen)
    pb.restack()
    # mu0: rates of g / L everywhere seize g of the flow (L: countries per unit of flow).
    F0 = pb.flows_kg({**base, **centre})
    total = np.array([m.pair_flow.sum() for m in models]) * obs_par.kg_per_unit
    L = float(np.mean(F0.sum(axis=1) / np.maximum(total, 1e-300)))
    pb.rate_prior = RatePrior(mu0=float(np.log(g_rate / max(L, 1e-9))), omega=g_sd, tau=tau,
                              offset=offset)
    pb.background = _background(base_cm)
    t_prep = time.perf_counter()
    lo = np.array([np.log(route_priors[n].median) - 3 * route_priors[n].sd_log for n in names])
    hi = np.array([np.log(route_priors[n].median) + 3 * route_priors[n].sd_log for n in names])
    u0 = np.array([np.log(centre[n]) for n in names])
    unique = list({id(m): m for m in models}.values())

    def polish(u: np.ndarray) -> np.ndarray:
        r = multistart(pb.objective, lo, hi, grid=1, polish=0, starts=0, seed=seed,
                       maxfev=maxfev, extra=[u])
        return r.x if r.fun <= pb.objective(u) else u

    def grow(u: np.ndarray) -> int:
        new = sum(m.extend(_theta(pb.values(u)), m.k, ws.yen) for m in unique)
        if new:
            pb.restack()
        return new

    # 1. Where is the estimate roughly? Grow the choice set there until it holds each pair's
    #    k best routes (a cheap grid search, then single polishes).
    ms = multistart(pb.objective, lo, hi, grid=grid, polish=1, starts=0, seed=seed,
                    maxfev=maxfev, extra=[]) if names else None
    u_hat = ms.x if ms is not None else np.zeros(0)
    added, rounds = 0, 0
    for _ in range(_ROUNDS):
        new = grow(u_hat)
        added += new
        if not new or ms is None:
            break
        rounds += 1
        u_hat = polish(u_hat)
    # 2. The search on the final choice set: grid, polished grid points, the prior's centre,
    #    the estimate so far, seeded random starts (its record is the one reported).
    if names:
        ms = multistart(pb.objective, lo, hi, grid=grid, polish=2, starts=starts, seed=seed,
                        maxfev=maxfev, extra=[u0, u_hat])
        u_hat = ms.x
        late = grow(u_hat)   # routes the final estimate prefers (then polished once more)
        added += late
        if late:
            u_hat = polish(u_hat)
    else:
        late = 0
    f_hat = pb.objective(u_hat)
    n_fit_evals = pb.evaluations
    t_fit = time.perf_counter()
    seen: dict[bytes, RateFit] = {}

    def recorded(u: np.ndarray) -> float:
        rf = pb.profile(u)
        seen[np.asarray(u, float).tobytes()] = rf
        return rf.nlp + pb.prior_nlp(u)

    post = grid_posterior(recorded, lo, hi, posterior_grid) if names else None
    if post is not None and post.f_best < f_hat - 1e-9:
        # The posterior grid found a better point than the search: polish from it.
        better = multistart(pb.objective, lo, hi, grid=1, polish=0, starts=0, seed=seed,
                            maxfev=maxfev, extra=[post.best])
        if better.fun < f_hat:
            u_hat, f_hat = better.x, better.fun
    rf = pb.profile(u_hat)
    values = pb.values(u_hat)
    F_hat = pb.flows_kg(values)
    params = _parameter_table(names, u_hat, post, route_priors)
    rates = _rate_table(rf, countries, oc, F_hat, tau)
    if post is not None:
        # Rates' intervals: their conditional posteriors mixed over the route parameters' grid.
        fits = [seen[np.asarray(p, float).tobytes()] for p in post.points]
        q = mixture_quantiles(np.array([f.a for f in fits]), np.array([f.sd for f in fits]),
                              post.weights)
        rates["p05"], rates["p95"] = np.exp(q[:, 0]), np.exp(q[:, 1])
    fitted = {c: float(np.exp(rf.a[i])) for i, c in enumerate(countries)
              if rates.loc[c, "n_obs"] > 0}
    cal = apply_parameters(base_cm, values, fitted, float(np.exp(rf.mu)))
    cal = cal.with_changes(name=f"{cm.name.removesuffix('-calibrated')}-calibrated")
    t_post = time.perf_counter()
    fit, diffs, share_unc = _fit_table(ws, cal, seizures, years, holdout, F_hat, rf,
                                       obs_par, offset, check)
    info = {
        "years": years, "holdout": holdout, "countries": countries,
        "excluded": {c: DEFAULT_EXCLUDE.get(c, "excluded by the user") for c in exclude},
        "observations": len(ok), "objective": f_hat, "offset_kg": offset,
        "optimiser": ms.record() if ms is not None else {},
        "hyper": {"mu0": pb.rate_prior.mu0, "mu": rf.mu, "sigma": float(np.sqrt(rf.sigma2)),
                  "tau": tau, "omega": g_sd, "global_interception": g_rate,
                  "countries_per_flow_unit": L,
                  "implied_global_interception": _implied(rf, F_hat, total)},
        "posterior_grid": posterior_grid, "routes_added_after_search": late,
        "background_flow_kg": pb.background,
        "evaluations_fit": n_fit_evals, "evaluations_total": pb.evaluations,
        "seconds_prepare": t_prep - t0, "seconds_fit": t_fit - t_prep,
        "seconds_posterior": t_post - t_fit, "seconds_total": time.perf_counter() - t0,
        "seconds_per_evaluation": (t_fit - t_prep) / max(n_fit_evals, 1),
        "starts": starts, "grid": grid, "seed": seed, "year_models": n_models,
        "choice_set": [m.summary() for m in {id(m): m for m in models}.values()],
        "routes_added_at_fit": added, "refit_rounds": rounds,
        "check_max_rel_diff": float(max(diffs) if diffs else 0.0),
        "uncalibrated_share": share_unc, "kg_per_flow_unit": obs_par.kg_per_unit,
    }
    log.info("calibration: %d observations, objective %.4f, %d evaluations in %.1f s",
             len(ok), f_hat, n_fit_evals, t_fit - t_prep)
    return Calibration(params, rates, fit, fit_statistics(fit, offset=offset), cal, info)


def _implied(rf: RateFit, F: np.ndarray, total: np.ndarray) -> float:
    """Modelled seizures over modelled supply, mean over the fitted years."""
    seized = (F * np.exp(rf.a)[None, :]).sum(axis=1)
    return float(np.mean(seized / np.maximum(total, 1e-300)))


def _fit_table(ws: Workspace, cal: CostModel, seizures: pd.DataFrame, years: list[int],
               holdout: list[int], F_hat: np.ndarray, rf: RateFit, obs_par: ObservationParams,
               offset: float, check: bool) -> tuple[pd.DataFrame, list[float], float]:
    countries = ws.countries
    fast = F_hat * np.exp(rf.a)[None, :]     # kg
    mod: dict[int, dict[str, float]] = {}
    diffs: list[float] = []
    for i, y in enumerate(years):
        mod[y] = dict(zip(countries, fast[i].tolist()))
        if check:
            ex = ws.calibrated(y, cal)
            diffs += [abs(float(ex.get(c, 0.0)) - fast[i, j]) / max(fast[i, j], 1.0)
                      for j, c in enumerate(countries)]
    for y in holdout:
        mod[y] = ws.calibrated(y, cal).to_dict()
    fit_rows = seizures[seizures["year"].isin(years) & seizures["iso3"].isin(countries)
                        & seizures["heroin_eq_kg"].notna()]
    unc = {y: ws.uncalibrated(y) for y in years + holdout}
    share = _share_only(unc, fit_rows, obs_par.heroin_kg_per_flow_unit, offset)
    obs = seizures.set_index(["iso3", "year"])["heroin_eq_kg"]
    rows = []
    for y in years + holdout:
        demand = _demand(ws.graph(y))
        for c in countries:
            rows.append({"iso3": c, "year": y, "split": "fit" if y in years else "holdout",
                         "observed_kg": float(obs.get((c, y), float("nan"))),
                         "modelled_kg": float(mod[y].get(c, 0.0)),
                         "modelled_kg_uncalibrated": float(unc[y].get(c, 0.0))
                         * share * obs_par.heroin_kg_per_flow_unit,
                         "demand": float(demand.get(c, 0.0))})
    return pd.DataFrame(rows), diffs, share


def _parameter_table(names: list[str], u: np.ndarray, post: GridPosterior | None,
                     pri: dict[str, Prior]) -> pd.DataFrame:
    """Estimates, 90% intervals from the grid posterior's marginals, priors, pinned."""
    rows = []
    for j, n in enumerate(names):
        p = pri[n]
        assert post is not None
        _, sd = post.mean_sd(j)
        pinned = bool(sd < PIN_RATIO * p.sd_log)
        note = "" if pinned else (f"posterior sd {sd:.2f} vs prior {p.sd_log:.2f} (ln): the "
                                  "data do not pin it; the prior carries it")
        rows.append({"parameter": n, "value": float(np.exp(u[j])),
                     "p05": float(np.exp(post.quantile(j, 0.05))),
                     "p95": float(np.exp(post.quantile(j, 0.95))),
                     "prior_median": p.median,
                     "prior_p05": float(p.median * np.exp(-_Z90 * p.sd_log)),
                     "prior_p95": float(p.median * np.exp(_Z90 * p.sd_log)),
                     "sd_log": sd, "prior_sd_log": p.sd_log, "pinned": pinned, "note": note,
                     "about": ROUTE_PARAMETERS[n].about})
    cols = ["value", "p05", "p95", "prior_median", "prior_p05", "prior_p95", "sd_log",
            "prior_sd_log", "pinned", "note", "about"]
    return pd.DataFrame(rows, columns=["parameter", *cols]).set_index("parameter")


def _rate_table(rf: RateFit, countries: list[str], oc: np.ndarray, F: np.ndarray,
                tau: float) -> pd.DataFrame:
    """Rates with 90% intervals; pinned when the data narrow the prior (sd < PIN_RATIO tau)."""
    n_obs = np.bincount(oc, minlength=len(countries))
    rows = []
    for i, c in enumerate(countries):
        a, sd = float(rf.a[i]), float(rf.sd[i])
        rows.append({"iso3": c, "rate": float(np.exp(a)), "p05": float(np.exp(a - _Z90 * sd)),
                     "p95": float(np.exp(a + _Z90 * sd)), "sd_log": sd,
                     "n_obs": int(n_obs[i]), "flow_kg": float(F[:, i].mean()),
                     "pinned": bool(n_obs[i] > 0 and sd < PIN_RATIO * tau)})
    return pd.DataFrame(rows).set_index("iso3")


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
    all_years = [int(y) for y in years] + [int(y) for y in holdout if y not in years]
    exact = {y: modelled_seizures(build(y, cm), cm, engine=engine)["modelled_kg"]
             for y in all_years}
    obs = seizures.set_index(["iso3", "year"])["heroin_eq_kg"]
    rows = []
    for y in all_years:
        for c, v in exact[y].items():
            if c in exclude:
                continue
            o = float(obs.get((c, y), float("nan")))
            m = float(v)
            rows.append({"iso3": c, "year": y, "split": "fit" if y in years else "holdout",
                         "observed_kg": o, "modelled_kg": m,
                         "log_residual": float(np.log(o + offset) - np.log(m + offset))})
    return pd.DataFrame(rows, columns=["iso3", "year", "split", "observed_kg", "modelled_kg",
                                       "log_residual"])

