"""Read and validate the input data: countries, crossings, places and corridors.

Every reader returns a (Geo)DataFrame and never modifies its input file. Validation collects
every problem in every file, each with file, row and field, and raises one :class:`DataError`.
Row numbers are the line numbers an editor shows (the header is line 1).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import flowfiles, history, supplyside, traffic
from .._errors import DataError, Problem, RoutesError
from ._read import (
    BORDER_TOLERANCE_KM,
    COAST_TOLERANCE_KM,
    CORRIDOR_FIELDS,
    CORRIDOR_ONEWAY,
    CROSSING_MODES,
    DATED_FILES,
    HISTORY_START,
    LAND_MODES,
    ROLES,
    STATUSES,
    Dataset,
    read_corridors,
    read_countries,
    read_crossings,
    read_places,
)
from ._validate import border_distances, validate_dataset

__all__ = [
    "Dataset",
    "read_countries",
    "read_crossings",
    "read_places",
    "read_corridors",
    "load_dataset",
    "validate_dataset",
    "dataset_as_of",
    "coverage",
    "DATED_FILES",
    "HISTORY_START",
    "link_within_countries",
    "border_distances",
    "CROSSING_MODES",
    "STATUSES",
    "ROLES",
    "LAND_MODES",
    "BORDER_TOLERANCE_KM",
    "COAST_TOLERANCE_KM",
    "CORRIDOR_ONEWAY",
]

log = logging.getLogger("routes.geodata")


def _sha256(path: Path) -> str:
    """Hash of a file; "" when it cannot be read (its reader reports why)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def load_dataset(
    data_dir: str | Path,
    *,
    classes: set[str] | None = None,
    corridors: bool | str = True,
    link_k: int = 3,
    validate: bool = True,
) -> Dataset:
    """Read, check and return the four input files of ``data_dir``.

    Parameters
    ----------
    data_dir : path
        Folder holding ``countries.geojson``, ``crossings.csv``, ``places.csv`` and, unless
        ``corridors`` says otherwise, ``corridors.csv``; and, where present, the dated files
        ``status_history.csv``, ``supply.csv`` and ``demand.csv`` (:mod:`routes.history`),
        the flow files ``hubs.csv`` and ``stocks.csv`` (:mod:`routes.flowfiles`) and the
        legitimate traffic ``border_traffic.csv`` (:mod:`routes.traffic`).
    classes : set of str, optional
        Allowed crossing classes (the cost model's); not checked when ``None``.
    corridors : bool or "auto"
        ``True`` reads ``corridors.csv``; ``"auto"`` links nodes inside each country with
        :func:`link_within_countries` (for data brought without corridors).
    link_k : int
        Neighbours per node for ``corridors="auto"``.
    validate : bool
        Run :func:`validate_dataset` as well.

    Raises
    ------
    DataError
        With every problem in every file.
    """
    d = Path(data_dir)
    paths = {"countries": d / "countries.geojson", "crossings": d / "crossings.csv",
             "places": d / "places.csv"}
    if corridors is True:
        paths["corridors"] = d / "corridors.csv"
    for name in (*DATED_FILES, *flowfiles.FLOW_FILES):
        if (d / f"{name}.csv").exists():
            paths[name] = d / f"{name}.csv"
    problems: list[Problem] = []
    countries = read_countries(paths["countries"], problems)
    crossings = read_crossings(paths["crossings"], problems, classes=classes)
    places = read_places(paths["places"], problems,
                         dated={k for k in ("supply", "demand") if k in paths})
    if corridors is True:
        corr = read_corridors(paths["corridors"], problems)
    else:
        corr = pd.DataFrame(columns=[*CORRIDOR_FIELDS, "line_no"])
    readers = {"status_history": history.read_status_history, "supply": history.read_supply,
               "demand": history.read_demand}
    readers.update(hubs=flowfiles.read_hubs, stocks=flowfiles.read_stocks)
    dated = {k: readers[k](paths[k], problems)
             for k in (*DATED_FILES, *flowfiles.FLOW_FILES) if k in paths}
    tpath = d / "border_traffic.csv"
    legit = traffic.read_border_traffic(tpath, problems) if tpath.exists() else None
    ds = Dataset(countries, crossings, places, corr,
                 files={k: str(v) for k, v in paths.items()}
                 | ({"border_traffic": str(tpath)} if legit is not None else {}),
                 hashes={k: _sha256(v) for k, v in paths.items()}, border_traffic=legit,
                 **dated)
    skipped: list[str] = []
    if validate:
        # One pass: the cross-file checks run on the rows that could be read, whatever the
        # problems of the others; a check that cannot run says so.
        frames = {"countries": countries, "crossings": crossings, "places": places,
                  "corridors": corr, **dated}
        if legit is not None:
            paths["border_traffic"] = tpath
            frames["border_traffic"] = legit
        for name, frame in frames.items():
            broken = any(p.file == str(paths.get(name)) for p in problems)
            if name in paths and frame is not None and frame.empty and broken:
                skipped.append(f"the checks of the other files against {paths[name].name} "
                               f"({paths[name].name} could not be read)")
        problems.extend(validate_dataset(ds, raise_on_error=False, skipped=skipped))
    if problems:
        raise DataError(problems, skipped=skipped)
    if corridors == "auto":
        ds.corridors = link_within_countries(crossings, places, k=link_k)
    log.info("loaded %d countries, %d crossings, %d places, %d corridors from %s",
             len(countries), len(crossings), len(places), len(ds.corridors), d)
    return ds


