"""Transaction log -> per-customer (frequency, recency, T, monetary_value), vectorised.

Definitions follow ``lifetimes.utils.summary_data_from_transaction_data`` (lifetimes 0.11, freq="D"):
purchases are bucketed into whole periods (days: ``floor(timestamp)``), amounts within a period are summed,
the first period is the acquisition and is not a repeat purchase. Then
``frequency`` = distinct periods - 1, ``recency`` = last period - first period,
``T`` = observation-end period - first period, and ``monetary_value`` = mean of the per-period sums of the
repeat periods (0 when there are none). Transactions after the observation end are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._arrays import ArrayLike, FloatArray, as_float, sort_keys


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    """One row per customer, sorted by ``customer_id``."""

    customer_id: npt.NDArray[np.generic]
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray


def summarise_transactions(
    customer_ids: ArrayLike,
    timestamps: ArrayLike,
    amounts: ArrayLike | None = None,
    observation_end: float | None = None,
) -> CustomerSummary:
    """Summarise a transaction log; ``timestamps`` are in days (any origin), ``amounts`` in any unit.

    Sorting once by (customer, day) and reducing with ``np.add.reduceat`` keeps this
    at a few seconds for ten million rows, with no per-customer Python loop.
    """
    ids = np.asarray(customer_ids)
    days = np.floor(as_float(timestamps, "timestamps"))
    values = np.zeros_like(days) if amounts is None else as_float(amounts, "amounts")
    if not (ids.shape == days.shape == values.shape):
        raise ValueError("customer_ids, timestamps and amounts must have the same length")
    end = float(np.floor(observation_end)) if observation_end is not None else float(days.max(initial=0.0))
    keep = days <= end
    if not keep.all():
        ids, days, values = ids[keep], days[keep], values[keep]
    if ids.shape[0] == 0:
        empty = np.zeros(0)
        return CustomerSummary(ids, empty, empty.copy(), empty.copy(), empty.copy())

    ids, days, values = _sorted_by_customer_day(ids, days, values)
    new_customer = np.empty(ids.shape[0], dtype=bool)
    new_customer[0] = True
    new_customer[1:] = ids[1:] != ids[:-1]
    new_period = new_customer.copy()
    new_period[1:] |= days[1:] != days[:-1]

    period_starts = np.flatnonzero(new_period)
    period_days = days[period_starts]
    period_amounts = np.add.reduceat(values, period_starts)
    period_is_first = new_customer[period_starts]

    first_period = np.flatnonzero(period_is_first)
    periods_per_customer = np.diff(np.append(first_period, period_starts.shape[0]))
    last_period = first_period + periods_per_customer - 1
    frequency = (periods_per_customer - 1).astype(np.float64)
    repeat_spend = np.add.reduceat(np.where(period_is_first, 0.0, period_amounts), first_period)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend / frequency, 0.0)
    return CustomerSummary(
        customer_id=ids[period_starts[first_period]],
        frequency=frequency,
        recency=period_days[last_period] - period_days[first_period],
        T=end - period_days[first_period],
        monetary_value=monetary,
    )


def _sorted_by_customer_day(
    ids: npt.NDArray[np.generic], days: FloatArray, values: FloatArray
) -> tuple[npt.NDArray[np.generic], FloatArray, FloatArray]:
    """The rows sorted by (customer, day).

    Integer ids and whole days pack into one int64 key whose argsort is several times faster than a
    two-key ``np.lexsort``, and ids and days are decoded from the sorted key instead of gathered again.
    Other id types fall back to ``np.lexsort``.
    """
    if np.issubdtype(ids.dtype, np.integer):
        low_id, low_day = int(ids.min()), float(days.min())
        span_days = int(days.max() - low_day) + 1
        bound = (int(ids.max()) - low_id + 1) * span_days
        if bound < 2**62:
            key = (ids.astype(np.int64) - low_id) * span_days + (days - low_day).astype(np.int64)
            order, sorted_key = sort_keys(key, float(bound))
            customer, day = np.divmod(sorted_key, span_days)
            return (customer + low_id).astype(ids.dtype), day + low_day, values[order]
    order = np.lexsort((days, ids))
    return ids[order], days[order], values[order]
