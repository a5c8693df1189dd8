"""Aggregates against values worked out by hand on a tiny log."""

import datetime as dt

import pytest

from clientbase.analytics import aggregates
from clientbase.analytics.loaders import day_number

D = day_number
# Customer 1: Jan 5, Jan 5 (same day), Feb 10. Customer 2: Jan 20. Customer 3: Feb 1, Mar 3.
IDS = [1, 1, 1, 2, 3, 3]
DAYS = [D(dt.date(2025, 1, 5)), D(dt.date(2025, 1, 5)), D(dt.date(2025, 2, 10)), D(dt.date(2025, 1, 20)),
        D(dt.date(2025, 2, 1)), D(dt.date(2025, 3, 3))]
AMOUNTS = [100, 50, 200, 400, 300, 600]


def test_revenue_split_by_month_and_repeat_customer_share() -> None:
    split = aggregates.revenue_split(IDS, DAYS, AMOUNTS)
    assert split.months == ["2025-01", "2025-02", "2025-03"]
    assert split.acquisition == [550, 300, 0]      # both Jan 5 orders are customer 1's first visit day
    assert split.repeat == [0, 200, 600]
    assert split.repeat_share == pytest.approx([0.0, 0.4, 1.0])
    assert split.repeat_customers == 2 and split.customers == 3
    assert split.repeat_customer_share == pytest.approx(1250 / 1650)


def test_cohort_retention() -> None:
    result = aggregates.cohort_retention(IDS, DAYS)
    assert result.cohorts == ["2025-01", "2025-02", "2025-03"]
    assert result.sizes == [2, 1, 0]
    assert result.retention[0] == [1.0, 0.5, 0.0]
    assert result.retention[1] == [1.0, 1.0, None]
    assert result.retention[2] == [None, None, None]


def test_yearly_attrition() -> None:
    ids = [1, 2, 3, 1, 3]
    days = [D(dt.date(2024, 1, 10)), D(dt.date(2024, 2, 10)), D(dt.date(2024, 3, 10)), D(dt.date(2024, 12, 1)),
            D(dt.date(2025, 1, 20))]
    result = aggregates.yearly_attrition(ids, days)
    assert result.months == ["2025-01"]
    # Year to 2025-01-20 (the data's end): base = buyers in the year before 2024-01-21 = {1}; 1 came back.
    assert result.base == [1] and result.lost == [0]


def test_empty_log() -> None:
    assert aggregates.revenue_split([], [], []).customers == 0
    assert aggregates.cohort_retention([], []).cohorts == []
    assert aggregates.yearly_attrition([], []).months == []
