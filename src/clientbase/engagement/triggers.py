"""Triggers (R7.1): set-based evaluation over all customers, idempotent per (trigger, customer, occasion).

Each kind turns "today" into one or more *groups*: a SQL query of customer ids plus the occasion
key they share ("birthday:2026", "holiday:3:2026", "arrival:812"). One ``INSERT … SELECT … WHERE NOT
EXISTS … ON CONFLICT DO NOTHING`` records the fires, so the work is a few statements however many
customers there are, and a second run (or a second worker) finds nothing new. Only the new fires turn
into messages (bulk-inserted into the outbox) and tasks. Messages are due at once: the worker's contact
rules (window, caps, consent) decide when and whether they actually go.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet

from clientbase.core.clock import now
from clientbase.customers.models import Customer
from clientbase.engagement.models import Message, MessageKind, Task, Trigger, TriggerFire, TriggerKind

BATCH = 5000
PerCustomer = Callable[[list[int]], dict[int, dict[str, Any]]]


@dataclass
class Group:
    """Customers (a queryset made by :func:`ids`) that share one occasion."""

    customers: QuerySet[Any, Any]
    occasion: str
    context: dict[str, Any] = field(default_factory=dict)
    per_customer: PerCustomer | None = None


def business_today(at: datetime) -> date:
    return at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def live_customers() -> QuerySet[Customer]:
    return Customer.objects.filter(merged_into__isnull=True)


def ids(queryset: QuerySet[Any, Any], column: str = "pk") -> QuerySet[Any, Any]:
    """The queryset as one column ``cid`` of customer ids, ready to be a subquery."""
    return queryset.annotate(cid=F(column)).values("cid")


def record_fires(trigger: Trigger, group: Group, at: datetime) -> list[int]:
    """Insert the fires this group has not had yet; return the customer ids that are new."""
    select_sql, params = group.customers.query.sql_with_params()
    stamp = connection.ops.adapt_datetimefield_value(at)
    table = TriggerFire._meta.db_table
    sql = (f"INSERT INTO {table} (trigger_id, customer_id, occasion, at) "
           f"SELECT %s, c.cid, %s, %s FROM ({select_sql}) c "
           f"WHERE NOT EXISTS (SELECT 1 FROM {table} f WHERE f.trigger_id = %s AND f.customer_id = c.cid "
           f"AND f.occasion = %s) ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [trigger.pk, group.occasion, stamp, *params, trigger.pk, group.occasion])
    return list(TriggerFire.objects.filter(trigger=trigger, occasion=group.occasion, at=at)
                .order_by("customer_id").values_list("customer_id", flat=True))


def _key(trigger: Trigger, customer_id: int, occasion: str) -> str:
    return f"trigger:{trigger.pk}:{customer_id}:{occasion}"


def act(trigger: Trigger, group: Group, customer_ids: list[int], at: datetime) -> None:
    """Messages and tasks for the new fires, in bulk."""
    for start in range(0, len(customer_ids), BATCH):
        chunk = customer_ids[start:start + BATCH]
        extra = group.per_customer(chunk) if group.per_customer else {}
        if trigger.template_key:
            Message.objects.bulk_create([
                Message(customer_id=cid, template_key=trigger.template_key, kind=MessageKind.MARKETING,
                        due_at=at, next_attempt_at=at, context={**group.context, **extra.get(cid, {})},
                        idempotency_key=_key(trigger, cid, group.occasion), source=f"trigger:{trigger.pk}",
                        created_at=at) for cid in chunk], ignore_conflicts=True)
        if trigger.task_kind:
            owners = dict(Customer.objects.filter(pk__in=chunk).values_list("pk", "owner_id"))
            title = str(trigger.config.get("task_title") or trigger.name)
            Task.objects.bulk_create([
                Task(kind=trigger.task_kind, customer_id=cid, assignee_id=owners.get(cid), title=title,
                     gift=str(trigger.config.get("gift", "")), due_at=at, source=f"trigger:{trigger.pk}",
                     idempotency_key=_key(trigger, cid, group.occasion), created_at=at)
                for cid in chunk], ignore_conflicts=True)


def evaluate(trigger: Trigger, at: datetime | None = None) -> int:
    """Run one trigger now; returns how many new (customer, occasion) fires it produced."""
    from clientbase.engagement import trigger_kinds

    at = at or now()
    build = trigger_kinds.KINDS.get(TriggerKind(trigger.kind))
    if build is None:
        return 0
    fired = 0
    for group in build(trigger, at):
        new = record_fires(trigger, group, at)
        act(trigger, group, new, at)
        fired += len(new)
    return fired


def run_due_triggers(*, interval: timedelta, at: datetime) -> int:
    """Evaluate every enabled trigger not evaluated within ``interval``.

    Taking a trigger is a conditional UPDATE of ``last_run_at``, so of several workers one runs it.
    """
    fired = 0
    for trigger in Trigger.objects.filter(enabled=True).order_by("pk"):
        taken = Trigger.objects.filter(pk=trigger.pk).filter(
            Q(last_run_at__isnull=True) | Q(last_run_at__lt=at - interval)).update(last_run_at=at)
        if taken:
            fired += evaluate(trigger, at)
    return fired
