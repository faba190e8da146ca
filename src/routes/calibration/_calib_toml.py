"""Write a calibrated cost model in the same commented format as the one it came from.

The base file's text is kept line by line (every comment, every table); each calibrated value
replaces the value on its line, with a comment above it giving the value it replaces, the
fitted parameter and its 90% interval; a ``[calibration]`` table at the end records the fit's
provenance (data hashes, years, objective, evaluations, seed) and every parameter's estimate,
interval, range and whether the data pin it down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..costs import CostModel

__all__ = ["calibrated_text"]

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-]+)(\s*=\s*)(.*?)\s*$")


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(float(f"{v:.6g}"))
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_fmt(x)}" for k, x in v.items()) + " }"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _changes(base: CostModel, cal: CostModel, params: pd.DataFrame
             ) -> dict[tuple[str, str], tuple[Any, str]]:
    """``(table, key) -> (new value, comment)`` for every value the calibration changed."""
    from .calibrate import PARAMETERS

    def why(name: str) -> str:
        r = params.loc[name]
        pin = "" if r["pinned"] else f"; NOT pinned down by the data ({r['note']})"
        return (f"{name} = {r['value']:.4g} (90% interval {r['p05']:.4g}-{r['p95']:.4g}, "
                f"range {r['lo']:g}-{r['hi']:g}){pin}")

    out: dict[tuple[str, str], tuple[Any, str]] = {}
    for name in params.index:
        p = PARAMETERS[name]
        if p.kind == "group":
            for c in p.classes:
                if c not in cal.classes:
                    continue
                old, new = base.classes[c], cal.classes[c]
                out[(f"classes.{c}", "p_detect")] = (
                    new.p_detect, f"calibrated: was {old.p_detect:g}; -ln(1 - p) times {why(name)}")
                out[(f"classes.{c}", "p_detect_upgraded")] = (
                    new.p_detect_upgraded, f"calibrated: was {old.p_detect_upgraded:g} "
                                           f"(scaled like p_detect)")
        elif p.kind == "inland":
            for m, v in cal.modes.items():
                out[(f"modes.{m}", "risk_per_1000km")] = (
                    v.risk_per_1000km, f"calibrated: was {base.modes[m].risk_per_1000km:g}; "
                                       f"times {why(name)}")
        elif p.kind == "hours_per_risk":
            out[("weights", "hours_per_risk")] = (cal.hours_per_risk,
                                                  f"calibrated: was {base.hours_per_risk:g}; "
                                                  f"{why(name)}")
        elif p.kind == "logit_theta":
            out[("flow", "logit_theta")] = (cal.logit_theta,
                                            f"calibrated: was {base.logit_theta:g}; {why(name)}")
        elif p.kind == "trafficked_share":
            old = base.raw.get("observation", {}).get("trafficked_share", 1.0)
            out[("observation", "trafficked_share")] = (
                cal.raw["observation"]["trafficked_share"], f"calibrated: was {old:g}; "
                                                            f"{why(name)}")
    return out


def calibrated_text(base_text: str, base: CostModel, cal: CostModel, params: pd.DataFrame,
                    provenance: Mapping[str, Any]) -> str:
    """Return the calibrated cost model file (module notes)."""
    changes = _changes(base, cal, params)
    changes[("", "name")] = (cal.name, "calibrated by `routes calibrate` (see [calibration])")
    changes[("", "description")] = (
        f"{base.description} Calibrated to reported seizures "
        f"({provenance.get('years', '')}; held out {provenance.get('holdout', '')}).",
        "")
    lines = base_text.splitlines()
    out: list[str] = []
    table = ""
    done: set[tuple[str, str]] = set()
    for ln in lines:
        h = _HEADER.match(ln)
        if h:
            table = h.group(1)
            if table == "calibration" or table.startswith("calibration."):
                break   # an older calibration table is replaced
        m = _KEY.match(ln)
        if m and not ln.lstrip().startswith("#") and (table, m.group(2)) in changes:
            val, why = changes[(table, m.group(2))]
            if why:
                out.append(f"{m.group(1)}# {why}")
            out.append(f"{m.group(1)}{m.group(2)}{m.group(3)}{_fmt(val)}")
            done.add((table, m.group(2)))
            continue
        out.append(ln)
    missing = [k for k in changes if k not in done]
    for tbl in dict.fromkeys(t for t, _ in missing):
        out += ["", f"[{tbl}]"] if tbl else []
        for t, key in missing:
            if t == tbl:
                val, why = changes[(t, key)]
                out += ([f"# {why}"] if why else []) + [f"{key} = {_fmt(val)}"]
    while out and not out[-1].strip():
        out.pop()
    out += ["", "# " + "-" * 93,
            "# Calibration: how the values marked 'calibrated' above were fitted "
            "(routes calibrate).",
            "# Weighted least squares on ln(observed + offset) - ln(modelled + offset) over the",
            "# country-years of the fitted years; intervals: 90% bootstrap over country-years.",
            "# " + "-" * 93, "[calibration]"]
    for k, v in provenance.items():
        out.append(f"{k} = {_fmt(v)}")
    for name, r in params.iterrows():
        out += ["", f"[calibration.parameters.{name}]"]
        for col in ("value", "base", "p05", "p95", "lo", "hi", "pinned", "note"):
            v = r[col]
            out.append(f"{col} = {_fmt(bool(v) if col == 'pinned' else v)}")
    return "\n".join(out) + "\n"
