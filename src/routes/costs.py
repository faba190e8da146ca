"""The cost model: a commented TOML file -> frozen parameters -> edge weights.

Weights per edge ``u -> v`` (see ``data/geo/cost_model.toml`` for every parameter's rationale):

- ``length_km = geodesic_km(u, v) * detour_factor[mode]``
- ``time_h = length_km / speed_kmh[mode] + fixed_h[mode] (+ delay_h of v if v is a crossing)``
- ``risk = length_km / 1000 * risk_per_1000km[mode] (- ln(1 - p_detect(v)) if v is a crossing)``
- ``cost = hours_per_hour * time_h + hours_per_risk * risk + hours_per_km * length_km``

``risk`` is additive along a route, and ``exp(-risk)`` is the probability of passing undetected.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pyproj import Geod

from ._errors import DataError, Problem

__all__ = [
    "CostModel",
    "ModeParams",
    "ClassParams",
    "load_cost_model",
    "geodesic_km",
    "crossing_terms",
    "edge_weights",
    "risk_from_p",
    "p_from_risk",
    "WEIGHTS",
    "CORRIDOR_MODES",
]

#: The edge weights every built graph carries.
WEIGHTS = ("length_km", "time_h", "risk", "cost")
#: Modes a corridor may have.
CORRIDOR_MODES = ("road", "rail", "ferry", "sea", "track", "air")

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class ModeParams:
    """Travel parameters of one corridor mode."""

    detour_factor: float
    speed_kmh: float
    fixed_h: float
    risk_per_1000km: float


@dataclass(frozen=True)
class ClassParams:
    """Border-post parameters of one crossing class."""

    p_detect: float
    delay_h: float
    upgrade_cost: float
    p_detect_upgraded: float


@dataclass(frozen=True)
class CostModel:
    """All parameters of the cost model, as loaded from TOML (immutable)."""

    name: str
    description: str
    modes: dict[str, ModeParams]
    classes: dict[str, ClassParams]
    restricted_delay_factor: float
    restricted_risk_factor: float
    hours_per_hour: float
    hours_per_risk: float
    hours_per_km: float
    logit_theta: float
    k_routes: int
    uncertainty: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Share of a hub-served market's demand that reaches it through a wholesale hub
    #: (``[hubs] onward_share``; 0 without the table: no onward distribution).
    onward_share: float = 0.0
    #: Regions of the yearly balance: name -> ISO3 codes (``[balance.regions]``).
    regions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: The year the newest opium stock estimate is expected to last until (``[stocks]
    #: last_year``; :mod:`routes.supplyside`); ``None``: no drawdown without a published one.
    stocks_last_year: int | None = None
    source_hash: str = ""
    path: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_changes(self, **changes: Any) -> CostModel:
        """Return a copy with some parameters replaced (the original is not changed)."""
        return replace(self, **changes)


def risk_from_p(p_detect: float) -> float:
    """Return ``-ln(1 - p_detect)``, the additive risk of a detection probability.

    Examples
    --------
    >>> round(risk_from_p(0.5), 6)
    0.693147
    >>> risk_from_p(0.0)
    0.0
    """
    return -math.log1p(-p_detect)


def p_from_risk(risk: float) -> float:
    """Return the detection probability ``1 - exp(-risk)`` (inverse of :func:`risk_from_p`).

    Examples
    --------
    >>> round(p_from_risk(risk_from_p(0.3)), 12)
    0.3
    """
    return -math.expm1(-risk)


def geodesic_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the WGS84 geodesic distance in km between two points.

    Examples
    --------
    >>> round(geodesic_km(0.0, 0.0, 1.0, 0.0), 3)
    111.319
    """
    _, _, d_m = _GEOD.inv(lon1, lat1, lon2, lat2)
    return float(d_m) / 1000.0


def crossing_terms(
    cm: CostModel,
    crossing_class: str,
    status: str,
    *,
    p_detect: float | None = None,
    delay_h: float | None = None,
) -> tuple[float, float]:
    """Return ``(delay_h, risk)`` charged on each edge entering a crossing.

    ``p_detect``/``delay_h`` override the class defaults when given. A restricted crossing has
    its delay multiplied by ``restricted_delay_factor`` and its risk by
    ``restricted_risk_factor``. Closed crossings have no edges, so they are never asked for.

    Examples
    --------
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> d, r = crossing_terms(cm, "eu_external", "open", p_detect=0.5)
    >>> d, round(r, 6)
    (4.0, 0.693147)
    """
    params = cm.classes[crossing_class]
    p = params.p_detect if p_detect is None else p_detect
    d = params.delay_h if delay_h is None else delay_h
    r = risk_from_p(p)
    if status == "restricted":
        d *= cm.restricted_delay_factor
        r *= cm.restricted_risk_factor
    return d, r


