"""The calibration's posterior: country seizure rates profiled out, priors, Laplace intervals.

Pure numpy over arrays; :mod:`routes.calibration.calibrate` states the model in full. Given the
modelled flow through each observed country-year ``F_i`` (heroin-equivalent kg) and the
reported seizures ``obs_i``:

``ln(obs_i + A) ~ Normal(ln(exp(a_c) * F_i + A), sigma^2)``, ``a_c ~ Normal(mu, tau^2)``,
``mu ~ Normal(mu0, omega^2)``

with ``a_c`` the log seizure rate of the observation's country and ``A`` the offset (kg).
:func:`profile_rates` finds the joint mode of ``(a, mu, sigma)`` for fixed flows: each
``a_c`` starts at the ratio estimator ``ln(sum obs / sum F)`` of the country, shrunk toward
``mu``, and is polished by Gauss-Newton steps (vectorised over countries; with ``A = 0`` the
first step is already exact: ``a_c`` is the precision-weighted mean of ``ln obs - ln F`` and
``mu``); ``mu`` and ``sigma^2`` have closed forms given the ``a_c``. The negative log posterior
at that mode is what the route parameters are fitted on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["RatePrior", "RateFit", "profile_rates", "laplace", "rank_partial", "GridPosterior",
           "mixture_quantiles",
           "grid_posterior"]

#: Outer iterations of the coordinate ascent (stops earlier once it no longer moves).
_ITER = 200
#: Stop once no log rate moves by more than this (the objective is then exact to ~1e-12).
_TOL = 1e-7
#: Smallest residual variance (the profile would run to 0 on a perfect fit).
_SIGMA2_MIN = 1e-4


@dataclass(frozen=True)
class RatePrior:
    """Hierarchical prior of the log seizure rates (module notes).

    Attributes
    ----------
    mu0 : float
        Prior centre of the log rate of a country (ln of kg seized per kg of flow through it).
    omega : float
        Prior sd of the mean log rate ``mu`` around ``mu0``.
    tau : float
        Sd of a country's log rate around ``mu``.
    offset : float
        ``A``, kg added to observed and modelled seizures inside the logarithm.
    """

    mu0: float
    omega: float
    tau: float
    offset: float


@dataclass(frozen=True)
class RateFit:
    """Joint mode of the rates for fixed flows (:func:`profile_rates`).

    ``a`` and ``sd`` per country (``sd``: Gauss-Newton conditional sd of ``a_c``; a country
    without observations has ``a = mu`` and the prior sd ``tau``), ``nlp`` the negative log
    posterior at the mode (constants dropped), ``residual`` per observation.
    """

    a: np.ndarray
    sd: np.ndarray
    mu: float
    sigma2: float
    nlp: float
    residual: np.ndarray


def profile_rates(obs_kg: np.ndarray, country: np.ndarray, flow_kg: np.ndarray,
                  n_countries: int, prior: RatePrior) -> RateFit:
    """Return the joint posterior mode of the log rates, their mean and the residual variance.

    Parameters
    ----------
    obs_kg : array
        Reported seizures, one per observation (kg, >= 0).
    country : array of int
        Country index of each observation (``0 .. n_countries - 1``).
    flow_kg : array
        Modelled flow through the observation's country in its year (kg, >= 0).
    n_countries : int
        Number of countries (those without observations get ``a = mu``).
    prior : RatePrior

    Examples
    --------
    Two countries, no offset, a flat prior: each rate is the geometric mean of its
    seizure-to-flow ratios (0.1 and 0.02 here).

    >>> p = RatePrior(mu0=0.0, omega=1e6, tau=1e6, offset=0.0)
    >>> fit = profile_rates(np.array([10.0, 40.0, 2.0, 8.0]), np.array([0, 0, 1, 1]),
    ...                     np.array([200.0, 200.0, 200.0, 200.0]), 2, p)
    >>> np.exp(fit.a).round(4).tolist()
    [0.1, 0.02]
    """
    A = prior.offset
    y = np.log(obs_kg + A)
    F = np.asarray(flow_kg, dtype=float)
    n = len(y)
    has = np.bincount(country, minlength=n_countries) > 0
    sum_obs = np.bincount(country, weights=obs_kg, minlength=n_countries)
    sum_f = np.bincount(country, weights=F, minlength=n_countries)
    mu = prior.mu0
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(has & (sum_f > 0) & (sum_obs > 0), np.log(sum_obs / sum_f), mu)
    sigma2 = 1.0
    lnF = np.log(np.maximum(F, 1e-300))
    t2, w2 = prior.tau ** 2, prior.omega ** 2
    for _ in range(_ITER):
        a_old = a.copy()
        for _ in range(3):   # Gauss-Newton on every a_c at once
            lp = a[country] + lnF
            pred = np.exp(np.minimum(lp, 700.0)) * (F > 0)
            m = np.log(pred + A) if A > 0 else lp
            r = y - m
            w = pred / (pred + A) if A > 0 else np.ones(n)
            g = -np.bincount(country, weights=r * w, minlength=n_countries) / sigma2 \
                + (a - mu) / t2
            h = np.bincount(country, weights=w * w, minlength=n_countries) / sigma2 + 1.0 / t2
            a = a - np.clip(g / h, -3.0, 3.0)
        a = np.where(has, a, mu)
        mu = float((a[has].sum() / t2 + prior.mu0 / w2) / (has.sum() / t2 + 1.0 / w2))
        a = np.where(has, a, mu)
        lp = a[country] + lnF
        pred = np.exp(np.minimum(lp, 700.0)) * (F > 0)
        r = y - (np.log(pred + A) if A > 0 else lp)
        sigma2 = max(float(np.mean(r * r)), _SIGMA2_MIN)
        if np.max(np.abs(a - a_old), initial=0.0) < _TOL:
            break
    w = pred / (pred + A) if A > 0 else np.ones(n)
    h = np.bincount(country, weights=w * w, minlength=n_countries) / sigma2 + 1.0 / t2
    nlp = (0.5 * n * np.log(sigma2) + 0.5 * float(np.sum(r * r)) / sigma2
           + float(np.sum((a[has] - mu) ** 2)) / (2 * t2) + (mu - prior.mu0) ** 2 / (2 * w2))
    return RateFit(a=a, sd=1.0 / np.sqrt(h), mu=mu, sigma2=sigma2, nlp=float(nlp), residual=r)


def laplace(f: Callable[[np.ndarray], float], x: np.ndarray, step: float
            ) -> tuple[np.ndarray, bool]:
    """Covariance of the Laplace approximation at a mode ``x`` of ``f`` (negative log posterior).

    Central differences with ``step`` (in the units of ``x``). Returns ``(covariance, ok)``;
    ``ok`` is False when the Hessian is not positive definite (the covariance is then ``inf``
    on the diagonal of every direction that is flat or curved the wrong way).

    Examples
    --------
    >>> cov, ok = laplace(lambda v: 0.5 * (v[0] / 0.3) ** 2 + 0.5 * (v[1] / 2.0) ** 2,
    ...                   np.zeros(2), 0.01)
    >>> np.sqrt(np.diag(cov)).round(6).tolist(), ok
    ([0.3, 2.0], True)
    """
    k = len(x)
    H = np.zeros((k, k))
    f0 = f(x)
    E = np.eye(k) * step
    for i in range(k):
        H[i, i] = (f(x + E[i]) - 2 * f0 + f(x - E[i])) / step ** 2
        for j in range(i):
            H[i, j] = H[j, i] = (f(x + E[i] + E[j]) - f(x + E[i] - E[j])
                                 - f(x - E[i] + E[j]) + f(x - E[i] - E[j])) / (4 * step ** 2)
    try:
        np.linalg.cholesky(H)
        return np.linalg.inv(H), True
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
        d = np.diag(H)
        cov[np.diag_indices(k)] = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), np.inf)
        return cov, False


def rank_partial(obs: np.ndarray, model: np.ndarray, given: np.ndarray) -> float:
    """Partial correlation of ``model`` with ``obs`` given ``given``, on ranks.

    The Pearson correlations of the ranks (Spearman's rho) ``r_om``, ``r_og``, ``r_mg`` give
    ``(r_om - r_og r_mg) / sqrt((1 - r_og^2)(1 - r_mg^2))``: how much the model orders the
    observed values beyond what ``given`` (last year's seizures) already does.

    Examples
    --------
    ``r_om = 0.9``, ``r_og = 0.8``, ``r_mg = 0.6``: ``(0.9 - 0.48) / sqrt(0.36 * 0.64) = 0.875``.

    >>> round(rank_partial(np.array([1.0, 2, 3, 4, 5]), np.array([1.0, 3, 2, 4, 5]),
    ...                    np.array([2.0, 1, 3, 5, 4])), 4)
    0.875
    """
    from scipy.stats import rankdata

    ro, rm, rg = (rankdata(v) for v in (obs, model, given))
    c = np.corrcoef(np.vstack([ro, rm, rg]))
    r_om, r_og, r_mg = c[0, 1], c[0, 2], c[1, 2]
    den = np.sqrt(max((1 - r_og ** 2) * (1 - r_mg ** 2), 0.0))
    return float((r_om - r_og * r_mg) / den) if den > 1e-12 else float("nan")


@dataclass(frozen=True)
class GridPosterior:
    """A posterior evaluated on a regular grid (:func:`grid_posterior`).

    ``axes[j]``: the grid of parameter ``j``; ``marginals[j]``: its marginal posterior mass per
    grid point (sums to 1); ``best``: the grid point of least ``f`` and ``f_best`` its value.
    """

    axes: list[np.ndarray]
    marginals: list[np.ndarray]
    best: np.ndarray
    f_best: float
    points: np.ndarray      # every grid point (rows, product order)
    weights: np.ndarray     # its posterior mass

    def quantile(self, j: int, q: float) -> float:
        """Quantile ``q`` of parameter ``j``: mass spread evenly over each point's cell."""
        x, p = self.axes[j], self.marginals[j]
        if len(x) == 1:
            return float(x[0])
        h = x[1] - x[0]
        edges = np.concatenate([[x[0] - h / 2], x + h / 2])
        cdf = np.concatenate([[0.0], np.cumsum(p)])
        return float(np.interp(q, cdf, edges))

    def mean_sd(self, j: int) -> tuple[float, float]:
        """Posterior mean and sd of parameter ``j`` (cell width included in the variance)."""
        x, p = self.axes[j], self.marginals[j]
        m = float(np.sum(p * x))
        h = float(x[1] - x[0]) if len(x) > 1 else 0.0
        return m, float(np.sqrt(max(np.sum(p * (x - m) ** 2) + h * h / 12, 0.0)))


def grid_posterior(f: Callable[[np.ndarray], float], lo: np.ndarray, hi: np.ndarray,
                   n: int) -> GridPosterior:
    """Evaluate ``exp(-f)`` (``f``: negative log posterior) on an ``n``-point-per-axis grid.

    The route choice switches routes as the parameters move, so ``f`` has kinks and small
    steps: a Laplace approximation would read curvature from a step. Integrating on a grid
    does not care. The marginals are sums over the other axes.

    Examples
    --------
    A normal posterior with sd 0.3: its 5% and 95% quantiles within the grid's resolution.

    >>> g = grid_posterior(lambda v: 0.5 * (v[0] / 0.3) ** 2, np.array([-1.5]),
    ...                    np.array([1.5]), 61)
    >>> round(g.quantile(0, 0.95), 2), round(g.mean_sd(0)[1], 2)
    (0.49, 0.3)
    """
    import itertools

    axes = [np.linspace(a, b, n) for a, b in zip(lo, hi)]
    shape = tuple(len(a) for a in axes)
    pts = np.array(list(itertools.product(*axes)))
    vals = np.array([f(p) for p in pts]).reshape(shape)
    i = np.unravel_index(int(np.argmin(vals)), shape)
    w = np.exp(-(vals - vals[i]))
    w /= w.sum()
    k = len(axes)
    margs = [w.sum(axis=tuple(a for a in range(k) if a != j)) for j in range(k)]
    return GridPosterior(axes, margs, np.array([axes[j][i[j]] for j in range(k)]),
                         float(vals[i]), pts, w.ravel())


def mixture_quantiles(a: np.ndarray, sd: np.ndarray, w: np.ndarray,
                      qs: tuple[float, ...] = (0.05, 0.95), n: int = 801) -> np.ndarray:
    """Return quantiles of each column's normal mixture (C x len(qs)).

    Weights ``w`` (G), means ``a`` and sds ``sd`` (G x C).

    The log rates' posterior given the route parameters is normal (conditional sd at the
    mode); mixing over the route parameters' grid posterior carries their uncertainty into
    the rates' intervals.

    Examples
    --------
    >>> q = mixture_quantiles(np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]]),
    ...                       np.array([0.5, 0.5]), (0.5,))
    >>> round(float(q[0, 0]), 3)
    1.0
    """
    from scipy.stats import norm

    w = np.asarray(w, float) / np.sum(w)
    keep = w > 1e-9
    a, sd, w = a[keep], sd[keep], w[keep]
    lo = np.min(a - 6 * sd, axis=0)
    hi = np.max(a + 6 * sd, axis=0)
    out = np.zeros((a.shape[1], len(qs)))
    for c in range(a.shape[1]):
        x = np.linspace(lo[c], hi[c], n)
        cdf = (w[:, None] * norm.cdf((x[None, :] - a[:, c:c + 1]) / sd[:, c:c + 1])).sum(axis=0)
        out[c] = np.interp(qs, cdf, x)
    return out
