"""Base-wide figures from the purchase log (R5.4). Pure numpy over (customer id, day number, amount) arrays.

Definitions (also in docs/analytics.md):

* a *visit* is a distinct purchase day of a customer; a *repeat customer* has two or more visits;
* *repeat-revenue share*: revenue of repeat customers over all revenue;
* *acquisition vs repeat revenue* per month: revenue on a customer's first visit day vs on later days;
* *monthly cohort retention*: of the customers whose first purchase fell in month c, the share who bought
  in month c + k (k = 0 is 100 %);
* *yearly base attrition* at a month end d: of the customers who bought in the year before d - 365 days
  (or since the data starts), the share who did not buy again in the 365 days up to d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
EPOCH_MONTH = np.datetime64("1970-01", "M")


def month_index(days: npt.ArrayLike) -> IntArray:
    """Day numbers (days since 1970-01-01) to month numbers (months since 1970-01)."""
    as_days = np.floor(np.asarray(days, dtype=np.float64)).astype("datetime64[D]")
    return (as_days.astype("datetime64[M]") - EPOCH_MONTH).astype(np.int64)


def month_label(month: int) -> str:
    return str(EPOCH_MONTH + np.timedelta64(int(month), "M"))


@dataclass(frozen=True)
class RevenueSplit:
    months: list[str]
    acquisition: list[int]
    repeat: list[int]
    repeat_share: list[float]          # share of each month's revenue that is repeat revenue
    repeat_customer_share: float       # revenue of customers with 2+ visits / all revenue
    repeat_customers: int
    customers: int


def _first_day(ids: IntArray, days: FloatArray) -> tuple[IntArray, FloatArray]:
    """Per row: the index of its customer in the sorted unique ids, and that customer's first day."""
    unique, inverse = np.unique(ids, return_inverse=True)
    first = np.full(unique.shape[0], np.inf)
    np.minimum.at(first, inverse, days)
    return inverse, first


def revenue_split(customer_ids: npt.ArrayLike, days: npt.ArrayLike, amounts: npt.ArrayLike) -> RevenueSplit:
    ids = np.asarray(customer_ids, dtype=np.int64)
    day = np.floor(np.asarray(days, dtype=np.float64))
    amount = np.asarray(amounts, dtype=np.int64)
    if ids.size == 0:
        return RevenueSplit([], [], [], [], 0.0, 0, 0)
    inverse, first = _first_day(ids, day)
    is_first_visit = day == first[inverse]
    month = month_index(day)
    span = np.arange(month.min(), month.max() + 1)
    offset = month - span[0]
    acquisition = np.bincount(offset, weights=np.where(is_first_visit, amount, 0), minlength=span.size)
    repeat = np.bincount(offset, weights=np.where(is_first_visit, 0, amount), minlength=span.size)
    total = acquisition + repeat
    visit_pairs = np.unique(np.stack([inverse, day.astype(np.int64)]), axis=1)
    visits = np.bincount(visit_pairs[0], minlength=first.shape[0])
    repeater = visits[inverse] >= 2
    revenue = float(amount.sum())
    return RevenueSplit(
        months=[month_label(m) for m in span.tolist()], acquisition=acquisition.astype(np.int64).tolist(),
        repeat=repeat.astype(np.int64).tolist(),
        repeat_share=np.where(total > 0, repeat / np.maximum(total, 1), 0.0).tolist(),
        repeat_customer_share=float(amount[repeater].sum()) / revenue if revenue else 0.0,
        repeat_customers=int((visits >= 2).sum()), customers=int(first.shape[0]),
    )


@dataclass(frozen=True)
class CohortRetention:
    cohorts: list[str]
    sizes: list[int]
    retention: list[list[float | None]]   # retention[c][k]; None where month c + k is after the data ends


def cohort_retention(customer_ids: npt.ArrayLike, days: npt.ArrayLike) -> CohortRetention:
    ids = np.asarray(customer_ids, dtype=np.int64)
    day = np.asarray(days, dtype=np.float64)
    if ids.size == 0:
        return CohortRetention([], [], [])
    month = month_index(day)
    unique, inverse = np.unique(ids, return_inverse=True)
    first_month = np.full(unique.shape[0], np.iinfo(np.int64).max)
    np.minimum.at(first_month, inverse, month)
    start, last = int(first_month.min()), int(month.max())
    width = last - start + 1
    active = np.unique(np.stack([inverse, month - first_month[inverse]]), axis=1)
    cohort = first_month[active[0]] - start
    counts = np.zeros((width, width), dtype=np.int64)
    np.add.at(counts, (cohort, active[1]), 1)
    sizes = np.bincount(first_month - start, minlength=width)
    retention: list[list[float | None]] = []
    for c in range(width):
        row: list[float | None] = [None] * width
        for k in range(width - c):
            row[k] = float(counts[c, k] / sizes[c]) if sizes[c] else None
        retention.append(row)
    return CohortRetention([month_label(start + c) for c in range(width)], sizes.tolist(), retention)


@dataclass(frozen=True)
class Attrition:
    months: list[str]
    base: list[int]
    lost: list[int]
    rate: list[float]


def yearly_attrition(customer_ids: npt.ArrayLike, days: npt.ArrayLike) -> Attrition:
    """Attrition over the 365 days to each month end that has a full year of data before it."""
    ids = np.asarray(customer_ids, dtype=np.int64)
    day = np.floor(np.asarray(days, dtype=np.float64))
    if ids.size == 0:
        return Attrition([], [], [], [])
    first_day, last_day = float(day.min()), float(day.max())
    months = np.arange(month_index([first_day])[0] + 12, month_index([last_day])[0] + 1)
    result = Attrition([], [], [], [])
    for m in months.tolist():
        end = float((EPOCH_MONTH + np.timedelta64(m + 1, "M")).astype("datetime64[D]").astype(np.int64)) - 1.0
        end = min(end, last_day)
        year_ago = end - 365.0
        base = np.unique(ids[(day > year_ago - 365.0) & (day <= year_ago)])
        stayed = np.unique(ids[(day > year_ago) & (day <= end)])
        lost = int(np.setdiff1d(base, stayed, assume_unique=True).shape[0])
        result.months.append(month_label(m))
        result.base.append(int(base.shape[0]))
        result.lost.append(lost)
        result.rate.append(lost / base.shape[0] if base.shape[0] else 0.0)
    return result
