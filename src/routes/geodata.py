"""Read and validate the input data: countries, crossings, places and corridors.

Every reader returns a (Geo)DataFrame and never modifies its input file. Validation collects
every problem in every file, each with file, row and field, and raises one :class:`DataError`.
Row numbers are the line numbers an editor shows (the header is line 1).
"""

from __future__ import annotations

import hashlib
import logging
import math
import warnings
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import Point

from . import history
from ._csv import (
    CONTROL_CHARS,
    check_enum,
    check_required,
    check_unique,
    read_table,
    to_float,
)
from ._errors import DataError, Problem, RoutesError
from .costs import CORRIDOR_MODES

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
]

log = logging.getLogger(__name__)

CROSSING_MODES = ("road", "rail", "river_bridge", "mountain_pass", "ferry", "sea")
LAND_MODES = ("road", "rail", "river_bridge", "mountain_pass")
STATUSES = ("open", "restricted", "closed")
ROLES = ("origin", "staging", "transit", "market", "port")
#: A land crossing must lie within this distance of its two countries' shared border.
BORDER_TOLERANCE_KM = 15.0
#: A place (and a port of entry) may lie this far outside its country's polygon (coasts).
COAST_TOLERANCE_KM = 5.0
PORT_TOLERANCE_KM = 15.0
#: The dated input files (:mod:`routes.history`), read when present.
DATED_FILES = ("status_history", "supply", "demand")
#: The first date the status history must cover.
HISTORY_START = date(2018, 1, 1)

CROSSING_FIELDS = ("id", "name", "country_a", "country_b", "lat", "lon", "mode", "status",
                   "as_of", "crossing_class", "class_into_a", "p_detect", "upgrade_cost",
                   "p_detect_upgraded", "source", "coord_source")
PLACE_FIELDS = ("id", "name", "country", "lat", "lon", "role", "supply", "demand",
                "figure_source", "source")
CORRIDOR_FIELDS = ("id", "from_id", "to_id", "mode", "source")
_OPTIONAL = {"p_detect", "upgrade_cost", "p_detect_upgraded", "supply", "demand",
             "figure_source", "class_into_a", "coord_source"}


@dataclass
class Dataset:
    """The validated inputs of a network build."""

    countries: gpd.GeoDataFrame
    crossings: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    corridors: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)  # name -> path
    hashes: dict[str, str] = field(default_factory=dict)  # name -> sha256
    #: Dated inputs (:mod:`routes.history`); ``None`` when the file is absent.
    status_history: pd.DataFrame | None = None
    supply: pd.DataFrame | None = None
    demand: pd.DataFrame | None = None
    #: The date the statuses, supply and demand were resolved for (:func:`dataset_as_of`).
    as_of: date | None = None

    @property
    def data_hash(self) -> str:
        """One hash over the input files' hashes (order-independent)."""
        h = hashlib.sha256()
        for k in sorted(self.hashes):
            h.update(f"{k}={self.hashes[k]}\n".encode())
        return h.hexdigest()


def _points(df: pd.DataFrame, lat: pd.Series, lon: pd.Series) -> gpd.GeoDataFrame:
    geom = [Point(x, y) if pd.notna(x) and pd.notna(y) else None for x, y in zip(lon, lat)]
    out = df.drop(columns=["lat", "lon"]).assign(lat=lat, lon=lon)
    return gpd.GeoDataFrame(out, geometry=geom, crs="EPSG:4326")


# --------------------------------------------------------------------------- readers
def read_countries(path: str | Path, problems: list[Problem] | None = None) -> gpd.GeoDataFrame:
    """Read the country polygons (``iso3``, ``name``, geometry in EPSG:4326).

    Raises
    ------
    DataError
        When the file is missing or lacks the ``iso3`` column (unless ``problems`` is given,
        in which case the problems are appended to it and an empty frame is returned).
    """
    own = problems is None
    probs: list[Problem] = [] if problems is None else problems
    file = str(path)
    try:
        with warnings.catch_warnings():   # a NaN coordinate: named by _check_features
            warnings.filterwarnings("ignore", "invalid value encountered in from_wkb",
                                    RuntimeWarning)
            gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        probs.append(Problem(file, None, None, f"cannot read: {exc}"))
        gdf = gpd.GeoDataFrame({"iso3": [], "name": []}, geometry=[], crs="EPSG:4326")
    else:
        for col in ("iso3", "name"):
            if col not in gdf.columns:
                probs.append(Problem(file, None, col, "required property missing"))
                gdf[col] = ""
        if gdf.crs is None:
            gdf = gdf.set_crs("EPSG:4326")
        gdf = gdf.to_crs("EPSG:4326")
        _check_features(gdf, file, probs)
    if own and probs:
        raise DataError(probs)
    keep = ["iso3", "name"] + (["source"] if "source" in gdf.columns else []) + ["geometry"]
    return gdf[keep].reset_index(drop=True)


def _feature(gdf: gpd.GeoDataFrame, i: int) -> str:
    return f"feature {i + 1} (iso3 {gdf['iso3'].iat[i]!r}, {gdf['name'].iat[i]})"


