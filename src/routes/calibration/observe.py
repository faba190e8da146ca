"""The observation model: the seizures each country is expected to report, given the flows.

A consignment on a route meets two kinds of checks, both already in the network's ``risk``
weight (:mod:`routes.costs`):

- **inland**, per kilometre travelled in a country: the edge's travel risk
  ``length_km / 1000 * risk_per_1000km[mode]``, charged to the country the leg runs in;
- **at a post**, on every edge entering a crossing: the crossing's ``-ln(1 - p_detect)``
  (times the restricted factor), charged to the country the crossing is entered into (the
  country being entered does the checking).

Along each route, leg by leg, the inland check comes first and then the post at the leg's end;
a consignment still undetected after the risk ``R`` met so far is detected on a leg with
travel risk ``t`` and post risk ``b`` with probability ``exp(-R) * (1 - exp(-t))`` inland and
``exp(-R - t) * (1 - exp(-b))`` at the post. With ``f_r`` the flow of route ``r`` (the logit
assignment of :func:`routes.routing.flows.assign_flows`), the expected seizures of country
``c`` are, in heroin-equivalent kilograms,

``seized_kg(c) = share * kg_per_unit * sum over routes r, legs l in c of f_r * P(detected on l)``

where ``share`` (``[observation] trafficked_share``) is the part of the supply that moves on
the modelled routes toward the modelled markets and ``kg_per_unit`` (``[observation]
heroin_kg_per_flow_unit``) turns a flow unit (a tonne of opium) into heroin-equivalent
kilograms (100: a tonne of opium is 1,000 kg, 10 kg of opium per kg of heroin, UNODC's
conversion).

It leaves out enforcement effort that differs by country beyond the crossing classes, seizures
from stock or from earlier years' production, opiates that do not come from the modelled
origins, seizures of consignments bound for markets the network does not model, and
reporting gaps (a country that did not report is missing, not zero).

Seizure rates (a calibrated cost model)
---------------------------------------
A cost model fitted by ``routes calibrate`` (:mod:`routes.calibration.calibrate`) keeps the two
kinds of parameter apart: the detection above stays what traffickers *perceive* (it prices the
routes), and what countries *seize* is a rate of their own, ``[observation.seizure_rates]``
(ISO3 = heroin-equivalent kg seized per kg of modelled flow through the country;
``[observation] default_rate`` for a country without one):

``modelled_kg(c) = rate(c) * (share * kg_per_unit * through(c) + background_flow_kg)``

with ``through(c)`` the flow of every route that runs in or enters ``c``, counted once per
route (:func:`country_throughput`; no attrition by seizures: the flows are set by demand).
:func:`modelled_seizures` uses this form whenever the cost model has seizure rates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import DataError, Problem
from ..costs import CostModel

__all__ = [
    "ObservationParams",
    "observation_params",
    "edge_checks",
    "modelled_seizures",
    "country_throughput",
    "seizure_rates",
    "SEIZURE_COLUMNS",
]

#: Columns of :func:`modelled_seizures`.
SEIZURE_COLUMNS = ("seized_inland", "seized_border", "seized", "modelled_kg")
#: 1 t of opium = 1,000 kg = 100 kg of heroin equivalent (UNODC: 10 kg of opium per kg).
DEFAULT_KG_PER_UNIT = 100.0


@dataclass(frozen=True)
class ObservationParams:
    """Scale of the observation model (``[observation]`` table of the cost model).

    Attributes
    ----------
    trafficked_share : float
        Share of the supply that moves on the modelled routes toward the modelled markets.
    heroin_kg_per_flow_unit : float
        Heroin-equivalent kilograms per flow unit (per tonne of opium: 100).
    """

    trafficked_share: float = 1.0
    heroin_kg_per_flow_unit: float = DEFAULT_KG_PER_UNIT

    @property
    def kg_per_unit(self) -> float:
        """Modelled kilograms per unit of detected flow: share times conversion."""
        return self.trafficked_share * self.heroin_kg_per_flow_unit


def observation_params(cm: CostModel) -> ObservationParams:
    """Read the ``[observation]`` table of a cost model (defaults when it has none).

    Raises
    ------
    DataError
        A value that is not a positive number (share at most 1).

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> observation_params(load_cost_model(DEFAULT_COST_MODEL)).heroin_kg_per_flow_unit
    100.0
    """
    raw = cm.raw.get("observation", {}) if isinstance(cm.raw, dict) else {}
    problems = []
    vals: dict[str, float] = {}
    for key, hi in (("trafficked_share", 1.0), ("heroin_kg_per_flow_unit", math.inf)):
        v = raw.get(key, getattr(ObservationParams, key))
        ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= hi
        if not ok:
            problems.append(Problem(cm.path or cm.name, None, f"observation.{key}",
                                    f"must be a number in (0, {hi:g}], got {v!r}"))
        else:
            vals[key] = float(v)
    if problems:
        raise DataError(problems)
    return ObservationParams(**vals)


# --------------------------------------------------------------------------- edges
def _sides(d: Mapping[str, Any]) -> tuple[Any, Any]:
    return d.get("country_a"), d.get("country_b")


def _where(G: nx.DiGraph, u: Any, v: Any) -> Any:
    """Return the country a leg ``u -> v`` runs in."""
    du, dv = G.nodes[u], G.nodes[v]
    if du.get("kind") != "crossing":
        return du.get("country")
    if dv.get("kind") != "crossing":
        return dv.get("country")
    common = sorted(set(_sides(du)) & set(_sides(dv)) - {None})
    return common[0] if common else du.get("country_b")


def _entered(G: nx.DiGraph, u: Any, v: Any) -> tuple[Any, Any]:
    """(country entered, class of its checks) at crossing ``v`` coming from ``u``."""
    dv = G.nodes[v]
    a, b = _sides(dv)
    entered = a if _where(G, u, v) == b else b
    into_a = dv.get("class_into_a")
    cls = into_a if entered == a and isinstance(into_a, str) and into_a else \
        dv.get("crossing_class")
    return entered, cls


def edge_checks(G: nx.DiGraph, cm: CostModel) -> pd.DataFrame:
    """Split every edge's risk into its inland and post parts, each with its country.

    Returns one row per directed edge in ``(u, v)`` order (the order of
    :class:`routes.engine.Engine`): ``u``, ``v``, ``mode``, ``time_h``, ``length_km``,
    ``travel_risk`` (``length_km / 1000 * risk_per_1000km`` of the mode),
    ``travel_country`` (where the leg runs), ``border_risk`` (the rest of the edge's risk: the
    post of the crossing it enters, 0 otherwise), ``border_country`` (the country entered)
    and ``border_class`` (the crossing class checking that direction).

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> G = nx.DiGraph()
    >>> G.add_node("a", kind="place", country="AFG")
    >>> G.add_node("x", kind="crossing", country_a="AFG", country_b="TJK",
    ...            crossing_class="central_asia")
    >>> G.add_edge("a", "x", mode="road", length_km=100.0, time_h=3.0, risk=0.042)
    >>> row = edge_checks(G, cm).iloc[0]
    >>> row["travel_country"], row["border_country"], round(float(row["border_risk"]), 6)
    ('AFG', 'TJK', 0.04)
    """
    rows = []
    for u, v in sorted(G.edges()):
        d = G.edges[u, v]
        mode = d.get("mode")
        per_km = cm.modes[mode].risk_per_1000km if mode in cm.modes else 0.0
        travel = float(d.get("length_km", 0.0)) / 1000.0 * per_km
        risk = float(d.get("risk", 0.0))
        if G.nodes[v].get("kind") == "crossing":
            entered, cls = _entered(G, u, v)
            border = max(risk - travel, 0.0)
        else:
            entered, cls, border, travel = None, None, 0.0, risk
        rows.append({"u": u, "v": v, "mode": mode, "time_h": float(d.get("time_h", 0.0)),
                     "length_km": float(d.get("length_km", 0.0)), "travel_risk": travel,
                     "travel_country": _where(G, u, v), "border_risk": border,
                     "border_country": entered, "border_class": cls})
    return pd.DataFrame(rows, columns=["u", "v", "mode", "time_h", "length_km", "travel_risk",
                                       "travel_country", "border_risk", "border_country",
                                       "border_class"])


# --------------------------------------------------------------------------- seizures
def _countries(G: nx.DiGraph) -> list[str]:
    out = {d.get("country") for _, d in G.nodes(data=True) if d.get("kind") != "crossing"}
    for _, d in G.nodes(data=True):
        if d.get("kind") == "crossing":
            out |= set(_sides(d))
    return sorted(str(c) for c in out - {None})


def modelled_seizures(G: nx.DiGraph, cm: CostModel, *, routes: pd.DataFrame | None = None,
                      params: ObservationParams | None = None,
                      engine: str | None = None) -> pd.DataFrame:
    """Return the expected seizures by country (module notes).

    Parameters
    ----------
    G : networkx.DiGraph
        The network, built with ``cm``.
    cm : CostModel
        Its cost model (travel risk per mode; ``[observation]`` scale unless ``params``).
    routes : DataFrame, optional
        Routes with ``path`` and ``flow`` columns (default: the logit assignment,
        :func:`routes.routing.flows.assign_flows` with ``cm``).
    params : ObservationParams, optional
        Default :func:`observation_params` of ``cm``.
    engine : {"igraph", "networkx"}, optional
        Engine of the default assignment.

    Returns
    -------
    DataFrame
        Indexed by ISO3 (every country of the network, sorted): ``seized_inland``,
        ``seized_border``, ``seized`` (detected flow, in flow units) and ``modelled_kg``
        (``seized`` times share times conversion).

    Examples
    --------
    Five nodes, one route ``o -> x -> p -> y -> m`` carrying 10 units: a 100 km leg in AFG
    (travel risk 0.1), the post into TJK (risk 0.5), a leg in TJK (0.2), the post into KGZ
    (risk 0.3). Inland AFG: ``10 * (1 - e^-0.1)``; post into TJK: ``10 * e^-0.1 *
    (1 - e^-0.5)``; and so on.

    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> cm = cm.with_changes(raw={"observation": {"trafficked_share": 0.5}})
    >>> G = nx.DiGraph()
    >>> G.add_node("o", kind="place", country="AFG")
    >>> G.add_node("x", kind="crossing", country_a="AFG", country_b="TJK",
    ...            crossing_class="central_asia")
    >>> G.add_node("p", kind="place", country="TJK")
    >>> G.add_node("y", kind="crossing", country_a="TJK", country_b="KGZ",
    ...            crossing_class="central_asia")
    >>> G.add_node("m", kind="place", country="KGZ")
    >>> r = 1000 / cm.modes["road"].risk_per_1000km      # km per unit of travel risk
    >>> for u, v, t, b in [("o", "x", 0.1, 0.5), ("x", "p", 0.0, 0.0), ("p", "y", 0.2, 0.3),
    ...                    ("y", "m", 0.0, 0.0)]:
    ...     G.add_edge(u, v, mode="road", length_km=t * r, time_h=1.0, risk=t + b)
    >>> routes = pd.DataFrame({"path": [["o", "x", "p", "y", "m"]], "flow": [10.0]})
    >>> s = modelled_seizures(G, cm, routes=routes)
    >>> s["seized"].round(6).to_dict()
    {'AFG': 0.951626, 'KGZ': 1.164579, 'TJK': 4.555085}
    >>> float(s.loc["AFG", "modelled_kg"].round(4))    # 0.5 * 100 kg per unit
    47.5813
    """
    params = observation_params(cm) if params is None else params
    if routes is None:
        from ..routing.flows import assign_flows

        routes = assign_flows(G, cm, engine=engine).routes
    rates = seizure_rates(cm)
    if rates is not None:
        through = country_throughput(G, cm, routes)
        idx = pd.Index(_countries(G), name="iso3")
        r = np.array([rates[0].get(c, rates[1]) for c in idx])
        bg = float(cm.raw.get("observation", {}).get("background_flow_kg", 0.0))
        kg = r * (through.reindex(idx, fill_value=0.0).to_numpy() * params.kg_per_unit + bg)
        df = pd.DataFrame({"seized_inland": 0.0, "seized_border": 0.0,
                           "seized": kg / params.kg_per_unit, "modelled_kg": kg}, index=idx)
        return df[list(SEIZURE_COLUMNS)].astype(np.float64)
    ck = edge_checks(G, cm)
    checks = {(u, v): (t, str(tc), b, str(bc)) for u, v, t, tc, b, bc in zip(
        ck["u"], ck["v"], ck["travel_risk"], ck["travel_country"], ck["border_risk"],
        ck["border_country"])}
    inland: dict[str, float] = defaultdict(float)
    border: dict[str, float] = defaultdict(float)
    for path, f in zip(routes["path"], routes["flow"]):
        if not f:
            continue
        alive = float(f)
        for e in zip(path[:-1], path[1:]):
            t, tc, b, bc = checks[e]
            got = alive * -math.expm1(-t)
            inland[tc] += got
            alive -= got
            if b > 0:
                got = alive * -math.expm1(-b)
                border[bc] += got
                alive -= got
    idx = pd.Index(_countries(G), name="iso3")
    df = pd.DataFrame({"seized_inland": [inland.get(c, 0.0) for c in idx],
                       "seized_border": [border.get(c, 0.0) for c in idx]}, index=idx)
    df["seized"] = df["seized_inland"] + df["seized_border"]
    df["modelled_kg"] = df["seized"] * params.kg_per_unit
    return df[list(SEIZURE_COLUMNS)].astype(np.float64)


def seizure_rates(cm: CostModel) -> tuple[dict[str, float], float] | None:
    """Return the cost model's seizure rates and default rate, or None (module notes).

    Raises
    ------
    DataError
        A rate that is not a non-negative number.
    """
    raw = cm.raw.get("observation", {}) if isinstance(cm.raw, dict) else {}
    table = raw.get("seizure_rates")
    if table is None:
        return None
    problems = []
    out: dict[str, float] = {}
    items = list(table.items()) if isinstance(table, dict) else []
    items.append(("default_rate", raw.get("default_rate")))
    for k, v in items:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < math.inf
        if not ok:
            where = "observation.default_rate" if k == "default_rate" else \
                f"observation.seizure_rates.{k}"
            problems.append(Problem(cm.path or cm.name, None, where,
                                    f"must be a number >= 0, got {v!r}"))
        else:
            out[str(k)] = float(v)
    if problems:
        raise DataError(problems)
    default = out.pop("default_rate")
    return out, default


def country_throughput(G: nx.DiGraph, cm: CostModel, routes: pd.DataFrame) -> pd.Series:
    """Flow through each country: every route's flow, once in each country it runs in or enters.

    Returns a Series indexed by ISO3 (every country of the network, sorted), in flow units.
    The same sum as :meth:`routes.calibration._fastobs.YearModel.through`.

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> cm = load_cost_model(DEFAULT_COST_MODEL)
    >>> G = nx.DiGraph()
    >>> G.add_node("o", kind="place", country="AFG")
    >>> G.add_node("x", kind="crossing", country_a="AFG", country_b="TJK",
    ...            crossing_class="central_asia")
    >>> G.add_node("m", kind="place", country="TJK")
    >>> G.add_node("n", kind="place", country="AFG")
    >>> G.add_edge("o", "x", mode="road", length_km=100.0, time_h=3.0, risk=0.05)
    >>> G.add_edge("x", "m", mode="road", length_km=50.0, time_h=2.0, risk=0.001)
    >>> G.add_edge("o", "n", mode="road", length_km=80.0, time_h=2.0, risk=0.0016)
    >>> routes = pd.DataFrame({"path": [["o", "x", "m"], ["o", "n"]], "flow": [7.0, 3.0]})
    >>> country_throughput(G, cm, routes).to_dict()
    {'AFG': 10.0, 'TJK': 7.0}
    """
    ck = edge_checks(G, cm)
    where = {(u, v): {str(c) for c in (tc, bc) if isinstance(c, str)}
             for u, v, tc, bc in zip(ck["u"], ck["v"], ck["travel_country"],
                                     ck["border_country"])}
    out: dict[str, float] = defaultdict(float)
    for path, f in zip(routes["path"], routes["flow"]):
        if not f:
            continue
        seen: set[str] = set()
        for e in zip(path[:-1], path[1:]):
            seen |= where[e]
        for c in seen:
            out[c] += float(f)
    idx = pd.Index(_countries(G), name="iso3")
    return pd.Series([out.get(c, 0.0) for c in idx], index=idx, dtype=np.float64)
