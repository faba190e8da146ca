"""Provenance of a report: input files and their hashes, scenario, parameters, versions, date.

Only :func:`provenance` carries a timestamp; the tables built here (:func:`inputs_table`,
:func:`scenario_changes`) carry none, so they are the same on every run with the same inputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ._model import ReportResults

__all__ = ["provenance", "previous_files", "inputs_table", "scenario_changes", "package_versions",
           "PACKAGES"]

#: Packages whose versions a report records (those that shape its numbers or files).
PACKAGES = ("networkx", "igraph", "numpy", "scipy", "pandas", "geopandas", "shapely", "pyproj",
            "pyogrio", "folium", "matplotlib", "jinja2", "tqdm")


def package_versions() -> dict[str, str]:
    """Versions of Python, routes and :data:`PACKAGES` (``"not installed"`` if missing)."""
    out = {"python": platform.python_version(), "routes": __version__}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    try:
        import pyogrio

        out["GDAL"] = str(pyogrio.__gdal_version_string__)
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inputs_table(res: ReportResults) -> pd.DataFrame:
    """Tabulate the input files with their SHA-256: data files, cost model, scenario.

    Indexed by ``input`` (``countries``, ``crossings``, ..., ``cost_model``, ``scenario``);
    columns ``file`` (the name) and ``sha256``. The table depends on the files' contents only,
    not on where they are (their paths are in :func:`provenance`).
    """
    return pd.DataFrame(_input_rows(res), columns=["input", "file", "sha256", "path"]
                        ).set_index("input").drop(columns=["path"])


def _input_rows(res: ReportResults) -> list[dict[str, str]]:
    rows = []
    if res.dataset is not None:
        for name in sorted(res.dataset.files):
            p = Path(res.dataset.files[name])
            rows.append({"input": name, "file": p.name,
                         "sha256": res.dataset.hashes.get(name, ""), "path": str(p)})
    if res.cm.path:
        p = Path(res.cm.path)
        rows.append({"input": "cost_model", "file": p.name, "sha256": res.cm.source_hash,
                     "path": str(p)})
    if res.scenario.path:
        p = Path(res.scenario.path)
        rows.append({"input": "scenario", "file": p.name, "sha256": res.scenario.source_hash,
                     "path": str(p)})
    return rows


def scenario_changes(res: ReportResults) -> pd.DataFrame:
    """Tabulate what the scenario overrides: one row per (target, id, field), sorted.

    Columns ``target`` (``crossings``, ``classes``, ``places``), ``id``, ``field``, ``value``.
    """
    sc = res.scenario
    rows = [{"target": target, "id": key, "field": fld, "value": str(val)}
            for target, table in (("crossings", sc.crossings), ("classes", sc.classes),
                                  ("places", sc.places))
            for key, vals in sorted(table.items()) for fld, val in sorted(vals.items())]
    return pd.DataFrame(rows, columns=["target", "id", "field", "value"])


def provenance(res: ReportResults, *, generated: dt.datetime | None = None,
               command: str | None = None) -> dict[str, Any]:
    """Everything needed to reproduce a report, as a JSON-ready dict.

    Keys: ``generated`` (UTC date and time, the report's only timestamp), ``command``,
    ``network`` (the graph's name, version, data, cost model and scenario hashes),
    ``scenario`` (name, description, as-of date, sources, file), ``cost_model`` (name,
    file, hash), ``options`` (weight, engine, seed, runs, budget, ...), ``inputs`` (file
    hashes), ``versions`` (:func:`package_versions`).
    """
    from ..settings import ENGINE

    when = generated or dt.datetime.now(dt.UTC)
    G, sc, cm = res.G, res.scenario, res.cm
    opts = res.options.as_dict()
    opts["engine"] = opts["engine"] or ENGINE
    return {
        "generated": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command or "",
        "network": {k: G.graph.get(k, "") for k in (
            "name", "routes_version", "data_hash", "cost_model", "cost_model_hash", "scenario",
            "scenario_hash", "as_of", "crs")},
        "scenario": {"name": sc.name, "description": sc.description, "as_of": sc.as_of,
                     "sources": list(sc.sources), "file": sc.path, "sha256": sc.source_hash},
        "cost_model": {"name": cm.name, "description": cm.description, "file": cm.path,
                       "sha256": cm.source_hash},
        "options": opts,
        "inputs": _input_rows(res),
        "versions": package_versions(),
    }


def previous_files(out: Path) -> set[str]:
    """Return the files of the report in folder ``out``, as its ``provenance.json`` lists them.

    Empty when there is none (or it predates the list): then every file is kept.
    """
    try:
        text = (Path(out) / "provenance.json").read_text(encoding="utf-8")
        files = json.loads(text)["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {str(f) for f in files} if isinstance(files, list) else set()
