"""The observation model of one year, vectorised for many parameter values (calibration).

:func:`routes.calibration.observe.modelled_seizures` walks the routes of one flow assignment.
Calibration evaluates it thousands of times, with the detection levels, the inland
detection, the weight of risk and the logit's theta all changing the routes' costs and so the
route choice. :class:`YearModel` prepares one year once:

- the network's edges split into their parts (:func:`routes.calibration.observe.edge_checks`):
  time and length (fixed), travel risk (times the inland multiplier) and post risk (times the
  multiplier of its crossing class's group);
- a **choice set** per origin-market pair: the union of the ``k_candidates`` best routes
  (Yen, on the compiled engine) under several parameter values (the cost model's own, and the
  ones the fit asks for, :meth:`YearModel.extend`);
- every route as a run of legs (flat arrays), so that one evaluation is a few numpy
  operations: route costs, each pair's ``k`` cheapest routes of the set, their logit shares,
  and, leg by leg, the flow detected inland and at the posts, summed by country.

With the cost model's own values and a choice set that holds each pair's k best routes, it
gives the same numbers as ``modelled_seizures(G, cm)`` (tested); the calibration checks the
final fit against that exact function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from ..costs import CostModel
from ..engine import Engine
from ..network import od_demand
from .observe import edge_checks

__all__ = ["Theta", "YearModel", "stack"]


@dataclass(frozen=True)
class Theta:
    """Parameter values of one evaluation.

    ``groups`` multiplies the post risk of each class group (in :attr:`YearModel.groups`
    order), ``inland`` the travel risk; ``hours_per_risk`` and ``logit_theta`` replace the
    cost model's.
    """

    groups: np.ndarray
    inland: float
    hours_per_risk: float
    logit_theta: float
    hours_per_km: float | None = None


class YearModel:
    """One year's network, prepared for fast re-evaluation (module notes).

    Parameters
    ----------
    G : networkx.DiGraph
        The year's network, built with ``cm``.
    cm : CostModel
        Its cost model (``k_routes``, ``hours_per_hour``, ``hours_per_km``).
    groups : sequence of sequence of str
        Crossing classes of each detection group; posts of other classes keep their risk.
    countries : sequence of str
        ISO3 codes in output order.
    engine : str, optional
        Engine of the route search.
    """

    def __init__(self, G: nx.DiGraph, cm: CostModel, *, groups: Sequence[Sequence[str]],
                 countries: Sequence[str], engine: str | None = None) -> None:
        self.k = cm.k_routes
        self.hours_per_hour = cm.hours_per_hour
        self.hours_per_km = cm.hours_per_km
        self.groups = [tuple(g) for g in groups]
        self.countries = list(countries)
        cidx = {c: i for i, c in enumerate(self.countries)}
        ck = edge_checks(G, cm)
        self.E = Engine(G, engine=engine)
        gidx = {c: i for i, g in enumerate(self.groups) for c in g}
        self.time_h = ck["time_h"].to_numpy(float)
        self.length_km = ck["length_km"].to_numpy(float)
        self.travel = ck["travel_risk"].to_numpy(float)
        # (edge_checks' risk columns are floats: to_numpy(None) is an equivalent mutant)
        self.border = ck["border_risk"].to_numpy(float)
        nfix = len(self.groups)
        self.group = np.array([gidx.get(c, nfix) for c in ck["border_class"]], dtype=np.int64)
        self.tc = np.array([cidx.get(c, -1) for c in ck["travel_country"]], dtype=np.int64)
        self.bc = np.array([cidx.get(c, -1) if isinstance(c, str) else -1
                            for c in ck["border_country"]], dtype=np.int64)
        self.edge_key = hash((tuple(self.E.edges), self.time_h.tobytes(),
                              self.length_km.tobytes(), self.travel.tobytes(),
                              self.border.tobytes()))
        flows = od_demand(G)
        self.pairs = sorted(p for p, f in flows.items() if f > 0 and p[0] != p[1])
        self.pair_flow = np.array([flows[p] for p in self.pairs], dtype=float)
        self.paths: list[set[tuple[int, ...]]] = [set() for _ in self.pairs]
        self._pack()

    # ------------------------------------------------------------------ choice set
    def edge_costs(self, th: Theta) -> np.ndarray:
        """Generalised cost of every edge (Engine order) under ``th``."""
        gm = np.append(th.groups, 1.0)
        risk = th.inland * self.travel + gm[self.group] * self.border
        per_km = self.hours_per_km if th.hours_per_km is None else th.hours_per_km
        return (self.hours_per_hour * self.time_h + th.hours_per_risk * risk
                + per_km * self.length_km)

    def extend(self, th: Theta, k: int, cache: dict[Any, Any] | None = None) -> int:
        """Add each pair's ``k`` best routes under ``th`` to the choice set.

        ``cache``: a dict shared by models whose networks have the same edges and weights
        (another year with the same crossings): a pair's routes are searched once. Returns how
        many routes were new.
        """
        import hashlib

        w = self.edge_costs(th)
        new = 0
        wkey = (self.edge_key, hashlib.sha1(w.tobytes()).hexdigest(), k)
        for i, (o, m) in enumerate(self.pairs):
            ck = (wkey, o, m)
            if cache is not None and ck in cache:
                found = cache[ck]
            else:
                found = [tuple(self.E.edge_index[e] for e in zip(path[:-1], path[1:]))
                         for _, path in self.E.k_shortest_paths(o, m, k, weights=w)]
                if cache is not None:
                    cache[ck] = found
            for key in found:
                if key not in self.paths[i]:
                    self.paths[i].add(key)
                    new += 1
        if new:
            self._pack()
        return new

    def _pack(self) -> None:
        """Flatten the choice set into arrays (routes sorted by pair, then edge ids)."""
        routes = [(i, p) for i in range(len(self.pairs)) for p in sorted(self.paths[i])]
        self.n_routes = len(routes)
        self.route_pair = np.array([i for i, _ in routes], dtype=np.int64)
        lens = np.array([len(p) for _, p in routes], dtype=np.int64)
        self.leg_edge = np.array([e for _, p in routes for e in p], dtype=np.int64)
        self.leg_route = np.repeat(np.arange(self.n_routes), lens)
        self.route_first = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) \
            if self.n_routes else np.zeros(0, dtype=np.int64)
        counts = np.bincount(self.route_pair, minlength=len(self.pairs)) \
            if self.n_routes else np.zeros(len(self.pairs), dtype=np.int64)
        width = int(counts.max()) if len(counts) else 0
        # Slot (pair, j) -> route id, -1 where the pair has fewer routes.
        self.slot = np.full((len(self.pairs), width), -1, dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        for i, (s, c) in enumerate(zip(start.tolist(), counts.tolist())):
            self.slot[i, :c] = np.arange(s, s + c)
        self._legs()

    def _legs(self) -> None:
        """Per-leg copies of the edge arrays, so that an evaluation only multiplies."""
        e = self.leg_edge
        self.leg_travel = self.travel[e]
        self.leg_border = self.border[e]
        self.leg_group = self.group[e]
        tc, bc = self.tc[e], self.bc[e]
        self._in_ok = tc >= 0
        self._in_c = tc[self._in_ok]
        self._post_ok = (bc >= 0) & (self.leg_border > 0)
        self._post_c = bc[self._post_ok]
        # Route-country incidence: each country a route runs in or enters, once per route
        # (the flow through a country, :meth:`through`).
        n = max(len(self.countries), 1)
        lr = np.concatenate([self.leg_route[tc >= 0], self.leg_route[bc >= 0]])
        lc = np.concatenate([tc[tc >= 0], bc[bc >= 0]])
        key = np.unique(lr * n + lc)
        self._rc_route = key // n
        self._rc_country = key % n

    # ------------------------------------------------------------------ evaluation
    def route_flows(self, th: Theta) -> np.ndarray:
        """Flow of every route of the choice set: logit over each pair's k cheapest."""
        ecost = self.edge_costs(th)
        rcost = np.bincount(self.leg_route, weights=ecost[self.leg_edge],
                            minlength=self.n_routes)
        C = np.where(self.slot >= 0, rcost[np.maximum(self.slot, 0)], np.inf)
        order = np.argsort(C, axis=1, kind="stable")[:, :self.k]
        top = np.take_along_axis(C, order, axis=1)
        ids = np.take_along_axis(self.slot, order, axis=1)
        cmin = top[:, :1]
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            u = np.where(np.isfinite(top), np.exp(-th.logit_theta * (top / cmin - 1.0)), 0.0)
            share = u / u.sum(axis=1, keepdims=True)
        flows = np.zeros(self.n_routes)
        ok = ids >= 0
        flows[ids[ok]] = (share * self.pair_flow[:, None])[ok]
        return flows

    def seized(self, th: Theta) -> np.ndarray:
        """Return the detected flow by country (:attr:`countries` order), inland plus posts."""
        f = self.route_flows(th)
        gm = np.append(th.groups, 1.0)
        t = th.inland * self.leg_travel
        b = gm[self.leg_group] * self.leg_border
        tot = t + b
        cum = np.cumsum(tot)
        before = cum - tot
        before -= before[self.route_first][self.leg_route]
        alive = f[self.leg_route] * np.exp(-before)
        inland = alive * -np.expm1(-t)
        post = (alive - inland) * -np.expm1(-b)
        n = len(self.countries)
        return (np.bincount(self._in_c, weights=inland[self._in_ok], minlength=n)
                + np.bincount(self._post_c, weights=post[self._post_ok], minlength=n))

    def through(self, th: Theta) -> np.ndarray:
        """Return the flow through each country (:attr:`countries` order), in flow units.

        A route's flow counts once in every country it runs in or enters (no attrition by
        seizures: the flows are set by demand, :mod:`routes.calibration.calibrate`).
        """
        f = self.route_flows(th)
        return np.bincount(self._rc_country, weights=f[self._rc_route],
                           minlength=len(self.countries))

    def summary(self) -> dict[str, Any]:
        """Sizes: pairs, routes in the choice set, legs."""
        return {"pairs": len(self.pairs), "routes": self.n_routes, "legs": len(self.leg_edge)}


