"""The report's section "Where every tonne goes": supply, balance, exits, published figures.

Self-contained: one optional analysis (:mod:`routes.report._optional`) whose stage reads the
timeline's yearly networks when the report built them (else builds the networks of the
compared dates itself), and writes ``supply_by_year.csv``, ``balance.csv``,
``exits_published.csv``, ``corridors_published.csv``, ``published_vs_modelled.csv``,
``links_coverage.csv`` and ``demand_ages.csv`` beside the page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..calibration.balance import WORLD, balance_of
from ..calibration.observe import modelled_seizures
from ..calibration.published import (
    corridors_vs_published,
    exits_vs_published,
    observed_dir,
    published_vs_modelled,
    read_observed,
)
from ..geodata import coverage, dataset_as_of
from ..network import network_from_data
from ..routing.flows import assign_flows, exit_shares
from ..routing.journeys import (
    journey_detected_share,
    journey_routes,
    link_coverage,
    markets_beyond,
)
from ..supplyside import STALE_DEMAND_YEARS, demand_ages, supply_table
from ._model import ReportOptions, ReportResults
from ._sections import OptionalAnalysis, Section, table_block
from ._tables import TableSpec

__all__ = ["flow_balance_analysis", "COMPARE_DATES"]

#: The dates the section compares (and the data's last date).
COMPARE_DATES = (date(2019, 6, 30), date(2023, 6, 30))

_SPECS = {s.name: s for s in (
    TableSpec("supply_by_year", "Supply used per year",
              "Opium available to the routes each year (tonnes of opium): production of "
              "supply.csv plus the year's stock drawdown (stocks.csv and [stocks] last_year of "
              "the cost model: the newest stock estimate drawn down evenly until that year).",
              (("year", "year", "d"), ("production_t", "production t", ",.0f"),
               ("drawdown_t", "drawdown t", ",.0f"), ("supply_t", "supply t", ",.0f"),
               ("stock_t", "stock estimate t", ",.0f"))),
    TableSpec("balance_shown", "Yearly balance by region",
              "Per region (cost model [balance.regions]), tonnes of opium: supply, the flow "
              "reaching the region's markets (consumption), the flow entering it, and the "
              "expected seizures; every region of every year is in balance.csv.",
              (("year", "year", "d"), ("region", "region", ""),
               ("supply_t", "supply t", ",.0f"), ("consumption_t", "consumption t", ",.0f"),
               ("inflow_t", "inflow t", ",.0f"), ("seizures_t", "seizures t", ",.1f"))),
    TableSpec("exits_published", "Exits from Afghanistan beside the published shares",
              "Share of the flow leaving Afghanistan by the country it enters first, at each "
              "compared date; published: the newest share of Afghan opiates in "
              "published_flows.csv (its year and source).",
              (("into", "into", ""), ("date", "date", ""), ("modelled", "modelled", ".1%"),
               ("low", "published low", ".1%"), ("high", "published high", ".1%"),
               ("year", "published year", ".0f"), ("source", "source", ""))),
    TableSpec("corridors_published", "Corridor shares beside the published shares",
              "Share of the flow from the producing origins by corridor (onward legs from "
              "hubs left out), at each compared date.",
              (("corridor", "corridor", ""), ("date", "date", ""),
               ("modelled", "modelled", ".1%"), ("low", "published low", ".1%"),
               ("high", "published high", ".1%"), ("year", "published year", ".0f"))),
    TableSpec("published_vs_modelled", "Published figures beside the model's",
              "Each row of published_flows.csv, in the model's unit (tonnes of opium: heroin "
              "times [conversion] opium_per_heroin), beside the model's figure for the same "
              "subject at each compared date; 'not modelled' where the model has none.",
              (("indicator", "indicator", ""), ("subject", "subject", ""),
               ("year", "year", ".0f"), ("low_model_unit", "low", ",.3g"),
               ("high_model_unit", "high", ",.3g"), ("date", "model date", ""),
               ("modelled", "modelled", ",.3g"), ("model_unit", "model unit", ""))),
    TableSpec("coverage", "Observed links and markets beyond Pakistan",
              "Observed country-to-country heroin links (heroin_links.csv) between countries "
              "of the network that a modelled route with flow runs along, from the first "
              "country to the second (direct: as consecutive countries), and the markets "
              "outside Pakistan that journeys through Pakistan reach.",
              (("date", "date", ""), ("links_on_network", "links on the network", "d"),
               ("links_covered", "covered", "d"), ("coverage", "share", ".2f"),
               ("links_direct", "of them direct", "d"),
               ("markets_beyond_pakistan", "markets beyond Pakistan", "d"),
               ("detected_legs", "detected share (legs)", ".4f"),
               ("detected_journeys", "detected share (journeys)", ".4f"))),
    TableSpec("demand_stale", "Stale demand figures",
              f"Markets whose newest demand figure is more than {STALE_DEMAND_YEARS} years "
              "older than the report's date, or from after it (every market in "
              "demand_ages.csv).",
              (("id", "market", ""), ("name", "name", ""), ("demand", "demand", ",.3g"),
               ("demand_year", "figure year", "d"), ("age_years", "age (years)", "d"))),
)}


def _dates(res: ReportResults) -> list[date]:
    assert res.dataset is not None
    first, last = coverage(res.dataset)
    out = [d for d in COMPARE_DATES if (first is None or d >= first)
           and (last is None or d <= last)]
    if last is not None and last not in out:
        out.append(last)
    return out


def _state(res: ReportResults, when: date) -> tuple[Any, Any, Any]:
    """``(G, flow assignment, seizures)`` on ``when``: the timeline's, else built here."""
    for s in res.extra.get("timeline", []) or []:
        if s.date == when:
            return s.G, s.flows, s.seizures
    assert res.dataset is not None
    G = network_from_data(dataset_as_of(res.dataset, when), res.cm, res.scenario)
    fa = assign_flows(G, res.cm, weight=res.options.weight, engine=res.options.engine)
    return G, fa, modelled_seizures(G, res.cm, routes=fa.routes)


