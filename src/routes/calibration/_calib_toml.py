"""Write a calibrated cost model in the same commented format as the one it came from.

The base file's text is kept line by line (every comment, every table, every prior); each
calibrated route-choice value replaces the value on its line, with a comment above it giving
the value it replaces, its 90% posterior interval and its prior; ``[observation]`` gains the
hierarchical mean rate (``default_rate``) and ``[observation.seizure_rates]`` every fitted
country's rate with its interval; a ``[calibration]`` table at the end records the fit's
provenance (data hashes, years, objective, optimiser, seed), every route parameter's estimate,
interval, prior and whether the data pin it down, and the rolling-origin out-of-sample scores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..costs import CostModel

__all__ = ["calibrated_text"]

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-]+)(\s*=\s*)(.*?)\s*$")


def _fmt(v: Any) -> str:
    """Return ``v`` as a TOML value (numpy scalars as Python ones; floats to 6 digits)."""
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return repr(float(f"{v:.6g}"))
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_fmt(x)}" for k, x in v.items()) + " }"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _inline_comment(value: str) -> str:
    """Return the comment after a TOML value (text after a ``#`` outside quotes), or ''."""
    quote = ""
    escaped = False
    for i, ch in enumerate(value):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return value[i + 1:].strip()
    return ""


def _changes(base: CostModel, cal: CostModel, params: pd.DataFrame
             ) -> dict[tuple[str, str], tuple[Any, str]]:
    """``(table, key) -> (new value, comment)`` for every value the calibration changed."""
    from ._priors import ROUTE_PARAMETERS

    out: dict[tuple[str, str], tuple[Any, str]] = {}
    for name, r in params.iterrows():
        p = ROUTE_PARAMETERS[str(name)]
        pin = "" if r["pinned"] else "; NOT pinned by the data: the prior carries it"
        old = getattr(base, str(name))
        out[(p.table, str(name))] = (
            float(getattr(cal, str(name))),
            f"calibrated: was {old:g}; 90% posterior interval {r['p05']:.4g}-{r['p95']:.4g} "
            f"(prior median {r['prior_median']:g}, 90% {r['prior_p05']:.4g}-"
            f"{r['prior_p95']:.4g}){pin}")
    obs = cal.raw.get("observation", {})
    out[("observation", "default_rate")] = (
        float(obs.get("default_rate", 0.0)),
        "calibrated: the hierarchical mean seizure rate (exp mu), for a country without reports")
    return out


def calibrated_text(base_text: str, base: CostModel, cal: CostModel, params: pd.DataFrame,
                    rates: pd.DataFrame, provenance: Mapping[str, Any],
                    out_of_sample: pd.DataFrame | None = None) -> str:
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
    def flush(tbl: str) -> None:
        """Add the keys of ``tbl`` that its text lacks, before the next table starts."""
        keys = [k for k in changes if k[0] == tbl and k not in done]
        while keys and out and not out[-1].strip():
            out.pop()
        for k in keys:
            val, why = changes[k]
            out.extend(([f"# {why}"] if why else []) + [f"{k[1]} = {_fmt(val)}"])
            done.add(k)
        if keys:
            out.append("")

    for ln in lines:
        h = _HEADER.match(ln)
        if h:
            flush(table)
            table = h.group(1)
            if table.startswith("calibration") or table == "observation.seizure_rates":
                break   # an older calibration is replaced
        m = _KEY.match(ln)
        if m and not ln.lstrip().startswith("#") and (table, m.group(2)) in changes:
            val, why = changes[(table, m.group(2))]
            note = _inline_comment(m.group(4))
            if note:   # the base line's own comment, kept above (it spoke of the old value)
                out.append(f"{m.group(1)}# base note: {note}")
            if why:
                out.append(f"{m.group(1)}# {why}")
            out.append(f"{m.group(1)}{m.group(2)}{m.group(3)}{_fmt(val)}")
            done.add((table, m.group(2)))
            continue
        out.append(ln)
    flush(table)
    missing = [k for k in changes if k not in done]
    while out and not out[-1].strip():
        out.pop()
    # Tables the base file lacks (never the top level: flush("") ran at the first table, or
    # after the last line of a file without tables).
    for tbl in dict.fromkeys(t for t, _ in missing):
        out += ["", f"[{tbl}]"]
        for t, key in missing:
            if t == tbl:
                val, why = changes[(t, key)]
                out += ([f"# {why}"] if why else []) + [f"{key} = {_fmt(val)}"]
    fitted = rates[rates["n_obs"] > 0]
    out += ["", "# Seizure rates fitted by `routes calibrate`: heroin-equivalent kg seized per kg "
            "of modelled", "# flow through the country (routes.calibration.observe); 90% interval "
            "and reports in the fitted years.", "[observation.seizure_rates]"]
    for iso, r in fitted.sort_index().iterrows():
        out.append(f"{iso} = {_fmt(float(r['rate']))}   # {r['p05']:.3g}-{r['p95']:.3g}, "
                   f"{int(r['n_obs'])} reports" + ("" if r["pinned"] else ", not pinned"))
    out += ["", "# " + "-" * 93,
            "# Calibration: how the values marked 'calibrated' above were fitted "
            "(routes calibrate).",
            "# Posterior mode of the route-choice parameters with the seizure rates profiled "
            "out; 90%", "# intervals from the posterior on a grid (routes.calibration.calibrate).",
            "# " + "-" * 93, "[calibration]"]
    for k, v in provenance.items():
        if not isinstance(v, dict):
            out.append(f"{k} = {_fmt(v)}")
    for k, v in provenance.items():
        if isinstance(v, dict):
            out += ["", f"[calibration.{k}]"] + [f"{a} = {_fmt(b)}" for a, b in v.items()]
    for name, r in params.iterrows():
        out += ["", f"[calibration.parameters.{name}]"]
        for col in ("value", "p05", "p95", "prior_median", "prior_p05", "prior_p95", "pinned",
                    "note"):
            out.append(f"{col} = {_fmt(r[col])}")
    if out_of_sample is not None:
        for r in out_of_sample.to_dict("records"):   # Python scalars (pandas >= 2)
            out += ["", "[[calibration.out_of_sample]]"]
            for k, v in r.items():
                if isinstance(v, float) and v != v:
                    continue   # NaN (TOML has nan, but a missing score reads better)
                out.append(f"{k} = {_fmt(v)}")
    return "\n".join(out) + "\n"
