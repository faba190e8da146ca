"""Routes through time: the network on a series of dates, its measures and the events between.

For each date the network is built as of that date (:func:`routes.network.network_from_data`
with ``as_of``: the crossing statuses of ``status_history.csv`` on that day, that year's supply
and demand) and analysed by the same functions the single-date commands call, so the
timeline's numbers for one date are exactly those of ``routes paths``, ``routes centrality``
and ``routes priorities --budget 0 --objective flow`` run with ``--as-of`` that date:

- ``corridor_share`` / ``corridor_flow`` (key: corridor): the logit assignment over the k best
  routes (:func:`routes.routing.flows.assign_flows`, ``routes paths``);
- ``transit_share`` (key: ISO3): each country's share of the routed flow on the best routes
  (:func:`routes.crossings.centrality.country_table`, ``routes centrality``);
- ``crossing_flow_betweenness``, ``crossing_share``, ``crossing_rank`` (key: crossing id):
  :func:`routes.crossings.centrality.crossing_table` (``routes centrality``);
- ``detected_share`` (key ""): the expected share of the routed flow detected with no post
  upgraded (:func:`routes.priorities.interdiction.evaluate_upgrades` with no posts, objective
  ``"flow"``: the budget-0 value of ``routes priorities --objective flow``);
- ``routed_flow``, ``unserved_flow``, ``supply`` (key ""), ``crossings`` (key: status, the
  number of crossings with that status);
- ``seizures_modelled_kg`` (key: ISO3), when this version of routes has the observation model
  (``routes.calibration.observe.modelled_seizures`` on the same logit routes), and
  ``seizures_observed_kg`` (key: ISO3, heroin-equivalent kg reported for the date's year; a
  country that reported nothing has no row) when observed seizures are given.

More measures are added by appending a function to :data:`MEASURES`.

Dates
-----
``step="year"`` samples each year at mid-year (``YYYY-06-30``, the middle of the survey year
whose supply the network carries), ``step="quarter"`` at each quarter's last day; both end
with the last date of the range (by default the last date the data covers), so the timeline
always shows the network as it stands now.

Events
------
:func:`timeline_events` (:mod:`routes.changes.events`) lists what changed between
consecutive dates: status changes from the history and supply or demand shifts, with sources.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import networkx as nx
import pandas as pd

from .. import history
from .._errors import RoutesError
from ..costs import CostModel
from ..crossings.centrality import country_table, crossing_table
from ..geodata import Dataset, coverage, dataset_as_of
from ..network import network_from_data, origins
from ..priorities.interdiction import evaluate_upgrades
from ..routing.flows import FlowAssignment, assign_flows
from ..scenario import Scenario
from .events import EVENT_COLUMNS, timeline_events

__all__ = [
    "STEPS",
    "MEASURES",
    "TIMELINE_COLUMNS",
    "EVENT_COLUMNS",
    "Snapshot",
    "sample_dates",
    "timeline_dates",
    "timeline_snapshots",
    "timeline_frame",
    "timeline",
    "timeline_events",
    "observed_seizures",
]

log = logging.getLogger(__name__)

#: Date steps of a timeline.
STEPS = ("year", "quarter")
#: Columns of :func:`timeline` (tidy: one row per date, measure and key).
TIMELINE_COLUMNS = ("date", "measure", "key", "value")
_MID_YEAR = (6, 30)
_QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


@dataclass(frozen=True)
class Snapshot:
    """The network on one date and the single-date analyses of it.

    Attributes
    ----------
    date : datetime.date
    G : networkx.DiGraph
        :func:`routes.network.network_from_data` as of ``date``.
    flows : FlowAssignment
        :func:`routes.routing.flows.assign_flows` (logit over the k best routes).
    crossings : DataFrame
        :func:`routes.crossings.centrality.crossing_table` (flow betweenness), by crossing id.
    countries : DataFrame
        :func:`routes.crossings.centrality.country_table` (transit shares), by ISO3.
    detected_share : float
        Expected share of the routed flow detected with no upgrade (objective ``"flow"``).
    seizures : DataFrame or None
        Modelled seizures by country (``routes.calibration.observe.modelled_seizures``), when
        this version of routes has the observation model.
    """

    date: date
    G: nx.DiGraph
    flows: FlowAssignment
    crossings: pd.DataFrame
    countries: pd.DataFrame
    detected_share: float
    seizures: pd.DataFrame | None = None


# --------------------------------------------------------------------------- dates
def _parse_bound(value: date | str | int | None) -> tuple[date | None, bool]:
    """``(date, is_year)``: a bound as a date, or as January 1 of a year (``2019``)."""
    if value is None or isinstance(value, date):
        return value, False
    text = str(value).strip()
    if text.isdigit() and len(text) == 4:
        return date(int(text), 1, 1), True
    try:
        return history.to_date(text), False
    except ValueError:
        raise RoutesError(f"timeline bound {value!r} is not a year (YYYY) or a date "
                          "(YYYY-MM-DD)") from None


def sample_dates(first: date, last: date, *, start: date | str | int | None = None,
                 end: date | str | int | None = None, step: str = "year") -> list[date]:
    """Return the dates of a timeline over the covered range ``first`` to ``last``.

    A year as ``start`` means its January 1 (or ``first`` in the first covered year), as
    ``end`` its December 31 (or ``last`` in the last covered year).

    Examples
    --------
    >>> first, last = date(2018, 1, 1), date(2020, 3, 1)
    >>> [d.isoformat() for d in sample_dates(first, last)]
    ['2018-06-30', '2019-06-30', '2020-03-01']
    >>> [d.isoformat() for d in sample_dates(first, last, start=2019, end=2019,
    ...                                      step="quarter")]
    ['2019-03-31', '2019-06-30', '2019-09-30', '2019-12-31']
    >>> sample_dates(first, last, end=2021)
    Traceback (most recent call last):
    ...
    routes._errors.RoutesError: timeline range 2018-01-01 to 2021-12-31 is outside the range \
