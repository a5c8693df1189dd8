"""Write path for segments: validate, save, and refresh membership set-based in SQL (R6.2)."""

import datetime as dt
from typing import Any

from django.db import connection, transaction

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer, CustomFieldDefinition
from clientbase.segments import compiler, rules
from clientbase.segments.models import Segment, SegmentChange, SegmentMembership


def custom_field_types() -> dict[str, tuple[str, tuple[str, ...]]]:
    return {d.key: (d.type, tuple(d.choices)) for d in CustomFieldDefinition.objects.all()}


def parse_rule(rule: Any) -> rules.Node:
    return rules.parse(rule, custom_fields=custom_field_types())


def rule_queryset(node: rules.Node, *, at: dt.datetime | None = None) -> Any:
    """Live (not merged-away) customers matching the rule, as one queryset."""
    moment = at or now()
    base = Customer.objects.filter(merged_into__isnull=True)
    return compiler.apply(base, node, today=moment.date(), now=moment)


@transaction.atomic
def save_segment(data: dict[str, Any], *, actor: Actor, segment: Segment | None = None) -> Segment:
    name = str(data.get("name") or (segment.name if segment else "")).strip()
    if not name:
        raise DomainValidationError.single("name", "A segment needs a name.")
    clash = Segment.objects.filter(name=name)
    if segment is not None:
        clash = clash.exclude(pk=segment.pk)
    if clash.exists():
        raise DomainValidationError.single("name", f"A segment named {name!r} already exists.")
    rule = data.get("rule", segment.rule if segment else None)
    parse_rule(rule)
    if segment is not None and isinstance(rule, dict) and _refers_to(rule, segment.pk):
        raise DomainValidationError.single("rule", "A segment cannot refer to itself.")
    every = data.get("refresh_every_minutes", segment.refresh_every_minutes if segment else 60)
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise DomainValidationError.single("refresh_every_minutes", "Must be a whole number of minutes, 0 or more.")
    segment = segment or Segment(created_by_id=actor.user_id)
    segment.name, segment.rule, segment.refresh_every_minutes = name, rule, every
    segment.description = str(data.get("description", segment.description or ""))
    segment.save()
    return segment


def _refers_to(rule: Any, segment_id: int) -> bool:
    if isinstance(rule, dict):
        return rule.get("segment") == segment_id or any(_refers_to(v, segment_id) for v in rule.values())
    if isinstance(rule, list):
        return any(_refers_to(v, segment_id) for v in rule)
    return False


@transaction.atomic
def refresh(segment: Segment, *, at: dt.datetime | None = None) -> tuple[int, int]:
    """Materialise membership; record who joined and who left. Returns (joined, left).

    Three INSERT/DELETE … SELECT statements over the compiled rule: no customer row passes
    through Python, so a refresh of a million members costs what the database costs.
    """
    moment = at or now()
    matching_sql, params = rule_queryset(parse_rule(segment.rule), at=moment).values("id").query.sql_with_params()
    members = SegmentMembership._meta.db_table
    changes = SegmentChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS segment_refresh_ids (id bigint PRIMARY KEY)")
        cursor.execute("DELETE FROM segment_refresh_ids")
        cursor.execute(f"INSERT INTO segment_refresh_ids (id) {matching_sql}", params)
        if connection.vendor == "postgresql":
            # Temporary tables get no autovacuum statistics; without them the planner guesses a
            # handful of rows and picks nested loops over what may be millions of ids.
            cursor.execute("ANALYZE segment_refresh_ids")
        cursor.execute(
            f"INSERT INTO {changes} (segment_id, customer_id, kind, at) "
            f"SELECT %s, m.customer_id, 'left', %s FROM {members} m WHERE m.segment_id = %s "
            f"AND NOT EXISTS (SELECT 1 FROM segment_refresh_ids r WHERE r.id = m.customer_id)",
            [segment.pk, moment, segment.pk])
        left = cursor.rowcount
        # NOT EXISTS, not NOT IN: PostgreSQL hashes a NOT IN subquery only when it fits in work_mem,
        # and otherwise rescans it for every member (quadratic at a million members).
        cursor.execute(
            f"DELETE FROM {members} WHERE segment_id = %s AND NOT EXISTS "
            f"(SELECT 1 FROM segment_refresh_ids r WHERE r.id = {members}.customer_id)", [segment.pk])
        cursor.execute(
            f"INSERT INTO {changes} (segment_id, customer_id, kind, at) "
            f"SELECT %s, r.id, 'joined', %s FROM segment_refresh_ids r WHERE NOT EXISTS "
            f"(SELECT 1 FROM {members} m WHERE m.segment_id = %s AND m.customer_id = r.id)",
            [segment.pk, moment, segment.pk])
        joined = cursor.rowcount
        # ON CONFLICT instead of NOT EXISTS: an anti-join against the table being inserted into can
        # turn into a sequential rescan of its growing heap for every id (quadratic in members).
        cursor.execute(
            f"INSERT INTO {members} (segment_id, customer_id, joined_at) "
            f"SELECT %s, r.id, %s FROM segment_refresh_ids r WHERE true "
            f"ON CONFLICT (segment_id, customer_id) DO NOTHING",
            [segment.pk, moment])
        cursor.execute("SELECT COUNT(*) FROM segment_refresh_ids")
        total = cursor.fetchone()[0]
        cursor.execute("DELETE FROM segment_refresh_ids")
    Segment.objects.filter(pk=segment.pk).update(refreshed_at=moment, member_count=total)
    segment.refreshed_at, segment.member_count = moment, total
    return joined, left


def refresh_due(*, at: dt.datetime | None = None) -> list[tuple[str, int, int]]:
    """Refresh every segment whose schedule says so (called by the worker or `clientbase segments refresh`)."""
    moment = at or now()
    done = []
    for segment in Segment.objects.filter(refresh_every_minutes__gt=0).order_by("pk"):
        due = segment.refreshed_at is None or segment.refreshed_at + dt.timedelta(
            minutes=segment.refresh_every_minutes) <= moment
        if due:
            joined, left = refresh(segment, at=moment)
            done.append((segment.name, joined, left))
    return done
