"""Validate a dataset: geography, references and dated files.

Every problem is reported with file, row and field.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import Point

from .. import flowfiles, history, traffic
from .._errors import DataError, Problem
from ._read import (
    BORDER_TOLERANCE_KM,
    COAST_TOLERANCE_KM,
    HISTORY_START,
    LAND_MODES,
    PORT_TOLERANCE_KM,
    Dataset,
    _usable_countries,
)

__all__ = ["validate_dataset", "border_distances"]


# --------------------------------------------------------------------------- cross-file checks
def _distance_km(geom: Any, lon: float, lat: float) -> float:
    """Return the distance in km from (lon, lat) to ``geom``.

    The nearest point of ``geom`` is found in a local equirectangular frame centred on the
    point (longitudes scaled by cos(lat); within the ~1.5 degree window searched first, its
    error on which point is nearest is well under 1%), and the distance to it is then measured
    on the WGS84 ellipsoid, so the figure reported is a true geodesic distance.
    """
    from ..costs import geodesic_km

    if geom.is_empty:
        return math.inf
    k = max(math.cos(math.radians(lat)), 0.05)
    window = shapely.clip_by_rect(geom, lon - 1.5 / k, lat - 1.5, lon + 1.5 / k, lat + 1.5)
    near_geom = window if not window.is_empty else geom
    origin = np.array([lon, lat])
    scale = np.array([k, 1.0])
    local = shapely.transform(near_geom, lambda xy: (xy - origin) * scale)
    if local.distance(Point(0, 0)) == 0.0:
        return 0.0
    nearest = shapely.ops.nearest_points(local, Point(0, 0))[0]
    nx_, ny_ = nearest.x / k + lon, nearest.y + lat
    return geodesic_km(lon, lat, nx_, ny_)


def _shared_border(countries: dict[str, Any], a: str, b: str, cache: dict[tuple[str, str], Any]):
    key = (a, b) if a < b else (b, a)
    if key not in cache:
        ga, gb = countries[a], countries[b]
        # Country polygons are simplified one by one, so their shared edges may not coincide
        # exactly: take a's boundary where it runs within ~2 km of b.
        cache[key] = ga.boundary.intersection(gb.buffer(0.02))
    return cache[key]


def _check_geography(ds: Dataset, problems: list[Problem],
                     skipped: list[str] | None = None) -> dict[str, float]:
    """Border and inside-country checks; returns each crossing's distance to its border.

    Crossings and places in a country whose polygon is missing or invalid are not checked
    (said in ``skipped``): the fault is the polygon's, named by :func:`read_countries`.
    """
    countries = _usable_countries(ds.countries)
    unusable = sorted(set(ds.countries["iso3"]) - set(countries))
    if unusable and skipped is not None:
        skipped.append(f"border and inside-country checks of the crossings and places of "
                       f"{', '.join(map(str, unusable))} (no valid polygon in countries.geojson)")
    cfile, pfile = ds.files.get("crossings", "crossings.csv"), ds.files.get("places", "places.csv")
    cache: dict[tuple[str, str], Any] = {}
    dists: dict[str, float] = {}
    for r in ds.crossings.itertuples():
        if r.geometry is None or r.country_a not in countries or r.country_b not in countries:
            continue
        if r.mode in LAND_MODES:
            border = _shared_border(countries, r.country_a, r.country_b, cache)
            if border.is_empty:
                problems.append(Problem(cfile, int(r.line_no), "country_b",
                                        f"{r.country_a} and {r.country_b} share no land border"))
                continue
            d = _distance_km(border, r.lon, r.lat)
            dists[r.id] = d
            if d > BORDER_TOLERANCE_KM:
                problems.append(Problem(
                    cfile, int(r.line_no), "lat",
                    f"{r.id} lies {d:.1f} km from the {r.country_a}-{r.country_b} border "
                    f"(limit {BORDER_TOLERANCE_KM:g} km): check lat/lon and the countries"))
        else:
            d = _distance_km(countries[r.country_b], r.lon, r.lat)
            dists[r.id] = d
            if d > PORT_TOLERANCE_KM:
                problems.append(Problem(
                    cfile, int(r.line_no), "lat",
                    f"port of entry {r.id} lies {d:.1f} km outside {r.country_b} "
                    f"(limit {PORT_TOLERANCE_KM:g} km)"))
    for r in ds.places.itertuples():
        if r.geometry is None or r.country not in countries:
            continue
        geom = countries[r.country]
        if geom.contains(r.geometry):
            continue
        d = _distance_km(geom, r.lon, r.lat)
        if d > COAST_TOLERANCE_KM:
            problems.append(Problem(pfile, int(r.line_no), "lat",
                                    f"{r.id} lies {d:.1f} km outside {r.country}"))
    return dists


def _check_references(ds: Dataset, problems: list[Problem]) -> None:
    iso = set(ds.countries["iso3"])
    cfile, pfile = ds.files.get("crossings", "crossings.csv"), ds.files.get("places", "places.csv")
    kfile = ds.files.get("corridors", "corridors.csv")
    for r in ds.crossings.itertuples():
        for col in ("country_a", "country_b"):
            v = getattr(r, col)
            if v and iso and v not in iso:
                problems.append(Problem(cfile, int(r.line_no), col, f"unknown ISO3 code {v!r}"))
    for r in ds.places.itertuples():
        if r.country and iso and r.country not in iso:
            problems.append(Problem(pfile, int(r.line_no), "country",
                                    f"unknown ISO3 code {r.country!r}"))
    both = set(ds.crossings["id"]) & set(ds.places["id"])
    for r in ds.places.itertuples():
        if r.id in both:
            problems.append(Problem(pfile, int(r.line_no), "id",
                                    f"id {r.id!r} is also a crossing id"))
    node_countries: dict[str, set[str]] = {}
    for r in ds.places.itertuples():
        node_countries[r.id] = {r.country}
    for r in ds.crossings.itertuples():
        node_countries[r.id] = {r.country_a, r.country_b}
    if ds.crossings.empty or ds.places.empty:  # ids unknown: the reader said why
        return
    for r in ds.corridors.itertuples():
        ok = True
        for col in ("from_id", "to_id"):
            v = getattr(r, col)
            if v and v not in node_countries:
                problems.append(Problem(kfile, int(r.line_no), col,
                                        f"unknown place or crossing id {v!r}"))
                ok = False
        if ok and r.from_id and r.to_id and not node_countries[r.from_id] & node_countries[r.to_id]:
            problems.append(Problem(
                kfile, int(r.line_no), "to_id",
                f"{r.from_id} and {r.to_id} share no country: a corridor may cross a border "
                "only through a crossing node"))


def _check_dated(ds: Dataset, problems: list[Problem]) -> None:
    """Check the dated files against the others (ids, roles, coverage, crossings.csv)."""
    cfile = ds.files.get("crossings", "crossings.csv")
    if ds.status_history is not None and not ds.crossings.empty:
        hfile = ds.files.get("status_history", "status_history.csv")
        hist = ds.status_history
        history.check_history(hist, hfile, set(ds.crossings["id"]), problems,
                              start=HISTORY_START)
        for r in ds.crossings.itertuples():
            try:
                when = history.to_date(r.as_of)
            except ValueError:
                continue  # reported by read_crossings
            rows = hist[hist["crossing_id"] == r.id]
            on = history.status_on(rows, when).get(r.id)
            if on is not None and on[0] != r.status:
                problems.append(Problem(cfile, int(r.line_no), "status",
                                        f"{r.status!r} on {when} but {hfile} says {on[0]!r} "
                                        "on that date"))
    roles = dict(zip(ds.places["id"], ds.places["role"]))
    for name, col, role in (("supply", "origin_id", "origin"), ("demand", "market_id", "market")):
        frame = getattr(ds, name)
        if frame is None or ds.places.empty:
            continue
        file = ds.files.get(name, f"{name}.csv")
        for r in frame.itertuples():
            v = getattr(r, col)
            if v and roles.get(v) != role:
                what = "unknown place id" if v not in roles else f"a {roles[v]}, not an {role}"
                problems.append(Problem(file, int(r.line_no), col, f"{v!r}: {what}"))


def _check_traffic(ds: Dataset, problems: list[Problem]) -> None:
    if ds.border_traffic is None or ds.crossings.empty:
        return
    traffic.check_traffic_ids(ds.border_traffic,
                              ds.files.get("border_traffic", "border_traffic.csv"),
                              set(ds.crossings["id"]), problems)


def _check_flow_files(ds: Dataset, problems: list[Problem]) -> None:
    """Check ``hubs.csv`` against the places and countries (:func:`flowfiles.check_hubs`)."""
    if ds.hubs is None or ds.places.empty:
        return
    places = {r.id: (r.role, r.country) for r in ds.places.itertuples()}
    flowfiles.check_hubs(ds.hubs, ds.files.get("hubs", "hubs.csv"), places,
                         set(ds.countries["iso3"]), problems)


def validate_dataset(ds: Dataset, *, raise_on_error: bool = True,
                     skipped: list[str] | None = None) -> list[Problem]:
    """Check the files against each other and against geography.

    Checks: known ISO3 codes; unique ids across places and crossings; each land crossing
    within 15 km of its two countries' shared border (catches swapped lat/lon and wrong
    countries); each port of entry within 15 km of its country; each place inside its country
    (5 km tolerance on coasts); corridors whose endpoints exist and share a country; the
    status history (known ids, every crossing covered from 2018-01-01 without gaps or
    overlaps, agreeing with ``crossings.csv``'s status on its ``as_of`` date); supply and
    demand rows on origins and markets; hubs on known places serving known markets or
    countries; ``border_traffic.csv`` rows on known crossings.

    Rows that could not be read are left out; ``skipped`` (a list) receives a line per check
    that could not run, and why.
    """
    problems: list[Problem] = []
    notes: list[str] = [] if skipped is None else skipped
    _check_references(ds, problems)
    _check_dated(ds, problems)
    _check_traffic(ds, problems)
    _check_flow_files(ds, problems)
    _check_geography(ds, problems, notes)
    if problems and raise_on_error:
        raise DataError(problems, skipped=notes)
    return problems


def border_distances(ds: Dataset) -> pd.Series:
    """Distance (km) of each crossing to its shared border (ports: to their country)."""
    return pd.Series(_check_geography(ds, []), name="border_km").sort_values(ascending=False)