def _check_features(gdf: gpd.GeoDataFrame, file: str, probs: list[Problem]) -> None:
    """Each country feature needs a valid (multi)polygon and names without control characters."""
    for i, geom in enumerate(gdf.geometry):
        if geom is None or geom.is_empty:
            probs.append(Problem(file, None, "geometry", f"{_feature(gdf, i)}: no geometry"))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            probs.append(Problem(file, None, "geometry",
                                 f"{_feature(gdf, i)}: a {geom.geom_type}, not a polygon"))
        elif not np.isfinite(shapely.get_coordinates(geom)).all():
            probs.append(Problem(file, None, "geometry", f"{_feature(gdf, i)}: a coordinate is "
                                 "not a finite number"))
        elif not geom.is_valid:
            probs.append(Problem(file, None, "geometry", f"{_feature(gdf, i)}: invalid polygon "
                                 f"({shapely.is_valid_reason(geom)}); repair it, e.g. with "
                                 "shapely.make_valid or QGIS 'Fix geometries'"))
        for col in ("iso3", "name"):
            v = gdf[col].iat[i]
            if isinstance(v, str) and CONTROL_CHARS.search(v):
                probs.append(Problem(file, None, col, f"{_feature(gdf, i)}: control character "
                                     "in the text; remove it"))


def _usable_countries(countries: gpd.GeoDataFrame) -> dict[str, Any]:
    """Country polygons the geography checks can use (valid polygons only)."""
    return {r.iso3: r.geometry for r in countries.itertuples()
            if r.geometry is not None and not r.geometry.is_empty
            and r.geometry.geom_type in ("Polygon", "MultiPolygon") and r.geometry.is_valid}


def _finish(probs: list[Problem], own: bool) -> None:
    if own and probs:
        raise DataError(probs)


def read_crossings(path: str | Path, problems: list[Problem] | None = None, *,
                   classes: set[str] | None = None) -> gpd.GeoDataFrame:
    """Read ``crossings.csv`` and check each row on its own (schema, types, ranges, sets).

    Checks that need other files (countries, borders) are done by :func:`validate_dataset`.
    """
    own = problems is None
    probs: list[Problem] = [] if problems is None else problems
    file = str(path)
    df = read_table(Path(path), CROSSING_FIELDS, probs, optional=_OPTIONAL)
    check_required(df, file, ("id", "name", "country_a", "country_b", "lat", "lon", "mode",
                               "status", "as_of", "crossing_class", "source"), probs)
    check_unique(df, file, "id", probs)
    lat = to_float(df, file, "lat", probs, lo=-90, hi=90)
    lon = to_float(df, file, "lon", probs, lo=-180, hi=180)
    check_enum(df, file, "mode", CROSSING_MODES, probs)
    check_enum(df, file, "status", STATUSES, probs)
    if classes is not None:
        check_enum(df, file, "crossing_class", classes, probs)
        check_enum(df, file, "class_into_a", classes, probs)
    for i in df.index:
        row = int(df.at[i, "line_no"])
        if df.at[i, "as_of"]:
            try:
                date.fromisoformat(df.at[i, "as_of"])
            except ValueError:
                probs.append(Problem(file, row, "as_of",
                                     f"not an ISO date (YYYY-MM-DD): {df.at[i, 'as_of']!r}"))
        if df.at[i, "country_a"] and df.at[i, "country_a"] == df.at[i, "country_b"]:
            probs.append(Problem(file, row, "country_b", "same as country_a"))
    df["p_detect"] = to_float(df, file, "p_detect", probs, lo=0.0, hi=0.99)
    df["upgrade_cost"] = to_float(df, file, "upgrade_cost", probs, lo=0.0)
    df["p_detect_upgraded"] = to_float(df, file, "p_detect_upgraded", probs, lo=0.0, hi=0.99)
    bad_up = df["p_detect_upgraded"] < df["p_detect"]
    for row in df.loc[bad_up, "line_no"]:
        probs.append(Problem(file, int(row), "p_detect_upgraded", "is below p_detect"))
    _finish(probs, own)
    return _points(df, lat, lon)


