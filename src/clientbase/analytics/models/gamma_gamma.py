"""Gamma-Gamma model of average spend per transaction.

Reference
---------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis". Journal of Marketing Research 42(4), 415-430. Likelihood as in Fader & Hardie (2013),
"The Gamma-Gamma Model of Monetary Value", http://brucehardie.com/notes/025/ (equation 1a).

A customer's spend per transaction is Gamma(p, nu) with ``nu ~ Gamma(q, v)`` across customers, independent
of the purchase process. Only customers with at least one repeat purchase (x > 0) carry information; their
``monetary_value`` is the mean of their x repeat-purchase amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from ._arrays import ArrayLike, FloatArray, GroupedRows, as_float, dot, unique_values
from ._optimize import minimise_with_gradient


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (p, q, v) and the total log-likelihood of the spend data."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = True

    def as_array(self) -> FloatArray:
        return np.array([self.p, self.q, self.v])


def log_likelihood_terms(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Per-customer log density of the mean spend ``m`` over ``x`` transactions (note 025, 1a)."""
    p, q, v = params
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
        + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v)
    )


@dataclass(frozen=True, slots=True)
class _SpendData:
    """Repeat customers' spend with everything that does not depend on the parameters precomputed.

    Only log(x m + v) and 1/(x m + v) need a pass over the rows per evaluation; the gamma-function terms
    depend on x alone and are evaluated once per distinct x.
    """

    xm: FloatArray
    w: FloatArray
    wx: FloatArray
    x_values: FloatArray
    w_per_x: FloatArray
    wx_log_xm: float
    w_log_m: float

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray, weights: FloatArray) -> _SpendData:
        w = weights / weights.sum()
        x_values, x_index = unique_values(x)
        return cls(
            xm=x * m, w=w, wx=w * x, x_values=x_values,
            w_per_x=np.bincount(x_index, weights=w, minlength=x_values.shape[0]),
            wx_log_xm=dot(w * x, np.log(m) + np.log(x)), w_log_m=dot(w, np.log(m)),
        )


def _negative_mean_log_likelihood(log_params: FloatArray, data: _SpendData) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood (note 025, 1a) and its gradient with respect to the log-parameters."""
    params = np.exp(log_params)
    p, q, v = params
    ux, wx_ = data.x_values, data.w_per_x
    log_total = np.log(data.xm + v)
    inverse_total = 1.0 / (data.xm + v)
    wx_log, w_log = dot(data.wx, log_total), dot(data.w, log_total)
    ll = (
        dot(wx_, gammaln(p * ux + q) - gammaln(p * ux)) - gammaln(q) + q * np.log(v)
        + p * data.wx_log_xm - data.w_log_m - p * wx_log - q * w_log
    )
    psi_pxq = digamma(p * ux + q)
    d_p = dot(wx_ * ux, psi_pxq - digamma(p * ux)) + data.wx_log_xm - wx_log
    d_q = dot(wx_, psi_pxq) - digamma(q) + np.log(v) - w_log
    d_v = q / v - p * dot(data.wx, inverse_total) - q * dot(data.w, inverse_total)
    gradient = np.array([d_p, d_q, d_v]) * params
    return -ll, -gradient


def _check_spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = as_float(frequency, "frequency")
    m = as_float(monetary_value, "monetary_value")
    if x.shape != m.shape:
        raise ValueError("frequency and monetary_value must have the same length")
    if (x < 0).any() or (m < 0).any():
        raise ValueError("frequency and monetary_value must be non-negative")
    return x, m


class GammaGammaModel:
    """Gamma-Gamma spend model: fit on repeat customers, predict the expected average spend of anyone."""

    def __init__(self, params: GammaGammaParams | None = None) -> None:
        self._params = params

    @property
    def params(self) -> GammaGammaParams:
        if self._params is None:
            raise RuntimeError("the model is not fitted; call fit() or pass params")
        return self._params

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> GammaGammaParams:
        """Maximum-likelihood fit on customers with ``frequency > 0`` and positive spend (others are ignored).

        Spend is rescaled to mean one while optimising, which leaves p and q unchanged and divides v.
        """
        x, m = _check_spend(frequency, monetary_value)
        w = np.ones_like(x) if weights is None else as_float(weights, "weights")
        keep = (x > 0) & (m > 0)
        if not keep.any():
            raise ValueError("the Gamma-Gamma model needs customers with repeat purchases and spend")
        # Spend is continuous, so rows are not grouped: the objective is already linear in the rows.
        grouped = GroupedRows(columns=(x[keep], m[keep]), weights=w[keep])
        gx, gm = grouped.columns
        scale = float(np.average(gm, weights=grouped.weights))
        data = _SpendData.build(gx, gm / scale, grouped.weights)
        start, inverse_hessian = np.zeros(3), None
        if gx.shape[0] > 100_000:
            # As for BG/NBD: a 50,000-customer subsample's optimum and curvature make the full fit a polish.
            sample = np.random.default_rng(0).choice(gx.shape[0], 50_000, replace=False)
            small = _SpendData.build(gx[sample], gm[sample] / scale, grouped.weights[sample])
            start, _, inverse_hessian = minimise_with_gradient(lambda lp: _negative_mean_log_likelihood(lp, small), start)
        log_params, converged, _ = minimise_with_gradient(
            lambda lp: _negative_mean_log_likelihood(lp, data), start, inverse_hessian,
            gradient_tolerance=1e-7 if inverse_hessian is None else 1e-9,
        )
        p, q, v = np.exp(log_params)
        total = float(grouped.weights.sum())
        # Mean spend is a density in money units: dividing money by ``scale`` adds log(scale) per customer.
        log_likelihood = (-_negative_mean_log_likelihood(log_params, data)[0] - np.log(scale)) * total
        self._params = GammaGammaParams(
            p=float(p), q=float(q), v=float(v * scale),
            log_likelihood=float(log_likelihood), n_customers=int(round(total)), converged=converged,
        )
        return self._params

    def log_likelihood(self, frequency: ArrayLike, monetary_value: ArrayLike) -> float:
        """Total log-likelihood of repeat customers' mean spend (customers with x = 0 are skipped)."""
        x, m = _check_spend(frequency, monetary_value)
        keep = (x > 0) & (m > 0)
        return float(log_likelihood_terms(self.params.as_array(), x[keep], m[keep]).sum())

    def expected_average_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """E[spend per transaction | x, m] (FHL 2005 RFM/CLV, eq. 5; note 025, eq. 4).

        A credibility-weighted mix of the population mean p v / (q - 1) and the customer's own mean, with
        weight p x / (p x + q - 1) on the latter; customers without repeat purchases get the population mean.
        Needs q > 1 for the population mean to exist.
        """
        x, m = _check_spend(frequency, monetary_value)
        p, q, v = self.params.as_array()
        if q <= 1.0:
            raise ValueError("the fitted q <= 1: the population mean spend is undefined")
        return np.asarray((p * v + p * x * m) / (p * x + q - 1.0), dtype=np.float64)
