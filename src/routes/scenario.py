"""Scenario overlays: close or reopen crossings, change detection, supply and demand.

A scenario is a TOML file applied to the validated data and the cost model before the network
is built; it never modifies them. Format::

    [scenario]
    name = "short-name"
    description = "what changes and why"
    as_of = "2025-06-30"
    sources = ["Publisher, Title, Year"]

    [crossings.x_some_id]       # any of: status, p_detect, delay_h, upgraded
    status = "closed"

    [crossings.x_other_id]      # the post upgraded: p_detect becomes its p_detect_upgraded
    upgraded = true             # (the row's, else its class's); not together with p_detect

    [classes.bomca]             # class-wide overrides: p_detect, delay_h
    p_detect = 0.10

    [places.p_some_id]          # supply (origins) or demand (markets)
    demand = 120.0

    [uncertainty]               # optional Monte-Carlo ranges, read by routes uncertainty
    p_detect = [0.8, 1.2]       # (see routes.uncertainty.uncertainty.load_ranges)
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._csv import CONTROL_CHARS
from ._errors import Problem, ScenarioError
from .costs import ClassParams, CostModel
from .geodata import STATUSES, Dataset

__all__ = ["Scenario", "load_scenario", "scenario_problems", "apply_scenario", "BASELINE"]

_CROSSING_KEYS = {"status": str, "p_detect": float, "delay_h": float, "upgraded": bool}
_CLASS_KEYS = {"p_detect": float, "delay_h": float}
_PLACE_KEYS = {"supply": float, "demand": float}


@dataclass(frozen=True)
class Scenario:
    """An overlay on the base data (immutable)."""

    name: str
    description: str = ""
    as_of: str = ""
    sources: tuple[str, ...] = ()
    crossings: dict[str, dict[str, Any]] = field(default_factory=dict)
    classes: dict[str, dict[str, float]] = field(default_factory=dict)
    places: dict[str, dict[str, float]] = field(default_factory=dict)
    source_hash: str = ""
    path: str = ""
    #: The cost model the scenario was made with (file name and sha256; the what-if page's
    #: download names them), empty when unknown. The CLI warns when it differs from the one
    #: a command runs with.
    cost_model: str = ""
    cost_model_sha256: str = ""

    @property
    def label(self) -> str:
        """Return the scenario as headings name it: its ``name``, and its file where they differ.

        Output folders are named after the scenario's file, the name a user typed
        (``--scenario eu_east.toml`` writes ``reports/eu_east/``); a heading that showed only
        the TOML ``name`` would not say which file, or folder, it belongs to.

        Examples
        --------
        >>> Scenario(name="eu-east closed", path="data/eu_east.toml").label
        'eu-east closed (eu_east.toml)'
        >>> Scenario(name="eu_east", path="data/eu_east.toml").label, BASELINE.label
        ('eu_east', 'baseline')
        """
        file = Path(self.path)
        return self.name if not self.path or file.stem == self.name else (
            f"{self.name} ({file.name})")


#: The empty overlay: the data as shipped.
BASELINE = Scenario(name="baseline", description="The shipped data, unchanged.")


def _check_values(file: str, table: str, entries: Any, allowed: Mapping[str, type],
                  problems: list[Problem]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(entries, dict):
        problems.append(Problem(file, None, table, "must be a table of ids"))
        return out
    for key, vals in entries.items():
        where = f"{table}.{key}"
        if not isinstance(vals, dict):
            problems.append(Problem(file, None, where, "must be a table"))
            continue
        clean: dict[str, Any] = {}
        for k, v in vals.items():
            if k not in allowed:
                problems.append(Problem(file, None, f"{where}.{k}",
                                        f"unknown key; allowed: {', '.join(sorted(allowed))}"))
            elif allowed[k] is float:
                if (isinstance(v, bool) or not isinstance(v, int | float)
                        or not math.isfinite(v) or v < 0):
                    problems.append(Problem(file, None, f"{where}.{k}",
                                            f"must be a finite number >= 0, got {v!r}"))
                elif k == "p_detect" and v > 0.99:
                    problems.append(Problem(file, None, f"{where}.{k}",
                                            f"must be <= 0.99, got {v!r}"))
                else:
                    clean[k] = float(v)
            elif allowed[k] is bool and not isinstance(v, bool):
                problems.append(Problem(file, None, f"{where}.{k}",
                                        f"must be true or false, got {v!r}"))
            elif k == "status" and v not in STATUSES:
                problems.append(Problem(file, None, f"{where}.{k}",
                                        f"{v!r} is not one of {', '.join(STATUSES)}"))
            else:
                clean[k] = v
        if vals.get("upgraded") is True and "p_detect" in vals:
            problems.append(Problem(file, None, f"{where}.upgraded",
                                    "give either upgraded = true or p_detect, not both"))
        out[key] = clean
    return out


def _check_meta(file: str, meta: dict[str, Any], problems: list[Problem]) -> None:
    """``[scenario]``: texts are strings without control characters, sources a list of them."""
    for key in ("name", "description", "as_of", "cost_model", "cost_model_sha256"):
        v = meta.get(key)
        if v is not None and not isinstance(v, str):
            problems.append(Problem(file, None, f"scenario.{key}", f"must be a string, got {v!r}"))
        elif isinstance(v, str) and CONTROL_CHARS.search(v):
            problems.append(Problem(file, None, f"scenario.{key}",
                                    "control character in the text; remove it"))
    sources = meta.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(x, str) for x in sources):
        problems.append(Problem(file, None, "scenario.sources",
                                f"must be a list of strings, got {sources!r}"))
        meta["sources"] = []
    elif any(CONTROL_CHARS.search(x) for x in sources):
        problems.append(Problem(file, None, "scenario.sources",
                                "control character in the text; remove it"))


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file.

    Raises
    ------
    ScenarioError
        With every problem found (file and dotted key as the field).
    """
    sc, problems = _read_scenario(Path(path))
    if problems or sc is None:
        raise ScenarioError(problems)
    return sc


