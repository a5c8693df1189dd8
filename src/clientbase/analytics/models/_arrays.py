"""Array helpers shared by the customer-base models: input coercion and grouping of identical rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ArrayLike = npt.ArrayLike


def as_float(values: ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a 1-d float64 array, refusing NaN so a bad row cannot poison a whole fit."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    return array


def check_rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Coerce and validate (frequency, recency, T): ``0 <= recency <= T``, integer ``frequency >= 0``."""
    x = as_float(frequency, "frequency")
    t_x = as_float(recency, "recency")
    age = as_float(T, "T")
    if not (x.shape == t_x.shape == age.shape):
        raise ValueError("frequency, recency and T must have the same length")
    if (x < 0).any() or (np.floor(x) != x).any():
        raise ValueError("frequency must hold non-negative whole numbers")
    if (t_x < 0).any() or (t_x > age).any():
        raise ValueError("recency must lie between 0 and T")
    if ((x == 0) & (t_x != 0)).any():
        raise ValueError("recency must be 0 for customers without repeat purchases")
    return x, t_x, age


@dataclass(frozen=True, slots=True)
class GroupedRows:
    """Distinct rows of several equal-length columns, with the summed weight of each distinct row."""

    columns: tuple[FloatArray, ...]
    weights: FloatArray


def group_rows(*columns: FloatArray, weights: ArrayLike | None = None) -> GroupedRows:
    """Collapse identical rows into one row with a weight (sufficient statistics for the likelihoods).

    Customers with the same (x, t_x, T) contribute identical log-likelihood terms, so a fit over the
    distinct patterns weighted by their counts is exact and, at a million customers, several times cheaper.
    """
    n = columns[0].shape[0]
    w = np.ones(n) if weights is None else as_float(weights, "weights")
    if w.shape[0] != n:
        raise ValueError("weights must have one entry per customer")
    if n == 0:
        return GroupedRows(columns=tuple(c.copy() for c in columns), weights=w.copy())
    packed = _packed_groups(columns, weights=None if weights is None else w)
    if packed is not None:
        return packed
    order = np.lexsort(columns[::-1])
    sorted_columns = tuple(c[order] for c in columns)
    changed = np.zeros(n, dtype=bool)
    changed[0] = True
    for column in sorted_columns:
        changed[1:] |= column[1:] != column[:-1]
    starts = np.flatnonzero(changed)
    return GroupedRows(
        columns=tuple(c[starts] for c in sorted_columns),
        weights=np.add.reduceat(w[order], starts),
    )


def _packed_groups(columns: tuple[FloatArray, ...], weights: FloatArray | None) -> GroupedRows | None:
    """``group_rows`` for whole-number columns with small ranges (day-granular summaries), else None.

    The columns are packed into one int64 key; the distinct rows are decoded from the sorted keys and
    unweighted counts come from the run lengths, so no column is gathered through the permutation.
    """
    lows = [float(c.min()) for c in columns]
    spans = [float(c.max()) - low + 1.0 for c, low in zip(columns, lows, strict=True)]
    bound = float(np.prod(spans))
    if bound >= 2.0**62 or not all(np.array_equal(c, np.floor(c)) for c in columns):
        return None
    key = np.zeros(columns[0].shape[0], dtype=np.int64)
    for column, low, span in zip(columns, lows, spans, strict=True):
        key = key * np.int64(span) + (column - low).astype(np.int64)
    order, sorted_key = sort_keys(key, bound)
    changed = np.empty(sorted_key.shape[0], dtype=bool)
    changed[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=changed[1:])
    starts = np.flatnonzero(changed)
    if weights is None:
        totals = np.diff(np.append(starts, sorted_key.shape[0])).astype(np.float64)
    else:
        totals = np.add.reduceat(weights[order], starts)
    remainder = sorted_key[starts]
    decoded: list[FloatArray] = []
    for low, span in zip(reversed(lows), reversed(spans), strict=True):
        remainder, digit = np.divmod(remainder, np.int64(span))
        decoded.append(digit.astype(np.float64) + low)
    return GroupedRows(columns=tuple(reversed(decoded)), weights=totals)


def sort_keys(key: IntArray, bound: float) -> tuple[IntArray, IntArray]:
    """(permutation, sorted keys) for non-negative int64 keys below ``bound``.

    When the row number fits beside the key in 63 bits, key and row are packed into one int64 and sorted
    with ``np.sort`` (SIMD sorting networks): several times faster than ``np.argsort`` and it yields the
    sorted keys without another gather. Otherwise int32 keys when they fit, else int64 ``argsort``.
    """
    rows = key.shape[0]
    row_bits = max(int(rows - 1).bit_length(), 1)
    if bound * 2.0**row_bits < 2.0**63:
        packed = np.sort((key << np.int64(row_bits)) | np.arange(rows, dtype=np.int64))
        return packed & np.int64((1 << row_bits) - 1), packed >> np.int64(row_bits)
    order = np.argsort(key.astype(np.int32) if bound < 2.0**31 else key).astype(np.int64)
    return order, key[order]


def unique_pairs(first: FloatArray, second: FloatArray) -> tuple[FloatArray, FloatArray, IntArray]:
    """Distinct (first, second) pairs and, for every input row, the index of its pair.

    Scoring evaluates hypergeometric terms that depend on (x, T) only; with day-granular T there are a few
    thousand distinct pairs among millions of customers, so each term is computed once per pair. Whole
    numbers in a small range are coded through a presence table (linear time, no sort).
    """
    if first.shape[0] and np.array_equal(first, np.floor(first)) and np.array_equal(second, np.floor(second)):
        low_first, low_second = float(first.min()), float(second.min())
        span_second = int(second.max() - low_second) + 1
        span = (int(first.max() - low_first) + 1) * span_second
        if span <= 4 * first.shape[0] + 1_000_000:
            key = (first - low_first).astype(np.int64) * span_second + (second - low_second).astype(np.int64)
            present = np.zeros(span, dtype=bool)
            present[key] = True
            distinct = np.flatnonzero(present)
            code = np.cumsum(present, dtype=np.int64) - 1
            return (
                (distinct // span_second + low_first).astype(np.float64),
                (distinct % span_second + low_second).astype(np.float64),
                code[key],
            )
    distinct_complex, inverse = np.unique(first + 1j * second, return_inverse=True)
    return distinct_complex.real.copy(), distinct_complex.imag.copy(), inverse.reshape(-1).astype(np.int64)


def unique_values(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct values and each row's index into them, to evaluate special functions once per value."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.reshape(-1).astype(np.int64)


def dot(left: FloatArray, right: FloatArray) -> float:
    """Inner product of two vectors without BLAS.

    OpenBLAS spreads a vector dot product over threads; on a small shared machine that costs ten times a
    single-threaded pass, so the hot loops of the fits use einsum instead.
    """
    return float(np.einsum("i,i->", left, right))
