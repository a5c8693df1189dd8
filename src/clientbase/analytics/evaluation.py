"""Hold-out evaluation: fit on purchases up to a calibration end, compare with what happened after. Pure numpy.

Two comparisons, as ``clientbase analytics evaluate`` prints them:

* repeat purchases (distinct purchase days) in the hold-out, predicted by BG/NBD against actual, grouped by
  the number of repeat purchases in the calibration period (0, 1, …, 7+), as lifetimes'
  ``plot_calibration_purchases_vs_holdout_purchases`` groups them;
* next visit: for customers who did come back in the hold-out, the mean absolute error in days between the
  predicted next-visit date and their first hold-out purchase, for our method and two naive baselines
  (the population's median gap; the customer's own last gap), both never earlier than the calibration end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from clientbase.analytics.models.beta_geo import BetaGeoModel
from clientbase.analytics.models.summary import summarise_transactions
from clientbase.analytics.nextvisit import (
    forecast_rhythm,
    last_gap_baseline,
    population_gap_baseline,
    population_median_gap,
    visit_history,
)
from clientbase.analytics.scoring import next_visits

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GROUPS = 8   # 0, 1, …, 6 and "7+"


@dataclass(frozen=True)
class PurchaseGroup:
    label: str
    customers: int
    predicted: float
    actual: float


@dataclass
class Evaluation:
    calibration_end: float
    holdout_end: float
    customers: int
    groups: list[PurchaseGroup]
    predicted_total: float
    actual_total: float
    returning: int
    mae: dict[str, float]
    mae_with_rhythm: dict[str, float]
    params: dict[str, float] = field(default_factory=dict)

    @property
    def beats_baselines(self) -> bool:
        ours = self.mae["ours"]
        return ours < self.mae["population_median_gap"] and ours < self.mae["last_gap"]


def _holdout_counts(ids: IntArray, days: FloatArray, known: IntArray, start: float, end: float) -> tuple[IntArray, FloatArray]:
    """Distinct purchase days in (start, end] and the first such day, per customer of ``known`` (sorted)."""
    window = (days > start) & (days <= end) & np.isin(ids, known)
    history = visit_history(ids[window], days[window])
    counts = np.zeros(known.shape[0], dtype=np.int64)
    first = np.full(known.shape[0], np.nan)
    where = np.searchsorted(known, history.customer_id)
    counts[where] = history.visits
    first[where] = history.first_day
    return counts, first


def evaluate(customer_ids: npt.ArrayLike, days: npt.ArrayLike, calibration_end: float,
             holdout_end: float | None = None) -> Evaluation:
    """Fit on purchases on or before ``calibration_end`` (day numbers), judge on (calibration_end, holdout_end]."""
    ids = np.asarray(customer_ids, dtype=np.int64)
    day = np.floor(np.asarray(days, dtype=np.float64))
    end = float(day.max()) if holdout_end is None else float(holdout_end)
    if end <= calibration_end:
        raise ValueError("the hold-out period is empty: the calibration end is at or after the last purchase")
    calibration = day <= calibration_end
    summary = summarise_transactions(ids[calibration], day[calibration], observation_end=calibration_end)
    model = BetaGeoModel()
    fitted = model.fit(summary.frequency, summary.recency, summary.T)
    known = np.asarray(summary.customer_id, dtype=np.int64)
    actual, first_return = _holdout_counts(ids, day, known, calibration_end, end)
    predicted = model.expected_purchases(end - calibration_end, summary.frequency, summary.recency, summary.T)
    group = np.minimum(summary.frequency.astype(np.int64), GROUPS - 1)
    groups = [
        PurchaseGroup(label=f"{g}+" if g == GROUPS - 1 else str(g), customers=int((group == g).sum()),
                      predicted=float(predicted[group == g].mean()) if (group == g).any() else 0.0,
                      actual=float(actual[group == g].mean()) if (group == g).any() else 0.0)
        for g in range(GROUPS)
    ]
    history = visit_history(ids[calibration], day[calibration])
    rhythm = forecast_rhythm(history, calibration_end)
    ours, _, _, _ = next_visits(rhythm)
    gap = population_median_gap(history)
    forecasts = {"ours": ours, "population_median_gap": population_gap_baseline(history, calibration_end, gap),
                 "last_gap": last_gap_baseline(history, calibration_end, gap)}
    returned = np.isfinite(first_return)
    with_rhythm = returned & rhythm.has_rhythm

    def mae(mask: npt.NDArray[np.bool_]) -> dict[str, float]:
        return {name: float(np.abs(f[mask] - first_return[mask]).mean()) if mask.any() else float("nan")
                for name, f in forecasts.items()}

    return Evaluation(
        calibration_end=calibration_end, holdout_end=end, customers=int(known.shape[0]), groups=groups,
        predicted_total=float(predicted.sum()), actual_total=float(actual.sum()), returning=int(returned.sum()),
        mae=mae(returned), mae_with_rhythm=mae(with_rhythm),
        params={"r": fitted.r, "alpha": fitted.alpha, "a": fitted.a, "b": fitted.b, "population_median_gap": gap},
    )