def _stage(res: ReportResults) -> None:
    ds = res.dataset
    if ds is None or ds.supply is None:
        return
    published, links = read_observed(observed_dir(ds))
    res.tables["supply_by_year"] = supply_table(ds.supply, ds.stocks,
                                                res.cm.stocks_last_year).reset_index()
    years: dict[int, date] = {}
    for s in res.extra.get("timeline", []) or []:
        years[s.date.year] = s.date   # the year's last snapshot
    for d in _dates(res):
        years.setdefault(d.year, d)
    bal, ex, co, cmp, cov = [], [], [], [], []
    compare = set(_dates(res))
    for y, when in sorted(years.items()):
        G, fa, sz = _state(res, when)
        bal.append(balance_of(G, fa.routes, sz, ds, res.cm, y).assign(date=str(when)))
        if when not in compare:
            continue
        exits = exit_shares(G, fa.routes)
        journeys = journey_routes(G, fa.routes)
        c = published_vs_modelled(published, G, exits, journeys, sz, res.cm)
        cmp.append(c.assign(date=str(when)))
        ex.append(exits_vs_published(exits, c).reset_index().assign(date=str(when)))
        co.append(corridors_vs_published(fa.corridors, c).reset_index().assign(
            date=str(when)))
        row: dict[str, Any] = {"date": str(when),
                               "markets_beyond_pakistan": len(markets_beyond(G, journeys,
                                                                             "PAK"))}
        if links is not None:
            share, t = link_coverage(G, fa.routes, links)
            on = t[t["on_network"]]
            row.update(links_on_network=len(on), links_covered=int(on["covered"].sum()),
                       coverage=share, links_direct=int(on["direct"].sum()))
        legs, whole = journey_detected_share(G, cm=res.cm)
        row.update(detected_legs=legs, detected_journeys=whole)
        cov.append(row)
    res.tables["balance"] = pd.concat(bal, ignore_index=True)
    res.tables["exits_published"] = pd.concat(ex, ignore_index=True)
    res.tables["corridors_published"] = pd.concat(co, ignore_index=True)
    if published is not None:
        res.tables["published_vs_modelled"] = pd.concat(cmp, ignore_index=True)
    res.tables["coverage"] = pd.DataFrame(cov)
    when = date.fromisoformat(str(res.G.graph.get("as_of"))) if res.G.graph.get(
        "as_of") else _dates(res)[-1]
    res.tables["demand_ages"] = demand_ages(dataset_as_of(ds, when).places,
                                            when).reset_index()
    res.extra["flow_balance_dates"] = sorted(compare)


def _section(res: ReportResults) -> Section | None:
    if "balance" not in res.tables:
        return None
    dates = res.extra["flow_balance_dates"]
    shown = {str(d) for d in dates}
    bal = res.tables["balance"]
    bal_shown = bal[bal["date"].isin(shown) & ((bal["consumption_t"] > 0) | (bal["supply_t"] > 0)
                                              | (bal["region"] == WORLD))]
    ages = res.tables["demand_ages"]
    stale = ages[ages["stale"]]
    share = res.cm.onward_share
    intro = (
        "Every tonne produced goes to a market: directly, or, for a market that a wholesale hub "
        f"serves (hubs.csv), {share:.0%} of its demand ([hubs] onward_share) through its hubs "
        "in equal parts, as two ordinary legs (origin to hub, hub to market) that every engine "
        "routes alike; journeys.csv joins the legs (e.g. AFG > PAK > NLD > DEU). The detected "
        "share the priorities optimise counts each leg as a consignment (the hub re-ships from "
        "its stock); the journey rule (detected on leg 1, never shipped on) is shown beside it. "
        "Supply is production plus the year's stock drawdown. Compared dates: "
        + ", ".join(str(d) for d in dates) + ".")
    blocks: list[dict[str, Any]] = [
        table_block(res, "supply_by_year", spec=_SPECS["supply_by_year"], top=None),
        table_block(res, "balance", spec=_SPECS["balance_shown"], top=None, frame=bal_shown),
        table_block(res, "exits_published", spec=_SPECS["exits_published"], top=None),
        table_block(res, "corridors_published", spec=_SPECS["corridors_published"], top=None),
        table_block(res, "coverage", spec=_SPECS["coverage"], top=None)]
    if "published_vs_modelled" in res.tables:
        blocks.append(table_block(res, "published_vs_modelled",
                                  spec=_SPECS["published_vs_modelled"], top=None))
    blocks.append({"kind": "text", "text": (
        f"{len(stale)} of {len(ages)} markets use a demand figure more than "
        f"{STALE_DEMAND_YEARS} years older than the report's date (or from after it)."
        if len(stale) else "Every market's demand figure is at most "
        f"{STALE_DEMAND_YEARS} years old at the report's date.")})
    if len(stale):
        blocks.append(table_block(res, "demand_ages", spec=_SPECS["demand_stale"], top=None,
                                  frame=stale))
    return {"id": "flow-balance", "title": "Where every tonne goes", "intro": intro,
            "blocks": blocks}


def flow_balance_analysis(options: ReportOptions) -> OptionalAnalysis | None:
    """Return the section's optional analysis (see :mod:`routes.report._optional`)."""

    def charts(res: ReportResults, out: Path) -> list[Path]:
        return []

    return OptionalAnalysis("flow_balance", _stage, charts, _section)