def link_within_countries(crossings: gpd.GeoDataFrame, places: gpd.GeoDataFrame, *,
                          k: int = 3, mode: str = "road") -> pd.DataFrame:
    """Link nodes inside each country to their ``k`` nearest neighbours (geodesic).

    For data brought without corridors. In each country, the nodes are its places and the
    crossings on its borders (a crossing belongs to both its countries, so crossings join the
    two countries' sub-networks). Each node is linked to its ``k`` nearest nodes in that
    country; links are undirected and de-duplicated, and each country's links are then made
    connected by adding, while the country's nodes form several groups, the shortest link
    between two groups (a minimum-spanning-forest repair). Sources say
    ``auto: k nearest neighbours``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pl = gpd.GeoDataFrame({"id": ["a", "b", "c"], "country": ["X", "X", "X"],
    ...     "lat": [0.0, 0.0, 0.0], "lon": [0.0, 1.0, 5.0]},
    ...     geometry=[Point(0, 0), Point(1, 0), Point(5, 0)], crs="EPSG:4326")
    >>> cr = pl.iloc[0:0].assign(country_a=[], country_b=[])
    >>> sorted(map(tuple, link_within_countries(cr, pl, k=1)[["from_id", "to_id"]].values))
    [('a', 'b'), ('b', 'c')]
    """
    from ..costs import geodesic_km

    nodes: dict[str, list[tuple[str, float, float]]] = {}
    for r in places.itertuples():
        nodes.setdefault(r.country, []).append((r.id, r.lon, r.lat))
    for r in crossings.itertuples():
        for c in (r.country_a, r.country_b):
            nodes.setdefault(c, []).append((r.id, r.lon, r.lat))
    links: dict[frozenset[str], tuple[str, str]] = {}
    for _country, members in sorted(nodes.items()):
        n = len(members)
        if n < 2:
            continue
        dist = np.zeros((n, n))
        for i in range(n):
            for j in range(i + 1, n):
                dist[i, j] = dist[j, i] = geodesic_km(members[i][1], members[i][2],
                                                      members[j][1], members[j][2])
        for i in range(n):
            order = [j for j in np.argsort(dist[i], kind="stable") if j != i][:k]
            for j in order:
                a, b = sorted((members[i][0], members[j][0]))
                links.setdefault(frozenset((a, b)), (a, b))
        _connect_groups(members, dist, links)
    rows = [{"id": f"c_auto_{a}__{b}", "from_id": a, "to_id": b, "mode": mode,
             "source": f"auto: {k} nearest neighbours within each country"}
            for a, b in sorted(links.values())]
    out = pd.DataFrame(rows, columns=list(CORRIDOR_FIELDS))
    out["line_no"] = np.arange(len(out)) + 2
    return out


def _connect_groups(members: list[tuple[str, float, float]], dist: np.ndarray,
                    links: dict[frozenset[str], tuple[str, str]]) -> None:
    ids = [m[0] for m in members]
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    index = {v: i for i, v in enumerate(ids)}
    for key in links:
        a, b = tuple(key)
        if a in index and b in index:
            parent[find(index[a])] = find(index[b])
    pairs = sorted((dist[i, j], i, j) for i in range(len(ids)) for j in range(i + 1, len(ids)))
    for _, i, j in pairs:
        if find(i) != find(j):
            parent[find(i)] = find(j)
            a, b = sorted((ids[i], ids[j]))
            links.setdefault(frozenset((a, b)), (a, b))


