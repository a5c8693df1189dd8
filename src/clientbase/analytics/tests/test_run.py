import datetime as dt

import numpy as np
import pytest

from clientbase.analytics import loaders
from clientbase.analytics.scores import CustomerScore, ModelRun
from clientbase.analytics.scoring import ScoringSettings
from clientbase.analytics.services import run_scoring
from clientbase.analytics.tests.builders import make_business, make_orders
from clientbase.customers.models import Customer

FAST = ScoringSettings(compare_pareto=False)


def test_load_purchases_round_trip_local_days_and_net_amounts() -> None:
    customer = Customer.objects.create(first_name="A")
    make_orders(customer=customer, days=[dt.date(2025, 3, 1), dt.date(2025, 3, 4)], amount=12345)
    make_orders(customer=customer, days=[dt.date(2025, 3, 5)], status="cancelled")
    purchases = loaders.load_purchases()
    assert purchases.customer_id.tolist() == [customer.pk, customer.pk]
    assert sorted(purchases.day.tolist()) == [loaders.day_number(dt.date(2025, 3, 1)),
                                              loaders.day_number(dt.date(2025, 3, 4))]
    assert purchases.amount.tolist() == [12345, 12345]
    assert loaders.dates_of(np.array([purchases.day.min(), np.inf])) == [dt.date(2025, 3, 1), None]


def test_late_evening_utc_purchase_counts_on_the_moscow_day() -> None:
    customer = Customer.objects.create(first_name="A")
    make_orders(customer=customer, days=[dt.date(2025, 3, 1)])
    from clientbase.sales.models import Order
    Order.objects.update(placed_at=dt.datetime(2025, 3, 1, 22, 30, tzinfo=dt.UTC))  # 01:30 on 2 March in Moscow
    assert loaders.load_purchases().day.tolist() == [loaders.day_number(dt.date(2025, 3, 2))]


def test_run_stores_one_score_per_buying_customer_with_the_run_version() -> None:
    people = make_business(customers=40)
    idle = Customer.objects.create(first_name="Never bought")
    run = run_scoring(as_of=dt.date(2026, 2, 5), settings=FAST)
    assert run.status == "done"
    assert run.customers == 40 == CustomerScore.objects.count()
    assert set(CustomerScore.objects.values_list("model_version", flat=True)) == {run.version}
    assert not CustomerScore.objects.filter(customer=idle).exists()
    assert set(run.params) == {"bgnbd", "gamma_gamma"}
    score = CustomerScore.objects.get(customer=people[0])
    assert 0.0 <= score.probability_alive <= 1.0
    assert score.clv > 0 and score.expected_purchases_90 > 0
    assert score.next_purchase_at is not None and score.why
    assert 1 <= score.recency_score <= 5


def test_a_second_run_replaces_scores_and_drops_customers_without_purchases() -> None:
    make_business(customers=12)
    first = run_scoring(as_of=dt.date(2026, 2, 5), settings=FAST)
    from clientbase.sales.models import Order
    gone = Order.objects.order_by("customer_id").first()
    assert gone is not None
    Order.objects.filter(customer_id=gone.customer_id).delete()
    second = run_scoring(as_of=dt.date(2026, 2, 6), settings=FAST)
    assert second.version != first.version
    assert CustomerScore.objects.count() == 11
    assert set(CustomerScore.objects.values_list("model_version", flat=True)) == {second.version}
    assert ModelRun.objects.count() == 2


def test_run_on_an_empty_base_records_an_empty_run() -> None:
    run = run_scoring(as_of=dt.date(2026, 2, 5), settings=FAST)
    assert run.status == "empty" and CustomerScore.objects.count() == 0


def test_scores_agree_with_the_models_package_and_survive_a_degenerate_fit() -> None:
    from clientbase.analytics.models.beta_geo import BetaGeoModel, BetaGeoParams
    from clientbase.analytics.models.gamma_gamma import GammaGammaModel, GammaGammaParams
    from clientbase.analytics.models.lifetime_value import customer_lifetime_value
    from clientbase.analytics.models.simulate import simulate_transaction_log
    from clientbase.analytics.scoring import purchase_curve, score_purchases

    log = simulate_transaction_log(3000, np.random.default_rng(3))
    end = float(np.floor(log.observation_end))
    scores = score_purchases(log.customer_id.astype(np.int64), np.floor(log.timestamp),
                             np.round(log.amount).astype(np.int64), end, FAST)
    bg = BetaGeoModel(BetaGeoParams(**{k: scores.params["bgnbd"][k] for k in ("r", "alpha", "a", "b")}))
    gg = GammaGammaModel(GammaGammaParams(**{k: scores.params["gamma_gamma"][k] for k in ("p", "q", "v")}))
    expected = customer_lifetime_value(bg, gg, scores.frequency, scores.recency, scores.age, scores.monetary)
    np.testing.assert_allclose(scores.clv, expected, rtol=1e-9)
    degenerate = BetaGeoModel(BetaGeoParams(r=0.61, alpha=10.5, a=4.1e6, b=6.9e7))
    x, t_x, age = np.array([35.0, 0.0]), np.array([232.0, 0.0]), np.array([528.0, 530.0])
    curve, approximated = purchase_curve(degenerate, np.array([0.0, 90.0]), x, t_x, age)
    assert approximated == 2 and np.isfinite(curve).all() and curve[0].tolist() == [0.0, 0.0]


def test_store_scores_upserts_in_multi_row_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "rows_per_statement", lambda: 7)
    people = Customer.objects.bulk_create([Customer(first_name=f"C{i}") for i in range(16)])
    stamp = dt.datetime(2026, 2, 5, 12, tzinfo=dt.UTC)

    def rows(version: str, clv: float) -> list[tuple[object, ...]]:
        return [(p.pk, version, stamp, 1, 2.0, 3.0, 4.0, 0.5, 0.9, 100.0, clv, dt.date(2026, 2, 20), None, None,
                 "rhythm", 14.0, 5, 4, 3, "champions", "regular", "why") for p in people]

    assert loaders.store_scores(rows("v1", 10.0), version="v1") == 16
    assert loaders.store_scores(rows("v2", 20.0)[:15], version="v2") == 15
    assert CustomerScore.objects.count() == 15
    assert set(CustomerScore.objects.values_list("clv", flat=True)) == {20.0}
    assert CustomerScore.objects.get(customer=people[0]).next_purchase_at == dt.date(2026, 2, 20)
