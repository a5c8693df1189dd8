"""Numerical behaviour: long histories, edge cases, the transaction summary and the next-purchase forecast."""

import numpy as np
import pytest
from scipy.integrate import quad

from clientbase.analytics.models import (
    BetaGeoModel,
    BetaGeoParams,
    GammaGammaModel,
    GammaGammaParams,
    ParetoNBDModel,
    ParetoNBDParams,
    customer_lifetime_value,
    score_customers,
    summarise_transactions,
)
from clientbase.analytics.models._arrays import group_rows
from clientbase.analytics.models.pareto_nbd import _log_tail_integral

BETA_GEO = BetaGeoModel(BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426))
PARETO = ParetoNBDModel(ParetoNBDParams(r=0.5533, alpha=10.5776, s=0.6061, beta=11.665))
# Long, heavy histories: thousands of purchases over decades of days.
X = np.array([0.0, 1.0, 50.0, 2_000.0, 20_000.0, 20_000.0])
T_X = np.array([0.0, 3.0, 700.0, 9_000.0, 10_000.0, 30.0])
T = np.array([5.0, 30.0, 720.0, 10_000.0, 10_000.0, 10_000.0])


@pytest.mark.parametrize("params", [(0.55, 10.6, 0.6, 11.7), (0.55, 100.0, 0.6, 1.0), (2.0, 0.5, 3.0, 400.0)])
def test_pareto_tail_integral_matches_quadrature_for_large_frequencies(params: tuple[float, ...]) -> None:
    r, alpha, s, beta = params
    for x, u in [(0.0, 0.0), (3.0, 20.0), (2_000.0, 1_000.0), (20_000.0, 2_000.0)]:
        # Scale the integrand by its value at u so quad sees numbers of order one.
        def integrand(y: float, x: float = x, u: float = u) -> float:
            return float(np.exp(-(r + x) * np.log((alpha + y) / (alpha + u)) - (s + 1) * np.log((beta + y) / (beta + u))))

        value, _ = quad(integrand, u, np.inf, limit=500)
        expected = np.log(value) - (r + x) * np.log(alpha + u) - (s + 1) * np.log(beta + u)
        got = _log_tail_integral(np.array(params), np.array([x]), np.array([u]))[0]
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_predictions_stay_finite_for_long_histories() -> None:
    for model in (BETA_GEO, PARETO):
        alive = model.probability_alive(X, T_X, T)
        expected = model.expected_purchases(365.0, X, T_X, T)
        assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
        assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
        assert np.isfinite(model.log_likelihood(X, T_X, T))
    # A customer who bought 20,000 times but not for 9,970 days is gone; the one still buying is not.
    assert BETA_GEO.probability_alive(X, T_X, T)[-1] < 1e-12
    assert BETA_GEO.probability_alive(X, T_X, T)[-2] > 0.99


def test_expected_purchases_grow_with_the_horizon_and_start_at_zero() -> None:
    for model in (BETA_GEO, PARETO):
        curve = model.expected_purchases_curve([0.0, 10.0, 100.0, 1000.0], X, T_X, T)
        assert np.all(curve[0] == 0.0)
        assert np.all(np.diff(curve, axis=0) >= 0)


def test_lifetime_value_is_discounted_monthly_spend() -> None:
    spend = GammaGammaModel(GammaGammaParams(p=6.25, q=3.74, v=15.44))
    x, t_x, T, m = np.array([2.0]), np.array([30.0]), np.array([60.0]), np.array([20.0])
    monthly = np.diff(BETA_GEO.expected_purchases_curve(np.arange(0, 4) * 30.0, x, t_x, T), axis=0)[:, 0]
    expected = spend.expected_average_spend(x, m)[0] * sum(monthly[i] / 1.01 ** (i + 1) for i in range(3))
    value = customer_lifetime_value(BETA_GEO, spend, x, t_x, T, m, months=3, discount_rate=0.01)
    assert value[0] == pytest.approx(expected, rel=1e-12)