def scenario_problems(path: str | Path, ds: Dataset | None, cm: CostModel | None
                      ) -> list[Problem]:
    """Return every problem of scenario file ``path`` in one pass: its format and its ids.

    The ids and values that could be read are checked against the data and the cost model
    (:func:`apply_scenario`) even when others could not; without data, the format only.
    """
    sc, problems = _read_scenario(Path(path))
    if sc is not None and ds is not None and cm is not None:
        try:
            apply_scenario(ds, cm, sc)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    return problems


def _read_scenario(path: Path) -> tuple[Scenario | None, list[Problem]]:
    file = str(path)
    try:
        data = path.read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))  # "UTF-8": the same codec (equivalent)
    except OSError as exc:
        return None, [Problem(file, None, None, f"cannot read: {exc.strerror}")]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [Problem(file, None, None, f"not valid TOML: {exc}")]
    problems: list[Problem] = []
    # [uncertainty] holds Monte-Carlo ranges: read and checked by
    # routes.uncertainty.uncertainty.load_ranges, not applied to the network.
    unknown = set(raw) - {"scenario", "crossings", "classes", "places", "uncertainty"}
    for key in sorted(unknown):
        problems.append(Problem(file, None, key, "unknown table"))
    meta = raw.get("scenario", {})
    if not isinstance(meta, dict) or not meta.get("name"):
        problems.append(Problem(file, None, "scenario.name", "required"))
        meta = meta if isinstance(meta, dict) else {}
    _check_meta(file, meta, problems)
    sc = Scenario(
        # The default is never seen (a missing name raises below): a mutated default is
        # equivalent.
        name=str(meta.get("name", path.stem)),
        description=str(meta.get("description", "")),
        as_of=str(meta.get("as_of", "")),
        sources=tuple(str(s) for s in meta.get("sources", [])),
        crossings=_check_values(file, "crossings", raw.get("crossings", {}), _CROSSING_KEYS,
                                problems),
        classes=_check_values(file, "classes", raw.get("classes", {}), _CLASS_KEYS, problems),
        places=_check_values(file, "places", raw.get("places", {}), _PLACE_KEYS, problems),
        source_hash=hashlib.sha256(data).hexdigest(),
        path=file,
        cost_model=str(meta.get("cost_model", "")),
        cost_model_sha256=str(meta.get("cost_model_sha256", "")),
    )
    return sc, problems