def edge_weights(
    cm: CostModel,
    mode: str,
    geodesic_length_km: float,
    *,
    crossing: tuple[float, float] | None = None,
) -> dict[str, float]:
    """Return the weights of one edge.

    Parameters
    ----------
    cm : CostModel
    mode : str
        Corridor mode (a key of ``cm.modes``).
    geodesic_length_km : float
        Great-circle length of the edge, before the detour factor.
    crossing : (delay_h, risk), optional
        The terms of the crossing the edge enters (from :func:`crossing_terms`).

    Returns
    -------
    dict
        ``length_km``, ``time_h``, ``risk`` and ``cost``.

    Examples
    --------
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> w = edge_weights(cm, "road", 100.0)
    >>> w["length_km"], round(w["time_h"], 4)
    (135.0, 4.0)
    """
    m = cm.modes[mode]
    length = geodesic_length_km * m.detour_factor
    time_h = length / m.speed_kmh + m.fixed_h
    risk = length / 1000.0 * m.risk_per_1000km
    if crossing is not None:
        time_h += crossing[0]
        risk += crossing[1]
    cost = cm.hours_per_hour * time_h + cm.hours_per_risk * risk + cm.hours_per_km * length
    return {"length_km": length, "time_h": time_h, "risk": risk, "cost": cost}


# --------------------------------------------------------------------------- loading


def _num(
    problems: list[Problem], file: str, where: str, value: Any, *, lo: float, hi: float | None
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem(file, None, where, f"must be a number, got {value!r}"))
        return math.nan
    v = float(value)
    if v < lo or (hi is not None and v > hi) or not math.isfinite(v):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        problems.append(Problem(file, None, where, f"must be in {rng}, got {v}"))
    return v


def _section(
    problems: list[Problem], file: str, raw: dict[str, Any], name: str
) -> dict[str, Any]:
    sec = raw.get(name)
    if not isinstance(sec, dict):
        problems.append(Problem(file, None, name, "missing table"))
        return {}
    return sec


