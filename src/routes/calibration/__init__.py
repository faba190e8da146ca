"""How well the model matches reported seizures: the observation model and the fit.

- :mod:`.observe`
- :mod:`.calibrate`
"""

from .calibrate import (
    DEFAULT_EXCLUDE,
    DEFAULT_OFFSET_KG,
    PARAMETERS,
    Calibration,
    FreeParameter,
    apply_parameters,
    calibrate,
    fit_statistics,
    observed_vs_modelled,
    year_builder,
)
from .observe import (
    SEIZURE_COLUMNS,
    ObservationParams,
    edge_checks,
    modelled_seizures,
    observation_params,
)

__all__ = [
    "FreeParameter",
    "PARAMETERS",
    "Calibration",
    "calibrate",
    "apply_parameters",
    "fit_statistics",
    "observed_vs_modelled",
    "year_builder",
    "DEFAULT_OFFSET_KG",
    "DEFAULT_EXCLUDE",
    "ObservationParams",
    "observation_params",
    "edge_checks",
    "modelled_seizures",
    "SEIZURE_COLUMNS",
]
