"""What each trigger kind means in SQL: today's groups of customers and the occasion they share.

Config keys (``Trigger.config``): ``days_before`` (birthday, holiday, next_purchase), ``threshold``
and ``min_repeat_days`` (churn_risk), ``days`` (no_contact; points_expiring: how far back to look for
loyalty's warnings on a first run), ``coupon_percent`` and
``coupon_days`` (birthday, needs an active loyalty program), ``task_title``, ``gift``.
"""

import calendar
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast

from clientbase.engagement.models import Holiday, Message, MessageStatus, Trigger, TriggerKind
from clientbase.engagement.triggers import Group, business_today, ids, live_customers, occasion_key


def _days(trigger: Trigger, key: str, default: int) -> int:
    try:
        return int(trigger.config.get(key, default))
    except (TypeError, ValueError):
        return default


def birthday(trigger: Trigger, at: datetime) -> list[Group]:
    target = business_today(at) + timedelta(days=_days(trigger, "days_before", 0))
    match = Q(birth_date__month=target.month, birth_date__day=target.day)
    if (target.month, target.day) == (2, 28) and not calendar.isleap(target.year):
        match |= Q(birth_date__month=2, birth_date__day=29)  # 29 February people are greeted on the 28th
    per_customer = _coupons(trigger, target) if _days(trigger, "coupon_percent", 0) else None
    return [Group(ids(live_customers().filter(match)), f"birthday:{target.year}", per_customer=per_customer)]


def _coupons(trigger: Trigger, target: date) -> Callable[[list[int]], dict[int, dict[str, Any]]]:
    def issue(customer_ids: list[int]) -> dict[int, dict[str, Any]]:
        from clientbase.loyalty.gifts import create_coupon
        from clientbase.loyalty.models import Program

        program = Program.objects.filter(active=True).order_by("pk").first()
        until = datetime.combine(target + timedelta(days=_days(trigger, "coupon_days", 14)), datetime.min.time())
        return {cid: {"coupon_code": create_coupon(
            kind="percent", value=_days(trigger, "coupon_percent", 10), program=program, customer_id=cid,
            valid_until=until.astimezone(), issue_key=occasion_key(trigger, cid, f"birthday:{target.year}"),
            hold=False).code}  # one transaction for the group: see create_coupon
            for cid in customer_ids}

    return issue


def holiday(trigger: Trigger, at: datetime) -> list[Group]:
    target = business_today(at) + timedelta(days=_days(trigger, "days_before", 0))
    groups = []
    for day in Holiday.objects.filter(month=target.month, day=target.day):
        customers = live_customers()
        if day.audience:
            customers = customers.filter(gender=day.audience)
        groups.append(Group(ids(customers), f"holiday:{day.pk}:{target.year}", {"holiday": day.name}))
    return groups


def next_purchase(trigger: Trigger, at: datetime) -> list[Group]:
    from clientbase.analytics.scores import CustomerScore

    target = business_today(at) + timedelta(days=_days(trigger, "days_before", 3))
    scores = CustomerScore.objects.filter(next_purchase_at=target, customer__merged_into__isnull=True)
    return [Group(ids(scores, "customer_id"), f"next_purchase:{target}",
                  {"next_purchase_date": f"{target:%d.%m}"})]


def churn_risk(trigger: Trigger, at: datetime) -> list[Group]:
    from clientbase.analytics.scores import CustomerScore

    threshold = float(trigger.config.get("threshold", 0.3))
    scores = CustomerScore.objects.filter(probability_alive__lt=threshold,
                                          frequency__gte=_days(trigger, "min_repeat_days", 1),
                                          customer__merged_into__isnull=True)
    # At most once a month per customer while the risk lasts.
    return [Group(ids(scores, "customer_id"), f"churn_risk:{business_today(at):%Y-%m}")]


def no_contact(trigger: Trigger, at: datetime) -> list[Group]:
    """No event, no order and no sent message for N days (customers older than N days only)."""
    from clientbase.interactions.models import Event
    from clientbase.sales.models import Order

    since = at - timedelta(days=_days(trigger, "days", 90))
    customer = OuterRef("pk")
    silent = live_customers().filter(created_at__lt=since).exclude(
        Exists(Event.objects.filter(customer=customer, occurred_at__gte=since))).exclude(
        Exists(Order.objects.filter(customer=customer, placed_at__gte=since))).exclude(
        Exists(Message.objects.filter(customer=customer, status=MessageStatus.SENT, sent_at__gte=since)))
    return [Group(ids(silent), f"no_contact:{business_today(at):%Y-%m}")]


