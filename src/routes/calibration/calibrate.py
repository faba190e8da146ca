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
(:meth:`routes.calibration._fastobs.YearModel.through`: each route's logit flow, once in every
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
(:func:`routes.calibration._posterior.profile_rates`: the ratio estimator ``sum obs / sum F``
shrunk by the prior, polished by Gauss-Newton). The negative log posterior of ``theta``
(profiled) is minimised over ``ln theta`` within three prior sds by
:func:`routes.calibration._optimise.multistart` (grid, then Nelder-Mead from the best grid points,
the prior's centre and seeded random points). Each year's choice set
(:class:`routes.calibration._fastobs.YearModel`) is extended with the k best routes at the
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._errors import RoutesError
from ..costs import CostModel
from ._calib_tables import fit_statistics, fit_table, parameter_table, rate_table
from ._fastobs import Theta, YearModel, stack
from ._optimise import multistart
from ._posterior import RateFit, RatePrior, grid_posterior, mixture_quantiles, profile_rates
from ._priors import (
    PIN_RATIO,
    ROUTE_PARAMETERS,
    Prior,
    RouteParameter,
    background_flow,
    priors,
)
from ._workspace import (
    DEFAULT_EXCLUDE,
    DEFAULT_OFFSET_KG,
    Build,
    Workspace,
    observed_vs_modelled,
    year_builder,
)
from .observe import observation_params

__all__ = ["RouteParameter", "ROUTE_PARAMETERS", "Prior", "Calibration", "calibrate",
           "Workspace", "apply_parameters", "priors", "fit_statistics", "year_builder",
           "observed_vs_modelled", "DEFAULT_OFFSET_KG", "DEFAULT_EXCLUDE", "PIN_RATIO", "Build"]

log = logging.getLogger(__name__)

#: Rounds of choice-set extension and refit after the first fit.
_ROUNDS = 4


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
    ``raw`` (so :func:`routes.calibration.observe.modelled_seizures` uses them).
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


def _observations(seizures: pd.DataFrame, years: Sequence[int], countries: list[str]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cidx = {c: i for i, c in enumerate(countries)}
    yidx = {y: i for i, y in enumerate(years)}
    d = seizures[seizures["year"].isin(list(years)) & seizures["iso3"].isin(list(cidx))
                 & seizures["heroin_eq_kg"].notna()]
    return (np.array([yidx[y] for y in d["year"]], dtype=np.int64),
            np.array([cidx[c] for c in d["iso3"]], dtype=np.int64),
            d["heroin_eq_kg"].to_numpy(float))


def _theta(v: dict[str, float]) -> Theta:
    return Theta(np.ones(0), 1.0, v["hours_per_risk"], v["logit_theta"], v["hours_per_km"])


def calibrate(build: Build, cm: CostModel, seizures: pd.DataFrame, *, years: Sequence[int],
              holdout: Sequence[int] = (), free: Sequence[str] | None = None, starts: int = 2,
              grid: int = 4, seed: int = 0, offset: float = DEFAULT_OFFSET_KG,
              exclude: Sequence[str] = tuple(DEFAULT_EXCLUDE), engine: str | None = None,
              maxfev: int = 250, posterior_grid: int = 9, check: bool = True,
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
    pb.background = background_flow(base_cm)
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
        # ws.yen shares route searches between years with the same network and weights
        # (without it each year would find the same routes itself, only slower).
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
        # u is a row of the grid's float64 points, so the dtype None for float is an
        # equivalent mutant (the same bytes, the same key).
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
    params = parameter_table(names, u_hat, post, route_priors)
    rates = rate_table(rf, countries, oc, F_hat, tau)
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
    fit, diffs, share_unc = fit_table(ws, cal, seizures, years, holdout, F_hat, rf,
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