def test_next_purchase_quantiles_invert_the_waiting_time_distribution() -> None:
    x, t_x, T = np.array([4.0, 2.0, 0.0]), np.array([50.0, 10.0, 0.0]), np.array([60.0, 60.0, 60.0])
    forecast = BETA_GEO.next_purchase(x, t_x, T, level=0.8)
    r, alpha = BETA_GEO.params.r, BETA_GEO.params.alpha

    def bought_within(wait: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return forecast.probability_alive * (1.0 - ((alpha + T) / (alpha + T + wait)) ** (r + x))

    for quantile, waits in ((0.5, forecast.median), (0.1, forecast.lower), (0.9, forecast.upper)):
        finite = np.isfinite(waits)
        assert np.array_equal(finite, quantile < forecast.probability_alive)
        assert bought_within(waits)[finite] == pytest.approx(np.full(finite.sum(), quantile), rel=1e-9)
    given_alive = BETA_GEO.next_purchase(x, t_x, T, given_alive=True)
    assert np.all(np.isfinite(given_alive.median)) and np.all(given_alive.lower < given_alive.upper)


def test_summary_follows_lifetimes_definitions() -> None:
    # Customer 7: first on day 1.2, two purchases on day 3 (one period, amounts summed), one on day 10.
    # Customer 9: a single purchase. Customer 5: one purchase after the observation end is dropped.
    summary = summarise_transactions(
        customer_ids=[7, 9, 7, 7, 7, 5, 5],
        timestamps=[1.2, 4.0, 3.1, 3.9, 10.5, 2.0, 30.0],
        amounts=[100.0, 50.0, 10.0, 20.0, 60.0, 5.0, 7.0],
        observation_end=20.0,
    )
    assert summary.customer_id.tolist() == [5, 7, 9]
    assert summary.frequency.tolist() == [0.0, 2.0, 0.0]
    assert summary.recency.tolist() == [0.0, 9.0, 0.0]
    assert summary.T.tolist() == [18.0, 19.0, 16.0]
    assert summary.monetary_value.tolist() == [0.0, 45.0, 0.0]


def test_summary_accepts_string_ids() -> None:
    summary = summarise_transactions(["b", "a", "b"], [0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert summary.customer_id.tolist() == ["a", "b"]
    assert summary.frequency.tolist() == [0.0, 1.0]


def test_bad_summaries_are_refused() -> None:
    with pytest.raises(ValueError, match="recency"):
        BETA_GEO.probability_alive([1.0], [40.0], [30.0])
    with pytest.raises(ValueError, match="frequency"):
        BETA_GEO.probability_alive([1.5], [10.0], [30.0])
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeoModel().probability_alive([1.0], [10.0], [30.0])


def test_one_pass_scores_equal_the_separate_calls() -> None:
    spend = GammaGammaModel(GammaGammaParams(p=6.25, q=3.74, v=15.44))
    m = np.where(X > 0, 30.0, 0.0)
    for model in (BETA_GEO, PARETO):
        scores = score_customers(model, spend, X, T_X, T, m, horizon_days=90.0, months=6, discount_rate=0.02)
        assert scores.expected_purchases == pytest.approx(model.expected_purchases(90.0, X, T_X, T), rel=1e-12)
        assert scores.probability_alive == pytest.approx(model.probability_alive(X, T_X, T), rel=1e-12)
        assert scores.expected_spend == pytest.approx(spend.expected_average_spend(X, m), rel=1e-12)
        value = customer_lifetime_value(model, spend, X, T_X, T, m, months=6, discount_rate=0.02)
        assert scores.lifetime_value == pytest.approx(value, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("fractional", [False, True])
def test_grouping_rows_matches_numpy_unique(fractional: bool) -> None:
    # Whole-number columns take the packed-key path, fractional ones the lexsort path.
    rng = np.random.default_rng(3)
    first = rng.integers(0, 5, 2_000).astype(np.float64)
    second = rng.integers(3, 40, 2_000).astype(np.float64) / (10.0 if fractional else 1.0)
    weights = rng.random(2_000)
    grouped = group_rows(first, second, weights=weights)
    distinct, inverse = np.unique(np.stack([first, second], axis=1), axis=0, return_inverse=True)
    assert np.array_equal(np.stack(grouped.columns, axis=1), distinct)
    assert grouped.weights == pytest.approx(np.bincount(inverse.ravel(), weights=weights), rel=1e-12)
    assert group_rows(first, second).weights.tolist() == np.bincount(inverse.ravel()).astype(float).tolist()


def test_analytic_gradients_match_central_differences() -> None:
    from clientbase.analytics.models import beta_geo, gamma_gamma

    from .cdnow import load_cdnow

    cdnow = load_cdnow()
    ones = np.ones_like(cdnow.T)
    patterns = beta_geo._Patterns.build(cdnow.frequency, cdnow.recency, cdnow.T / 40.0, ones)
    repeat = cdnow.frequency > 0
    spend = gamma_gamma._SpendData.build(cdnow.frequency[repeat], cdnow.monetary_value[repeat] / 30.0, ones[repeat])
    cases = [
        (lambda p: beta_geo._negative_mean_log_likelihood(p, patterns), np.array([0.1, -0.3, 0.2, 0.5])),
        (lambda p: gamma_gamma._negative_mean_log_likelihood(p, spend), np.array([0.4, 0.9, -0.2])),
    ]
    for objective, point in cases:
        step = 1e-5
        numerical = [
            (objective(point + step * unit)[0] - objective(point - step * unit)[0]) / (2 * step)
            for unit in np.eye(point.shape[0])
        ]
        assert objective(point)[1] == pytest.approx(np.array(numerical), abs=1e-8)


def test_beta_geo_expectation_is_continuous_through_a_equal_one() -> None:
    def at(a: float) -> np.ndarray:
        return BetaGeoModel(BetaGeoParams(r=0.5, alpha=10.0, a=a, b=2.0)).expected_purchases(30.0, X, T_X, T)

    assert at(1.0) == pytest.approx(at(1.0 + 1e-4), rel=1e-3)
    assert np.all(np.isfinite(at(1.0)))
