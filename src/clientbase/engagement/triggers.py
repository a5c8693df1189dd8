"""Triggers (R7.1): set-based evaluation over all customers, idempotent per (trigger, customer, occasion).

Each kind turns "today" into one or more *groups*: a SQL query of customer ids plus the occasion
key they share ("birthday:2026", "holiday:3:2026", "arrival:812"). One ``INSERT … SELECT … ON CONFLICT
DO NOTHING`` records the fires, so the work is a few statements however many
customers there are, and a second run (or a second worker) finds nothing new. Only the new fires turn
into messages (bulk-inserted into the outbox) and tasks. Messages are due at once: the worker's contact
rules (window, caps, consent) decide when and whether they actually go.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from clientbase.core.clock import now
from clientbase.customers.models import Customer
from clientbase.engagement.models import (
    Message,
    MessageKind,
    MessageStatus,
    Task,
    TaskStatus,
    Trigger,
    TriggerFire,
    TriggerKind,
)

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


def _sql_value(model: type[Any], field_name: str, value: Any) -> Any:
    return model._meta.get_field(field_name).get_db_prep_save(value, connection)


def record_fires(trigger: Trigger, group: Group, at: datetime, run_id: int) -> int:
    """Insert the fires this group has not had yet, marked with ``run_id``; return how many are new."""
    select_sql, params = group.customers.query.sql_with_params()
    table = TriggerFire._meta.db_table
    # The unique (trigger, customer, occasion) index alone skips earlier fires. A NOT EXISTS here made
    # PostgreSQL plan a nested loop over the table being filled: quadratic, 54 s for 54,000 rows.
    # ("WHERE true" settles SQLite's parsing ambiguity between a join's ON and ON CONFLICT.)
    sql = (f"INSERT INTO {table} (trigger_id, customer_id, occasion, at, run_id) "
           f"SELECT %s, c.cid, %s, %s, %s FROM ({select_sql}) c WHERE true ON CONFLICT DO NOTHING")
    stamp = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [trigger.pk, group.occasion, stamp, run_id, *params])
    return TriggerFire.objects.filter(run_id=run_id, trigger=trigger, occasion=group.occasion).count()


# A trigger's message or task for a customer's occasion is keyed ``trigger:<trigger>:<customer>:<occasion>``
# (its idempotency key): built here (``occasion_key``, or in SQL from ``_key_prefix``), read back by
# ``parse_occasion_key`` (``engagement.merging``).
KEY_PREFIX = "trigger:"


def _key_prefix(trigger: Trigger) -> str:
    return f"{KEY_PREFIX}{trigger.pk}:"


def occasion_key(trigger: Trigger, customer_id: int, occasion: str) -> str:
    return f"{_key_prefix(trigger)}{customer_id}:{occasion}"


def parse_occasion_key(key: str) -> tuple[str, int, str] | None:
    """(trigger, customer, occasion) of an ``occasion_key``, or None for another key."""
    if not key.startswith(KEY_PREFIX):
        return None
    trigger, _, rest = key.removeprefix(KEY_PREFIX).partition(":")
    customer, _, occasion = rest.partition(":")
    return (trigger, int(customer), occasion) if trigger and customer.isdigit() and occasion else None


def _insert_from_fires(model: type[Any], columns: dict[str, Any], trigger: Trigger, group: Group,
                       run_id: int) -> None:
    """INSERT … SELECT one row per new fire: the constant ``columns`` plus customer, key (and owner)."""
    fires, customers = TriggerFire._meta.db_table, Customer._meta.db_table
    names = ["customer_id", "idempotency_key", *columns]
    selects = ["f.customer_id", "%s || f.customer_id || ':' || f.occasion", *["%s"] * len(columns)]
    if model is Task:
        names.append("assignee_id")
        selects.append("c.owner_id")
    values = [_sql_value(model, name, value) for name, value in columns.items()]
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(selects)} "
           f"FROM {fires} f JOIN {customers} c ON c.id = f.customer_id "
           f"WHERE f.run_id = %s AND f.trigger_id = %s AND f.occasion = %s ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [_key_prefix(trigger), *values, run_id, trigger.pk, group.occasion])


# Columns without a database default that a raw INSERT must fill (the ORM would use the model defaults).
_MESSAGE_DEFAULTS: dict[str, Any] = {
    "channel": "", "subject": "", "body": "", "address": "", "status": MessageStatus.QUEUED, "attempts": 0,
    "claimed_by": "", "provider_message_id": "", "last_error": ""}


def _messages_one_by_one(trigger: Trigger, group: Group, run_id: int, at: datetime) -> None:
    """When each customer gets their own fields (a coupon, their expiring points): batches of ORM rows."""
    ids = list(TriggerFire.objects.filter(run_id=run_id, trigger=trigger, occasion=group.occasion)
               .order_by("customer_id").values_list("customer_id", flat=True))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        extra = group.per_customer(chunk) if group.per_customer else {}
        Message.objects.bulk_create([
            Message(customer_id=cid, template_key=trigger.template_key, kind=MessageKind.MARKETING,
                    due_at=at, next_attempt_at=at, context={**group.context, **extra.get(cid, {})},
                    idempotency_key=occasion_key(trigger, cid, group.occasion), source=f"trigger:{trigger.pk}",
                    created_at=at) for cid in chunk], ignore_conflicts=True)


def act(trigger: Trigger, group: Group, run_id: int, at: datetime) -> None:
    """Messages and tasks for this run's new fires: set-based unless each customer needs its own fields."""
    source = f"trigger:{trigger.pk}"
    if trigger.template_key and group.per_customer is None:
        _insert_from_fires(Message, {
            "template_key": trigger.template_key, "kind": MessageKind.MARKETING, "due_at": at, "next_attempt_at": at,
            "context": group.context, "source": source, "created_at": at, **_MESSAGE_DEFAULTS}, trigger, group, run_id)
    elif trigger.template_key:
        _messages_one_by_one(trigger, group, run_id, at)
    if trigger.task_kind:
        _insert_from_fires(Task, {
            "kind": trigger.task_kind, "title": str(trigger.config.get("task_title") or trigger.name)[:200],
            "gift": str(trigger.config.get("gift", ""))[:200], "due_at": at, "status": TaskStatus.OPEN,
            "source": source, "created_at": at}, trigger, group, run_id)


def evaluate(trigger: Trigger, at: datetime | None = None) -> int:
    """Run one trigger now; returns how many new (customer, occasion) fires it produced."""
    from clientbase.engagement import trigger_kinds

    at = at or now()
    build = trigger_kinds.KINDS.get(TriggerKind(trigger.kind))
    if build is None:
        return 0
    fired = 0
    for group in build(trigger, at):
        run_id = secrets.randbits(62) + 1
        # Fires and their messages and tasks commit together: a crash in between leaves no fire without
        # its message, and the next run simply finds the occasion new again.
        with transaction.atomic():
            new = record_fires(trigger, group, at, run_id)
            if new:
                act(trigger, group, run_id, at)
        fired += new
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