the data covers (2018-01-01 to 2020-03-01)
    """
    if step not in STEPS:
        raise RoutesError(f"unknown step {step!r}; choose one of {', '.join(STEPS)}")
    lo, lo_year = _parse_bound(start)
    hi, hi_year = _parse_bound(end)
    lo = lo or first
    if lo_year and lo.year == first.year:
        lo = max(lo, first)
    if hi is None:
        hi = last
    elif hi_year:
        hi = last if hi.year == last.year else date(hi.year, 12, 31)
    if lo > hi:
        raise RoutesError(f"timeline range {lo} to {hi} is empty (start after end)")
    if lo < first or hi > last:
        raise RoutesError(f"timeline range {lo} to {hi} is outside the range the data covers "
                          f"({first} to {last})")
    ends = [_MID_YEAR] if step == "year" else list(_QUARTER_ENDS)
    dates = [d for y in range(lo.year, hi.year + 1) for m, dd in ends
             if lo <= (d := date(y, m, dd)) <= hi]
    if not dates or dates[-1] != hi:
        dates.append(hi)
    return dates


def timeline_dates(ds: Dataset, *, start: date | str | int | None = None,
                   end: date | str | int | None = None, step: str = "year") -> list[date]:
    """Return the dates of a timeline of ``ds`` (module notes; :func:`sample_dates`).

    Parameters
    ----------
    ds : Dataset
        The loaded data (:func:`routes.geodata.load_dataset`).
    start, end : date, "YYYY-MM-DD" or year, optional
        The range; default the range the data covers (:func:`routes.geodata.coverage`).
    step : {"year", "quarter"}
        Mid-year dates or quarter ends, then ``end``.

    Raises
    ------
    RoutesError
        For an unknown step, a bound that is not a date, a range that is empty or reaches
        outside the covered range, or data without dated files.
    """
    first, last = coverage(ds)
    if first is None or last is None:
        raise RoutesError("a timeline needs dated data (status_history.csv or supply.csv)")
    return sample_dates(first, last, start=start, end=end, step=step)


# --------------------------------------------------------------------------- snapshots
def _inputs_key(ds: Dataset) -> tuple:
    """Return what the network of a dated dataset depends on beyond the static files."""
    c, p = ds.crossings, ds.places
    # The hubs valid on the date, and the year (the stock drawdown is by year).
    hubs = tuple(zip(p["id"], p["hub_serves"])) if "hub_serves" in p.columns else ()
    year = ds.as_of.year if ds.as_of is not None and ds.stocks is not None else 0
    return (tuple(zip(c["id"], c["status"])),
            tuple(zip(p["id"], p["supply"].fillna(-1.0), p["demand"].fillna(-1.0))),
            hubs, year)


def _modelled_seizures(G: nx.DiGraph, cm: CostModel, fa: FlowAssignment
                       ) -> pd.DataFrame | None:
    """Modelled seizures on the logit routes, if routes has the observation model."""
    try:
        observe = importlib.import_module("routes.calibration.observe")
    except ImportError:
        return None
    if not hasattr(observe, "modelled_seizures"):
        return None
    return observe.modelled_seizures(G, cm, routes=fa.routes)


def _snapshot(ds: Dataset, cm: CostModel, scenario: Scenario | None, when: date, *,
              weight: str, engine: str | None) -> Snapshot:
    G = network_from_data(ds, cm, scenario)
    fa = assign_flows(G, cm, weight=weight, engine=engine)
    crossings = crossing_table(G, weight=weight, engine=engine, current_flow=False)
    countries = country_table(G, weight=weight, engine=engine)
    detected = evaluate_upgrades(G, (), objective="flow", cm=cm).base_value
    return Snapshot(date=when, G=G, flows=fa, crossings=crossings, countries=countries,
                    detected_share=float(detected),
                    seizures=_modelled_seizures(G, cm, fa))


def timeline_snapshots(ds: Dataset, cm: CostModel, scenario: Scenario | None = None, *,
                       dates: Sequence[date | str] | None = None,
                       start: date | str | int | None = None, end: date | str | int | None = None,
                       step: str = "year", weight: str = "cost", engine: str | None = None,
                       progress: Callable[[date], None] | None = None,
                       known: Mapping[date, Snapshot] | None = None) -> list[Snapshot]:
    """Build and analyse the network on each date (see :func:`timeline`).

    Dates whose statuses, supply and demand are the same as an earlier date's share its
    network and results (the snapshot's ``date`` is its own). ``known`` gives snapshots
    already built by the caller (e.g. a report's own network), used as they are: they must
    come from the same data, cost model, scenario, weight and engine.
    """
    when = ([history.to_date(d) for d in dates] if dates is not None
            else timeline_dates(ds, start=start, end=end, step=step))
    if not when:
        raise RoutesError("a timeline needs at least one date")
    first, last = coverage(ds)
    outside = [d for d in when if first is not None and last is not None
               and not first <= d <= last]
    if outside:  # checked before any network is built
        raise RoutesError(f"timeline date {outside[0]} is outside the range the data covers "
                          f"({first} to {last})")
    out: list[Snapshot] = []
    seen: dict[tuple, Snapshot] = {}
    known = known or {}
    for d in when:
        dsd = dataset_as_of(ds, d)
        key = _inputs_key(dsd)
        if d in known:
            snap = known[d]
            if snap.seizures is None:
                snap = dataclasses.replace(snap, seizures=_modelled_seizures(snap.G, cm,
                                                                             snap.flows))
            seen.setdefault(key, snap)
            out.append(snap)
        elif key in seen:
            snap = seen[key]
            out.append(dataclasses.replace(snap, date=d))
        else:
            snap = _snapshot(dsd, cm, scenario, d, weight=weight, engine=engine)
            seen[key] = snap
            out.append(snap)
        log.info("timeline %s: routed flow %.1f", d, out[-1].flows.total_flow)
        if progress is not None:
            progress(d)
    return out


# --------------------------------------------------------------------------- measures
Row = tuple[str, str, float]


def _totals(s: Snapshot) -> Iterator[Row]:
    yield "routed_flow", "", s.flows.total_flow
    yield "unserved_flow", "", s.flows.unserved_flow
    yield "supply", "", float(sum(origins(s.G).values()))
    yield "detected_share", "", s.detected_share
    status = [d.get("status") for _, d in s.G.nodes(data=True) if d.get("kind") == "crossing"]
    for st in ("open", "restricted", "closed"):
        yield "crossings", st, float(status.count(st))


def _corridors(s: Snapshot) -> Iterator[Row]:
    for c, r in s.flows.corridors.iterrows():
        yield "corridor_share", str(c), float(r["share"])
        yield "corridor_flow", str(c), float(r["flow"])


def _countries(s: Snapshot) -> Iterator[Row]:
    for c, v in s.countries["transit_share"].items():
        yield "transit_share", str(c), float(v)


def _crossings(s: Snapshot) -> Iterator[Row]:
    ct = s.crossings
    for cid, fb, sh, rk in zip(ct.index, ct["flow_betweenness"], ct["share"], ct["rank"]):
        yield "crossing_flow_betweenness", str(cid), float(fb)
        yield "crossing_share", str(cid), float(sh)
        yield "crossing_rank", str(cid), float(rk)


def observed_seizures(path: str | Path) -> pd.DataFrame | None:
    """Read reported seizures (``seizures.csv``) if the file and its reader exist, else None.

    The reader is ``routes.observed.read_seizures`` (the calibration's), which checks the file.
    """
    try:
        observed = importlib.import_module("routes.observed")
    except ImportError:
        return None
    if not Path(path).is_file() or not hasattr(observed, "read_seizures"):
        return None
    return observed.read_seizures(path)


def _seizures(s: Snapshot) -> Iterator[Row]:
    if s.seizures is not None:
        for c, v in s.seizures["modelled_kg"].items():
            yield "seizures_modelled_kg", str(c), float(v)


#: Measure functions: each turns a snapshot into ``(measure, key, value)`` rows.
MEASURES: list[Callable[[Snapshot], Iterable[Row]]] = [_totals, _corridors, _countries,
                                                        _crossings, _seizures]


def _observed(observed: pd.DataFrame | None, when: date) -> Iterator[Row]:
    if observed is None:
        return
    rows = observed[(observed["year"] == when.year) & observed["heroin_eq_kg"].notna()]
    for c, v in sorted(zip(rows["iso3"], rows["heroin_eq_kg"])):
        yield "seizures_observed_kg", str(c), float(v)


def timeline_frame(snapshots: Sequence[Snapshot], observed: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """Return the tidy frame of :func:`timeline` from already built snapshots.

    ``observed``: reported seizures (``iso3``, ``year``, ``heroin_eq_kg``), shown for each
    date's year as ``seizures_observed_kg``.
    """
    rows = [(s.date.isoformat(), m, k, v) for s in snapshots for f in MEASURES
            for m, k, v in f(s)]
    rows += [(s.date.isoformat(), m, k, v) for s in snapshots
             for m, k, v in _observed(observed, s.date)]
    df = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    df["value"] = df["value"].astype(float)
    return df


def timeline(ds: Dataset, cm: CostModel, scenario: Scenario | None = None, *,
             dates: Sequence[date | str] | None = None, start: date | str | int | None = None,
             end: date | str | int | None = None, step: str = "year", weight: str = "cost",
             engine: str | None = None, observed: pd.DataFrame | None = None,
             progress: Callable[[date], None] | None = None) -> pd.DataFrame:
    """Return the network's measures on a series of dates, as a tidy frame (module notes).

    Parameters
    ----------
    ds : Dataset
        The loaded data with its dated files (:func:`routes.geodata.load_dataset`).
    cm : CostModel
        The cost model.
    scenario : Scenario, optional
        An overlay applied on every date (its own ``as_of`` is replaced by each date).
    dates : sequence of dates, optional
        Explicit dates; otherwise :func:`timeline_dates` from ``start``, ``end``, ``step``.
    start, end, step
        See :func:`timeline_dates` (default: mid-year 2018 to the last covered date).
    weight : str
        Route weight of the flows and centralities (default ``"cost"``, as the commands).
    engine : {"igraph", "networkx"}, optional
        Path engine.
    observed : DataFrame, optional
        Reported seizures (``iso3``, ``year``, ``heroin_eq_kg``; e.g. ``seizures.csv``),
        set beside the modelled ones by country and year.
    progress : callable, optional
        Called with each date when it is done (the CLI moves a progress bar).

    Returns
    -------
    DataFrame
        Columns :data:`TIMELINE_COLUMNS`: ``date`` (ISO string), ``measure``, ``key`` ("" for
        a network-wide measure), ``value``. Pivot for plotting, e.g.
        ``df[df.measure == "corridor_share"].pivot(index="date", columns="key",
        values="value")``.

    Raises
    ------
    RoutesError
        When a date lies outside the range the data covers (nothing is computed).
    """
    snaps = timeline_snapshots(ds, cm, scenario, dates=dates, start=start, end=end, step=step,
                               weight=weight, engine=engine, progress=progress)
    return timeline_frame(snaps, observed)
