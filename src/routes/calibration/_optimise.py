"""A seeded multi-start minimiser for a few bounded parameters (the calibration's optimiser).

The route choice switches routes as the parameters move, so the calibration's objective is
only piecewise smooth: a gradient method stops at a kink. :func:`multistart` therefore

1. evaluates a regular grid over the box (``grid`` points per parameter, corners included):
   deterministic, the same for every seed, and it sees every basin wider than a grid cell;
2. polishes the ``polish`` best grid points and ``starts`` seeded uniform points with
   Nelder-Mead (scipy, inside the box);
3. returns the best end point, with every start's end point, objective, evaluations and
   convergence status, and how many starts reached the best objective (within ``agree``).

With a few parameters (the calibration has three) the grid costs ``grid ** k`` evaluations.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize

__all__ = ["Start", "MultiStart", "multistart"]


@dataclass(frozen=True)
class Start:
    """One local search: where it began and ended."""

    kind: str          # "grid" (from a grid point) or "seeded" (a seeded random point)
    x0: tuple[float, ...]
    x: tuple[float, ...]
    fun: float
    nfev: int
    converged: bool
    message: str


@dataclass(frozen=True)
class MultiStart:
    """The result of :func:`multistart`.

    ``winner`` indexes ``starts``; ``agreeing`` counts the starts whose objective is within
    ``agree`` (relative) of the best; ``nfev`` counts every evaluation (grid included).
    """

    x: np.ndarray
    fun: float
    winner: int
    starts: list[Start] = field(default_factory=list)
    agreeing: int = 0
    nfev: int = 0
    converged: bool = False

    def record(self) -> dict[str, Any]:
        """Return a JSON-ready summary: objective, convergence, winning start, every start."""
        return {"objective": self.fun, "converged": self.converged, "winner": self.winner,
                "winning_start": self.starts[self.winner].kind if self.starts else None,
                "starts_agreeing": self.agreeing, "evaluations": self.nfev,
                "starts": [{"kind": s.kind, "x0": list(s.x0), "x": list(s.x), "objective": s.fun,
                            "evaluations": s.nfev, "converged": s.converged,
                            "message": s.message} for s in self.starts]}


def multistart(f: Callable[[np.ndarray], float], lo: np.ndarray, hi: np.ndarray, *,
               grid: int = 5, polish: int = 2, starts: int = 3, seed: int = 0,
               maxfev: int = 200, xatol: float = 1e-2, fatol: float = 1e-4,
               agree: float = 0.005, extra: list[np.ndarray] | None = None) -> MultiStart:
    """Minimise ``f`` over the box ``[lo, hi]`` (module notes).

    Parameters
    ----------
    f : callable
        Objective of a 1-D array.
    lo, hi : array
        The box.
    grid, polish, starts, seed : int
        Grid points per parameter, grid points polished, seeded random starts, seed.
    maxfev, xatol, fatol :
        Nelder-Mead budget and tolerances of each local search.
    agree : float
        Relative tolerance of "the same objective".
    extra : list of array, optional
        More starting points (e.g. the prior's centre), polished like the grid's.

    Examples
    --------
    A function with two basins: the grid finds the deeper one, and every start reports.

    >>> f = lambda x: min((x[0] - 1) ** 2 + 0.5, (x[0] + 2) ** 2)
    >>> r = multistart(f, np.array([-4.0]), np.array([4.0]), grid=9, polish=1, starts=2)
    >>> round(float(r.x[0]), 3), round(r.fun, 6), r.converged
    (-2.0, 0.0, True)
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    k = len(lo)
    nfev = 0

    def fx(x: np.ndarray) -> float:
        nonlocal nfev
        nfev += 1
        return float(f(np.clip(x, lo, hi)))

    axes = [np.linspace(a, b, grid) if grid > 1 else np.array([(a + b) / 2])
            for a, b in zip(lo, hi)]
    points = [np.array(p) for p in itertools.product(*axes)]
    vals = [fx(p) for p in points]
    order = np.argsort(vals, kind="stable")[:max(polish, 0)]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    begin: list[tuple[str, np.ndarray]] = [("grid", points[i]) for i in order]
    begin += [("extra", np.clip(np.asarray(e, float), lo, hi)) for e in (extra or [])]
    begin += [("seeded", lo + rng.random(k) * (hi - lo)) for _ in range(starts)]
    out: list[Start] = []
    for kind, x0 in begin:
        before = nfev
        res = minimize(fx, x0, method="Nelder-Mead", bounds=list(zip(lo, hi)),
                       options={"maxfev": maxfev, "xatol": xatol, "fatol": fatol,
                                "initial_simplex": _simplex(x0, lo, hi)})
        # scipy's bounded Nelder-Mead keeps its points in the box: the clip only guards it
        # (dropping a bound is an equivalent mutant)
        x = np.clip(res.x, lo, hi)
        out.append(Start(kind, tuple(float(v) for v in x0), tuple(float(v) for v in x),
                         float(res.fun), nfev - before, bool(res.success), str(res.message)))
    if not out:   # nothing to polish: the grid's best
        i = int(np.argmin(vals))
        return MultiStart(points[i], float(vals[i]), 0, [], 0, nfev, False)
    funs = np.array([s.fun for s in out])
    win = int(np.argmin(funs))
    best = float(funs[win])
    agreeing = int(np.sum(funs <= best + agree * max(abs(best), 1e-12)))
    return MultiStart(np.array(out[win].x), best, win, out, agreeing, nfev,
                      bool(out[win].converged))


def _simplex(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Return a starting simplex of a tenth of the box along each axis, kept inside it."""
    k = len(x0)
    S = np.tile(x0, (k + 1, 1))
    for i in range(k):
        d = 0.1 * (hi[i] - lo[i])
        S[i + 1, i] = x0[i] + d if x0[i] + d <= hi[i] else x0[i] - d
    return S
