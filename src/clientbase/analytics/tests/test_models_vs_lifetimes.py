"""Known values: the same CDNOW data through lifetimes 0.11.3 (the reference Python implementation).

Parameters and log-likelihoods must agree within 0.1 % relative. Predictions are compared twice: with
lifetimes' formulas evaluated at our parameters (same numbers to 1e-9: the formulas agree), and each
library with its own fit (within 1e-5: the remaining gap is the optimisers' stopping points).
"""

import warnings

import numpy as np
import pytest

from clientbase.analytics.models import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    customer_lifetime_value,
    summarise_transactions,
)
from clientbase.analytics.models.simulate import simulate_transaction_log

from .cdnow import load_cdnow

lifetimes = pytest.importorskip("lifetimes")
pd = pytest.importorskip("pandas")

CDNOW = load_cdnow()
X, T_X, T, M = CDNOW.frequency, CDNOW.recency, CDNOW.T, CDNOW.monetary_value
ONES = np.ones_like(X)


@pytest.fixture(autouse=True)
def _quiet_lifetimes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _reference_beta_geo(params: np.ndarray):
    fitter = lifetimes.BetaGeoFitter()
    fitter.params_ = pd.Series(params, index=["r", "alpha", "a", "b"])
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time
    return fitter


def test_beta_geo_parameters_and_likelihood_agree() -> None:
    ours = BetaGeoModel().fit(X, T_X, T)
    theirs = lifetimes.BetaGeoFitter().fit(X, T_X, T)
    assert ours.as_array() == pytest.approx(theirs.params_.to_numpy(), rel=1e-3)
    # lifetimes reports the mean likelihood of time-rescaled data; evaluate its function in weeks instead.
    their_ll = -theirs._negative_log_likelihood(np.log(theirs.params_.to_numpy()), X, T_X, T, ONES, 0.0) * len(X)
    assert ours.log_likelihood == pytest.approx(their_ll, rel=1e-3)


def test_pareto_nbd_parameters_and_likelihood_agree() -> None:
    np.random.seed(20240501)  # lifetimes starts Nelder-Mead from a random point
    ours = ParetoNBDModel().fit(X, T_X, T)
    theirs = lifetimes.ParetoNBDFitter().fit(X, T_X, T)
    assert ours.as_array() == pytest.approx(theirs.params_.to_numpy(), rel=1e-3)
    their_ll = -theirs._negative_log_likelihood(theirs.params_.to_numpy(), X, T_X, T, ONES, 0.0)
    assert ours.log_likelihood == pytest.approx(their_ll, rel=1e-3)
    assert ours.log_likelihood >= their_ll - 1e-6  # ours is at least as good an optimum


def test_gamma_gamma_parameters_and_likelihood_agree() -> None:
    repeat = X > 0
    ours = GammaGammaModel().fit(X, M)
    theirs = lifetimes.GammaGammaFitter().fit(X[repeat], M[repeat])
    assert ours.as_array() == pytest.approx(theirs.params_.to_numpy(), rel=1e-3)
    assert ours.log_likelihood == pytest.approx(-theirs._negative_log_likelihood_ * repeat.sum(), rel=1e-3)


def test_beta_geo_predictions_agree() -> None:
    model = BetaGeoModel()
    reference = _reference_beta_geo(model.fit(X, T_X, T).as_array())
    own_fit = lifetimes.BetaGeoFitter().fit(X, T_X, T)
    for horizon in (1.0, 10.0, 39.0, 104.0):
        ours = model.expected_purchases(horizon, X, T_X, T)
        same = reference.conditional_expected_number_of_purchases_up_to_time(horizon, X, T_X, T)
        assert ours == pytest.approx(np.asarray(same), rel=1e-9)
        own = own_fit.conditional_expected_number_of_purchases_up_to_time(horizon, X, T_X, T)
        assert ours == pytest.approx(np.asarray(own), rel=1e-5)
    alive = reference.conditional_probability_alive(X, T_X, T)
    assert model.probability_alive(X, T_X, T) == pytest.approx(np.asarray(alive), rel=1e-12)


def test_pareto_nbd_predictions_agree() -> None:
    model = ParetoNBDModel()
    params = model.fit(X, T_X, T).as_array()
    reference = lifetimes.ParetoNBDFitter()
    reference.params_ = pd.Series(params, index=["r", "alpha", "s", "beta"])
    for horizon in (1.0, 39.0):
        same = reference.conditional_expected_number_of_purchases_up_to_time(horizon, X, T_X, T)
        assert model.expected_purchases(horizon, X, T_X, T) == pytest.approx(np.asarray(same), rel=1e-9)
    alive = reference.conditional_probability_alive(X, T_X, T)
    assert model.probability_alive(X, T_X, T) == pytest.approx(np.asarray(alive), rel=1e-9)


def test_spend_and_lifetime_value_agree() -> None:
    transactions, spend = BetaGeoModel(), GammaGammaModel()
    transactions.fit(X, T_X, T)
    params = spend.fit(X, M).as_array()
    reference = lifetimes.GammaGammaFitter()
    reference.params_ = pd.Series(params, index=["p", "q", "v"])
    expected_spend = reference.conditional_expected_average_profit(X, M)
    assert spend.expected_average_spend(X, M) == pytest.approx(np.asarray(expected_spend), rel=1e-12)
    series = [pd.Series(values) for values in (X, T_X, T, M)]
    their_value = reference.customer_lifetime_value(
        _reference_beta_geo(transactions.params.as_array()), *series, time=12, discount_rate=0.01, freq="W"
    )
    # lifetimes' weekly month is 4.345 weeks; clientbase works in days (30 per month, lifetimes' "D").
    ours = customer_lifetime_value(transactions, spend, X, T_X, T, M, months=12, discount_rate=0.01, days_per_month=4.345)
    assert ours == pytest.approx(their_value.to_numpy(), rel=1e-9)


def test_summary_matches_lifetimes_on_a_simulated_log() -> None:
    log = simulate_transaction_log(3000, np.random.default_rng(7), days=200.0)
    ours = summarise_transactions(log.customer_id, log.timestamp, log.amount, observation_end=log.observation_end)
    origin = pd.Timestamp("2025-01-01")
    frame = pd.DataFrame(
        {"id": log.customer_id, "at": origin + pd.to_timedelta(log.timestamp, unit="D"), "amount": log.amount}
    )
    theirs = lifetimes.utils.summary_data_from_transaction_data(
        frame, "id", "at", "amount", observation_period_end=origin + pd.Timedelta(days=log.observation_end)
    ).sort_index()
    assert np.array_equal(ours.customer_id, theirs.index.to_numpy())
    assert np.array_equal(ours.frequency, theirs["frequency"].to_numpy())
    assert np.array_equal(ours.recency, theirs["recency"].to_numpy())
    assert np.array_equal(ours.T, theirs["T"].to_numpy())
    assert ours.monetary_value == pytest.approx(theirs["monetary_value"].to_numpy(), rel=1e-12)
