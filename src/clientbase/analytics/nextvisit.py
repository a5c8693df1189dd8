"""Next visit (R5.3): when will each customer come again, from their own rhythm. Pure numpy, no Django.

Method (documented with its evaluation in docs/analytics.md):

1. Every customer's distinct purchase days, sorted, give their gaps ``g_1 … g_k`` (k = visits - 1).
2. Their typical gap is a weighted mean of ``log g_i``: gaps are multiplicative (a 7-day regular who once
   skips a week has a 14-day gap, not a 7-day outlier), and the log keeps one long absence from dominating.
   Weights halve every ``half_life`` gaps back in time, so a customer who changed rhythm is followed.
3. That mean is shrunk toward the population's median log gap with weight k / (k + s) on the customer's own
   (k = their number of gaps), so two purchases a day apart do not predict a daily customer. The strength s
   is empirical Bayes (normal-normal in logs): mean within-customer variance over between-customer variance.
4. The next visit is the last visit plus that gap. A customer already overdue at the prediction date is
   expected one typical gap after that date: a missed beat says the rhythm no longer holds, and the wait
   of an irregular buyer is memoryless. (On the demo's process this beat "next beat of the rhythm",
   last + n·gap, by 1 day of MAE, and scaling the gap by 0.6-1.5 showed 1.0 best.)
5. Customers with a single visit have no rhythm of their own: step 3 leaves them the population's median
   gap (the BG/NBD waiting time of an active customer was tried here and lost, see docs/analytics.md).

The interval is the gap's own spread (weighted standard deviation of log gaps, also shrunk toward the
population's), at the central 80 % of a log-normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Z_80 = 1.2815515655446004


@dataclass(frozen=True, slots=True)
class VisitHistory:
    """Distinct visit days of many customers, grouped: customer ``i`` owns ``days[starts[i]:starts[i+1]]``."""

    customer_id: IntArray
    days: FloatArray
    starts: IntArray

    @property
    def visits(self) -> IntArray:
        return np.diff(self.starts).astype(np.int64)

    @property
    def last_day(self) -> FloatArray:
        return self.days[self.starts[1:] - 1]

    @property
    def first_day(self) -> FloatArray:
        return self.days[self.starts[:-1]]


def visit_history(customer_ids: npt.ArrayLike, days: npt.ArrayLike, until: float | None = None) -> VisitHistory:
    """Group a purchase log (customer id, day number) into sorted distinct visit days per customer."""
    ids = np.asarray(customer_ids, dtype=np.int64)
    day = np.floor(np.asarray(days, dtype=np.float64))
    if until is not None:
        keep = day <= until
        ids, day = ids[keep], day[keep]
    order = np.lexsort((day, ids))
    ids, day = ids[order], day[order]
    distinct = np.ones(ids.shape[0], dtype=bool)
    distinct[1:] = (ids[1:] != ids[:-1]) | (day[1:] != day[:-1])
    ids, day = ids[distinct], day[distinct]
    new_customer = np.ones(ids.shape[0], dtype=bool)
    new_customer[1:] = ids[1:] != ids[:-1]
    starts = np.append(np.flatnonzero(new_customer), ids.shape[0]).astype(np.int64)
    return VisitHistory(customer_id=ids[starts[:-1]], days=day, starts=starts)


@dataclass(frozen=True, slots=True)
class RhythmForecast:
    """Per customer: predicted next visit day, 80 % interval and typical gap.

    Customers without a rhythm (one visit) get the population's gap; ``has_rhythm`` marks the others.
    """

    next_day: FloatArray
    low_day: FloatArray
    high_day: FloatArray
    typical_gap: FloatArray
    has_rhythm: npt.NDArray[np.bool_]


def _gap_table(history: VisitHistory) -> tuple[FloatArray, IntArray, FloatArray]:
    """Log gaps, the customer index of each gap, and its position counted back from the latest gap (0)."""
    customer_of_day = np.repeat(np.arange(history.visits.shape[0]), history.visits)
    same = customer_of_day[1:] == customer_of_day[:-1]
    gaps, owner = np.diff(history.days)[same], customer_of_day[1:][same]
    last_gap_index = np.cumsum(np.maximum(history.visits - 1, 0)) - 1
    back = (last_gap_index[owner] - np.arange(gaps.shape[0])).astype(np.float64)
    return np.log(np.maximum(gaps, 1.0)), owner, back


def shrinkage_strength(own_mean: FloatArray, own_var: FloatArray, gaps: IntArray) -> float:
    """Empirical-Bayes prior strength in gaps: within-customer variance over between-customer variance.

    Estimated on customers with at least three gaps; very regular customers (small within-variance) are
    then barely shrunk, erratic ones a lot. Clipped to [0.05, 5] so tiny or odd bases stay sensible.
    """
    rich = gaps >= 3
    if rich.sum() < 5:
        return 1.0
    within = float(np.mean(own_var[rich]))
    between = float(np.var(own_mean[rich])) - float(np.mean(own_var[rich] / gaps[rich]))
    return float(np.clip(within / max(between, 1e-6), 0.05, 5.0))


def forecast_rhythm(history: VisitHistory, at: float, *, half_life: float = 4.0, prior_gaps: float | None = None,
                    population_log_gap: float | None = None) -> RhythmForecast:
    """Predict each customer's next visit day at day ``at`` (see the module docstring for the method).

    ``prior_gaps`` (the shrinkage strength, in gaps) is estimated from the data unless given.
    """
    n = history.visits.shape[0]
    log_gap, owner, back = _gap_table(history)
    weight = 0.5 ** (back / half_life)
    prior = float(np.median(log_gap)) if population_log_gap is None and log_gap.size else (population_log_gap or 0.0)
    prior_sd = float(np.std(log_gap)) if log_gap.size > 1 else 0.5
    gaps = np.maximum(history.visits - 1, 0).astype(np.int64)
    w_sum = np.bincount(owner, weights=weight, minlength=n)
    safe = np.maximum(w_sum, 1e-12)
    own_mean = np.bincount(owner, weights=weight * log_gap, minlength=n) / safe
    own_var = np.maximum(np.bincount(owner, weights=weight * log_gap**2, minlength=n) / safe - own_mean**2, 0.0)
    strength = shrinkage_strength(own_mean, own_var, gaps) if prior_gaps is None else prior_gaps
    # The recency weights set the customer's own mean; the number of gaps sets how much it is trusted.
    trust = gaps / (gaps + strength) if strength > 0 else (gaps > 0).astype(np.float64)
    mean = trust * own_mean + (1.0 - trust) * prior
    variance = trust * own_var + (1.0 - trust) * prior_sd**2
    gap = np.exp(mean)
    spread = np.sqrt(variance)
    last = history.last_day
    # Overdue customers are expected one typical gap from now (see the module docstring, step 4).
    start = np.where(last + gap < at, at, last)
    next_day = start + gap
    low = np.maximum(start + gap * np.exp(-Z_80 * spread), at)
    high = start + gap * np.exp(Z_80 * spread)
    return RhythmForecast(next_day=next_day, low_day=low, high_day=high, typical_gap=gap, has_rhythm=gaps > 0)


def last_gap_baseline(history: VisitHistory, at: float, population_gap: float) -> FloatArray:
    """Naive baseline: last visit + the customer's last gap (population median gap without one), not before ``at``."""
    visits = history.visits
    last = history.last_day
    previous = np.where(visits >= 2, history.days[np.maximum(history.starts[1:] - 2, 0)], np.nan)
    gap = np.where(visits >= 2, last - previous, population_gap)
    return np.asarray(np.maximum(last + gap, at), dtype=np.float64)


def population_gap_baseline(history: VisitHistory, at: float, population_gap: float) -> FloatArray:
    """Naive baseline: last visit + the population's median gap between visits, not before ``at``."""
    return np.asarray(np.maximum(history.last_day + population_gap, at), dtype=np.float64)


def population_median_gap(history: VisitHistory) -> float:
    log_gap, _, _ = _gap_table(history)
    return float(np.exp(np.median(log_gap))) if log_gap.size else 30.0
