"""BG/NBD: the beta-geometric / negative-binomial model of repeat buying.

Reference
---------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting Your Customers the Easy Way: An
Alternative to the Pareto/NBD Model". Marketing Science 24(2), 275-284. Equations cited below as (FHL n).

While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)`` (shape, rate);
right after each repeat purchase they drop out with probability ``p ~ Beta(a, b)``. A customer is
summarised by ``x`` (repeat purchases), ``t_x`` (time of the last one, 0 if none) and ``T`` (time since the
first purchase); all times share one unit (days in clientbase).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1, log_expit

from ._arrays import (
    ArrayLike,
    FloatArray,
    IntArray,
    as_float,
    check_rfm,
    dot,
    group_rows,
    unique_pairs,
    unique_values,
)
from ._optimize import minimise_with_gradient


@dataclass(frozen=True, slots=True)
class BetaGeoParams:
    """Fitted BG/NBD parameters; ``log_likelihood`` is the total over customers in the data's time unit."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = True

    def as_array(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.a, self.b])


@dataclass(frozen=True, slots=True)
class NextPurchaseForecast:
    """Quantiles of the time until the next purchase, counted from the end of observation (time ``T``).

    ``median``, ``lower`` and ``upper`` are ``inf`` where the customer has too little chance of being active
    for that quantile to exist (the distribution has an atom at "never" of mass ``1 - probability_alive``).
    """

    median: FloatArray
    lower: FloatArray
    upper: FloatArray
    probability_alive: FloatArray


def log_likelihood_terms(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """Per-customer log-likelihood (FHL 6), evaluated as a log-sum-exp of its two branches.

    The branch "still active at T" and the branch "dropped out right after t_x" can differ by hundreds of
    orders of magnitude for long histories, so neither is exponentiated on its own.
    """
    r, alpha, a, b = params
    repeat = x > 0
    x_pos = np.maximum(x, 1.0)
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + _log_beta_ratio(a, b, x)
    active = -(r + x) * np.log(alpha + T)
    dropped = np.where(repeat, np.log(a) - np.log(b + x_pos - 1.0) - (r + x) * np.log(alpha + t_x), -np.inf)
    return head + np.logaddexp(active, dropped)


def _log_dropout_ratio(a: float, b: float, x: FloatArray) -> FloatArray:
    """log(a / (b + x - 1)) per customer, through a table over x when x is a small whole number (it is)."""
    top = float(x.max(initial=0.0))
    if top < 1_000_000 and np.array_equal(x, np.floor(x)):
        table = np.log(a) - np.log(b + np.maximum(np.arange(top + 1.0), 1.0) - 1.0)
        return np.asarray(table[x.astype(np.int64)], dtype=np.float64)
    return np.asarray(np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0), dtype=np.float64)


def _log_beta_ratio(a: float, b: float, x: FloatArray) -> FloatArray:
    """log B(a, b + x) / B(a, b)."""
    return gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)


@dataclass(frozen=True, slots=True)
class _Patterns:
    """Distinct (x, t_x, T) rows with weights, plus indices into their distinct x, t_x and T values.

    Every special function in the likelihood depends on one of x, t_x or T alone (a few hundred distinct
    values with day-granular data), so it is evaluated per distinct value and gathered, leaving only the
    log-sum-exp per row.
    """

    x: FloatArray
    weights: FloatArray
    x_values: FloatArray
    x_index: IntArray
    weight_per_x: FloatArray
    t_x_values: FloatArray
    t_x_index: IntArray
    T_values: FloatArray
    T_index: IntArray

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray) -> _Patterns:
        x_values, x_index = unique_values(x)
        t_x_values, t_x_index = unique_values(t_x)
        T_values, T_index = unique_values(T)
        shares = weights / weights.sum()
        weight_per_x = np.bincount(x_index, weights=shares, minlength=x_values.shape[0])
        return cls(x, shares, x_values, x_index, weight_per_x, t_x_values, t_x_index, T_values, T_index)


