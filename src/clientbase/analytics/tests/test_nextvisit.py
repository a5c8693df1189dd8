import datetime as dt

import numpy as np
import pytest

from clientbase.analytics import nextvisit
from clientbase.analytics.evaluation import evaluate
from clientbase.analytics.reports import evaluation_report, run_evaluation
from clientbase.analytics.scores import ModelRun
from clientbase.analytics.tests.builders import make_business


def _periodic(customers: int, days: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Customers buying every 7, 14 or 30 days with a little jitter."""
    rng = np.random.default_rng(seed)
    ids, stamps = [], []
    for c in range(customers):
        gap = [7.0, 14.0, 30.0][c % 3]
        t = rng.uniform(0, gap)
        while t < days:
            ids.append(c)
            stamps.append(t)
            t += gap + rng.normal(0, gap / 10)
    return np.array(ids), np.array(stamps)


def test_a_strictly_periodic_customer_is_predicted_on_the_beat() -> None:
    history = nextvisit.visit_history([1, 1, 1, 1, 1], [0, 14, 28, 42, 56])
    forecast = nextvisit.forecast_rhythm(history, at=60, prior_gaps=0.0)
    assert forecast.next_day.tolist() == pytest.approx([70.0])
    assert forecast.typical_gap.tolist() == pytest.approx([14.0])
    overdue = nextvisit.forecast_rhythm(history, at=75, prior_gaps=0.0)
    assert overdue.next_day.tolist() == pytest.approx([89.0])   # overdue: one typical gap from now


def test_recent_gaps_weigh_more_and_few_gaps_are_shrunk() -> None:
    history = nextvisit.visit_history([1] * 6 + [2, 2], [0, 30, 60, 90, 97, 104, 0, 2])
    forecast = nextvisit.forecast_rhythm(history, at=104, half_life=1.0, population_log_gap=float(np.log(20)))
    changed, sparse = forecast.typical_gap.tolist()
    assert 7 < changed < 15          # followed the new weekly rhythm
    assert 2 < sparse < 20           # one 2-day gap is pulled toward the population's 20 days
    assert forecast.has_rhythm.tolist() == [True, True]


def test_baselines() -> None:
    history = nextvisit.visit_history([1, 1, 1, 2], [0, 10, 15, 3])
    assert nextvisit.last_gap_baseline(history, 16, 9.0).tolist() == [20.0, 16.0]
    assert nextvisit.population_gap_baseline(history, 16, 9.0).tolist() == [24.0, 16.0]


def test_evaluation_on_periodic_customers_beats_both_baselines() -> None:
    ids, stamps = _periodic(300, 400)
    result = evaluate(ids, stamps, calibration_end=300)
    assert result.customers == 300
    assert result.beats_baselines
    assert [g.label for g in result.groups] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(g.customers for g in result.groups) == 300
    assert abs(result.predicted_total - result.actual_total) / result.actual_total < 0.25


def test_evaluate_command_path_stores_an_evaluation_run() -> None:
    make_business(customers=30)
    result = run_evaluation(calibration_end=dt.date(2025, 11, 1))
    text = evaluation_report(result)
    assert "7+" in text and "population median gap" in text
    run = ModelRun.objects.get(status="evaluation")
    assert run.calibration["customers"] == result.customers
