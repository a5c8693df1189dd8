"""The one place that writes ledger rows: entries, lot consumptions and the cached sums, together.

Callers hold a transaction. Locks are always taken in one order: the account row first
(``SELECT … FOR UPDATE``), then lots (``FOR UPDATE``, oldest expiry first). On SQLite there are no row
locks (``fastsql.for_update`` adds nothing) and IMMEDIATE transactions serialize writers instead.

An earning or a spending is five to eight one-row statements; they go through ``core.fastsql``
(SQL text built once, no per-query ORM compilation), which tripled the operations a 2-core server
handles per second (bench/loyalty.py). The tables and constraints are the same as the ORM's.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.utils import IntegrityError
from django.utils.translation import gettext_noop

from clientbase.core import fastsql
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry, Lot, Program
from clientbase.loyalty.rules import LotView, take_from_lots


class LedgerBroken(IntegrityError):
    """A cached figure disagreed with the write (a lot had less than planned): the transaction must roll back."""


def lock_account(program: Program, customer_id: int) -> Account:
    """The customer's account in the program, created if missing, locked for this transaction."""
    where, params = "program_id = %s AND customer_id = %s", (program.pk, customer_id)
    account = fastsql.fetch_one(Account, where, params, lock=True)
    if account is None:
        # Two first operations at once: the UNIQUE constraint lets one insert win, both then lock that row.
        Account.objects.bulk_create(
            [Account(program=program, customer_id=customer_id, may_go_negative=program.allow_negative)],
            ignore_conflicts=True)
        account = fastsql.fetch_one(Account, where, params, lock=True)
        assert account is not None
    account.program = program
    return account


def existing(program: Program, operation_id: str | None) -> LedgerEntry | None:
    if not operation_id:
        return None
    return fastsql.fetch_one(LedgerEntry, "program_id = %s AND operation_id = %s", (program.pk, operation_id))


def spendable_lots(account: Account, *, exclude: int | None = None) -> list[LotView]:
    """Active lots with points left, locked, in spending order: soonest expiry first, never-expiring last."""
    # The partial index loyalty_lot_spend_order (customer, program, expires_at WHERE remaining > 0) serves this.
    found = fastsql.rows("SELECT id, remaining FROM loyalty_lot WHERE customer_id = %s AND program_id = %s AND active"
                         " AND remaining > 0 ORDER BY expires_at IS NULL, expires_at, id" + fastsql.for_update(),
                         (account.customer_id, account.program_id))
    return [LotView(lot_id, remaining) for lot_id, remaining in found if lot_id != exclude]


def new_lot(account: Account, points: int, *, at: datetime, active: bool = True,
            activates_at: datetime | None = None, expires_at: datetime | None = None) -> Lot:
    return fastsql.create(Lot(program_id=account.program_id, customer_id=account.customer_id, points=points,
                              remaining=points, active=active, activates_at=activates_at, expires_at=expires_at,
                              created_at=at))


def _consume(entry: LedgerEntry, taken: Iterable[tuple[int, int]], restores: dict[int, int] | None = None) -> None:
    for lot_id, points in taken:
        # Conditional update: a lot never goes below zero even if a cache was stale.
        changed = fastsql.execute("UPDATE loyalty_lot SET remaining = remaining - %s"
                                  " WHERE id = %s AND remaining >= %s AND points >= remaining - %s",
                                  (points, lot_id, points, points))
        if changed != 1:
            raise LedgerBroken(f"lot {lot_id} cannot give {points} points")
        fastsql.execute("INSERT INTO loyalty_lotconsumption (entry_id, lot_id, points, restores_id)"
                        " VALUES (%s, %s, %s, %s)", (entry.pk, lot_id, points, (restores or {}).get(lot_id)))


def post(account: Account, kind: str, *, at: datetime, points: int = 0, pending: int = 0, owed: int = 0,
         taken: Iterable[tuple[int, int]] = (), lot: Lot | None = None, restores: dict[int, int] | None = None,
         purchase_at: datetime | None = None, **fields: Any) -> LedgerEntry:
    """Append one entry, its lot consumptions and move the account's cached sums by the same amounts."""
    entry = fastsql.create(LedgerEntry(program_id=account.program_id, customer_id=account.customer_id, kind=kind,
                                       points=points, pending=pending, owed=owed, lot=lot, created_at=at, **fields))
    _consume(entry, taken, restores)
    if points or pending or owed or purchase_at:
        sums = "balance = balance + %s, pending = pending + %s, owed = owed + %s"
        if purchase_at:
            fastsql.execute(f"UPDATE loyalty_account SET {sums}, last_purchase_at = %s WHERE id = %s",
                            (points, pending, owed, connection.ops.adapt_datetimefield_value(purchase_at), account.pk))
        else:
            fastsql.execute(f"UPDATE loyalty_account SET {sums} WHERE id = %s", (points, pending, owed, account.pk))
        account.balance += points
        account.pending += pending
        account.owed += owed
    return entry


def settle_owed(account: Account, lot: Lot, *, at: datetime) -> None:
    """New active points first pay what a return could not take back (``owed``)."""
    if account.owed <= 0:
        return
    part = min(account.owed, lot.remaining)
    if part > 0:
        post(account, EntryKind.SETTLEMENT, at=at, owed=-part, taken=[(lot.pk, part)], lot=lot,
             reason=gettext_noop("owed points paid from new points"))
        lot.remaining -= part


def add_active_points(account: Account, kind: str, points: int, *, at: datetime, expires_at: datetime | None,
                      **fields: Any) -> LedgerEntry:
    """A new active lot and the entry that created it (accrual without a pending period, bonus, refund)."""
    lot = new_lot(account, points, at=at, expires_at=expires_at)
    entry = post(account, kind, at=at, points=points, lot=lot, **fields)
    settle_owed(account, lot, at=at)
    return entry


def take_back(account: Account, points: int, *, first_lot: Lot | None) -> tuple[list[tuple[int, int]], int]:
    """Lots to take ``points`` from (``first_lot`` first, then spending order) and what could not be found."""
    lots = spendable_lots(account, exclude=first_lot.pk if first_lot else None)
    if first_lot is not None and first_lot.active and first_lot.remaining > 0:
        lots = [LotView(first_lot.pk, first_lot.remaining), *lots]
    return take_from_lots(lots, points)


def due_lots(program: Program, at: datetime) -> Any:
    """Active lots with points left whose own expiry date has passed."""
    return Lot.objects.filter(program=program, active=True, remaining__gt=0, expires_at__lte=at)


def inactive_lots(program: Program, at: datetime) -> Any:
    """Every active lot of customers with no purchase for the program's inactivity period."""
    if not program.inactivity_expiry_days:
        return Lot.objects.none()
    from datetime import timedelta

    cutoff = at - timedelta(days=program.inactivity_expiry_days)
    idle = Account.objects.filter(program=program).filter(
        Q(last_purchase_at__lte=cutoff) | Q(last_purchase_at__isnull=True, enrolled_at__lte=cutoff))
    return Lot.objects.filter(program=program, active=True, remaining__gt=0,
                              customer_id__in=idle.values("customer_id"))
