"""The yearly balance: supply, modelled consumption and seizures by region, beside published.

For each year ``y`` the network is built as of ``y-06-30`` (:func:`balance_date`; that
date's statuses, the year's supply with the stock drawdown, the newest demand figures, the
hubs valid then) and its flow assigned by the logit
(:func:`routes.routing.flows.assign_flows`). Per region of the cost model's
``[balance.regions]`` (a country in none is in ``Other``), in tonnes of opium:

``production_t``, ``drawdown_t``
    Production and stock drawdown of the origins in the region (:mod:`routes.supplyside`).
``consumption_t``
    Flow of the journeys that end at a market of the region (every journey's whole flow: the
    model does not take seizures out of what reaches a market).
``inflow_t``
    Flow of the journeys that enter the region (the origin's own region excluded): what
    reaches or crosses it.
``seizures_t``
    Expected seizures in the region's countries
    (:func:`routes.calibration.observe.modelled_seizures`, the ``seized`` column: detected
    flow, before the observation model's scale).

A ``World`` row sums the regions (its ``inflow_t`` is NaN). The published estimates are set
beside the model's by :func:`routes.calibration.published.published_vs_modelled`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import networkx as nx
import pandas as pd

from ..costs import CostModel
from ..geodata import Dataset, coverage
from ..network import network_from_data
from ..routing.flows import assign_flows
from ..routing.journeys import journey_routes
from ..supplyside import allocate_drawdown, drawdown_in
from .observe import modelled_seizures

__all__ = ["BALANCE_COLUMNS", "region_of", "year_balance", "balance_of", "yearly_balance",
           "balance_date"]

#: The measures set beside the published estimates.
_MEASURES = ("consumption", "inflow", "seizures")
#: Columns of :func:`yearly_balance` (besides the published ones).
BALANCE_COLUMNS = ("year", "region", "production_t", "drawdown_t", "supply_t",
                   "consumption_t", "inflow_t", "seizures_t")
OTHER = "Other"
#: The row of every region together.
WORLD = "World"


def balance_date(ds: Dataset, year: int) -> date:
    """Return the date a year's balance is taken on: June 30, or the data's last or first date.

    A year whose June 30 lies outside the range the data covers takes the nearest covered
    date (:func:`routes.geodata.coverage`).
    """
    when = date(int(year), 6, 30)
    first, last = coverage(ds)
    if last is not None and when > last:
        when = last
    if first is not None and when < first:
        when = first
    return when


def region_of(cm: CostModel) -> dict[str, str]:
    """ISO3 -> region name of the cost model's ``[balance.regions]``.

    Examples
    --------
    >>> from routes.costs import load_cost_model
    >>> from routes.settings import DEFAULT_COST_MODEL
    >>> r = region_of(load_cost_model(DEFAULT_COST_MODEL))
    >>> r["NLD"], r["TJK"], r.get("XYZ", "Other")
    ('Europe', 'Central Asia', 'Other')
    """
    return {c: name for name, codes in cm.regions.items() for c in codes}


def year_balance(ds: Dataset, cm: CostModel, year: int, *,
                 engine: str | None = None) -> pd.DataFrame:
    """One year's balance by region (module notes), without the published columns."""
    G = network_from_data(ds, cm, as_of=balance_date(ds, year))
    fa = assign_flows(G, cm, engine=engine)
    return balance_of(G, fa.routes, modelled_seizures(G, cm, routes=fa.routes), ds, cm, year)


def balance_of(G: nx.DiGraph, routes: pd.DataFrame, seizures: pd.DataFrame | None,
               ds: Dataset, cm: CostModel, year: int) -> pd.DataFrame:
    """Return the balance by region of one year's network ``G``, its routes and modelled seizures.

    ``routes`` has ``choice_prob`` (:func:`routes.routing.flows.assign_flows`);
    ``seizures`` is :func:`routes.calibration.observe.modelled_seizures` (``None``: zero).
    """
    reg = region_of(cm)

    def region(iso3: object) -> str:
        return reg.get(str(iso3), OTHER)

    prod: dict[str, float] = defaultdict(float)
    draw: dict[str, float] = defaultdict(float)
    if ds.supply is not None and not ds.supply.empty:
        y = min(int(year), int(ds.supply["year"].max()))
        rows = ds.supply[ds.supply["year"] == y]
        country = dict(zip(ds.places["id"], ds.places["country"]))
        for o, t in zip(rows["origin_id"], rows["opium_t"]):
            prod[region(country.get(o))] += float(t)
        for o, t in allocate_drawdown(ds.supply, int(year),
                                      drawdown_in(ds.stocks, int(year),
                                                  cm.stocks_last_year)).items():
            draw[region(country.get(o))] += t
    cons: dict[str, float] = defaultdict(float)
    inflow: dict[str, float] = defaultdict(float)
    j = journey_routes(G, routes)
    for o, m, cs, f in zip(j["origin"], j["market"], j["countries"], j["flow"]):
        cons[region(G.nodes[m].get("country"))] += float(f)
        home = region(G.nodes[o].get("country"))
        for r in {region(c) for c in str(cs).split(" > ")} - {home}:
            inflow[r] += float(f)
    seized: dict[str, float] = defaultdict(float)
    if seizures is not None:
        for iso3, t in seizures["seized"].items():
            seized[region(iso3)] += float(t)
    names = sorted(set(cm.regions) | {OTHER})
    out = pd.DataFrame({
        "year": int(year), "region": names,
        "production_t": [prod.get(r, 0.0) for r in names],
        "drawdown_t": [draw.get(r, 0.0) for r in names],
        "consumption_t": [cons.get(r, 0.0) for r in names],
        "inflow_t": [inflow.get(r, 0.0) for r in names],
        "seizures_t": [seized.get(r, 0.0) for r in names]})
    out["supply_t"] = out["production_t"] + out["drawdown_t"]
    world = out.drop(columns=["year", "region"]).sum()
    world["inflow_t"] = float("nan")   # a sum over regions would count a journey many times
    out = pd.concat([out, pd.DataFrame([{"year": int(year), "region": WORLD, **world}])],
                    ignore_index=True)
    return out[list(BALANCE_COLUMNS)]


def yearly_balance(ds: Dataset, cm: CostModel, years: Iterable[int], *,
                   engine: str | None = None) -> pd.DataFrame:
    """Return the balance of every year in ``years`` by region (:data:`BALANCE_COLUMNS`).

    The published figures are set beside the model's by
    :func:`routes.calibration.published.published_vs_modelled`.
    """
    frames = [year_balance(ds, cm, int(y), engine=engine) for y in sorted(set(years))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(BALANCE_COLUMNS))
