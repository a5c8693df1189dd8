"""Fit the population models on a purchase log and score every customer. Pure numpy; the DB side is services.py.

Conventions are lifetimes' (see ``models.summary``): time in days, ``frequency`` = repeat purchase days,
spend = the customer's mean net order amount per repeat day, in kopecks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from clientbase.analytics import rules
from clientbase.analytics.models.beta_geo import BetaGeoModel
from clientbase.analytics.models.gamma_gamma import GammaGammaModel
from clientbase.analytics.models.pareto_nbd import ParetoNBDModel
from clientbase.analytics.models.summary import summarise_transactions
from clientbase.analytics.nextvisit import RhythmForecast, forecast_rhythm, visit_history

FloatArray = npt.NDArray[np.float64]
DAYS_PER_MONTH = 30.0   # as lifetimes and models.lifetime_value
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ScoringSettings:
    horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    expected_horizon_days: float = 90.0
    compare_pareto: bool = True
    # Pareto/NBD has no cheap gradient and takes minutes on 10^5 customers: the comparison fit uses a sample.
    pareto_sample: int = 2000


@dataclass
class Scores:
    """Everything computed for the customers with purchases, aligned and sorted by customer id."""

    customer_id: IntArray
    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    monetary: FloatArray
    visits: IntArray
    days_since_last: FloatArray
    total_spend: IntArray
    probability_alive: FloatArray
    expected_purchases: FloatArray
    expected_spend: FloatArray
    clv: FloatArray
    next_day: FloatArray
    next_low: FloatArray
    next_high: FloatArray
    next_method: list[str]
    typical_gap: FloatArray
    recency_score: IntArray
    frequency_score: IntArray
    monetary_score: IntArray
    segment: npt.NDArray[np.str_]
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def fit_models(frequency: FloatArray, recency: FloatArray, age: FloatArray, monetary: FloatArray,
               settings: ScoringSettings) -> tuple[BetaGeoModel, GammaGammaModel | None, dict[str, Any]]:
    """BG/NBD (must fit), Gamma-Gamma (may be undefined: then None) and the Pareto/NBD comparison."""
    transactions = BetaGeoModel()
    bg = transactions.fit(frequency, recency, age)
    params: dict[str, Any] = {
        "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "log_likelihood": bg.log_likelihood,
                  "customers": bg.n_customers, "converged": bool(bg.converged)},
    }
    spend: GammaGammaModel | None = GammaGammaModel()
    try:
        gg = GammaGammaModel().fit(frequency, monetary)
        spend = GammaGammaModel(gg)
        if gg.q <= 1.0:
            raise ValueError("fitted q <= 1: the population mean spend is undefined")
        params["gamma_gamma"] = {"p": gg.p, "q": gg.q, "v": gg.v, "log_likelihood": gg.log_likelihood,
                                 "customers": gg.n_customers, "converged": bool(gg.converged)}
    except (ValueError, RuntimeError, FloatingPointError) as exc:
        # Too few repeat buyers, or spend with no spread: each customer's own mean spend stands in.
        spend = None
        params["gamma_gamma"] = {"error": str(exc)}
    if settings.compare_pareto:
        params["pareto_nbd"] = _compare_pareto(transactions, frequency, recency, age, settings.pareto_sample)
    return transactions, spend, params


def _compare_pareto(transactions: BetaGeoModel, frequency: FloatArray, recency: FloatArray, age: FloatArray,
                    sample_size: int) -> dict[str, Any]:
    sample = np.arange(frequency.shape[0])
    if sample.shape[0] > sample_size:
        sample = np.random.default_rng(0).choice(sample, sample_size, replace=False)
    try:
        pn = ParetoNBDModel().fit(frequency[sample], recency[sample], age[sample])
    except (ValueError, RuntimeError, FloatingPointError) as exc:
        # The comparison is informative only; a failed Pareto/NBD fit must not stop the scores.
        return {"error": str(exc)}
    return {"r": pn.r, "alpha": pn.alpha, "s": pn.s, "beta": pn.beta, "log_likelihood": pn.log_likelihood,
            "converged": bool(pn.converged), "customers": int(sample.shape[0]),
            "bgnbd_log_likelihood_same_sample": transactions.log_likelihood(frequency[sample], recency[sample],
                                                                              age[sample])}


def purchase_curve(model: BetaGeoModel, horizons: FloatArray, frequency: FloatArray, recency: FloatArray,
                   age: FloatArray) -> tuple[FloatArray, int]:
    """Expected cumulative purchases at each horizon (rows), with a fallback where the closed form fails.

    A degenerate fit (a and b running off to millions on a tiny base) overflows the hypergeometric term;
    there the customer's expected rate while active, (r + x) / (alpha + T), times P(active) times the
    horizon stands in. Returns the curve and how many customers needed the fallback.
    """
    with np.errstate(all="ignore"):
        curve = model.expected_purchases_curve(horizons, frequency, recency, age)
    broken = ~np.isfinite(curve).all(axis=0)
    if broken.any():
        p = model.params
        rate = (p.r + frequency[broken]) / (p.alpha + age[broken])
        alive = model.probability_alive(frequency[broken], recency[broken], age[broken])
        curve[:, broken] = horizons[:, None] * (rate * alive)[None, :]
    return curve, int(broken.sum())


def next_visits(rhythm: RhythmForecast) -> tuple[FloatArray, FloatArray, FloatArray, list[str]]:
    """Own rhythm where there is one (2+ visits), the population's gap otherwise.

    The BG/NBD median wait of an active customer was tried for one-visit customers and lost clearly on the
    hold-out (see docs/analytics.md): it is a 1-2 year wait, while those who do return come back sooner.
    """
    methods = np.where(rhythm.has_rhythm, "rhythm", "population").tolist()
    return rhythm.next_day, rhythm.low_day, rhythm.high_day, methods


def score_purchases(customer_ids: IntArray, days: FloatArray, amounts: IntArray, end_day: float,
                    settings: ScoringSettings | None = None) -> Scores:
    """Summarise, fit BG/NBD + Gamma-Gamma (+ Pareto/NBD for comparison) and score everyone bought by ``end_day``."""
    settings = settings or ScoringSettings()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    keep = days <= end_day
    customer_ids, days, amounts = customer_ids[keep], days[keep], amounts[keep]
    summary = summarise_transactions(customer_ids, days, amounts.astype(np.float64), observation_end=end_day)
    history = visit_history(customer_ids, days)
    unique_ids, inverse = np.unique(customer_ids, return_inverse=True)
    total_spend = np.bincount(inverse, weights=amounts, minlength=unique_ids.shape[0]).astype(np.int64)
    if not (np.array_equal(summary.customer_id, unique_ids) and np.array_equal(history.customer_id, unique_ids)):
        raise AssertionError("summary and visit history must list the same customers in the same order")
    f, r, age, m = summary.frequency, summary.recency, summary.T, summary.monetary_value
    timings["summary"] = time.perf_counter() - started

    started = time.perf_counter()
    transactions, spend, params = fit_models(f, r, age, m, settings)
    timings["fit"] = time.perf_counter() - started

    started = time.perf_counter()
    alive = transactions.probability_alive(f, r, age)
    months = np.arange(0, settings.horizon_months + 1, dtype=np.float64) * DAYS_PER_MONTH
    curve, approximated = purchase_curve(transactions, np.append(months, settings.expected_horizon_days), f, r, age)
    expected = curve[-1]
    own_mean = np.where(f > 0, m, float(amounts.mean()))
    expected_spend = spend.expected_average_spend(f, m) if spend is not None else own_mean
    # As lifetimes' customer_lifetime_value (models.lifetime_value): monthly expected purchases times the
    # expected spend, discounted monthly; computed here so that the fallbacks above apply to it too.
    discount = (1.0 + settings.monthly_discount_rate) ** -np.arange(1, settings.horizon_months + 1, dtype=np.float64)
    clv = expected_spend * (discount @ np.diff(curve[:-1], axis=0))
    params["bgnbd"]["approximated_customers"] = approximated
    rhythm = forecast_rhythm(history, end_day)
    next_day, low, high, methods = next_visits(rhythm)
    days_since_last = end_day - history.last_day
    r_score, f_score, m_score = rules.rfm_scores(days_since_last, history.visits, total_spend)
    timings["score"] = time.perf_counter() - started
    params["settings"] = {"horizon_months": settings.horizon_months,
                          "monthly_discount_rate": settings.monthly_discount_rate}
    return Scores(
        customer_id=unique_ids.astype(np.int64), frequency=f, recency=r, age=age, monetary=m,
        visits=history.visits, days_since_last=days_since_last, total_spend=total_spend,
        probability_alive=alive, expected_purchases=expected, expected_spend=expected_spend, clv=clv,
        next_day=next_day, next_low=low, next_high=high, next_method=methods, typical_gap=rhythm.typical_gap,
        recency_score=r_score, frequency_score=f_score, monetary_score=m_score,
        segment=rules.segments(r_score, f_score), params=params, timings=timings,
    )
