"""Pareto/NBD: Poisson purchasing with an exponential lifetime, both rates gamma-distributed.

References
----------
Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987). "Counting Your Customers: Who Are They and What
Will They Do Next?". Management Science 33(1), 1-24.
Fader, P. S. and Hardie, B. G. S. (2005). "A Note on Deriving the Pareto/NBD Model and Related Expressions",
http://brucehardie.com/notes/009/ (equations cited as FH n).

While active a customer buys with rate ``lambda ~ Gamma(r, alpha)``; their lifetime is Exponential(mu)
with ``mu ~ Gamma(s, beta)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from ._arrays import ArrayLike, FloatArray, IntArray, check_rfm, dot, group_rows, unique_pairs
from ._optimize import minimise_without_gradient


@dataclass(frozen=True, slots=True)
class ParetoNBDParams:
    """Fitted Pareto/NBD parameters; ``log_likelihood`` is the total in the data's time unit."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = True

    def as_array(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.s, self.beta])


def _log_tail_integral(params: FloatArray, x: FloatArray, u: FloatArray) -> FloatArray:
    """log of I(u) = integral from u to infinity of (alpha + y)^-(r+x) (beta + y)^-(s+1) dy.

    With M = max(alpha, beta) and z = |alpha - beta| / (M + u),
    I(u) = (M + u)^-(r+s+x) / (r+s+x) * 2F1(r+s+x, b; r+s+x+1; z), b = s+1 if alpha >= beta else r+x
    (FH 19-20, the form that keeps z in [0, 1)). For large x with alpha < beta the 2F1 itself overflows, so
    Pfaff's transformation 2F1(c-1, b; c; z) = (1-z)^-b 2F1(1, b; c; z/(z-1)) is used: the remaining 2F1 lies
    in (0, 1] and only its logarithm-scale prefactor grows.
    """
    r, alpha, s, beta = params
    total = r + s + x
    top = max(alpha, beta)
    exponent = s + 1.0 if alpha >= beta else r + x
    z = abs(alpha - beta) / (top + u)
    log_2f1 = -exponent * np.log1p(-z) + np.log(hyp2f1(1.0, exponent, total + 1.0, z / (z - 1.0)))
    return np.asarray(-total * np.log(top + u) - np.log(total) + log_2f1, dtype=np.float64)


def _log_likelihood_branches(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, tails: _TailPairs | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(common factor, log "active at T" branch, log "died in (t_x, T]" branch) of the likelihood (FH 18).

    L = G * [(alpha+T)^-(r+x) (beta+T)^-s + s (I(t_x) - I(T))]; the difference of the two tail integrals is
    taken in log space, and is -inf (no mass) when t_x == T. ``tails`` evaluates I once per distinct
    (x, t_x) and (x, T) pair, which is what makes fits on day-granular data cheap.
    """
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    active = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    if tails is None:
        from_last = _log_tail_integral(params, x, t_x)
        from_end = _log_tail_integral(params, x, T)
    else:
        from_last = _log_tail_integral(params, tails.last_x, tails.last_u)[tails.last_index]
        from_end = _log_tail_integral(params, tails.end_x, tails.end_u)[tails.end_index]
    with np.errstate(divide="ignore"):
        died = np.log(s) + from_last + np.log(-np.expm1(np.minimum(from_end - from_last, 0.0)))
    return common, active, died


@dataclass(frozen=True, slots=True)
class _TailPairs:
    """Distinct (x, t_x) and (x, T) pairs of a data set, with each row's index into them."""

    last_x: FloatArray
    last_u: FloatArray
    last_index: IntArray
    end_x: FloatArray
    end_u: FloatArray
    end_index: IntArray

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, T: FloatArray) -> _TailPairs:
        return cls(*unique_pairs(x, t_x), *unique_pairs(x, T))


def log_likelihood_terms(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, tails: _TailPairs | None = None
) -> FloatArray:
    """Per-customer log-likelihood (FH 18)."""
    common, active, died = _log_likelihood_branches(params, x, t_x, T, tails)
    return np.asarray(common + np.logaddexp(active, died), dtype=np.float64)