def apply_scenario(ds: Dataset, cm: CostModel, scenario: Scenario | None
                   ) -> tuple[Dataset, CostModel]:
    """Return copies of the data and cost model with the scenario applied.

    The inputs are not modified. Unknown crossing, place or class ids, supply on a
    non-origin and demand on a non-market raise :class:`ScenarioError`.
    """
    if scenario is None or scenario is BASELINE:
        return ds, cm
    file = scenario.path or scenario.name
    problems: list[Problem] = []
    crossings = ds.crossings.copy()
    places = ds.places.copy()
    cidx = {v: i for i, v in zip(crossings.index, crossings["id"])}
    pidx = {v: i for i, v in zip(places.index, places["id"])}
    for cid, vals in scenario.crossings.items():
        if cid not in cidx:
            problems.append(Problem(file, None, f"crossings.{cid}", "unknown crossing id"))
            continue
        for k, v in vals.items():
            if k == "upgraded":
                continue  # applied below, once the class parameters are final
            col = "delay_h_override" if k == "delay_h" else k
            if col not in crossings.columns:
                # float("NAN") is the same NaN: that mutant is equivalent.
                crossings[col] = float("nan")
            crossings.loc[cidx[cid], col] = v
    for pid, vals in scenario.places.items():
        if pid not in pidx:
            problems.append(Problem(file, None, f"places.{pid}", "unknown place id"))
            continue
        role = places.at[pidx[pid], "role"]
        for k, v in vals.items():
            need = "origin" if k == "supply" else "market"
            if role != need:
                problems.append(Problem(file, None, f"places.{pid}.{k}",
                                        f"only a {need} has {k}; {pid} is a {role}"))
            else:
                places.loc[pidx[pid], k] = v
    classes = dict(cm.classes)
    for cls, vals in scenario.classes.items():
        if cls not in classes:
            problems.append(Problem(file, None, f"classes.{cls}", "unknown crossing class"))
            continue
        new: ClassParams = replace(classes[cls], **vals)
        # ``<=`` would be equivalent: when equal, the replacement changes nothing.
        if new.p_detect_upgraded < new.p_detect:
            new = replace(new, p_detect_upgraded=new.p_detect)
        classes[cls] = new
    _upgrade(crossings, cidx, classes, scenario)
    if problems:
        raise ScenarioError(problems)
    return replace(ds, crossings=crossings, places=places), cm.with_changes(classes=classes)


def _upgrade(crossings: Any, cidx: Mapping[str, Any], classes: Mapping[str, ClassParams],
             scenario: Scenario) -> None:
    """Set ``p_detect`` of every crossing marked ``upgraded = true`` to its upgraded level.

    The level is the row's ``p_detect_upgraded``, else its class's; an upgrade never lowers
    detection (a post already above that level keeps its ``p_detect``).
    """
    for cid, vals in scenario.crossings.items():
        if vals.get("upgraded") is not True or cid not in cidx:
            continue
        i = cidx[cid]
        params = classes[crossings.at[i, "crossing_class"]]
        p, up = _opt(crossings.at[i, "p_detect"]), _opt(crossings.at[i, "p_detect_upgraded"])
        p = params.p_detect if p is None else p
        up = params.p_detect_upgraded if up is None else up
        crossings.loc[i, "p_detect"] = max(p, up)


def _opt(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f
