"""Expiry (R8.2): set-based SQL, a chunk of lots per statement, so a million lots take seconds.

Per chunk, in one transaction: lock the chunk's accounts (ordered), insert one expiry entry per
account (INSERT … SELECT … GROUP BY), move each lot's remaining points into its ``expired`` column
and point it at that entry, then move each account's balance by its entry (UPDATE … FROM,
PostgreSQL and SQLite >= 3.33 alike). No row per expired lot is inserted.
Warnings go out ``warn_days`` before as ``interactions.Event`` rows of type ``points_expiring``.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Min, Q, Sum
from django.utils.translation import gettext_noop

from clientbase.core.clock import now
from clientbase.loyalty.ledger import due_lots, inactive_lots
from clientbase.loyalty.models import Account, Lot, Program

CHUNK = 50_000
EXPIRING_EVENT = "points_expiring"


@dataclass
class ExpiryResult:
    lots: int = 0
    points: int = 0
    warned: int = 0


def _sql(queryset: Any) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _lock(program: Program, lots: Any) -> None:
    """Lock the chunk's accounts, in id order. Lots are written only under their account's lock
    (the fixed order: account, then lots), so holding the accounts is enough to own their lots."""
    list(Account.objects.select_for_update().filter(program=program, customer_id__in=lots.values("customer_id"))
         .order_by("pk").values_list("pk", flat=True))


def _expire_chunk(program: Program, lots: Any, at: datetime, reason: str) -> tuple[int, int]:
    """One expiry entry per account (INSERT … SELECT) and one UPDATE of the chunk's lots."""
    batch = uuid.uuid4().hex
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A crash may lose the last chunks of this run (never half of one); the next run redoes them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        _lock(program, lots)
        ids_sql, ids_params = _sql(lots.values("pk"))
        at_value = connection.ops.adapt_datetimefield_value(at)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO loyalty_ledgerentry (program_id, customer_id, kind, points, pending, owed, unrecovered,"
                " lot_id, operation_id, order_ref, amount, basket, reason, batch, created_at, staff_id)"
                " SELECT program_id, customer_id, 'expiry', -SUM(remaining), 0, 0, 0, NULL, NULL, '', 0, '{}', %s,"
                f" %s, %s, NULL FROM loyalty_lot WHERE id IN ({ids_sql}) GROUP BY program_id, customer_id",
                (reason, batch, at_value, *ids_params))
            if not cursor.rowcount:
                return 0, 0
            # The lot keeps what expired and which entry booked it (merging.py repairs crossings from that).
            cursor.execute(
                "UPDATE loyalty_lot SET expired = loyalty_lot.expired + loyalty_lot.remaining, remaining = 0,"
                " expired_by_id = e.id FROM loyalty_ledgerentry e WHERE e.batch = %s"
                f" AND e.customer_id = loyalty_lot.customer_id AND loyalty_lot.id IN ({ids_sql})",
                (batch, *ids_params))
            count = cursor.rowcount
            cursor.execute(
                "UPDATE loyalty_account SET balance = loyalty_account.balance + e.points"
                " FROM loyalty_ledgerentry e WHERE e.batch = %s AND loyalty_account.customer_id = e.customer_id"
                " AND loyalty_account.program_id = %s", (batch, program.pk))
            cursor.execute("SELECT COALESCE(SUM(points), 0) FROM loyalty_ledgerentry WHERE batch = %s", (batch,))
            points = -int(cursor.fetchone()[0])
    return count, points


def _expire(program: Program, base: Any, at: datetime, reason: str, result: ExpiryResult) -> None:
    last = 0
    while True:
        ids = list(base.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[CHUNK - 1:CHUNK])
        if ids:
            chunk = base.filter(pk__gt=last, pk__lte=ids[0])
            last = ids[0]
        else:
            chunk = base.filter(pk__gt=last)
        count, points = _expire_chunk(program, chunk, at, reason)
        result.lots += count
        result.points += points
        if not ids:
            return


def expire_points(program: Program, *, at: datetime | None = None) -> ExpiryResult:
    """Expire lots past their date, then every lot of customers inactive for the program's period."""
    at = at or now()
    result = ExpiryResult()
    _expire(program, due_lots(program, at), at, gettext_noop("lot expired"), result)
    if program.inactivity_expiry_days:
        _expire(program, inactive_lots(program, at), at, gettext_noop("no purchase for the inactivity period"), result)
    result.warned = warn_expiring(program, at=at)
    return result


def _events(program: Program, rows: list[tuple[int, int, datetime]], at: datetime, kind: str) -> int:
    from clientbase.interactions.models import Event

    events = [Event(source="loyalty", external_id=f"{EXPIRING_EVENT}:{program.pk}:{customer_id}:{kind}:"
                                                  f"{expires.date().isoformat()}",
                    type=EXPIRING_EVENT, channel="api", occurred_at=at, received_at=at, customer_id=customer_id,
                    data={"program": program.slug, "points": int(points), "expires_at": expires.isoformat(),
                          "reason": kind})
              for customer_id, points, expires in rows]
    created = Event.objects.bulk_create(events, ignore_conflicts=True, batch_size=2000)
    return len(created)


def warn_expiring(program: Program, *, at: datetime | None = None) -> int:
    """One ``points_expiring`` event per customer with points expiring within ``warn_days`` (idempotent)."""
    at = at or now()
    horizon = at + timedelta(days=program.warn_days)
    soon = Lot.objects.filter(program=program, active=True, remaining__gt=0, expires_at__gt=at,
                              expires_at__lte=horizon, warned_at__isnull=True)
    rows = [(r["customer_id"], r["points"], r["first"]) for r in
            soon.values("customer_id").annotate(points=Sum("remaining"), first=Min("expires_at")).order_by()]
    warned = _events(program, rows, at, "lot") if rows else 0
    soon.update(warned_at=at)
    if program.inactivity_expiry_days:
        cutoff = at - timedelta(days=program.inactivity_expiry_days)
        idle = Account.objects.filter(program=program, balance__gt=0).filter(
            Q(last_purchase_at__gt=cutoff, last_purchase_at__lte=cutoff + timedelta(days=program.warn_days)))
        rows = [(a.customer_id, a.balance, a.last_purchase_at + timedelta(days=program.inactivity_expiry_days))
                for a in idle.only("customer_id", "balance", "last_purchase_at") if a.last_purchase_at]
        warned += _events(program, rows, at, "inactivity") if rows else 0
    return warned
