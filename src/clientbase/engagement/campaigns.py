"""Campaigns (R5.6): a one-off send with a seeded random hold-out, tracked opens and clicks, and the
incremental revenue against the hold-out with a Welch confidence interval.

Effect = mean revenue per treated customer minus mean revenue per held-out customer over the
conversion window (orders placed from the start for ``conversion_days``), times the treated count.
Every treated customer counts, delivered or not (intention to treat), so a channel that failed cannot
flatter the result. The interval is Welch's t on per-customer revenue (unequal variances).
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, Sum

from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.engagement.models import Campaign, CampaignMember, Message, MessageKind, MessageStatus


def split_holdout(customer_ids: Sequence[int], percent: int, seed: int) -> tuple[list[int], list[int]]:
    """(treated, holdout): a seeded shuffle of the sorted ids, so the same input gives the same split."""
    ordered = sorted(set(customer_ids))
    random.Random(seed).shuffle(ordered)
    cut = round(len(ordered) * percent / 100)
    return sorted(ordered[cut:]), sorted(ordered[:cut])


def start_campaign(*, name: str, template_key: str, customer_ids: Sequence[int], holdout_percent: int = 10,
                   seed: int = 0, conversion_days: int = 14, at: datetime | None = None) -> Campaign:
    if not 0 <= holdout_percent <= 90:
        raise DomainValidationError.single("holdout_percent", "Between 0 and 90.")
    at = at or now()
    live = list(Customer.objects.filter(pk__in=list(customer_ids), merged_into__isnull=True)
                .values_list("pk", flat=True))
    if not live:
        raise DomainValidationError.single("customer_ids", "No customers to send to.")
    campaign = Campaign.objects.create(name=name, template_key=template_key, holdout_percent=holdout_percent,
                                       seed=seed, conversion_days=conversion_days, started_at=at, created_at=at)
    treated, holdout = split_holdout(live, holdout_percent, seed)
    Message.objects.bulk_create([
        Message(customer_id=cid, template_key=template_key, kind=MessageKind.MARKETING, due_at=at,
                next_attempt_at=at, idempotency_key=f"campaign:{campaign.pk}:{cid}", source=f"campaign:{campaign.pk}",
                created_at=at) for cid in treated], batch_size=2000)
    messages = dict(Message.objects.filter(source=f"campaign:{campaign.pk}").values_list("customer_id", "pk"))
    CampaignMember.objects.bulk_create(
        [CampaignMember(campaign=campaign, customer_id=cid, holdout=False, message_id=messages.get(cid))
         for cid in treated] + [CampaignMember(campaign=campaign, customer_id=cid, holdout=True) for cid in holdout],
        batch_size=2000)
    return campaign


@dataclass(frozen=True)
class Interval:
    difference: float
    low: float
    high: float


def welch_interval(treated: Sequence[float], holdout: Sequence[float], *, confidence: float = 0.95) -> Interval:
    """Difference of means with Welch's t interval; an empty or single-row group gives an infinite interval."""
    from scipy import stats

    n1, n2 = len(treated), len(holdout)
    if n1 < 2 or n2 < 2:
        diff = (sum(treated) / n1 if n1 else 0.0) - (sum(holdout) / n2 if n2 else 0.0)
        return Interval(diff, -math.inf, math.inf)
    m1, m2 = sum(treated) / n1, sum(holdout) / n2
    v1 = sum((x - m1) ** 2 for x in treated) / (n1 - 1)
    v2 = sum((x - m2) ** 2 for x in holdout) / (n2 - 1)
    se2 = v1 / n1 + v2 / n2
    if se2 == 0:
        return Interval(m1 - m2, m1 - m2, m1 - m2)
    df = se2 ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    margin = float(stats.t.ppf(0.5 + confidence / 2, df)) * math.sqrt(se2)
    return Interval(m1 - m2, m1 - m2 - margin, m1 - m2 + margin)


def results(campaign: Campaign) -> dict[str, float | int | None]:
    """Delivered, opened, clicked, converted and incremental revenue (kopecks) with its 95% interval."""
    from clientbase.sales.models import Order

    start = campaign.started_at or campaign.created_at
    end = start + timedelta(days=campaign.conversion_days)
    members = dict(CampaignMember.objects.filter(campaign=campaign).values_list("customer_id", "holdout"))
    revenue = dict(Order.objects.filter(customer_id__in=list(members), placed_at__gte=start, placed_at__lt=end)
                   .exclude(status="cancelled").values("customer_id")
                   .annotate(total=Sum("gross_amount") - Sum("discount_amount")).values_list("customer_id", "total"))
    treated = [float(revenue.get(cid, 0) or 0) for cid, held in members.items() if not held]
    holdout = [float(revenue.get(cid, 0) or 0) for cid, held in members.items() if held]
    interval = welch_interval(treated, holdout)
    messages = Message.objects.filter(source=f"campaign:{campaign.pk}")
    figures = messages.aggregate(delivered=_count(Q(status=MessageStatus.SENT)),
                                 opened=_count(Q(opened_at__isnull=False)),
                                 clicked=_count(Q(clicked_at__isnull=False)))
    n_treated = len(treated)
    return {
        "campaign_id": campaign.pk, "treated": n_treated, "holdout": len(holdout),
        **{k: int(v or 0) for k, v in figures.items()},
        "converted_treated": sum(1 for x in treated if x > 0), "converted_holdout": sum(1 for x in holdout if x > 0),
        "revenue_per_treated": sum(treated) / n_treated if treated else 0.0,
        "revenue_per_holdout": sum(holdout) / len(holdout) if holdout else 0.0,
        "incremental_revenue": interval.difference * n_treated,
        # None when a group is too small for an interval (fewer than two customers).
        "ci_low": interval.low * n_treated if math.isfinite(interval.low) else None,
        "ci_high": interval.high * n_treated if math.isfinite(interval.high) else None,
    }


def _count(condition: Q) -> Sum:
    from django.db.models import Case, IntegerField, Value, When

    return Sum(Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField()))