def load_cost_model(path: str | Path) -> CostModel:
    """Read and check a cost-model TOML file.

    Raises
    ------
    DataError
        With every problem found (file, and the dotted parameter name as the field).

    Examples
    --------
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> cm.modes["road"].speed_kmh
    45.0
    """
    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(Problem(file, None, None, f"cannot read: {exc.strerror}")) from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))  # "UTF-8" names the same codec (equivalent)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(Problem(file, None, None, f"not valid TOML: {exc}")) from None
    problems: list[Problem] = []
    modes: dict[str, ModeParams] = {}
    for mode, vals in _section(problems, file, raw, "modes").items():
        w = f"modes.{mode}"
        if mode not in CORRIDOR_MODES:
            problems.append(Problem(file, None, w, f"unknown mode; allowed: {CORRIDOR_MODES}"))
        modes[mode] = ModeParams(
            detour_factor=_num(problems, file, f"{w}.detour_factor",
                               vals.get("detour_factor"), lo=1.0, hi=5.0),
            speed_kmh=_num(problems, file, f"{w}.speed_kmh", vals.get("speed_kmh"),
                           lo=0.1, hi=1000.0),
            fixed_h=_num(problems, file, f"{w}.fixed_h", vals.get("fixed_h"), lo=0.0, hi=None),
            risk_per_1000km=_num(problems, file, f"{w}.risk_per_1000km",
                                 vals.get("risk_per_1000km"), lo=0.0, hi=None),
        )
    for mode in CORRIDOR_MODES:
        if mode not in modes:
            problems.append(Problem(file, None, f"modes.{mode}", "missing table"))
    classes: dict[str, ClassParams] = {}
    for cls, vals in _section(problems, file, raw, "classes").items():
        w = f"classes.{cls}"
        p = _num(problems, file, f"{w}.p_detect", vals.get("p_detect"), lo=0.0, hi=0.99)
        pu = _num(problems, file, f"{w}.p_detect_upgraded", vals.get("p_detect_upgraded"),
                  lo=0.0, hi=0.99)
        if pu < p:
            problems.append(Problem(file, None, f"{w}.p_detect_upgraded",
                                    f"must be >= p_detect ({p}), got {pu}"))
        classes[cls] = ClassParams(
            p_detect=p,
            delay_h=_num(problems, file, f"{w}.delay_h", vals.get("delay_h"), lo=0.0, hi=None),
            upgrade_cost=_num(problems, file, f"{w}.upgrade_cost", vals.get("upgrade_cost"),
                              lo=0.0, hi=None),
            p_detect_upgraded=pu,
        )
    status = _section(problems, file, raw, "status")
    weights = _section(problems, file, raw, "weights")
    flow = _section(problems, file, raw, "flow")
    unc: dict[str, tuple[float, float]] = {}
    for key, rng in raw.get("uncertainty", {}).items():
        ok = (isinstance(rng, list) and len(rng) == 2
              and all(isinstance(x, int | float) for x in rng) and 0 < rng[0] <= rng[1])
        if not ok:
            problems.append(Problem(file, None, f"uncertainty.{key}",
                                    f"must be [low, high] with 0 < low <= high, got {rng!r}"))
        else:
            unc[key] = (float(rng[0]), float(rng[1]))
    hubs = raw.get("hubs", {})
    onward = hubs.get("onward_share", 0.0) if isinstance(hubs, dict) else None
    onward = _num(problems, file, "hubs.onward_share", onward, lo=0.0, hi=1.0)
    bal = raw.get("balance", {})
    bal = bal if isinstance(bal, dict) else {}
    regions: dict[str, tuple[str, ...]] = {}
    for name, codes in (bal.get("regions") or {}).items():
        ok = isinstance(codes, list) and all(isinstance(c, str) and len(c) == 3
                                             for c in codes)
        if not ok:
            problems.append(Problem(file, None, f"balance.regions.{name}",
                                    f"must be a list of ISO3 codes, got {codes!r}"))
            continue
        for c in codes:
            if c in {x for v in regions.values() for x in v}:
                problems.append(Problem(file, None, f"balance.regions.{name}",
                                        f"{c} is already in another region"))
        regions[str(name)] = tuple(codes)
    stocks = raw.get("stocks", {})
    last = stocks.get("last_year") if isinstance(stocks, dict) else None
    if last is not None and (not isinstance(last, int) or isinstance(last, bool)
                             or not 1990 <= last <= 2100):
        problems.append(Problem(file, None, "stocks.last_year",
                                f"must be a year (1990-2100), got {last!r}"))
        last = None
    k = flow.get("k_routes", 5)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        problems.append(Problem(file, None, "flow.k_routes", f"must be an integer >= 1, got {k!r}"))
        k = 1  # never seen (the problem raises below): any value here is equivalent
    cm = CostModel(
        name=str(raw.get("name", path.stem)),
        description=str(raw.get("description", "")),
        modes=modes,
        classes=classes,
        restricted_delay_factor=_num(problems, file, "status.restricted_delay_factor",
                                     status.get("restricted_delay_factor"), lo=1.0, hi=None),
        restricted_risk_factor=_num(problems, file, "status.restricted_risk_factor",
                                    status.get("restricted_risk_factor"), lo=1.0, hi=None),
        hours_per_hour=_num(problems, file, "weights.hours_per_hour",
                            weights.get("hours_per_hour"), lo=0.0, hi=None),
        hours_per_risk=_num(problems, file, "weights.hours_per_risk",
                            weights.get("hours_per_risk"), lo=0.0, hi=None),
        hours_per_km=_num(problems, file, "weights.hours_per_km",
                          weights.get("hours_per_km"), lo=0.0, hi=None),
        logit_theta=_num(problems, file, "flow.logit_theta", flow.get("logit_theta"),
                         lo=0.0, hi=None),
        k_routes=k,
        uncertainty=unc,
        onward_share=onward,
        regions=regions,
        stocks_last_year=last,
        source_hash=hashlib.sha256(data).hexdigest(),
        path=file,
        raw=raw,
    )
    if problems:
        raise DataError(problems)
    return cm
