"""What strengthening a post costs the legitimate goods and people crossing it.

Traffic per post
----------------
From ``border_traffic.csv`` (:mod:`routes.traffic`), two streams per crossing: cargo trucks
and people. For each stream, the ``flow`` rows with that figure whose period ends last are
used: a ``both`` row as it is, otherwise the sum of the directional rows (a single direction
is doubled: both directions assumed alike). Without such a row, a ``capacity`` or ``cap``
figure stands in (an upper bound; basis ``capacity``). People may come from
``vehicles_per_day - trucks_per_day`` (one person per passenger vehicle, a lower bound) when no
people figure exists. ``queue`` rows are not traffic.

Imputation (basis ``imputed``)
------------------------------
A stream without a figure takes the median of the same stream at the sourced crossings of
the same *kind*, the first of these groups with at least :data:`MIN_GROUP` sourced crossings:
the same mode group (land: road, river bridge, mountain pass; rail; water: ferry, sea), the
same crossing class and a country in common (Aqina - Imamnazar learns from the other Afghan
posts of its class, not from the Fergana valley's); the same mode group and class; the same
mode group; every sourced crossing. Its interval is the group's minimum and maximum;
``group`` says which rule applied.

Delay (a queueing rule)
-----------------------
Each stream at a post is served with mean service time ``s`` minutes (trucks: customs
clearance; people: passport and baggage control) at utilisation ``rho0``. Kingman's
approximation of the mean wait in a G/G/1 queue [1]_ (exact for M/M/1 when ``ca2 = cs2 = 1``)
gives ``W(rho, s) = s * rho / (1 - rho) * (ca2 + cs2) / 2``. ``rho0`` comes from the post's
truck clearance time ``T`` (mean of its ``flow`` rows, CPMM's TFI1): ``T = s + W(rho0, s)``
solved for ``rho0``; a post without ``T`` takes the imputation rule above. An upgrade adds
``delta`` minutes of service per vehicle or person, so ``rho1 = rho0 (s + delta) / s``; both
are capped at ``rho_max`` (beyond it a post opens lanes or hours to hold its utilisation
there; Kingman's formula does not hold near saturation). The added time per vehicle or person
grows with the added service; it grows with the post's utilisation too, except where the cap
binds (a post already at ``rho_max`` pays the longer service at ``rho_max``, less than one
brought there by the upgrade). The added time is

``dt = delta + W(rho1, s + delta) - W(rho0, s)``

and the added hours per day ``traffic * dt / 60``. Money: truck-hours at
``cargo_value_usd * time_cost_per_day / 24`` (Hummels and Schaur [2]_: a day in transit costs
0.6-2.1 % of the cargo's value), person-hours at ``person_usd_per_h``. A post without traffic
adds nothing.

Upgrade types (``cost_model.toml`` ``[legit.upgrades.*]``)
----------------------------------------------------------
``physical`` inspects every vehicle and person (``inspected_share`` 1) and gets the full
detection gain of ``p_detect_upgraded``; ``targeted`` (risk-based) inspects a share and keeps a
share of the gain (``detection_share``): :func:`graph_for_upgrade` sets the network's upgraded
detection accordingly.

References
----------
.. [1] J. F. C. Kingman, "The single server queue in heavy traffic", Mathematical Proceedings
   of the Cambridge Philosophical Society 57(4), 902-904, 1961.
.. [2] D. Hummels and G. Schaur, "Time as a trade barrier", American Economic Review 103(7),
   2935-2959, 2013.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import DataError, Problem
from ..costs import CostModel

__all__ = [
    "LegitParams",
    "UpgradeType",
    "TRAFFIC_COLUMNS",
    "DELAY_COLUMNS",
    "legit_params",
    "kingman_wait",
    "added_minutes",
    "post_traffic",
    "post_delays",
    "graph_for_upgrade",
]

#: Fewest sourced crossings a group needs to impute from it.
MIN_GROUP = 2
MODE_GROUPS = {"road": "land", "river_bridge": "land", "mountain_pass": "land", "rail": "rail",
               "ferry": "water", "sea": "water"}
TRAFFIC_COLUMNS = ("trucks_per_day", "trucks_basis", "trucks_low", "trucks_high",
                   "people_per_day", "people_basis", "people_low", "people_high", "rho0",
                   "rho_basis", "group")
DELAY_COLUMNS = ("truck_min", "person_min", "truck_h_per_day", "person_h_per_day",
                 "delay_h_per_day", "cost_usd_per_day", "imputed")


@dataclass(frozen=True)
class UpgradeType:
    """One way of strengthening a post: added minutes and the share of the detection gain."""

    name: str
    truck_min: float
    person_min: float
    detection_share: float
    inspected_share: float


@dataclass(frozen=True)
class LegitParams:
    """The ``[legit]`` table of the cost model (module notes)."""

    truck_service_min: float
    person_service_min: float
    ca2: float
    cs2: float
    rho_max: float
    cargo_value_usd: float
    time_cost_per_day: float
    person_usd_per_h: float
    upgrades: dict[str, UpgradeType]

    @property
    def truck_usd_per_h(self) -> float:
        """Value of an hour of a loaded truck: cargo value times the daily time cost / 24."""
        return self.cargo_value_usd * self.time_cost_per_day / 24.0


def legit_params(cm: CostModel) -> LegitParams:
    """Read the cost model's ``[legit]`` table.

    Raises
    ------
    DataError
        A missing table or parameter, or a value out of range (field ``legit.<name>``).
    """
    file = cm.path or "cost_model.toml"
    raw: dict[str, Any] = cm.raw.get("legit", {}) if cm.raw else {}
    probs: list[Problem] = []
    if not raw:
        raise DataError(Problem(file, None, "legit", "missing table: the legitimate-traffic "
                                "parameters (see data/geo/cost_model.toml)"))

    def num(table: dict[str, Any], key: str, where: str, lo: float, hi: float | None,
            lo_open: bool = False) -> float:
        v = table.get(key)
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) or (
                v <= lo if lo_open else v < lo) or (hi is not None and v > hi):
            probs.append(Problem(file, None, f"{where}.{key}",
                                 f"must be a number in {'(' if lo_open else '['}{lo}, "
                                 f"{hi if hi is not None else 'inf'}], got {v!r}"))
            return 1.0
        return float(v)

    ups = {}
    for name, t in (raw.get("upgrades") or {}).items():
        w = f"legit.upgrades.{name}"
        ups[name] = UpgradeType(name, num(t, "truck_min", w, 0.0, None),
                                num(t, "person_min", w, 0.0, None),
                                num(t, "detection_share", w, 0.0, 1.0),
                                num(t, "inspected_share", w, 0.0, 1.0))
    if not ups:
        probs.append(Problem(file, None, "legit.upgrades", "no upgrade type"))
    p = LegitParams(
        truck_service_min=num(raw, "truck_service_min", "legit", 0.0, None, True),
        person_service_min=num(raw, "person_service_min", "legit", 0.0, None, True),
        ca2=num(raw, "ca2", "legit", 0.0, None), cs2=num(raw, "cs2", "legit", 0.0, None),
        rho_max=num(raw, "rho_max", "legit", 0.0, 0.999, True),
        cargo_value_usd=num(raw, "cargo_value_usd", "legit", 0.0, None),
        time_cost_per_day=num(raw, "time_cost_per_day", "legit", 0.0, 1.0),
        person_usd_per_h=num(raw, "person_usd_per_h", "legit", 0.0, None), upgrades=ups)
    if probs:
        raise DataError(probs)
    return p


def kingman_wait(rho: float, s: float, ca2: float = 1.0, cs2: float = 1.0) -> float:
    """Mean wait in queue, ``s * rho / (1 - rho) * (ca2 + cs2) / 2`` (Kingman; M/M/1 at 1, 1).

    Examples
    --------
    >>> kingman_wait(0.6, 10.0)       # M/M/1: 10 * 0.6 / 0.4
    15.0
    >>> kingman_wait(0.0, 10.0)
    0.0
    """
    return s * rho / (1.0 - rho) * (ca2 + cs2) / 2.0


def _rho_from_clearance(T_min: float, s: float, k: float, rho_max: float) -> float:
    """Invert ``T = s + s k rho / (1 - rho)`` for ``rho`` (0 when ``T <= s``), capped."""
    w = max(T_min - s, 0.0)
    return min(w / (w + k * s), rho_max) if w > 0 else 0.0


def added_minutes(rho0: float, s: float, delta: float, *, ca2: float = 1.0, cs2: float = 1.0,
                  rho_max: float = 0.95) -> float:
    """Return the minutes added per vehicle or person when service goes from ``s`` to ``s + delta``.

    Examples
    --------
    >>> round(added_minutes(0.6, 10.0, 2.0), 12)   # 2 + 12*0.72/0.28 - 15
    17.857142857143
    >>> added_minutes(0.6, 10.0, 0.0)
    0.0
    """
    if delta <= 0:
        return 0.0
    r0 = min(rho0, rho_max)
    r1 = min(rho0 * (s + delta) / s, rho_max)
    return delta + kingman_wait(r1, s + delta, ca2, cs2) - kingman_wait(r0, s, ca2, cs2)


# --------------------------------------------------------------------------- traffic
def _stream(rows: pd.DataFrame, col: str) -> tuple[float, str] | None:
    """Return the stream's daily figure from one crossing's rows (module notes), or None."""
    for kinds, basis in ((("flow",), "sourced"), (("capacity", "cap"), "capacity")):
        r = rows[rows["kind"].isin(kinds) & rows[col].notna()]
        if r.empty:
            continue
        last = r[r["period_end"] == r["period_end"].max()]
        both = last[last["direction"] == "both"]
        if len(both):
            return float(both[col].max()), basis
        dirs = last.groupby("direction")[col].max()
        total = float(dirs.sum()) * (2.0 if len(dirs) == 1 else 1.0)
        return total, basis
    return None


def post_traffic(crossings: pd.DataFrame, traffic: pd.DataFrame | None,
                 params: LegitParams) -> pd.DataFrame:
    """Return trucks and people per day and base utilisation per crossing, sourced or imputed.

    ``crossings`` needs ``id``, ``country_a``, ``country_b``, ``mode``, ``crossing_class``;
    returns :data:`TRAFFIC_COLUMNS`
    indexed by id (sorted). ``*_basis`` is ``sourced``, ``capacity`` or ``imputed``;
    ``*_low``/``*_high`` the interval (equal to the figure where sourced).
    """
    t = traffic if traffic is not None else pd.DataFrame(
        columns=["crossing_id", "kind", "direction", "period_end", "trucks_per_day",
                 "vehicles_per_day", "people_per_day", "clearance_h"])
    k = (params.ca2 + params.cs2) / 2.0
    recs = {}
    for r in crossings.sort_values("id").itertuples():
        rows = t[t["crossing_id"] == r.id]
        tr = _stream(rows, "trucks_per_day")
        pe = _stream(rows, "people_per_day")
        if pe is None:
            veh = _stream(rows, "vehicles_per_day")
            if veh is not None:
                pe = (max(veh[0] - (tr[0] if tr else 0.0), 0.0), veh[1])
        clear = rows.loc[(rows["kind"] == "flow") & rows["clearance_h"].notna(), "clearance_h"]
        rho = _rho_from_clearance(float(clear.mean()) * 60.0, params.truck_service_min, k,
                                  params.rho_max) if len(clear) else None
        recs[r.id] = {"mode": MODE_GROUPS.get(r.mode, "land"), "cls": r.crossing_class,
                      "countries": {r.country_a, r.country_b}, "trucks": tr, "people": pe,
                      "rho": rho}
    out = []
    for cid, d in recs.items():
        row: dict[str, Any] = {"id": cid}
        groups = []
        for key, col in (("trucks", "trucks"), ("people", "people"), ("rho", "rho")):
            v = d[key]
            if v is not None:
                val = v[0] if isinstance(v, tuple) else v
                basis = v[1] if isinstance(v, tuple) else "sourced"
                lo = hi = val
            else:
                val, lo, hi, g = _impute(recs, key, d["mode"], d["cls"], d["countries"])
                basis = "imputed"
                groups.append(f"{col}: {g}")
            if col == "rho":
                row["rho0"], row["rho_basis"] = val, basis
            else:
                row[f"{col}_per_day"], row[f"{col}_basis"] = val, basis
                row[f"{col}_low"], row[f"{col}_high"] = lo, hi
        row["group"] = "; ".join(groups)
        out.append(row)
    return pd.DataFrame(out, columns=["id", *TRAFFIC_COLUMNS]).set_index("id")


def _impute(recs: dict[str, dict[str, Any]], key: str, mode: str, cls: str,
            countries: set[str]) -> tuple[float, float, float, str]:
    """Return the median, minimum and maximum of ``key`` over a group's sourced crossings."""
    def vals(pred: Any) -> list[float]:
        return [float(v[key][0] if isinstance(v[key], tuple) else v[key])
                for v in recs.values() if v[key] is not None
                and (not isinstance(v[key], tuple) or v[key][1] == "sourced") and pred(v)]

    both = "/".join(sorted(countries))
    for name, pred in ((f"median of {mode} crossings of class {cls} with {both}",
                        lambda v: v["mode"] == mode and v["cls"] == cls
                        and bool(v["countries"] & countries)),
                       (f"median of {mode} crossings of class {cls}",
                        lambda v: v["mode"] == mode and v["cls"] == cls),
                       (f"median of {mode} crossings", lambda v: v["mode"] == mode),
                       ("median of all sourced crossings", lambda v: True)):
        xs = vals(pred)
        if len(xs) >= MIN_GROUP:
            return float(np.median(xs)), min(xs), max(xs), f"{name} (n={len(xs)})"
    return 0.0, 0.0, 0.0, "no sourced crossing: 0"


