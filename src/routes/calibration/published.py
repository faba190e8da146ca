"""The published figures beside the model's own: exits, route shares, flows, consumption.

The figures are the rows of ``data/observed/published_flows.csv`` (read and checked by
:mod:`routes.flowfiles`: ``indicator, region_or_route, year, low, high, unit, note, source``).
:func:`published_vs_modelled` sets beside each the model's figure for the same subject and
unit at the date the model is run for (the published year is shown; it is rarely the same).
How each subject is computed (tonnes of opium; a ``t heroin`` figure is turned into tonnes of
opium with ``[conversion] opium_per_heroin``):

- ``exit_share AFG>X``: the share of the flow leaving Afghanistan that enters ``X`` first;
  unit ``share of northern-route exports``: ``X``'s share of the exits into Tajikistan,
  Uzbekistan and Turkmenistan (:data:`CENTRAL_ASIA_EXITS`);
- ``route_share northern_route``: the exits into those three (of the flow leaving
  Afghanistan); ``northern_route:X`` (unit ``share of northern-route opiates``): the share of
  the journeys leaving through them whose market is in country ``X``;
- ``flow_t northern_route``: the flow leaving into those three; ``AFG exports``: all the flow
  leaving Afghanistan; ``X transit``: the flow of the journeys that cross or enter ``X``;
- ``consumption_t X``: the flow of the journeys ending in ``X``, a country's ISO3, a region of
  ``[balance.regions]``, a group of ``[balance.groups]`` (``EU``, ``AFG neighbours``), or
  ``world`` (everything) and ``rest of world`` (everything outside Afghanistan's neighbours);
- ``seizure_t X``: the modelled seizures in ``X`` (same subjects);
- ``seizure_share X``: ``X``'s share of all modelled seizures (``northern_route``: Central
  Asia, Kazakhstan and Russia).

Anything else (``users``, ``seizure_change``, a subject the network lacks) has no modelled
figure (NaN) and says why in ``modelled_note``.

Exits and corridor shares beside their published figures (:func:`exits_vs_published`,
:func:`corridors_vs_published`) are the same figures, arranged by country and by corridor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import DataError, Problem
from ..costs import CostModel
from ..flowfiles import read_observed as _read_observed
from ..geodata import Dataset

__all__ = ["CENTRAL_ASIA_EXITS", "NORTHERN_ROUTE_SEIZURES", "COMPARE_COLUMNS",
           "observed_dir", "read_observed", "published_vs_modelled", "exits_vs_published",
           "corridors_vs_published"]

#: The countries whose exits the northern route (and the ``Central Asia`` exit row) sums.
CENTRAL_ASIA_EXITS = ("TJK", "UZB", "TKM")
#: Countries whose seizures count as the northern route's.
NORTHERN_ROUTE_SEIZURES = ("TJK", "UZB", "TKM", "KGZ", "KAZ", "RUS")
#: Columns of :func:`published_vs_modelled`.
COMPARE_COLUMNS = ("indicator", "subject", "year", "unit", "low", "high", "low_model_unit",
                   "high_model_unit", "modelled", "model_unit", "modelled_note", "source")
_NEIGHBOURS_DEFAULT = ("IRN", "PAK", "TJK", "UZB", "TKM", "CHN")


def observed_dir(ds: Dataset) -> Path:
    """Return ``data/observed`` beside the data folder ``ds`` was read from."""
    return Path(ds.files.get("places", "places.csv")).resolve().parent.parent / "observed"


def read_observed(folder: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Return ``(published_flows, heroin_links)`` of ``folder`` (``None`` where absent).

    Raises
    ------
    DataError
        With every problem of both files.
    """
    problems: list[Problem] = []
    got = _read_observed(folder, problems)
    if problems:
        raise DataError(problems)
    return got.get("published_flows"), got.get("heroin_links")


