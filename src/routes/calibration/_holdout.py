"""Rolling-origin out-of-sample tests of the calibration against simple predictors.

For each held-out year ``h`` the model is fitted on ``first .. h - 1`` only and predicts ``h``
(a rolling origin: fit 2018-2020, predict 2021; fit 2018-2021, predict 2022). Side by side, on
the countries that reported in ``h`` and in ``h - 1`` (so that every predictor is scored on the
same countries):

- ``calibrated``: the fit's seizure rates times the modelled flow of year ``h``;
- ``uncalibrated``: the cost model as given (its detection observation model), only the
  trafficked share fitted on the fitted years;
- ``last_year``: the seizures the country reported in ``h - 1``;
- ``fitted_mean``: the mean of its reports in the fitted years;
- ``demand``: the demand of its markets in ``h`` times one scale fitted on the fitted years
  (0 for a country without a market).

Scores: Spearman's rank correlation with the reported seizures, the mean absolute log error
``mean |ln(obs + A) - ln(pred + A)|`` and the rank partial correlation of the predictor with
the reported seizures given last year's (:func:`routes.calibration._posterior.rank_partial`): what
the predictor knows about the order of the countries beyond last year's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from ..costs import CostModel
from ._posterior import rank_partial
from .calibrate import (
    DEFAULT_EXCLUDE,
    DEFAULT_OFFSET_KG,
    Build,
    Calibration,
    Workspace,
    calibrate,
)

__all__ = ["PREDICTORS", "holdout_predictions", "holdout_scores", "rolling_origin"]

#: Predictors, in table order.
PREDICTORS = ("calibrated", "uncalibrated", "last_year", "fitted_mean", "demand")


def _demand_scale(fit: pd.DataFrame, offset: float) -> float:
    d = fit[(fit["split"] == "fit") & fit["observed_kg"].notna()]
    o, m = d["observed_kg"].to_numpy(float), d["demand"].to_numpy(float)
    if len(o) == 0 or not np.any(m > 0):
        return 1.0
    res = minimize_scalar(
        lambda ls: float(np.sum((np.log(o + offset) - np.log(np.exp(ls) * m + offset)) ** 2)),
        # with bounds scipy's (>= 1.11) default method is "bounded": method=None is an
        # equivalent mutant
        bounds=(-10.0, 20.0), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


def holdout_predictions(cal: Calibration, seizures: pd.DataFrame, year: int, *,
                        offset: float = DEFAULT_OFFSET_KG) -> pd.DataFrame:
    """Every predictor's value for each country that reported in ``year`` and the year before.

    ``cal`` must hold ``year`` out (its ``fit`` table has the year's modelled seizures).
    Columns ``iso3, observed_kg`` and one per :data:`PREDICTORS`.
    """
    fit = cal.fit
    fitted = [int(y) for y in cal.info["years"]]
    h = fit[(fit["year"] == year) & (fit["split"] == "holdout")].set_index("iso3")
    if h.empty:
        raise ValueError(f"the calibration does not hold {year} out")
    obs = seizures[seizures["heroin_eq_kg"].notna()].set_index(["iso3", "year"])["heroin_eq_kg"]
    past = seizures[seizures["year"].isin(fitted) & seizures["heroin_eq_kg"].notna()]
    mean = past.groupby("iso3")["heroin_eq_kg"].mean()
    scale = _demand_scale(fit, offset)
    rows = []
    for c, r in h.iterrows():
        if (c, year) not in obs.index or (c, year - 1) not in obs.index or c not in mean.index:
            continue
        rows.append({"iso3": c, "observed_kg": float(obs[(c, year)]),
                     "calibrated": float(r["modelled_kg"]),
                     "uncalibrated": float(r["modelled_kg_uncalibrated"]),
                     "last_year": float(obs[(c, year - 1)]),
                     "fitted_mean": float(mean[c]), "demand": float(r["demand"]) * scale})
    return pd.DataFrame(rows, columns=["iso3", "observed_kg", *PREDICTORS])


def holdout_scores(pred: pd.DataFrame, *, offset: float = DEFAULT_OFFSET_KG) -> pd.DataFrame:
    """Scores of every predictor (module notes): ``predictor, n, spearman, male, partial``.

    Examples
    --------
    >>> p = pd.DataFrame({"observed_kg": [5.0, 50.0, 500.0, 40.0],
    ...                   "calibrated": [8.0, 30.0, 900.0, 60.0],
    ...                   "uncalibrated": [1.0, 3.0, 2.0, 9.0],
    ...                   "last_year": [4.0, 70.0, 300.0, 20.0],
    ...                   "fitted_mean": [6.0, 60.0, 400.0, 30.0],
    ...                   "demand": [1.0, 10.0, 20.0, 30.0]})
    >>> s = holdout_scores(p, offset=0.0).set_index("predictor")
    >>> c, last = s.loc["calibrated"], s.loc["last_year"]
    >>> round(float(c["spearman"]), 3), round(float(last["male"]), 4)
    (0.8, 0.4409)
    """
    import warnings

    obs = pred["observed_kg"].to_numpy(float)
    last = pred["last_year"].to_numpy(float)
    rows = []
    for name in PREDICTORS:
        m = pred[name].to_numpy(float)
        n = len(obs)
        with warnings.catch_warnings():   # a constant predictor has no rank correlation
            warnings.simplefilter("ignore")
            rho = float(pd.Series(obs).corr(pd.Series(m), method="spearman")) if n > 2 \
                else float("nan")
        male = float(np.mean(np.abs(np.log(obs + offset) - np.log(m + offset)))) if n \
            else float("nan")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part = rank_partial(obs, m, last) if n > 3 and name != "last_year" \
                else float("nan")
        rows.append({"predictor": name, "n": n, "spearman": rho, "male": male,
                     "partial": part})
    return pd.DataFrame(rows, columns=["predictor", "n", "spearman", "male", "partial"])


def rolling_origin(build: Build, cm: CostModel, seizures: pd.DataFrame, *, first: int,
                   holdouts: Sequence[int], workspace: Workspace | None = None,
                   calibrations: dict[int, Calibration] | None = None,
                   exclude: Sequence[str] = tuple(DEFAULT_EXCLUDE), engine: str | None = None,
                   offset: float = DEFAULT_OFFSET_KG, **kw: Any
                   ) -> tuple[pd.DataFrame, dict[int, Calibration]]:
    """Fit ``first .. h - 1`` and score on ``h``, for each ``h`` of ``holdouts``.

    ``calibrations``: fits already made (by held-out year), reused; ``kw`` goes to
    :func:`routes.calibration.calibrate.calibrate` (the secondary fits skip the exact check of
    their fitted years). Returns the table ``holdout, fitted, predictor, n, spearman, male,
    partial`` and the calibrations by held-out year.
    """
    holdouts = [int(h) for h in holdouts]
    ws = workspace or Workspace(build, cm, range(first, max(holdouts) + 1), exclude=exclude,
                                engine=engine)
    done = dict(calibrations or {})
    parts = []
    for h in holdouts:
        if h not in done:
            # build only makes a workspace, and ws is given: calibrate(None, ...) is an
            # equivalent mutant
            done[h] = calibrate(build, cm, seizures, years=list(range(first, h)), holdout=[h],
                                offset=offset, workspace=ws, check=False, **kw)
        sc = holdout_scores(holdout_predictions(done[h], seizures, h, offset=offset),
                            offset=offset)
        sc.insert(0, "fitted", f"{first}-{h - 1}")
        sc.insert(0, "holdout", h)
        parts.append(sc)
    return pd.concat(parts, ignore_index=True), done
