"""The demo's catalogue and purchase history: realistic repeat behaviour, exact figures."""

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.db.models import Count, Max, Min

from clientbase.demo.setup import ensure_demo
from clientbase.sales import figures
from clientbase.sales.demo_process import ProcessParams, purchase_days
from clientbase.sales.models import AbandonedCart, CustomerFigures, Order, Product, Return


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_history_spans_18_months_with_figures_exact(tmp_path: Path) -> None:
    ensure_demo(customers=200, seed=3, progress=False, path=tmp_path / "demo.json")
    assert Product.objects.filter(category__slug="beans").exists() and Product.objects.count() == 22
    span = Order.objects.aggregate(first=Min("placed_at"), last=Max("placed_at"))
    assert (span["last"] - span["first"]).days >= 500
    per_customer = Counter(n for n in Order.objects.values("customer").annotate(n=Count("id"))
                           .values_list("n", flat=True))
    buyers = sum(per_customer.values())
    # Most people buy a few times and drift away; a few regulars buy dozens of times.
    assert sum(c for n, c in per_customer.items() if n <= 3) > buyers / 2
    assert any(n >= 20 for n in per_customer)
    assert Return.objects.exists() and AbandonedCart.objects.exists()
    assert Order.objects.filter(status="cancelled").exists()
    assert CustomerFigures.objects.filter(frequency="regular").exists()
    assert list(figures.drift()) == []


def test_casual_buyers_follow_bg_nbd_means() -> None:
    params = ProcessParams(never_buy=0.0, regular_share=0.0, window_days=10_000, arrival_mean_days=0.0)
    rng = np.random.default_rng(1)
    counts = [len(purchase_days(rng, 0.0, params).days) for _ in range(4000)]
    # With p ~ Beta(1.2, 3.0) and a long window, purchases are geometric: E[1/p] = (a+b-1)/(a-1) = 16.
    # Its heavy tail makes the sample mean noisy, so check the share of one-purchase buyers: E[p] = 0.286.
    assert abs(np.mean(np.array(counts) == 1) - 1.2 / 4.2) < 0.03