class ParetoNBDModel:
    """Pareto/NBD model: maximum-likelihood fit and per-customer predictions."""

    def __init__(self, params: ParetoNBDParams | None = None) -> None:
        self._params = params

    @property
    def params(self) -> ParetoNBDParams:
        if self._params is None:
            raise RuntimeError("the model is not fitted; call fit() or pass params")
        return self._params

    def fit(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
    ) -> ParetoNBDParams:
        """Maximum-likelihood fit over distinct (x, t_x, T) patterns, in log-parameters.

        The likelihood has no cheap analytic gradient (derivatives of 2F1 in its parameters), so BFGS runs
        on finite-difference gradients, with Nelder-Mead as the fallback (see ``minimise_without_gradient``).
        """
        x, t_x, age = check_rfm(frequency, recency, T)
        grouped = group_rows(x, t_x, age, weights=weights)
        gx, gt_x, gT = grouped.columns
        if float(gT.max()) <= 0.0:
            raise ValueError("T: every customer was acquired at the end of observation; nothing to fit")
        scale = 1.0 / float(gT.max())
        total = float(grouped.weights.sum())
        scaled_t_x, scaled_T = gt_x * scale, gT * scale
        tails = _TailPairs.build(gx, scaled_t_x, scaled_T)

        def objective(log_params: FloatArray) -> float:
            terms = log_likelihood_terms(np.exp(log_params), gx, scaled_t_x, scaled_T, tails)
            value = -dot(grouped.weights, terms) / total
            # A large finite value (not inf) keeps the line search working when a step leaves the domain.
            return value if np.isfinite(value) else 1e10

        log_params, converged = minimise_without_gradient(objective, np.zeros(4))
        r, alpha, s, beta = np.exp(log_params)
        fitted = np.array([r, alpha / scale, s, beta / scale])
        self._params = ParetoNBDParams(
            r=float(r), alpha=float(alpha / scale), s=float(s), beta=float(beta / scale),
            log_likelihood=dot(grouped.weights, log_likelihood_terms(fitted, gx, gt_x, gT)),
            n_customers=int(round(total)), converged=converged,
        )
        return self._params

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float:
        x, t_x, age = check_rfm(frequency, recency, T)
        return float(log_likelihood_terms(self.params.as_array(), x, t_x, age).sum())

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(active at T | x, t_x, T) (FH 36-37): the share of the "active" branch in the likelihood."""
        x, t_x, age = check_rfm(frequency, recency, T)
        _, active, died = _log_likelihood_branches(self.params.as_array(), x, t_x, age)
        return np.asarray(expit(active - died), dtype=np.float64)

    def expected_purchases(self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """E[purchases in (T, T + t] | x, t_x, T] (FH 41)."""
        return self.expected_purchases_curve([t], frequency, recency, T)[0]

    def expected_purchases_curve(
        self,
        horizons: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        probability_alive: FloatArray | None = None,
    ) -> FloatArray:
        """FH (41) for several horizons; shape (len(horizons), customers).

        P(active) * (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)], where the bracket
        over (s-1) is computed with expm1 so s close to 1 (limit log(1 + t/(beta+T))) stays exact.
        """
        r, alpha, s, beta = self.params.as_array()
        x, _, age = check_rfm(frequency, recency, T)
        alive = self.probability_alive(frequency, recency, T) if probability_alive is None else probability_alive
        horizon = np.asarray(horizons, dtype=np.float64)[:, None]
        log_growth = np.log1p(horizon / (beta + age))
        bracket = log_growth if abs(s - 1.0) < 1e-12 else -np.expm1(-(s - 1.0) * log_growth) / (s - 1.0)
        return np.asarray(alive * (r + x) * (beta + age) / (alpha + age) * bracket, dtype=np.float64)

    def expected_purchases_combination(
        self,
        horizons: ArrayLike,
        coefficients: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        probability_alive: FloatArray | None = None,
    ) -> FloatArray:
        """sum_h coefficients[..., h] * E[purchases in (T, T + horizons[h]]]; (h,) or (k, h) coefficients."""
        curve = self.expected_purchases_curve(horizons, frequency, recency, T, probability_alive)
        weights = np.asarray(coefficients, dtype=np.float64)
        return np.asarray(np.einsum("...h,hn->...n", weights, curve), dtype=np.float64)
