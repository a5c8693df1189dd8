"""Known values: the published CDNOW estimates of Fader, Hardie & Lee and Fader & Hardie."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clientbase.analytics.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel

from .cdnow import load_cdnow

CDNOW = load_cdnow()


def test_beta_geo_reproduces_fader_hardie_lee_2005_estimates() -> None:
    # "Counting Your Customers the Easy Way", section 5: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
    # LL = -9582.4 on the 2,357 CDNOW customers, time in weeks.
    params = BetaGeoModel().fit(CDNOW.frequency, CDNOW.recency, CDNOW.T)
    assert round(params.r, 3) == 0.243
    assert round(params.alpha, 3) == 4.414
    assert round(params.a, 3) == 0.793
    assert round(params.b, 3) == 2.426
    assert round(params.log_likelihood, 1) == -9582.4
    assert params.n_customers == 2357
    assert params.converged


def test_beta_geo_conditional_expectation_matches_the_paper_example() -> None:
    # FHL 2005, section 5: a customer with x = 2, t_x = 30.43, T = 38.86 is expected to make 1.226
    # purchases in the next 39 weeks.
    model = BetaGeoModel()
    model.fit(CDNOW.frequency, CDNOW.recency, CDNOW.T)
    assert round(float(model.expected_purchases(39, [2], [30.43], [38.86])[0]), 3) == 1.226


def test_pareto_nbd_reproduces_fader_hardie_estimates() -> None:
    # Fader & Hardie (2005), "A Note on Implementing the Pareto/NBD Model in MATLAB" (note 008):
    # r = 0.5533, alpha = 10.5776, s = 0.6061, beta = 11.6650, LL = -9594.98. The likelihood is very flat in
    # (s, beta) (they trade off along a ridge), so those two agree to about 0.05 %.
    params = ParetoNBDModel().fit(CDNOW.frequency, CDNOW.recency, CDNOW.T)
    assert params.r == pytest.approx(0.5533, rel=2e-4)
    assert params.alpha == pytest.approx(10.5776, rel=2e-4)
    assert params.s == pytest.approx(0.6061, rel=5e-4)
    assert params.beta == pytest.approx(11.6650, rel=5e-4)
    assert params.log_likelihood == pytest.approx(-9594.98, abs=0.01)


def test_gamma_gamma_reproduces_fader_hardie_lee_2005_estimates() -> None:
    # "RFM and CLV: Using Iso-Value Curves", and note 025: p = 6.25, q = 3.74, gamma = 15.44 on the 946
    # CDNOW customers with repeat purchases.
    params = GammaGammaModel().fit(CDNOW.frequency, CDNOW.monetary_value)
    # The paper reports rounded values; gamma = 15.4477 here, 0.05 % from the printed 15.44.
    assert (round(params.p, 2), round(params.q, 2)) == (6.25, 3.74)
    assert params.v == pytest.approx(15.44, rel=1e-3)
    assert params.n_customers == 946


def test_models_package_imports_without_django() -> None:
    code = "import sys, clientbase.analytics.models; print('django' in sys.modules)"
    source_root = str(Path(__file__).resolve().parents[3])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": source_root}
    )
    assert out.stdout.strip() == "False"


def test_fitting_weighted_patterns_equals_fitting_every_customer() -> None:
    x, t_x, T = CDNOW.frequency, CDNOW.recency, CDNOW.T
    rows = np.stack([x, t_x, T], axis=1)
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    every = BetaGeoModel().fit(x, t_x, T)
    weighted = BetaGeoModel().fit(distinct[:, 0], distinct[:, 1], distinct[:, 2], weights=counts)
    assert weighted.as_array() == pytest.approx(every.as_array(), rel=1e-7)
    assert weighted.log_likelihood == pytest.approx(every.log_likelihood, rel=1e-10)
