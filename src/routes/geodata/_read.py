"""Read the input files: countries, crossings, places and corridors, and the field lists.

Every reader returns a (Geo)DataFrame and never modifies its input file. Row numbers are the
line numbers an editor shows (the header is line 1).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import Point

from .._csv import (
    CONTROL_CHARS,
    check_enum,
    check_required,
    check_unique,
    read_table,
    to_float,
)
from .._errors import DataError, Problem
from ..costs import CORRIDOR_MODES

__all__ = [
    "CROSSING_MODES",
    "LAND_MODES",
    "STATUSES",
    "ROLES",
    "BORDER_TOLERANCE_KM",
    "COAST_TOLERANCE_KM",
    "PORT_TOLERANCE_KM",
    "DATED_FILES",
    "HISTORY_START",
    "CROSSING_FIELDS",
    "PLACE_FIELDS",
    "CORRIDOR_FIELDS",
    "Dataset",
    "read_countries",
    "read_crossings",
    "read_places",
    "read_corridors",
]

CROSSING_MODES = ("road", "rail", "river_bridge", "mountain_pass", "ferry", "sea", "air")
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
#: Optional ``corridors.csv`` column: "yes" = travelled only from ``from_id`` to ``to_id``
#: (a sea or air link used one way, issue 19); empty or "no" = both ways.
CORRIDOR_ONEWAY = "oneway"
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
    #: Flow files (:mod:`routes.flowfiles`; applied by :mod:`routes.supplyside`): wholesale
    #: hubs and opium stocks; ``None`` when the file is absent.
    hubs: pd.DataFrame | None = None
    stocks: pd.DataFrame | None = None
    #: The date the statuses, supply and demand were resolved for (:func:`dataset_as_of`).
    as_of: date | None = None
    #: Legitimate traffic per crossing (:mod:`routes.traffic`); ``None`` when the file is
    #: absent. Not part of :attr:`data_hash` (no network build reads it); the outputs that
    #: use it record its own hash.
    border_traffic: pd.DataFrame | None = None

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
    """Read ``corridors.csv`` (links between place and crossing ids; one-way if ``oneway``)."""
    own = problems is None
    probs: list[Problem] = [] if problems is None else problems
    file = str(path)
    df = read_table(Path(path), (*CORRIDOR_FIELDS, CORRIDOR_ONEWAY), probs,
                    optional=_OPTIONAL | {CORRIDOR_ONEWAY})
    check_required(df, file, CORRIDOR_FIELDS, probs)
    check_unique(df, file, "id", probs)
    check_enum(df, file, "mode", CORRIDOR_MODES, probs)
    check_enum(df, file, CORRIDOR_ONEWAY, ("yes", "no"), probs)
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