def _negative_mean_log_likelihood(log_params: FloatArray, data: _Patterns) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood (FHL 6) and its analytic gradient with respect to the log-parameters."""
    params = np.exp(log_params)
    r, alpha, a, b = params
    ux, ix, w = data.x_values, data.x_index, data.weights
    r_x = r + data.x
    log_a_T = np.log(alpha + data.T_values)[data.T_index]
    log_a_tx = np.log(alpha + data.t_x_values)[data.t_x_index]
    log_dropout = np.where(ux > 0, np.log(a) - np.log(b + np.maximum(ux, 1.0) - 1.0), -np.inf)[ix]
    active = -r_x * log_a_T
    # log(e^active + e^dropped) = active - log_expit(active - dropped): one stable special-function pass.
    gap = log_dropout - r_x * log_a_tx - active
    mix = active - log_expit(-gap)
    share_dropped = expit(gap)
    share_active = 1.0 - share_dropped
    # Per-x terms are summed with the weight each distinct x carries.
    w_x = data.weight_per_x
    w_dropped_x = np.bincount(ix, weights=w * share_dropped, minlength=ux.shape[0])
    head = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + _log_beta_ratio(a, b, ux)
    ll = dot(w_x, head) + dot(w, mix)

    d_r = dot(w_x, digamma(r + ux)) - digamma(r) + np.log(alpha)
    d_r -= dot(w, share_active * log_a_T + share_dropped * log_a_tx)
    alpha_T = (1.0 / (alpha + data.T_values))[data.T_index]
    alpha_tx = (1.0 / (alpha + data.t_x_values))[data.t_x_index]
    d_alpha = r / alpha - dot(w, r_x * (share_active * alpha_T + share_dropped * alpha_tx))
    d_a = digamma(a + b) + dot(w_dropped_x, np.full_like(ux, 1.0 / a)) - dot(w_x, digamma(a + b + ux))
    d_b = digamma(a + b) - digamma(b) + float(
        dot(w_x, digamma(b + ux) - digamma(a + b + ux)) - dot(w_dropped_x, 1.0 / (b + np.maximum(ux, 1.0) - 1.0))
    )
    gradient = np.array([d_r, d_alpha, d_a, d_b]) * params
    return -ll, -gradient


class BetaGeoModel:
    """BG/NBD model: fit by maximum likelihood, then predict per customer.

    Examples
    --------
    >>> model = BetaGeoModel()
    >>> params = model.fit(frequency, recency, T)          # doctest: +SKIP
    >>> model.expected_purchases(90, frequency, recency, T)  # doctest: +SKIP
    """

    def __init__(self, params: BetaGeoParams | None = None) -> None:
        self._params = params

    @property
    def params(self) -> BetaGeoParams:
        if self._params is None:
            raise RuntimeError("the model is not fitted; call fit() or pass params")
        return self._params

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> BetaGeoParams:
        """Maximum-likelihood fit over the distinct (x, t_x, T) patterns, weighted by their counts."""
        x, t_x, age = check_rfm(frequency, recency, T)
        grouped = group_rows(x, t_x, age, weights=weights)
        gx, gt_x, gT = grouped.columns
        # Times are rescaled so the oldest customer has age 1: the optimiser then starts near the optimum
        # whatever the time unit, and only alpha carries the unit back.
        if float(gT.max()) <= 0.0:
            raise ValueError("T: every customer was acquired at the end of observation; nothing to fit")
        scale = 1.0 / float(gT.max())
        data = _Patterns.build(gx, gt_x * scale, gT * scale, grouped.weights)
        start, inverse_hessian = self._warm_start(data)
        # From a warm start a tighter tolerance costs two or three evaluations and pins the last digits.
        log_params, converged, _ = minimise_with_gradient(
            lambda p: _negative_mean_log_likelihood(p, data), start, inverse_hessian,
            gradient_tolerance=1e-7 if inverse_hessian is None else 1e-9,
        )
        r, alpha, a, b = np.exp(log_params)
        total = float(grouped.weights.sum())
        # Rescaling time by c multiplies each customer's likelihood by c^-x (rates carry 1/time units),
        # so the likelihood in the data's own unit is recovered without another pass over the patterns.
        log_likelihood = -_negative_mean_log_likelihood(log_params, data)[0] * total + dot(
            grouped.weights, gx
        ) * np.log(scale)
        self._params = BetaGeoParams(
            r=float(r), alpha=float(alpha / scale), a=float(a), b=float(b),
            log_likelihood=float(log_likelihood), n_customers=int(round(total)), converged=converged,
        )
        return self._params

    @staticmethod
    def _warm_start(data: _Patterns) -> tuple[FloatArray, FloatArray | None]:
        """Start point and inverse Hessian from a fit on a random ~5 % of the customers, for big data.

        The optimum of a 50,000-customer thinning is within sampling error of the full one, and BFGS seeded
        with its curvature converges on the full data in a few evaluations instead of twenty-odd.
        """
        if data.x.shape[0] < 50_000:
            return np.zeros(4), None
        rng = np.random.default_rng(0)
        # Poisson thinning of the pattern counts is a random subsample of customers (weights are shares).
        counts = rng.poisson(data.weights * 50_000.0)
        keep = counts > 0
        sample = _Patterns.build(
            data.x[keep], data.t_x_values[data.t_x_index[keep]], data.T_values[data.T_index[keep]],
            counts[keep].astype(np.float64),
        )
        start, _, inverse_hessian = minimise_with_gradient(lambda p: _negative_mean_log_likelihood(p, sample), np.zeros(4))
        return start, inverse_hessian

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float:
        """Total log-likelihood of the data under the current parameters (FHL 6)."""
        x, t_x, age = check_rfm(frequency, recency, T)
        return float(log_likelihood_terms(self.params.as_array(), x, t_x, age).sum())

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(active at T | x, t_x, T) (FHL 2005, note 021 eq. 1); 1 for customers without repeat purchases."""
        x, t_x, age = check_rfm(frequency, recency, T)
        return self._probability_alive(x, t_x, age)

    def _probability_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        # In-place steps: scoring ten million customers is bound by temporaries, not by arithmetic.
        r, alpha, a, b = self.params.as_array()
        log_odds = np.add(alpha, T)
        log_odds /= alpha + t_x
        np.log(log_odds, out=log_odds)
        log_odds *= r + x
        log_odds += _log_dropout_ratio(a, b, x)
        np.negative(log_odds, out=log_odds)
        alive = np.asarray(expit(log_odds, out=log_odds), dtype=np.float64)
        alive[x == 0] = 1.0
        return alive

    def population_expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: repeat purchases in the first ``t`` after acquisition for a new customer (FHL 9).

        This is FHL (10) for a customer with x = 0 observed for T = 0 (active for sure), so it shares the
        Euler-transformed evaluation of the conditional expectation.
        """
        horizons = np.atleast_1d(as_float(t, "t"))
        per_pair, _ = self._purchases_per_pair(horizons, np.zeros(1), np.zeros(1))
        return np.asarray(per_pair[:, 0], dtype=np.float64)

    def expected_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[purchases in (T, T + t] | x, t_x, T] (FHL 10)."""
        return self.expected_purchases_curve([t], frequency, recency, T)[0]

    def expected_purchases_curve(
        self, horizons: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """FHL (10) for several horizons at once; returns an array of shape (len(horizons), customers).

        FHL (10) contains 2F1(r+x, b+x; a+b+x-1; z) * (1-z)^(r+x) with z = t/(alpha+T+t), which overflows for
        large x. Euler's transformation turns it into (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z), which stays
        of order one. That term depends on (x, T) only, so it is evaluated once per distinct pair.
        """
        x, t_x, age = check_rfm(frequency, recency, T)
        per_pair, index = self._purchases_per_pair(as_float(horizons, "horizons"), x, age)
        # np.take, not fancy indexing: the latter takes a slow path for 2-d gathers (6x at 2M customers).
        return np.asarray(np.take(per_pair, index, axis=-1) * self._probability_alive(x, t_x, age), dtype=np.float64)

    def expected_purchases_combination(
        self,
        horizons: ArrayLike,
        coefficients: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        probability_alive: FloatArray | None = None,
    ) -> FloatArray:
        """sum_h coefficients[..., h] * E[purchases in (T, T + horizons[h]]], per customer.

        ``coefficients`` of shape (h,) gives one value per customer; shape (k, h) gives k rows. Linear
        combinations (discounted monthly increments for lifetime value) are formed per distinct (x, T) pair
        before being spread to customers, so ten million customers cost one gather, not twelve.
        ``probability_alive`` may pass P(active) already computed for the same customers.
        """
        x, t_x, age = check_rfm(frequency, recency, T)
        per_pair, index = self._purchases_per_pair(as_float(horizons, "horizons"), x, age)
        weights = np.asarray(coefficients, dtype=np.float64)
        combined = np.einsum("...h,hp->...p", weights, per_pair)
        alive = self._probability_alive(x, t_x, age) if probability_alive is None else probability_alive
        return np.asarray(np.take(combined, index, axis=-1) * alive, dtype=np.float64)

    def _purchases_per_pair(
        self, horizons: FloatArray, x: FloatArray, T: FloatArray
    ) -> tuple[FloatArray, IntArray]:
        """FHL (10) without its P(active) factor, per distinct (x, T) pair: (values[h, pair], pair index)."""
        r, alpha, a, b = self.params.as_array()
        if abs(a - 1.0) < 1e-7:
            # FHL (10) is 0/0 at a = 1 but continuous in a; step just off the removable singularity.
            a = 1.0 + 1e-7
        ux, uT, index = unique_pairs(x, T)
        horizon = horizons[:, None]
        z = horizon / (alpha + uT + horizon)
        euler = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + ux - 1.0, z)
        return (a + b + ux - 1.0) / (a - 1.0) * (1.0 - euler), index

    def next_purchase(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, level: float = 0.8, given_alive: bool = False
    ) -> NextPurchaseForecast:
        """Median and central ``level`` interval of the waiting time from T to the next purchase.

        In BG/NBD a customer can only drop out right after a purchase, so a customer active at T buys next
        after an Exponential(lambda) wait with lambda | data, active ~ Gamma(r + x, alpha + T). Mixing gives a
        Lomax law, P(W > w | active) = ((alpha + T) / (alpha + T + w))^(r + x). Unconditionally
        P(W <= w) = P(active) * (1 - that), a distribution with an atom at "never"; its q-quantile is
        finite only when q < P(active). With ``given_alive`` the quantiles are those of the active customer.
        """
        x, t_x, age = check_rfm(frequency, recency, T)
        r, alpha, _, _ = self.params.as_array()
        alive = self._probability_alive(x, t_x, age)
        mass = np.ones_like(alive) if given_alive else alive
        tail = (1.0 - level) / 2.0

        def quantile(q: float) -> FloatArray:
            share = np.minimum(q / mass, 1.0)
            with np.errstate(divide="ignore"):
                wait = (alpha + age) * np.expm1(-np.log1p(-share) / (r + x))
            return np.where(q < mass, wait, np.inf)

        return NextPurchaseForecast(
            median=quantile(0.5), lower=quantile(tail), upper=quantile(1.0 - tail), probability_alive=alive
        )
