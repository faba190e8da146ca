"""The calibration's priors, read from the cost model beside each parameter's rationale.

Route-choice parameters: ``<name>_prior = [median, sd_log]`` in the parameter's table (a
log-normal prior). Seizure rates: ``[observation] global_interception``,
``global_interception_sd_log`` and ``rate_sd_log`` (the hierarchical prior of
:mod:`routes.calibration.calibrate`); ``background_flow_kg``, the flow the routes do not carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import DataError, Problem
from ..costs import CostModel

__all__ = ["RouteParameter", "ROUTE_PARAMETERS", "Prior", "priors", "PIN_RATIO", "Z90",
           "background_flow"]

#: Posterior sd above this share of the prior sd: the data do not pin the parameter.
PIN_RATIO = 0.7
#: z of a central 90% interval.
Z90 = 1.6448536269514722


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
        # a stand-in, never returned: priors() raises on any problem (other values are
        # equivalent mutants)
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
        if isinstance(v, int | float) and not isinstance(v, bool) and v > 0:
            vals.append(float(v))
        else:
            problems.append(Problem(cm.path or cm.name, None, f"observation.{key}",
                                    f"must be a number > 0, got {v!r}"))
    if problems:
        raise DataError(problems)
    return out, (vals[0], vals[1], vals[2])


def background_flow(cm: CostModel) -> float:
    """``[observation] background_flow_kg`` (0 when absent)."""
    v = cm.raw.get("observation", {}).get("background_flow_kg", 0.0) \
        if isinstance(cm.raw, dict) else 0.0
    if not (isinstance(v, int | float) and not isinstance(v, bool) and v >= 0):
        raise DataError(Problem(cm.path or cm.name, None, "observation.background_flow_kg",
                                f"must be a number >= 0, got {v!r}"))
    return float(v)
