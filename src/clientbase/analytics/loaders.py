"""Moves data between the database and numpy arrays, in chunks, for the analytics models.

Days are whole calendar days of the business's time zone (``TIME_ZONE``), numbered from 1970-01-01, so a
purchase at 01:00 Moscow time counts on that Moscow day, as the sales figures count visit days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection, transaction

from clientbase.analytics.scores import CustomerScore
from clientbase.sales.models import CustomerFigures, Order

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Purchases:
    """One row per counted (not cancelled) order: who, which local day number, net amount in kopecks."""

    customer_id: IntArray
    day: FloatArray
    amount: IntArray

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])


def day_number(day: dt.date) -> float:
    return float((day - EPOCH).days)


def date_of(day: float) -> dt.date:
    return EPOCH + dt.timedelta(days=int(np.floor(day)))


def dates_of(days: FloatArray) -> list[dt.date | None]:
    """Day numbers to dates in one numpy conversion; nan and inf become None."""
    finite = np.isfinite(days)
    as_dates = np.where(finite, days, 0).astype("datetime64[D]").astype(object)
    return [d if ok else None for d, ok in zip(as_dates.tolist(), finite.tolist(), strict=True)]


def local_day_numbers(epoch_seconds: FloatArray) -> FloatArray:
    """UTC seconds to local day numbers; the UTC offset is looked up once per distinct UTC day, not per row."""
    if epoch_seconds.size == 0:
        return epoch_seconds.copy()
    zone = ZoneInfo(settings.TIME_ZONE)
    utc_days = np.floor(epoch_seconds / SECONDS_PER_DAY)
    distinct, inverse = np.unique(utc_days, return_inverse=True)
    # Offset at noon UTC of each day: exact except within hours of a DST switch, which the business's
    # zone (Moscow) no longer has.
    offsets = np.array([
        dt.datetime.fromtimestamp(d * SECONDS_PER_DAY + 43200, tz=zone).utcoffset() or dt.timedelta()
        for d in distinct.tolist()
    ])
    offsets = np.array([o.total_seconds() for o in offsets])
    return np.floor((epoch_seconds + offsets[inverse]) / SECONDS_PER_DAY)


def _order_rows(until: dt.datetime | None, customer_ids: Iterable[int] | None) -> Iterator[tuple[int, dt.datetime, int]]:
    orders = Order.objects.exclude(status="cancelled")
    if until is not None:
        orders = orders.filter(placed_at__lt=until)
    if customer_ids is not None:
        orders = orders.filter(customer_id__in=list(customer_ids))
    rows = orders.order_by().values_list("customer_id", "placed_at", "gross_amount", "discount_amount")
    for customer_id, placed_at, gross, discount in rows.iterator(chunk_size=20000):
        yield customer_id, placed_at, gross - discount


def load_purchases(*, until: dt.datetime | None = None, customer_ids: Iterable[int] | None = None,
                   chunk: int = 200_000) -> Purchases:
    """Every counted order placed before ``until``, streamed from the database in chunks into arrays."""
    ids_parts: list[IntArray] = []
    seconds_parts: list[FloatArray] = []
    amount_parts: list[IntArray] = []
    ids: list[int] = []
    seconds: list[float] = []
    amounts: list[int] = []

    def flush() -> None:
        ids_parts.append(np.array(ids, dtype=np.int64))
        seconds_parts.append(np.array(seconds, dtype=np.float64))
        amount_parts.append(np.array(amounts, dtype=np.int64))
        ids.clear()
        seconds.clear()
        amounts.clear()

    for customer_id, placed_at, amount in _order_rows(until, customer_ids):
        ids.append(customer_id)
        seconds.append(placed_at.timestamp())
        amounts.append(amount)
        if len(ids) >= chunk:
            flush()
    flush()
    return Purchases(customer_id=np.concatenate(ids_parts), day=local_day_numbers(np.concatenate(seconds_parts)),
                     amount=np.concatenate(amount_parts))


def load_frequency_classes(customer_ids: IntArray) -> list[str]:
    """The sales app's frequency class (one-off, rare, regular) per customer, "" where there is none."""
    classes: dict[int, str] = {}
    wanted = customer_ids.tolist()
    for start in range(0, len(wanted), 5000):
        part = wanted[start:start + 5000]
        classes.update(CustomerFigures.objects.filter(customer_id__in=part).values_list("customer_id", "frequency"))
    return [classes.get(c, "") for c in wanted]


