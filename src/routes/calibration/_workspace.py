"""Networks, year models and uncalibrated results shared by calibrations on the same data.

Also what every fit reads: the year builder (the network as of 1 July), the countries left
out by default, and the observed-against-modelled table of any cost model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ..costs import CostModel
from ..network import network_from_data, od_demand
from ._fastobs import YearModel
from .observe import ObservationParams, _countries, modelled_seizures

__all__ = ["Build", "Workspace", "DEFAULT_EXCLUDE", "DEFAULT_OFFSET_KG", "year_builder",
           "observed_vs_modelled", "without_rates", "demand_by_country"]

#: Offset (kg) in the log of observed and modelled seizures.
DEFAULT_OFFSET_KG = 10.0
Build = Callable[[int, CostModel], nx.DiGraph]


#: Countries left out of the fit by default, and why.
DEFAULT_EXCLUDE = {
    "CHN": "95% of the heroin seized in China comes from the Golden Triangle, not Afghanistan "
           "(China's National Narcotics Control Commission, in China Daily, 'Golden Triangle "
           "threat increases', 2016-06-24)",
}


def without_rates(cm: CostModel) -> CostModel:
    """Return the cost model with its seizure rates removed (its detection observation model)."""
    raw = dict(cm.raw)
    obs = {k: v for k, v in raw.get("observation", {}).items()
           if k not in ("seizure_rates", "default_rate")}
    raw["observation"] = obs
    return cm.with_changes(raw=raw)


def _signature(G: nx.DiGraph) -> tuple[Any, ...]:
    """Everything of a year's network the fast model reads (equal -> one model serves both)."""
    edges = tuple((u, v, round(d.get("time_h", 0.0), 9), round(d.get("risk", 0.0), 12),
                   round(d.get("length_km", 0.0), 9))
                  for u, v, d in sorted(G.edges(data=True)))
    flows = tuple(sorted((str(k), round(v, 9)) for k, v in od_demand(G).items()))
    return edges, flows


def demand_by_country(G: nx.DiGraph) -> dict[str, float]:
    """Demand of each country's markets (flow units)."""
    out: dict[str, float] = {}
    for (_, m), f in od_demand(G).items():
        c = str(G.nodes[m].get("country"))
        out[c] = out.get(c, 0.0) + float(f)
    return out


class Workspace:
    """Networks, year models and uncalibrated results shared by fits on the same data.

    The rolling-origin evaluation (:func:`routes.calibration._holdout.rolling_origin`) fits the
    same years several times: the networks of the base cost model, each year's choice set
    (only ever extended, so a set grown by one fit serves the next) and the uncalibrated
    model's seizures are computed once. ``years``: every year any fit will see or predict
    (its networks give the countries).
    """

    def __init__(self, build: Build, cm: CostModel, years: Sequence[int], *,
                 exclude: Sequence[str] = tuple(DEFAULT_EXCLUDE),
                 engine: str | None = None) -> None:
        self.build, self.cm, self.engine = build, without_rates(cm), engine
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
            self._unc[sig] = modelled_seizures(
                G, self.cm, engine=self.engine,
                # equivalent mutant (any other scale): self.cm has no rates, so this is the
                # detection model, whose ``seized`` (flow units) no scale enters.
                params=ObservationParams(1.0, 1.0))["seized"]
        return self._unc[sig]

    def calibrated(self, year: int, cal: CostModel) -> pd.Series:
        """Modelled seizures (kg) of a calibrated cost model, its network rebuilt with it."""
        return modelled_seizures(self.build(year, cal), cal, engine=self.engine)["modelled_kg"]


def year_builder(ds: Any, scenario: Any = None) -> Build:
    """Return ``build(year, cm)``: the network of ``ds`` as of 1 July of the year.

    Built by :func:`routes.network.network_from_data`, with ``scenario``.
    """
    def build(year: int, cm: CostModel) -> nx.DiGraph:
        return network_from_data(ds, cm, scenario, as_of=dt.date(year, 7, 1))
    return build


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
