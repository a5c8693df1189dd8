"""The analytics read path: scores, runs and base-wide aggregates, always through the actor's visibility.

Base-wide figures (cohorts, attrition, RFM grid, portrait) are statistics over every customer; only roles
that see every customer hold ``analytics:read`` (see access/rules.py), so they reveal nothing extra.
They are cached for ``CLIENTBASE_ANALYTICS_CACHE_SECONDS`` (default 600) per state of the orders table.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import Avg, Count, Max, QuerySet

from clientbase.access.actor import Actor
from clientbase.analytics import aggregates, loaders
from clientbase.analytics.scores import CustomerScore, ModelRun
from clientbase.customers.selectors import access_customer, visible
from clientbase.sales.models import CustomerFigures, Order

AGE_BANDS = ((0, 25, "<25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, 200, "55+"))


def score_for(actor: Actor, customer_id: int) -> CustomerScore | None:
    customer = access_customer(actor, customer_id)
    return CustomerScore.objects.filter(customer=customer).first()


def scores(actor: Actor, *, segment: str | None = None) -> QuerySet[CustomerScore]:
    queryset = CustomerScore.objects.filter(visible(actor, "customer__"))
    if segment:
        queryset = queryset.filter(segment=segment)
    return queryset.order_by("-clv", "customer_id")


def latest_run() -> ModelRun | None:
    return ModelRun.objects.filter(status="done").order_by("-started_at").first()


def latest_evaluation() -> ModelRun | None:
    return ModelRun.objects.filter(status="evaluation").order_by("-started_at").first()


def _cached[T](name: str, compute: Callable[[], T]) -> T:
    state = Order.objects.aggregate(n=Count("id"), last=Max("id"))
    run = latest_run()
    key = f"analytics:{name}:{state['n']}:{state['last']}:{run.version if run else ''}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, int(os.environ.get("CLIENTBASE_ANALYTICS_CACHE_SECONDS", "600")))
    return value


def base_figures() -> dict[str, Any]:
    """Repeat revenue, acquisition vs repeat by month, cohort retention and yearly attrition."""

    def compute() -> dict[str, Any]:
        purchases = loaders.load_purchases()
        return {
            "revenue": asdict(aggregates.revenue_split(purchases.customer_id, purchases.day, purchases.amount)),
            "cohorts": asdict(aggregates.cohort_retention(purchases.customer_id, purchases.day)),
            "attrition": asdict(aggregates.yearly_attrition(purchases.customer_id, purchases.day)),
        }

    return _cached("base", compute)


def rfm_grid() -> dict[str, Any]:
    """Customers and mean lifetime value per (R, F) cell; ``cells[r-1][f-1]``."""

    def compute() -> dict[str, Any]:
        counts = [[0] * 5 for _ in range(5)]
        clv = [[0.0] * 5 for _ in range(5)]
        rows = CustomerScore.objects.values("recency_score", "frequency_score").annotate(n=Count("pk"),
                                                                                        clv=Avg("clv"))
        for row in rows:
            counts[row["recency_score"] - 1][row["frequency_score"] - 1] = row["n"]
            clv[row["recency_score"] - 1][row["frequency_score"] - 1] = float(row["clv"] or 0.0)
        segments = dict(CustomerScore.objects.values_list("segment").annotate(n=Count("pk")).order_by())
        return {"counts": counts, "clv": clv, "segments": segments}

    return _cached("rfm", compute)


def score_distributions(bins: int = 20) -> dict[str, Any]:
    """CLV histogram and mean P(alive) by recency x frequency buckets."""

    def compute() -> dict[str, Any]:
        rows = np.array(list(CustomerScore.objects.values_list("clv", "probability_alive", "recency", "age",
                                                               "frequency").iterator(chunk_size=20000)),
                        dtype=np.float64).reshape(-1, 5)
        if rows.shape[0] == 0:
            return {"clv_edges": [], "clv_counts": [], "alive": [], "recency_edges": [], "frequency_edges": []}
        clv = rows[:, 0] / 100.0
        top = float(np.quantile(clv, 0.99)) or 1.0
        counts, edges = np.histogram(np.clip(clv, 0, top), bins=bins, range=(0, top))
        since_last = rows[:, 3] - rows[:, 2]
        recency_edges = [0, 14, 30, 60, 90, 180, 365, np.inf]
        frequency_edges = [0, 1, 2, 3, 5, 8, 13, np.inf]
        r_bucket = np.digitize(since_last, recency_edges[1:-1])
        f_bucket = np.digitize(rows[:, 4], frequency_edges[1:-1])
        sums = np.zeros((7, 7))
        ns = np.zeros((7, 7))
        np.add.at(sums, (r_bucket, f_bucket), rows[:, 1])
        np.add.at(ns, (r_bucket, f_bucket), 1)
        alive = np.where(ns > 0, sums / np.maximum(ns, 1), np.nan)
        return {"clv_edges": edges.tolist(), "clv_counts": counts.tolist(),
                "alive": [[None if np.isnan(v) else float(v) for v in row] for row in alive],
                "alive_counts": ns.astype(int).tolist(),
                "recency_edges": recency_edges[:-1], "frequency_edges": frequency_edges[:-1]}

    return _cached("distributions", compute)


def _age_band(birth: dt.date | None, today: dt.date) -> str:
    if birth is None:
        return "?"
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return next(label for low, high, label in AGE_BANDS if low <= years < high)


def portrait(today: dt.date | None = None) -> dict[str, Any]:
    """Regular customers (sales frequency class "regular") against all buyers: shares per attribute value."""
    day = today or dt.date.today()

    def compute() -> dict[str, Any]:
        groups: dict[str, dict[str, Counter[str]]] = {
            g: {k: Counter() for k in ("age", "gender", "city", "channel", "category")} for g in ("regular", "all")}
        sizes = Counter[str]()
        rows = CustomerFigures.objects.filter(orders__gt=0).values_list(
            "frequency", "customer__birth_date", "customer__gender", "customer__city",
            "customer__preferred_channel", "favourite_categories")
        for frequency, birth, gender, city, channel, categories in rows.iterator(chunk_size=5000):
            top = categories[0]["category"] if categories else ""
            values = {"age": _age_band(birth, day), "gender": gender or "?", "city": city or "?",
                      "channel": channel or "?", "category": top or "?"}
            for group in ("regular", "all") if frequency == "regular" else ("all",):
                sizes[group] += 1
                for key, value in values.items():
                    groups[group][key][value] += 1
        return {"sizes": dict(sizes), "shares": {
            key: [(value, groups["regular"][key][value] / max(sizes["regular"], 1),
                   count / max(sizes["all"], 1)) for value, count in groups["all"][key].most_common(8)]
            for key in ("age", "gender", "city", "channel", "category")}}

    return _cached(f"portrait:{day}", compute)


def profitability_ranking(actor: Actor, *, limit: int = 20) -> list[dict[str, Any]]:
    """The most profitable visible customers (revenue minus cost, discounts, service), with their scores."""
    rows = (CustomerFigures.objects.filter(visible(actor, "customer__"), orders__gt=0)
            .select_related("customer", "customer__score").order_by("-profit", "customer_id")[:limit])
    ranking = []
    for figures in rows:
        score = getattr(figures.customer, "score", None)
        ranking.append({"customer_id": figures.customer_id, "name": str(figures.customer),
                        "profit": figures.profit, "total_spend": figures.total_spend, "orders": figures.orders,
                        "clv": score.clv if score else None, "segment": score.segment if score else ""})
    return ranking