class _Model:
    """The modelled quantities a published subject is read from."""

    def __init__(self, G: nx.DiGraph, exits: pd.DataFrame, journeys: pd.DataFrame,
                 seizures: pd.DataFrame | None, cm: CostModel) -> None:
        self.G = G
        own = (exits.xs("AFG", level="from_country")
               if len(exits) and "AFG" in exits.index.get_level_values("from_country")
               else pd.DataFrame({"flow": [], "share": []}))
        self.exit_flow = {str(k): float(v) for k, v in own["flow"].items() if k}
        self.left = float(sum(self.exit_flow.values()))
        self.journeys = journeys
        self.seized = ({str(k): float(v) for k, v in seizures["seized"].items()}
                       if seizures is not None else None)
        self.groups: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in cm.regions.items()}
        raw = cm.raw.get("balance", {}).get("groups", {}) if isinstance(
            cm.raw.get("balance", {}), dict) else {}
        self.groups.update({str(k): tuple(v) for k, v in raw.items()})
        self.groups.setdefault("AFG neighbours", _NEIGHBOURS_DEFAULT)

    def countries(self, subject: str) -> tuple[set[str] | None, bool]:
        """ISO3 set a subject names (``None``: every country), and whether it is known."""
        if subject == "world":
            return None, True
        if subject == "rest of world":
            return {"~"} | set(self.groups["AFG neighbours"]), True  # complement, see _sum
        if subject in self.groups:
            return set(self.groups[subject]), True
        if len(subject) == 3 and subject.isalpha() and subject.isupper():
            return {subject}, True
        return set(), False

    def _sum(self, values: Mapping[str, float], subject: str) -> float:
        cs, _ = self.countries(subject)
        if cs is None:
            return float(sum(values.values()))
        if "~" in cs:
            return float(sum(v for k, v in values.items() if k not in cs))
        return float(sum(v for k, v in values.items() if k in cs))

    def consumption(self, subject: str) -> float:
        by: dict[str, float] = {}
        for m, f in zip(self.journeys["market"], self.journeys["flow"]):
            # equivalent mutant (no default: "None"): a market without a country counts only in
            # "world" and "rest of world", whatever its key, as no subject names "" or "None"
            c = str(self.G.nodes[m].get("country", ""))
            by[c] = by.get(c, 0.0) + float(f)
        return self._sum(by, subject)

    def transit(self, iso3: str) -> float:
        return float(sum(f for cs, f in zip(self.journeys["countries"], self.journeys["flow"])
                         if iso3 in str(cs).split(" > ")[1:]))

    def northern_to(self, iso3: str) -> float:
        tot = to = 0.0
        for cs, m, f in zip(self.journeys["countries"], self.journeys["market"],
                            self.journeys["flow"]):
            seq = str(cs).split(" > ")
            if len(seq) > 1 and seq[1] in CENTRAL_ASIA_EXITS:
                tot += float(f)
                to += float(f) * (self.G.nodes[m].get("country") == iso3)
        return to / tot if tot > 0 else math.nan


def _modelled(mod: _Model, indicator: str, subject: str, unit: str
              ) -> tuple[float, str, str]:
    """(modelled figure, its unit, note) of one published row (module notes)."""
    north = float(sum(mod.exit_flow.get(c, 0.0) for c in CENTRAL_ASIA_EXITS))
    if indicator == "exit_share" and subject.startswith("AFG>"):
        x = subject[4:]
        if "northern-route" in unit:
            return (mod.exit_flow.get(x, 0.0) / north if north > 0 else math.nan,
                    "share of exits into TJK, UZB, TKM", "")
        return (mod.exit_flow.get(x, 0.0) / mod.left if mod.left > 0 else math.nan,
                "share of the flow leaving AFG", "")
    if indicator == "route_share" and subject == "northern_route":
        return (north / mod.left if mod.left > 0 else math.nan,
                "share of the flow leaving AFG into TJK, UZB, TKM", "")
    if indicator == "route_share" and subject.startswith("northern_route:"):
        x = subject.split(":", 1)[1]
        if len(x) == 3 and x.isupper():
            return (mod.northern_to(x),
                    f"share of journeys leaving into TJK, UZB, TKM ending in {x}", "")
    if indicator == "flow_t":
        if subject == "northern_route":
            return north, "t opium (opium and heroin as opium)", ""
        if subject == "AFG exports":
            return mod.left, "t opium (opium and heroin as opium)", ""
        if subject.endswith(" transit") and len(subject.split()[0]) == 3:
            return mod.transit(subject.split()[0]), "t opium (opium and heroin as opium)", ""
    if indicator == "consumption_t":
        cs, known = mod.countries(subject)
        if known:
            return mod.consumption(subject), "t opium (flow reaching the markets)", ""
    if indicator in ("seizure_t", "seizure_share") and mod.seized is not None:
        if subject == "northern_route":
            mod.groups.setdefault("northern_route", NORTHERN_ROUTE_SEIZURES)
        cs, known = mod.countries(subject)
        if known:
            v = mod._sum(mod.seized, subject)
            if indicator == "seizure_t":
                return v, "t opium (expected seizures)", ""
            total = float(sum(mod.seized.values()))
            return (v / total if total > 0 else math.nan,
                    "share of all modelled seizures (Afghan opiates only)", "")
    return math.nan, "", "not modelled"


def _to_model_unit(v: float, unit: str, oph: float) -> float:
    if unit.startswith("t heroin"):
        return v * oph
    return v