SCORE_COLUMNS = [
    "customer_id", "model_version", "computed_at", "frequency", "recency", "age", "monetary",
    "expected_purchases_90", "probability_alive", "expected_average_spend", "clv", "next_purchase_at",
    "next_purchase_low", "next_purchase_high", "next_purchase_method", "typical_gap", "recency_score", "frequency_score",
    "monetary_score", "segment", "frequency_class", "why",
]


def _upsert_sql(rows: int) -> str:
    """One INSERT of ``rows`` rows that updates a customer's existing score row in place.

    INSERT … VALUES (…), (…) … ON CONFLICT DO UPDATE reads the same on SQLite (3.24+) and PostgreSQL; a few
    hundred rows per statement cut the per-row round trip that made ``executemany`` slow on PostgreSQL, and
    no model instances are built.
    """
    quote = connection.ops.quote_name
    table = quote(CustomerScore._meta.db_table)
    columns = ", ".join(quote(c) for c in SCORE_COLUMNS)
    one_row = "(" + ", ".join(["%s"] * len(SCORE_COLUMNS)) + ")"
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in SCORE_COLUMNS[1:])
    return (f"INSERT INTO {table} ({columns}) VALUES {', '.join([one_row] * rows)} "
            f"ON CONFLICT ({quote('customer_id')}) DO UPDATE SET {updates}")


def rows_per_statement() -> int:
    limit = connection.features.max_query_params or 30000
    return max(1, min(500, limit // len(SCORE_COLUMNS)))


def _copy_then_upsert(cursor: Any, rows: Iterable[tuple[Any, ...]]) -> int:
    """PostgreSQL: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT.

    Binding 10,000 parameters a statement cost ~0.5 ms a row on a busy server; COPY streams rows in psycopg's
    C code and the upsert is one statement.
    """
    quote = connection.ops.quote_name
    table = quote(CustomerScore._meta.db_table)
    columns = ", ".join(quote(c) for c in SCORE_COLUMNS)
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in SCORE_COLUMNS[1:])
    # Inside a caller's transaction (tests) ON COMMIT DROP has not fired yet for an earlier call.
    cursor.execute("DROP TABLE IF EXISTS analytics_score_load")
    cursor.execute(f"CREATE TEMPORARY TABLE analytics_score_load (LIKE {table}) ON COMMIT DROP")
    written = 0
    # Django's wrapper hides psycopg's cursor; COPY is only on the real one.
    with cursor.cursor.copy(f"COPY analytics_score_load ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM analytics_score_load "
                   f"ON CONFLICT ({quote('customer_id')}) DO UPDATE SET {updates}")
    return written


def store_scores(rows: Iterable[tuple[Any, ...]], *, version: str) -> int:
    """Upsert score rows (in ``SCORE_COLUMNS`` order), then drop scores of other versions; returns rows written."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            written = _copy_then_upsert(cursor, rows)
            CustomerScore.objects.exclude(model_version=version).delete()
        return written
    size = rows_per_statement()
    full_batch = _upsert_sql(size)
    written = 0
    pending: list[Any] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for row in rows:
            pending.extend(row)
            if len(pending) == size * len(SCORE_COLUMNS):
                cursor.execute(full_batch, pending)
                written += size
                pending.clear()
        if pending:
            count = len(pending) // len(SCORE_COLUMNS)
            cursor.execute(_upsert_sql(count), pending)
            written += count
        CustomerScore.objects.exclude(model_version=version).delete()
    return written