# --------------------------------------------------------------------------- dates
def coverage(ds: Dataset) -> tuple[date | None, date | None]:
    """Return the first and last dates the data makes claims for (``None``: no dated files).

    The first is :data:`HISTORY_START` with a status history (else January 1 of the first
    supply year); the last is the newest date stated anywhere: a crossing's ``as_of``, a
    period's start or end in the history, or December 31 of the last supply year.
    """
    if ds.status_history is None and ds.supply is None:
        return None, None
    first: date | None = None
    dates: list[date] = []
    if ds.status_history is not None:
        first = HISTORY_START
        h = ds.status_history
        dates += [t.date() for t in pd.concat([h["valid_from"], h["valid_to"]]).dropna()]
        for v in ds.crossings["as_of"]:
            try:
                dates.append(history.to_date(v))
            except ValueError:
                continue
    if ds.supply is not None and len(ds.supply):
        years = ds.supply["year"].dropna()
        if len(years):
            first = first or date(int(years.min()), 1, 1)
            dates.append(date(int(years.max()), 12, 31))
    return first, (max(dates) if dates else None)


def dataset_as_of(ds: Dataset, as_of: date | str | None = None) -> Dataset:
    """Return a copy of ``ds`` with the statuses, supply and demand of one date.

    Parameters
    ----------
    ds : Dataset
        Loaded data (:func:`load_dataset`); not modified.
    as_of : date or "YYYY-MM-DD", optional
        The date; default the last date the data covers (:func:`coverage`).

    Returns
    -------
    Dataset
        Crossings with the status the history gives on that date (``status_note`` and
        ``status_source`` say why; ``as_of`` is the date), origins with that year's supply
        (``supply.csv``; the last year for later dates), markets with the newest demand
        estimate of that year or before (``demand.csv``; else the oldest). Without the dated
        files the data is returned unchanged, with the date recorded.

    Raises
    ------
    RoutesError
        When the date is not a date or lies outside the range the data covers.
    """
    first, last = coverage(ds)
    if as_of is None:
        when = last or date.today()
    else:
        try:
            when = history.to_date(as_of)
        except ValueError:
            raise RoutesError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    if first is not None and last is not None and not first <= when <= last:
        raise RoutesError(f"as-of date {when} is outside the range the data covers "
                          f"({first} to {last})")
    crossings, places = ds.crossings, ds.places
    if ds.status_history is not None:
        on = history.status_on(ds.status_history, when)
        crossings = crossings.copy()
        keep = crossings["id"].map(lambda c: c in on)
        crossings.loc[keep, "status"] = crossings.loc[keep, "id"].map(lambda c: on[c][0])
        crossings["status_note"] = crossings["id"].map(lambda c: on[c][1] if c in on else "")
        crossings["status_source"] = crossings["id"].map(
            lambda c: on[c][2] if c in on else "")
        crossings["as_of"] = when.isoformat()
    if ds.supply is not None or ds.demand is not None:
        places = places.copy()
    if ds.supply is not None:
        sup = history.supply_in(ds.supply, when.year)
        is_origin = places["role"] == "origin"
        places.loc[is_origin, "supply"] = places.loc[is_origin, "id"].map(
            lambda o: sup[o][0] if o in sup else np.nan)
        places.loc[is_origin, "figure_source"] = places.loc[is_origin, "id"].map(
            lambda o: sup[o][1] if o in sup else "")
    if ds.demand is not None:
        dem = history.demand_in(ds.demand, when.year)
        is_market = places["role"] == "market"
        places.loc[is_market, "demand"] = places.loc[is_market, "id"].map(
            lambda m: dem[m][0] if m in dem else np.nan)
        places.loc[is_market, "figure_source"] = places.loc[is_market, "id"].map(
            lambda m: f"{dem[m][2]} (estimate for {dem[m][1]})" if m in dem else "")
        places.loc[is_market, "demand_year"] = places.loc[is_market, "id"].map(
            lambda m: float(dem[m][1]) if m in dem else np.nan)
    if ds.hubs is not None:
        serves = supplyside.hubs_on(ds.hubs, places, when)
        places = places.copy() if places is ds.places else places
        places["hub_serves"] = places["id"].map(lambda p: " ".join(serves.get(p, [])))
    return replace(ds, crossings=crossings, places=places, as_of=when)
