"""The calibration's result tables: fit by country-year, parameters, rates, statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from ..costs import CostModel
from ._posterior import GridPosterior, RateFit
from ._priors import PIN_RATIO, ROUTE_PARAMETERS, Z90, Prior
from ._workspace import DEFAULT_OFFSET_KG, Workspace, demand_by_country
from .observe import ObservationParams

__all__ = ["fit_statistics", "fit_table", "parameter_table", "rate_table", "share_only"]


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
            # (fit_table writes these columns as floats: to_numpy(None) is an equivalent mutant)
            obs, mod = d["observed_kg"].to_numpy(float), d[col].to_numpy(float)
            rho = float(pd.Series(obs).corr(pd.Series(mod), method="spearman")) \
                if len(d) > 1 else float("nan")
            male = float(np.mean(np.abs(np.log(obs + offset) - np.log(mod + offset))))
            rows.append({"split": split, "model": model, "n": len(d), "spearman": rho,
                         "male": male})
    return pd.DataFrame(rows, columns=["split", "model", "n", "spearman", "male"])


def share_only(seized: dict[int, pd.Series], obs: pd.DataFrame, kg: float,
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


def fit_table(ws: Workspace, cal: CostModel, seizures: pd.DataFrame, years: list[int],
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
    share = share_only(unc, fit_rows, obs_par.heroin_kg_per_flow_unit, offset)
    obs = seizures.set_index(["iso3", "year"])["heroin_eq_kg"]
    rows = []
    for y in years + holdout:
        demand = demand_by_country(ws.graph(y))
        for c in countries:
            rows.append({"iso3": c, "year": y, "split": "fit" if y in years else "holdout",
                         "observed_kg": float(obs.get((c, y), float("nan"))),
                         "modelled_kg": float(mod[y].get(c, 0.0)),
                         "modelled_kg_uncalibrated": float(unc[y].get(c, 0.0))
                         * share * obs_par.heroin_kg_per_flow_unit,
                         "demand": float(demand.get(c, 0.0))})
    return pd.DataFrame(rows), diffs, share


def parameter_table(names: list[str], u: np.ndarray, post: GridPosterior | None,
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
                     "prior_p05": float(p.median * np.exp(-Z90 * p.sd_log)),
                     "prior_p95": float(p.median * np.exp(Z90 * p.sd_log)),
                     "sd_log": sd, "prior_sd_log": p.sd_log, "pinned": pinned, "note": note,
                     "about": ROUTE_PARAMETERS[n].about})
    cols = ["value", "p05", "p95", "prior_median", "prior_p05", "prior_p95", "sd_log",
            "prior_sd_log", "pinned", "note", "about"]
    return pd.DataFrame(rows, columns=["parameter", *cols]).set_index("parameter")


def rate_table(rf: RateFit, countries: list[str], oc: np.ndarray, F: np.ndarray,
                tau: float) -> pd.DataFrame:
    """Rates with 90% intervals; pinned when the data narrow the prior (sd < PIN_RATIO tau)."""
    n_obs = np.bincount(oc, minlength=len(countries))
    rows = []
    for i, c in enumerate(countries):
        a, sd = float(rf.a[i]), float(rf.sd[i])
        rows.append({"iso3": c, "rate": float(np.exp(a)), "p05": float(np.exp(a - Z90 * sd)),
                     "p95": float(np.exp(a + Z90 * sd)), "sd_log": sd,
                     "n_obs": int(n_obs[i]), "flow_kg": float(F[:, i].mean()),
                     "pinned": bool(n_obs[i] > 0 and sd < PIN_RATIO * tau)})
    return pd.DataFrame(rows).set_index("iso3")