def read_places(path: str | Path, problems: list[Problem] | None = None, *,
                dated: frozenset[str] | set[str] = frozenset()) -> gpd.GeoDataFrame:
    """Read ``places.csv`` and check each row on its own.

    Origins need a positive ``supply`` and markets a positive ``demand``; other roles have
    neither. ``dated`` names the figures ("supply", "demand") that come from a dated file
    (``supply.csv``, ``demand.csv``) instead: an origin or market may then leave them empty.
    """
    own = problems is None
    probs: list[Problem] = [] if problems is None else problems
    file = str(path)
    df = read_table(Path(path), PLACE_FIELDS, probs, optional=_OPTIONAL)
    check_required(df, file, ("id", "name", "country", "lat", "lon", "role", "source"), probs)
    check_unique(df, file, "id", probs)
    lat = to_float(df, file, "lat", probs, lo=-90, hi=90)
    lon = to_float(df, file, "lon", probs, lo=-180, hi=180)
    check_enum(df, file, "role", ROLES, probs)
    df["supply"] = to_float(df, file, "supply", probs, lo=0.0, lo_open=True)
    df["demand"] = to_float(df, file, "demand", probs, lo=0.0, lo_open=True)
    for i in df.index:
        row, role = int(df.at[i, "line_no"]), df.at[i, "role"]
        for col, need_role in (("supply", "origin"), ("demand", "market")):
            has = df.at[i, col] != "" if isinstance(df.at[i, col], str) else pd.notna(df.at[i, col])
            if role == need_role and not has and col not in dated:
                probs.append(Problem(file, row, col, f"a {need_role} needs a {col} figure"))
            if role != need_role and has and role in ROLES:
                probs.append(Problem(file, row, col, f"only a {need_role} has a {col} figure"))
            if role == need_role and has and not df.at[i, "figure_source"]:
                probs.append(Problem(file, row, "figure_source",
                                     f"the {col} figure needs a source"))
    _finish(probs, own)
    return _points(df, lat, lon)


def read_corridors(path: str | Path, problems: list[Problem] | None = None) -> pd.DataFrame:
    """Read ``corridors.csv`` (undirected links between place and crossing ids)."""
    own = problems is None
    probs: list[Problem] = [] if problems is None else problems
    file = str(path)
    df = read_table(Path(path), CORRIDOR_FIELDS, probs, optional=_OPTIONAL)
    check_required(df, file, CORRIDOR_FIELDS, probs)
    check_unique(df, file, "id", probs)
    check_enum(df, file, "mode", CORRIDOR_MODES, probs)
    for i in df.index:
        if df.at[i, "from_id"] and df.at[i, "from_id"] == df.at[i, "to_id"]:
            probs.append(Problem(file, int(df.at[i, "line_no"]), "to_id",
                                 "self-loop: from_id and to_id are the same"))
    seen: dict[frozenset[str], int] = {}
    for i in df.index:
        key = frozenset((df.at[i, "from_id"], df.at[i, "to_id"]))
        row = int(df.at[i, "line_no"])
        if len(key) == 2 and key in seen:
            probs.append(Problem(file, row, "to_id",
                                 f"duplicate link (same endpoints as row {seen[key]})"))
        seen.setdefault(key, row)
    _finish(probs, own)
    return df


# --------------------------------------------------------------------------- cross-file checks
def _distance_km(geom: Any, lon: float, lat: float) -> float:
    """Return the distance in km from (lon, lat) to ``geom``.

    The nearest point of ``geom`` is found in a local equirectangular frame centred on the
    point (longitudes scaled by cos(lat); within the ~1.5 degree window searched first, its
    error on which point is nearest is well under 1%), and the distance to it is then measured
    on the WGS84 ellipsoid, so the figure reported is a true geodesic distance.
    """
    from .costs import geodesic_km

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


def validate_dataset(ds: Dataset, *, raise_on_error: bool = True,
                     skipped: list[str] | None = None) -> list[Problem]:
    """Check the files against each other and against geography.

    Checks: known ISO3 codes; unique ids across places and crossings; each land crossing
    within 15 km of its two countries' shared border (catches swapped lat/lon and wrong
    countries); each port of entry within 15 km of its country; each place inside its country
    (5 km tolerance on coasts); corridors whose endpoints exist and share a country; the
    status history (known ids, every crossing covered from 2018-01-01 without gaps or
    overlaps, agreeing with ``crossings.csv``'s status on its ``as_of`` date); supply and
    demand rows on origins and markets.

    Rows that could not be read are left out; ``skipped`` (a list) receives a line per check
    that could not run, and why.
    """
    problems: list[Problem] = []
    notes: list[str] = [] if skipped is None else skipped
    _check_references(ds, problems)
    _check_dated(ds, problems)
    _check_geography(ds, problems, notes)
    if problems and raise_on_error:
        raise DataError(problems, skipped=notes)
    return problems


def border_distances(ds: Dataset) -> pd.Series:
    """Distance (km) of each crossing to its shared border (ports: to their country)."""
    return pd.Series(_check_geography(ds, []), name="border_km").sort_values(ascending=False)


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
        ``status_history.csv``, ``supply.csv`` and ``demand.csv`` (:mod:`routes.history`).
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
    for name in DATED_FILES:
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
    dated = {k: readers[k](paths[k], problems) for k in DATED_FILES if k in paths}
    ds = Dataset(countries, crossings, places, corr,
                 files={k: str(v) for k, v in paths.items()},
                 hashes={k: _sha256(v) for k, v in paths.items()}, **dated)
    skipped: list[str] = []
    if validate:
        # One pass: the cross-file checks run on the rows that could be read, whatever the
        # problems of the others; a check that cannot run says so.
        frames = {"countries": countries, "crossings": crossings, "places": places,
                  "corridors": corr, **dated}
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
    from .costs import geodesic_km

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
    return replace(ds, crossings=crossings, places=places, as_of=when)
