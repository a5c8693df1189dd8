"""Customer lifetime value: expected purchases per month times expected spend, discounted monthly.

Follows ``lifetimes.utils._customer_lifetime_value`` (lifetimes 0.11) so figures are comparable: for month
i = 1..months, the expected purchases in ((i-1) * days_per_month, i * days_per_month] times the
Gamma-Gamma expected average spend, divided by (1 + discount_rate)^i.
See also Fader, Hardie & Lee (2005), "RFM and CLV", section on discounted expected transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ._arrays import ArrayLike, FloatArray
from .gamma_gamma import GammaGammaModel


class TransactionModel(Protocol):
    """What a purchase-count model (BG/NBD, Pareto/NBD) offers the value computation."""

    def expected_purchases_combination(
        self,
        horizons: ArrayLike,
        coefficients: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        probability_alive: FloatArray | None = None,
    ) -> FloatArray: ...

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray: ...


@dataclass(frozen=True, slots=True)
class CustomerScores:
    """Per-customer scores from one pass: the figures the customer card and the dashboards show."""

    expected_purchases: FloatArray
    probability_alive: FloatArray
    expected_spend: FloatArray
    lifetime_value: FloatArray


def customer_lifetime_value(
    transaction_model: TransactionModel,
    spend_model: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    months: int = 12,
    discount_rate: float = 0.01,
    days_per_month: float = 30.0,
) -> FloatArray:
    """Discounted expected revenue over the next ``months`` months, per customer.

    Parameters
    ----------
    transaction_model, spend_model
        Fitted models; times in the data must be in days (``days_per_month`` converts, 30 as in lifetimes).
    frequency, recency, T, monetary_value
        Per-customer summary (see :func:`summarise_transactions`).
    months
        Horizon in months.
    discount_rate
        Monthly discount rate (0.01 = 1 % a month).
    """
    horizons, coefficients = _discounted_months(months, discount_rate, days_per_month)
    purchases = transaction_model.expected_purchases_combination(horizons, coefficients, frequency, recency, T)
    return np.asarray(spend_model.expected_average_spend(frequency, monetary_value) * purchases, dtype=np.float64)


def _discounted_months(months: int, discount_rate: float, days_per_month: float) -> tuple[FloatArray, FloatArray]:
    """Horizons (month ends) and coefficients turning the expectation curve into discounted monthly sums.

    sum_i d_i (E(h_i) - E(h_{i-1})) with E(h_0) = 0 equals sum_i (d_i - d_{i+1}) E(h_i), d_{months+1} = 0.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    horizons = np.arange(1, months + 1, dtype=np.float64) * days_per_month
    discount = (1.0 + discount_rate) ** -np.arange(1, months + 1, dtype=np.float64)
    return horizons, discount - np.append(discount[1:], 0.0)


def score_customers(
    transaction_model: TransactionModel,
    spend_model: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon_days: float = 90.0,
    months: int = 12,
    discount_rate: float = 0.01,
    days_per_month: float = 30.0,
) -> CustomerScores:
    """Expected purchases in ``horizon_days``, P(active), expected spend and lifetime value in one pass.

    Same figures as calling the models one by one (see :func:`customer_lifetime_value`), but the expectation
    curve is evaluated once for both the horizon and the monthly lifetime-value sums.
    """
    month_ends, month_weights = _discounted_months(months, discount_rate, days_per_month)
    horizons = np.append(month_ends, horizon_days)
    coefficients = np.zeros((2, horizons.shape[0]))
    coefficients[0, :-1] = month_weights
    coefficients[1, -1] = 1.0
    alive = transaction_model.probability_alive(frequency, recency, T)
    value_purchases, horizon_purchases = transaction_model.expected_purchases_combination(
        horizons, coefficients, frequency, recency, T, probability_alive=alive
    )
    spend = spend_model.expected_average_spend(frequency, monetary_value)
    return CustomerScores(
        expected_purchases=horizon_purchases,
        probability_alive=alive,
        expected_spend=spend,
        lifetime_value=np.asarray(spend * value_purchases, dtype=np.float64),
    )
