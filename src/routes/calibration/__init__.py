"""How well the model matches reported seizures: the observation model and the fit.

- :mod:`.observe`: the observation model (detection, or a calibrated cost model's seizure
  rates times the flow through each country).
- :mod:`.calibrate`: seizure rates apart from route-choice parameters, fitted to reported
  seizures; priors (:mod:`._priors`), the profiled posterior (:mod:`._posterior`), the
  optimiser (:mod:`._optimise`), shared networks (:mod:`._workspace`), result tables
  (:mod:`._calib_tables`), the calibrated cost-model file (:mod:`._calib_toml`).
- :mod:`._holdout`: rolling-origin out-of-sample tests against simple predictors.
"""

from ._holdout import PREDICTORS, holdout_predictions, holdout_scores, rolling_origin
from .calibrate import (
    DEFAULT_EXCLUDE,
    DEFAULT_OFFSET_KG,
    PIN_RATIO,
    ROUTE_PARAMETERS,
    Calibration,
    Prior,
    RouteParameter,
    Workspace,
    apply_parameters,
    calibrate,
    fit_statistics,
    observed_vs_modelled,
    priors,
    year_builder,
)
from .observe import (
    SEIZURE_COLUMNS,
    ObservationParams,
    country_throughput,
    edge_checks,
    modelled_seizures,
    observation_params,
    seizure_rates,
)

__all__ = [
    "RouteParameter",
    "ROUTE_PARAMETERS",
    "Prior",
    "priors",
    "PIN_RATIO",
    "Calibration",
    "calibrate",
    "Workspace",
    "apply_parameters",
    "fit_statistics",
    "observed_vs_modelled",
    "year_builder",
    "DEFAULT_OFFSET_KG",
    "DEFAULT_EXCLUDE",
    "PREDICTORS",
    "holdout_predictions",
    "holdout_scores",
    "rolling_origin",
    "ObservationParams",
    "observation_params",
    "edge_checks",
    "modelled_seizures",
    "country_throughput",
    "seizure_rates",
    "SEIZURE_COLUMNS",
]
