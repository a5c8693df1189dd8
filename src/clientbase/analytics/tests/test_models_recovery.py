"""Recovery: fits on data simulated from known parameters land within sampling error of them.

Tolerances are about three standard errors at 20,000 customers (from repeated simulation), fixed seeds.
"""

import numpy as np
import pytest
from scipy.special import hyp2f1

from clientbase.analytics.models import BetaGeoModel, BetaGeoParams, GammaGammaModel, ParetoNBDModel
from clientbase.analytics.models.simulate import simulate_beta_geo, simulate_pareto_nbd

CUSTOMERS = 20_000


def _ages(rng: np.random.Generator) -> np.ndarray:
    # Customers acquired uniformly over 1.5 years, observed in whole days.
    return np.ceil(rng.random(CUSTOMERS) * 540.0)


def test_beta_geo_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    truth = {"r": 0.6, "alpha": 60.0, "a": 0.8, "b": 2.5}
    data = simulate_beta_geo(_ages(rng), rng=rng, **truth)
    fitted = BetaGeoModel().fit(data.frequency, data.recency, data.T)
    assert fitted.r == pytest.approx(truth["r"], rel=0.06)
    assert fitted.alpha == pytest.approx(truth["alpha"], rel=0.08)
    assert fitted.a == pytest.approx(truth["a"], rel=0.15)
    assert fitted.b == pytest.approx(truth["b"], rel=0.2)


def test_pareto_nbd_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(12)
    truth = {"r": 0.8, "alpha": 40.0, "s": 0.7, "beta": 200.0}
    data = simulate_pareto_nbd(_ages(rng), rng=rng, **truth)
    fitted = ParetoNBDModel().fit(data.frequency, data.recency, data.T)
    assert fitted.r == pytest.approx(truth["r"], rel=0.06)
    assert fitted.alpha == pytest.approx(truth["alpha"], rel=0.08)
    assert fitted.s == pytest.approx(truth["s"], rel=0.25)
    assert fitted.beta == pytest.approx(truth["beta"], rel=0.35)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(13)
    p, q, v = 6.0, 4.0, 1500.0
    frequency = rng.integers(1, 10, CUSTOMERS).astype(np.float64)
    rate = rng.gamma(q, 1.0 / v, CUSTOMERS)
    # The mean of x Gamma(p, rate) amounts is Gamma(p x, rate x).
    mean_spend = rng.gamma(p * frequency, 1.0 / (rate * frequency))
    fitted = GammaGammaModel().fit(frequency, mean_spend)
    assert fitted.p == pytest.approx(p, rel=0.05)
    assert fitted.q == pytest.approx(q, rel=0.08)
    assert fitted.v == pytest.approx(v, rel=0.1)


def test_beta_geo_conditional_expectations_add_up_to_the_population_expectation() -> None:
    # Averaged over a cohort observed for 200 days, E[X(200, 300] | history] must equal the unconditional
    # E[X(300)] - E[X(200)] (FHL 2005, eq. 9), up to sampling error in the fitted parameters.
    rng = np.random.default_rng(14)
    r, alpha, a, b = 0.6, 60.0, 0.8, 2.5
    model = BetaGeoModel()
    calibration = simulate_beta_geo(np.full(CUSTOMERS, 200.0), r, alpha, a, b, rng)
    model.fit(calibration.frequency, calibration.recency, calibration.T)
    predicted = model.expected_purchases(100.0, calibration.frequency, calibration.recency, calibration.T).sum()
    def unconditional(t: float) -> float:
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))

    expected = CUSTOMERS * (unconditional(300.0) - unconditional(200.0))
    population = model.population_expected_purchases([200.0, 300.0])
    assert population[1] - population[0] == pytest.approx(expected / CUSTOMERS, rel=0.05)
    truth = BetaGeoModel(BetaGeoParams(r, alpha, a, b)).population_expected_purchases([200.0, 300.0])
    assert truth == pytest.approx([unconditional(200.0), unconditional(300.0)], rel=1e-10)
    assert predicted == pytest.approx(expected, rel=0.05)