def stack(models: Sequence[YearModel]) -> YearModel:
    """Return one model that evaluates all ``models`` in a single pass.

    Its countries are ``models x countries`` (model-major): ``seized(th).reshape(len(models),
    -1)`` gives each model's row. The models must share their countries and detection groups.
    """
    s = object.__new__(YearModel)
    first = models[0]
    n = len(first.countries)
    s.k, s.hours_per_hour, s.hours_per_km = first.k, first.hours_per_hour, first.hours_per_km
    s.groups = first.groups
    s.countries = [f"{i}:{c}" for i in range(len(models)) for c in first.countries]
    e_off = np.cumsum([0] + [len(m.time_h) for m in models])
    r_off = np.cumsum([0] + [m.n_routes for m in models])
    l_off = np.cumsum([0] + [len(m.leg_edge) for m in models])
    for name in ("time_h", "length_km", "travel", "border", "group", "pair_flow"):
        setattr(s, name, np.concatenate([getattr(m, name) for m in models]))
    s.tc = np.concatenate([np.where(m.tc >= 0, m.tc + i * n, -1) for i, m in enumerate(models)])
    s.bc = np.concatenate([np.where(m.bc >= 0, m.bc + i * n, -1) for i, m in enumerate(models)])
    s.n_routes = int(r_off[-1])
    s.leg_edge = np.concatenate([m.leg_edge + e_off[i] for i, m in enumerate(models)])
    s.leg_route = np.concatenate([m.leg_route + r_off[i] for i, m in enumerate(models)])
    s.route_first = np.concatenate([m.route_first + l_off[i] for i, m in enumerate(models)])
    width = max(m.slot.shape[1] for m in models)
    s.slot = np.vstack([np.pad(np.where(m.slot >= 0, m.slot + r_off[i], -1),
                               ((0, 0), (0, width - m.slot.shape[1])), constant_values=-1)
                        for i, m in enumerate(models)])
    s.pairs = [p for m in models for p in m.pairs]
    s.paths = []
    s._legs()
    return s