def product_arrival(trigger: Trigger, at: datetime) -> list[Group]:
    """Buyers of the arrived product's category (or the product), and customers whose stated
    preferences mention the category or the product name."""
    from clientbase.sales.models import CustomerProductCount, StockArrival

    since = trigger.last_run_at if trigger.last_run_at and trigger.last_run_at < at else at - timedelta(days=1)
    groups = []
    for arrival in StockArrival.objects.filter(arrived_at__gte=since - timedelta(hours=1), arrived_at__lte=at
                                               ).select_related("product", "product__category"):
        product = arrival.product
        # sales' per-customer product counts: net of returns, indexed, no walk over order lines.
        bought = CustomerProductCount.objects.filter(
            Q(category_id=product.category_id) if product.category_id else Q(product_id=product.pk), quantity__gt=0)
        stated = _mentions(_words(product))
        customers = live_customers().annotate(preferences_text=Cast("preferences", TextField())).filter(
            Q(pk__in=bought.values("customer_id")) | stated)
        groups.append(Group(ids(customers), f"arrival:{arrival.pk}", {"product": product.name}))
    return groups


def _words(product: Any) -> set[str]:
    category = product.category
    words = {category.slug, category.name} if category else set()
    words.add(product.name.split()[0] if product.name.split() else "")
    return {w for w in words if len(w) >= 3}


def _mentions(words: set[str]) -> Q:
    """Preferences (JSON as text) mentioning any word. SQLite keeps non-ASCII JSON escaped (\\u043b…),
    so each word is also matched in its escaped form, lower-case and capitalised."""
    found = Q(pk__in=[])
    for word in words:
        for variant in {word, word.lower(), word.capitalize()}:
            found |= Q(preferences_text__icontains=variant)
            found |= Q(preferences_text__contains=json.dumps(variant)[1:-1])
    return found


def points_expiring(trigger: Trigger, at: datetime) -> list[Group]:
    """Customers loyalty warned (its ``points_expiring`` events, which apply the program's own rules: each
    lot's expiry and the inactivity expiry, ``warn_days`` ahead) since the last evaluation."""
    from clientbase.interactions.models import Event
    from clientbase.loyalty.expiry import EXPIRING_EVENT

    since = trigger.last_run_at if trigger.last_run_at and trigger.last_run_at < at else \
        at - timedelta(days=_days(trigger, "days", 7))
    events = Event.objects.filter(source="loyalty", type=EXPIRING_EVENT, received_at__gte=since,
                                  received_at__lte=at)

    def amounts(customer_ids: list[int]) -> dict[int, dict[str, Any]]:
        result: dict[int, dict[str, Any]] = {}
        for customer_id, data in events.filter(customer_id__in=customer_ids).values_list("customer_id", "data"):
            points = int((data or {}).get("points", 0))
            result[customer_id] = {"points_expiring": result.get(customer_id, {}).get("points_expiring", 0) + points}
        return result

    # One occasion per ISO week: a customer is told at most weekly while points keep expiring.
    week = business_today(at).isocalendar()
    customers = live_customers().filter(pk__in=events.values("customer_id"))
    return [Group(ids(customers), f"points_expiring:{week.year}-W{week.week:02d}", per_customer=amounts)]


def negative_review(trigger: Trigger, at: datetime) -> list[Group]:
    """Handled at ingest time (handlers.py), one event at a time: nothing to evaluate on a schedule."""
    return []


KINDS: dict[TriggerKind, Callable[[Trigger, datetime], list[Group]]] = {
    TriggerKind.BIRTHDAY: birthday, TriggerKind.HOLIDAY: holiday, TriggerKind.NEXT_PURCHASE: next_purchase,
    TriggerKind.CHURN_RISK: churn_risk, TriggerKind.NO_CONTACT: no_contact,
    TriggerKind.PRODUCT_ARRIVAL: product_arrival, TriggerKind.POINTS_EXPIRING: points_expiring,
    TriggerKind.NEGATIVE_REVIEW: negative_review,
}