def post_delays(traffic: pd.DataFrame, params: LegitParams, upgrade: str = "physical"
                ) -> pd.DataFrame:
    """Return the added minutes, hours and USD per day of upgrading each post (module notes).

    ``traffic`` is :func:`post_traffic`'s table; returns :data:`DELAY_COLUMNS` by id.
    ``imputed`` is True where any of the post's inputs is imputed.

    Examples
    --------
    >>> p = LegitParams(10.0, 2.0, 1.0, 1.0, 0.95, 24000.0, 0.01, 1.5,
    ...                 {"x": UpgradeType("x", 2.0, 0.5, 1.0, 1.0)})
    >>> t = pd.DataFrame({"trucks_per_day": [100.0, 0.0], "people_per_day": [0.0, 0.0],
    ...     "trucks_basis": "sourced", "people_basis": "sourced", "rho0": [0.6, 0.6],
    ...     "rho_basis": "sourced"}, index=["a", "b"])
    >>> d = post_delays(t, p, "x")
    >>> a = d.loc["a"]
    >>> round(float(a["truck_h_per_day"]), 9), round(float(a["cost_usd_per_day"]), 9)
    (29.761904762, 297.619047619)
    >>> float(d.at["b", "delay_h_per_day"])
    0.0
    """
    up = params.upgrades[upgrade]
    kw = {"ca2": params.ca2, "cs2": params.cs2, "rho_max": params.rho_max}
    out = []
    for cid, r in traffic.iterrows():
        tm = added_minutes(float(r["rho0"]), params.truck_service_min, up.truck_min, **kw)
        pm = added_minutes(float(r["rho0"]), params.person_service_min, up.person_min, **kw)
        th = float(r["trucks_per_day"]) * tm / 60.0
        ph = float(r["people_per_day"]) * pm / 60.0
        out.append({"id": cid, "truck_min": tm, "person_min": pm, "truck_h_per_day": th,
                    "person_h_per_day": ph, "delay_h_per_day": th + ph,
                    "cost_usd_per_day": th * params.truck_usd_per_h
                    + ph * params.person_usd_per_h,
                    "imputed": bool((r[["trucks_basis", "people_basis", "rho_basis"]]
                                     == "imputed").any())})
    return pd.DataFrame(out, columns=["id", *DELAY_COLUMNS]).set_index("id")


def graph_for_upgrade(G: nx.DiGraph, params: LegitParams, upgrade: str) -> nx.DiGraph:
    """Return ``G`` with each post's upgraded detection for ``upgrade`` (a copy).

    ``p_detect_upgraded`` becomes ``p + detection_share * (p_detect_upgraded - p)``; with
    share 1 (``physical``) the graph is returned unchanged (not copied).
    """
    share = params.upgrades[upgrade].detection_share
    if share == 1.0:
        return G
    H = G.copy()
    for _, d in H.nodes(data=True):
        if d.get("kind") == "crossing" and d.get("p_detect_upgraded") is not None:
            p = float(d["p_detect"])
            d["p_detect_upgraded"] = p + share * (float(d["p_detect_upgraded"]) - p)
    return H