def published_vs_modelled(published: pd.DataFrame | None, G: nx.DiGraph, exits: pd.DataFrame,
                          journeys: pd.DataFrame, seizures: pd.DataFrame | None,
                          cm: CostModel) -> pd.DataFrame:
    """Every published figure beside the model's figure for it (module notes).

    Parameters
    ----------
    published : DataFrame or None
        ``published_flows.csv`` as :func:`read_observed` reads it.
    G, exits, journeys, seizures, cm
        The network at the date compared, its exit shares
        (:func:`routes.routing.flows.exit_shares`), whole journeys
        (:func:`routes.routing.journeys.journey_routes`), modelled seizures
        (:func:`routes.calibration.observe.modelled_seizures`, or ``None``) and cost model.

    Returns
    -------
    DataFrame
        :data:`COMPARE_COLUMNS`, in the file's order: the published ``low``/``high`` as
        published and in the model's unit (``*_model_unit``: heroin times
        ``[conversion] opium_per_heroin``), the ``modelled`` figure, its ``model_unit`` and a
        ``modelled_note`` where there is none.
    """
    if published is None or published.empty:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    oph = float(cm.raw.get("conversion", {}).get("opium_per_heroin", 10.0))
    mod = _Model(G, exits, journeys, seizures, cm)
    rows = []
    for r in published.itertuples():
        v, unit, note = _modelled(mod, str(r.indicator), str(r.region_or_route), str(r.unit))
        rows.append({"indicator": r.indicator, "subject": r.region_or_route,
                     "year": int(r.year) if pd.notna(r.year) else np.nan, "unit": r.unit,
                     "low": r.low, "high": r.high,
                     "low_model_unit": _to_model_unit(float(r.low), str(r.unit), oph),
                     "high_model_unit": _to_model_unit(float(r.high), str(r.unit), oph),
                     "modelled": v, "model_unit": unit, "modelled_note": note,
                     "source": r.source})
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def _rows(cmp: pd.DataFrame, keep: pd.Series, name: str, subject: pd.Series) -> pd.DataFrame:
    t = cmp[keep].copy()
    t[name] = subject[keep]
    return t.set_index(name)[["modelled", "low", "high", "year", "unit", "source"]]


def exits_vs_published(exits: pd.DataFrame, cmp: pd.DataFrame) -> pd.DataFrame:
    """Exit shares from Afghanistan (and the northern route) with the published ranges.

    One row per country entered first (largest share first), then ``Central Asia`` (the
    exits into :data:`CENTRAL_ASIA_EXITS`); each with the published ``low``, ``high``,
    ``year``, ``unit`` and ``source`` of a share of Afghan opiates where one exists
    (``exit_share AFG>X``, ``route_share northern_route`` for Central Asia).

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("AFG", "IRN"), ("AFG", "PAK"), ("AFG", "TJK")],
    ...                                 names=["from_country", "into"])
    >>> e = pd.DataFrame({"flow": [5.0, 3.0, 2.0], "share": [0.5, 0.3, 0.2]}, index=idx)
    >>> exits_vs_published(e, pd.DataFrame(columns=list(COMPARE_COLUMNS)))["modelled"].to_dict()
    {'IRN': 0.5, 'PAK': 0.3, 'TJK': 0.2, 'Central Asia': 0.2}
    """
    share: dict[str, float] = {}
    if len(exits) and "AFG" in exits.index.get_level_values("from_country"):
        own = exits.xs("AFG", level="from_country")["share"]
        share = {str(k): float(v) for k, v in own.items() if k}
    share["Central Asia"] = float(sum(share.get(c, 0.0) for c in CENTRAL_ASIA_EXITS))
    pub: dict[str, dict[str, object]] = {}
    for r in cmp.itertuples():
        whole = "of Afghan" in str(r.unit)
        key = None
        if r.indicator == "exit_share" and str(r.subject).startswith("AFG>") and whole:
            key = str(r.subject)[4:]
        elif r.indicator == "route_share" and r.subject == "northern_route" and whole:
            key = "Central Asia"
        if key is not None and key not in pub:
            pub[key] = {"low": r.low, "high": r.high, "year": r.year, "unit": r.unit,
                        "source": r.source}
    rows = [{"into": k, "modelled": v, **pub.get(k, {})} for k, v in share.items()]
    rows += [{"into": k, "modelled": np.nan, **p} for k, p in pub.items() if k not in share]
    return pd.DataFrame(rows, columns=["into", "modelled", "low", "high", "year", "unit",
                                       "source"]).set_index("into")


def corridors_vs_published(corridors: pd.DataFrame, cmp: pd.DataFrame) -> pd.DataFrame:
    """Corridor shares (:func:`routes.routing.flows.corridor_shares`) with published ranges.

    The northern route's published share of Afghan opiates sits beside ``Northern``; the
    other corridors have no published share in the file and show NaN.
    """
    out = pd.DataFrame({"modelled": corridors["share"].astype(float)})
    for col in ("low", "high", "year"):
        out[col] = np.nan
    out["unit"] = ""
    out["source"] = ""
    for r in cmp.itertuples():
        if r.indicator == "route_share" and r.subject == "northern_route" and \
                "of Afghan" in str(r.unit) and "Northern" in out.index:
            out.loc["Northern", ["low", "high", "year"]] = [r.low, r.high, r.year]
            out.loc["Northern", ["unit", "source"]] = [r.unit, r.source]
            break
    return out
