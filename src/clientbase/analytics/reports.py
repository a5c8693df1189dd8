"""Hold-out evaluation against the database, and its plain-text report for the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt

from clientbase.analytics import loaders
from clientbase.analytics.evaluation import Evaluation, evaluate
from clientbase.analytics.scores import ModelRun
from clientbase.core.clock import now

BASELINE_NAMES = {"ours": "own rhythm (ours)", "population_median_gap": "population median gap",
                  "last_gap": "customer's last gap"}


def run_evaluation(*, calibration_end: dt.date, holdout_end: dt.date | None = None) -> Evaluation:
    """Evaluate on the stored purchases and keep the result as a ModelRun with status "evaluation"."""
    started = now()
    purchases = loaders.load_purchases()
    if len(purchases) == 0:
        raise ValueError("there are no purchases to evaluate on")
    end = loaders.day_number(holdout_end) if holdout_end else None
    result = evaluate(purchases.customer_id, purchases.day, loaders.day_number(calibration_end), end)
    ModelRun.objects.create(
        version=f"evaluate-{started:%Y%m%d%H%M%S%f}", started_at=started, finished_at=now(),
        observation_end=calibration_end, customers=result.customers, transactions=len(purchases),
        params={"bgnbd": result.params}, status="evaluation",
        calibration={**dataclasses.asdict(result), "beats_baselines": result.beats_baselines},
    )
    return result


def evaluation_report(result: Evaluation) -> str:
    start, end = loaders.date_of(result.calibration_end), loaders.date_of(result.holdout_end)
    lines = [f"Calibration up to {start}, hold-out {start + dt.timedelta(days=1)} .. {end} "
             f"({result.holdout_end - result.calibration_end:.0f} days); {result.customers} customers.",
             "", "Repeat purchases in the hold-out, per customer, by repeat purchases in calibration:",
             f"{'calibration':>12} {'customers':>10} {'predicted':>10} {'actual':>10}"]
    for group in result.groups:
        lines.append(f"{group.label:>12} {group.customers:>10} {group.predicted:>10.3f} {group.actual:>10.3f}")
    lines.append(f"{'total':>12} {result.customers:>10} {result.predicted_total:>10.1f} {result.actual_total:>10.1f}")
    lines += ["", f"Next visit, mean absolute error in days ({result.returning} customers who came back):",
              f"{'method':>28} {'all':>8} {'2+ visits':>10}"]
    for key, name in BASELINE_NAMES.items():
        lines.append(f"{name:>28} {result.mae[key]:>8.2f} {result.mae_with_rhythm[key]:>10.2f}")
    verdict = "beats" if result.beats_baselines else "does NOT beat"
    lines += ["", f"Our next-visit method {verdict} both baselines on this hold-out."]
    return "\n".join(lines)
