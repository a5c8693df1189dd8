"""The analytics write path: fit, score everyone, store the scores with the model version and time."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language, override

from clientbase.analytics import loaders, rules
from clientbase.analytics.scores import ModelRun
from clientbase.analytics.scoring import Scores, ScoringSettings, score_purchases
from clientbase.core.clock import now

MODEL_NAME = "bgnbd-gg"


def settings_from_environment(**overrides: object) -> ScoringSettings:
    """Settings from ``CLIENTBASE_CLV_MONTHS``, ``CLIENTBASE_CLV_MONTHLY_DISCOUNT`` and
    ``CLIENTBASE_ANALYTICS_PARETO`` (0 skips the Pareto/NBD comparison fit) unless given."""
    values: dict[str, object] = {
        "horizon_months": int(os.environ.get("CLIENTBASE_CLV_MONTHS", "12")),
        "monthly_discount_rate": float(os.environ.get("CLIENTBASE_CLV_MONTHLY_DISCOUNT", "0.01")),
        "compare_pareto": os.environ.get("CLIENTBASE_ANALYTICS_PARETO", "1") not in {"0", "false", "no"},
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return ScoringSettings(**values)  # type: ignore[arg-type]


def local_today() -> dt.date:
    return timezone.localtime(now(), timezone.get_default_timezone()).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` in the business's zone: purchases before it count for ``day``."""
    zone = timezone.get_default_timezone()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def score_rows(scores: Scores, version: str, computed_at: dt.datetime, classes: list[str],
               end_day: float) -> Iterator[tuple[Any, ...]]:
    """Rows in ``loaders.SCORE_COLUMNS`` order; the "why" line is written in English (the card re-renders it)."""
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(computed_at)
    next_at, low, high = (loaders.dates_of(a) for a in (scores.next_day, scores.next_low, scores.next_high))
    columns = zip(
        scores.customer_id.tolist(), scores.frequency.tolist(), scores.recency.tolist(), scores.age.tolist(),
        scores.monetary.tolist(), scores.expected_purchases.tolist(), scores.probability_alive.tolist(),
        scores.expected_spend.tolist(), scores.clv.tolist(), next_at, low, high, scores.next_method,
        scores.recency_score.tolist(), scores.frequency_score.tolist(), scores.monetary_score.tolist(),
        scores.segment.tolist(), classes, scores.visits.tolist(), scores.days_since_last.tolist(),
        scores.typical_gap.tolist(), strict=True,
    )
    with override("en"):
        language = get_language()
        for (cid, f, r, age, m, e90, alive, spend, clv, nxt, lo, hi, method, rs, fs, ms, seg, fclass,
             visits, since, gap) in columns:
            own_gap = gap if visits >= 2 else None
            why = rules.why(visits=visits, days_since_last=since, typical_gap=own_gap, probability_alive=alive,
                            language=language)
            yield (cid, version, stamp, int(f), r, age, m, e90, alive, spend, clv,
                   ops.adapt_datefield_value(nxt), ops.adapt_datefield_value(lo), ops.adapt_datefield_value(hi),
                   method, own_gap, rs, fs, ms, seg, fclass, why[:300])


def run_scoring(*, as_of: dt.date | None = None, settings: ScoringSettings | None = None,
                progress: bool = False) -> ModelRun:
    """Load every counted purchase up to ``as_of`` (default today), fit, score and store; returns the run."""
    from tqdm import tqdm

    settings = settings or settings_from_environment()
    day = as_of or local_today()
    started_at = now()
    version = f"{MODEL_NAME}-{started_at:%Y%m%d%H%M%S%f}"
    run = ModelRun.objects.create(version=version, started_at=started_at, observation_end=day)
    bar = tqdm(total=4, desc="analytics", disable=not progress, unit="step")
    clock = time.perf_counter()
    bar.set_postfix_str("loading purchases")
    purchases = loaders.load_purchases(until=end_of_day(day))
    timings = {"load": time.perf_counter() - clock}
    bar.update()
    if len(purchases) == 0:
        bar.close()
        run.status, run.finished_at, run.timings = "empty", now(), timings
        run.save(update_fields=["status", "finished_at", "timings"])
        return run
    bar.set_postfix_str("fitting and scoring")
    end_day = loaders.day_number(day)
    scores = score_purchases(purchases.customer_id, purchases.day, purchases.amount, end_day, settings)
    timings.update(scores.timings)
    bar.update()
    clock = time.perf_counter()
    classes = loaders.load_frequency_classes(scores.customer_id)
    bar.update()
    bar.set_postfix_str("storing scores")
    written = loaders.store_scores(score_rows(scores, version, started_at, classes, end_day), version=version)
    timings["store"] = time.perf_counter() - clock
    bar.update()
    bar.close()
    run.customers, run.transactions = written, len(purchases)
    run.params, run.timings, run.status, run.finished_at = scores.params, timings, "done", now()
    run.calibration = {"settings": scores.params.pop("settings", {}),
                       "segments": dict(zip(*np.unique(scores.segment, return_counts=True), strict=True))}
    run.calibration["segments"] = {str(k): int(v) for k, v in run.calibration["segments"].items()}
    run.params = scores.params
    run.save()
    return run
