"""The write path of the ledger: earn, spend, return, adjust, give bonuses.

Every function is idempotent on ``operation_id`` (UNIQUE(program, operation_id) is the backstop),
locks the account first, and is atomic; the caller may wrap several in its own transaction.
Only registered customers (those with ``Account.enrolled_at``) earn; see ``enroll``.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.identity.locks import hold_customer, hold_owner
from clientbase.loyalty import ledger
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry, Lot, LotConsumption, Program, Tier
from clientbase.loyalty.rules import Basket, EarningRules, earning, redeemable, share_of


def earning_rules(program: Program, tier: Tier | None) -> EarningRules:
    return EarningRules(
        earn_percent=program.earn_percent, point_value=program.point_value,
        category_multipliers={str(k): int(v) for k, v in program.category_multipliers.items()},
        product_multipliers={str(k): int(v) for k, v in program.product_multipliers.items()},
        excluded_skus=frozenset(program.excluded_skus), min_order_amount=program.min_order_amount,
        tier_multiplier=tier.multiplier_percent if tier else 100)


def lot_expiry(program: Program, at: datetime) -> datetime | None:
    return at + timedelta(days=program.lot_expiry_days) if program.lot_expiry_days else None


def _basket_json(basket: Basket, points_by_line: list[dict[str, Any]]) -> dict[str, Any]:
    return {"lines": [{**row, "paid": line.amount} for line, row in zip(basket.lines, points_by_line, strict=True)]}


@transaction.atomic
def earn(program: Program, customer_id: int, basket: Basket, *, operation_id: str, order_ref: str = "",
         at: datetime | None = None) -> LedgerEntry | None:
    """Points for a paid basket; None if the customer is not registered in the program (see ``enroll``)."""
    at = at or now()
    hold_customer(customer_id)
    account = ledger.lock_account(program, customer_id)
    if (done := ledger.existing(program, operation_id)) is not None:
        return done
    if account.enrolled_at is None:
        return None
    result = earning(basket, earning_rules(program, account.tier))
    fields: dict[str, Any] = {"operation_id": operation_id, "order_ref": order_ref, "amount": basket.amount,
                              "basket": _basket_json(basket, result.lines), "purchase_at": at}
    if program.pending_days:
        lot = ledger.new_lot(account, result.points, at=at, active=False,
                             activates_at=at + timedelta(days=program.pending_days),
                             expires_at=lot_expiry(program, at + timedelta(days=program.pending_days)))
        entry = ledger.post(account, EntryKind.ACCRUAL, at=at, pending=result.points, lot=lot, **fields)
    else:
        entry = ledger.add_active_points(account, EntryKind.ACCRUAL, result.points, at=at,
                                         expires_at=lot_expiry(program, at), **fields)
    from clientbase.loyalty.tiers import upgrade_if_qualified

    upgrade_if_qualified(account, at=at)
    return entry


def quote(program: Program, customer_id: int, basket_amount: int) -> dict[str, int]:
    """How many points this customer may spend on a basket of ``basket_amount`` kopecks, and their value."""
    account = Account.objects.filter(program=program, customer_id=customer_id).first()
    balance = account.balance if account else 0
    points = redeemable(balance=balance, basket_amount=basket_amount, max_percent=program.max_redeem_percent,
                        point_value=program.point_value, min_balance=program.min_balance_to_redeem,
                        step=program.redeem_step)
    return {"balance": balance, "points": points, "amount": points * program.point_value}


@transaction.atomic
def redeem(program: Program, customer_id: int, points: int, *, operation_id: str, basket_amount: int | None = None,
           order_ref: str = "", at: datetime | None = None) -> LedgerEntry:
    """Spend ``points`` (oldest-expiry lots first). Refused, with nothing written, beyond the quote's limits."""
    at = at or now()
    hold_customer(customer_id)
    account = ledger.lock_account(program, customer_id)
    if (done := ledger.existing(program, operation_id)) is not None:
        return done
    if points <= 0:
        raise DomainValidationError.single("points", "Spend a positive number of points.")
    if points % program.redeem_step:
        raise DomainValidationError.single("points", f"Points are spent in multiples of {program.redeem_step}.")
    limit = account.balance
    if basket_amount is not None:
        limit = redeemable(balance=account.balance, basket_amount=basket_amount,
                           max_percent=program.max_redeem_percent, point_value=program.point_value,
                           min_balance=program.min_balance_to_redeem, step=program.redeem_step)
    elif account.balance < program.min_balance_to_redeem:
        limit = 0
    if points > limit:
        raise DomainValidationError.single("points", f"At most {max(limit, 0)} points can be spent here.")
    taken, short = ledger.take_back(account, points, first_lot=None)
    if short:
        raise ledger.LedgerBroken(f"account {account.pk}: balance {account.balance} but lots hold less")
    return ledger.post(account, EntryKind.REDEMPTION, at=at, points=-points, taken=taken, operation_id=operation_id,
                       order_ref=order_ref, amount=basket_amount or 0)


def _returned_so_far(program: Program, order_ref: str) -> tuple[dict[str, int], int, int]:
    """Units returned by sku, expired points already skipped, and spent points refunded for an order."""
    units: dict[str, int] = {}
    skipped = refunded = 0
    for entry in LedgerEntry.objects.filter(program=program, order_ref=order_ref,
                                            kind__in=[EntryKind.REVERSAL, EntryKind.REFUND]):
        for sku, qty in entry.basket.get("returned", {}).items():
            units[sku] = units.get(sku, 0) + int(qty)
        skipped += int(entry.basket.get("skipped_expired", 0))
        refunded += entry.points if entry.kind == EntryKind.REFUND else 0
    return units, skipped, refunded


def _by_sku(entry: LedgerEntry | None) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for line in (entry.basket.get("lines", []) if entry else []):
        row = totals.setdefault(str(line["sku"]), {"quantity": 0, "points": 0, "paid": 0})
        for key in row:
            row[key] += int(line.get(key, 0))
    return totals


def _expired_on(lot: Lot) -> int:
    # Expiries since migration 0004 are on the lot; older ones are consumption rows of expiry entries.
    return lot.expired + sum(LotConsumption.objects.filter(lot=lot, entry__kind=EntryKind.EXPIRY).values_list("points", flat=True))


@transaction.atomic
def reverse_return(program: Program, *, order_ref: str, operation_id: str, returned: dict[str, int] | None,
                   at: datetime | None = None) -> list[LedgerEntry]:
    """Take back what the returned units earned, once, and give back the points spent on them.

    ``returned``: units by sku, or None for the whole order. The points' owner is whoever holds the
    order's entries now (after a merge, the survivor). The rule when earned points were already
    spent is in docs/loyalty.md ("Returns").
    """
    at = at or now()
    accrual = LedgerEntry.objects.filter(program=program, order_ref=order_ref, kind=EntryKind.ACCRUAL).first()
    spent = LedgerEntry.objects.filter(program=program, order_ref=order_ref, kind=EntryKind.REDEMPTION)
    owner = accrual or spent.first()
    if owner is None:
        return []
    owner.customer_id = hold_owner(LedgerEntry, owner.pk)  # the entries move with merges
    account = ledger.lock_account(program, owner.customer_id)
    if LedgerEntry.objects.filter(program=program, operation_id__in=[operation_id, f"{operation_id}:refund"]).exists():
        return list(LedgerEntry.objects.filter(program=program,
                                               operation_id__in=[operation_id, f"{operation_id}:refund"]))
    lines = _by_sku(accrual)
    before, skipped, refunded = _returned_so_far(program, order_ref)
    now_returned = {sku: min(row["quantity"], before.get(sku, 0) + (row["quantity"] if returned is None
                                                                       else int(returned.get(sku, 0))))
                    for sku, row in lines.items()}
    delta_units = {sku: q - before.get(sku, 0) for sku, q in now_returned.items() if q > before.get(sku, 0)}
    points = sum(share_of(row["points"], now_returned[sku], row["quantity"])
                 - share_of(row["points"], before.get(sku, 0), row["quantity"]) for sku, row in lines.items())
    amount = sum(share_of(row["paid"], now_returned[sku], row["quantity"])
                 - share_of(row["paid"], before.get(sku, 0), row["quantity"]) for sku, row in lines.items())
    entries = []
    if accrual is not None and (points or delta_units):
        entries.append(_take_back_earned(account, accrual, points, amount, delta_units, skipped,
                                         operation_id=operation_id, order_ref=order_ref, at=at))
    spent_points = -sum(e.points for e in spent)
    order_amount = sum(row["paid"] for row in lines.values()) or max((e.amount for e in spent), default=0)
    if spent_points and order_amount:
        returned_amount = (order_amount if returned is None and not lines
                           else sum(share_of(row["paid"], now_returned[sku], row["quantity"])
                                    for sku, row in lines.items()))
        due = share_of(spent_points, returned_amount, order_amount) - refunded
        if due > 0:
            entries.append(ledger.add_active_points(
                account, EntryKind.REFUND, due, at=at, expires_at=lot_expiry(program, at),
                operation_id=f"{operation_id}:refund", order_ref=order_ref))
    return entries


def _take_back_earned(account: Account, accrual: LedgerEntry, points: int, amount: int, units: dict[str, int],
                      skipped_before: int, *, operation_id: str, order_ref: str, at: datetime) -> LedgerEntry:
    assert accrual.lot_id is not None, "an accrual always creates its lot"
    lot = Lot.objects.select_for_update().get(pk=accrual.lot_id)
    # The reversal names the order's lot, so a merge and an unmerge move it wherever the lot goes.
    fields: dict[str, Any] = {"operation_id": operation_id, "order_ref": order_ref, "amount": -amount, "lot": lot}
    if not lot.active:
        return ledger.post(account, EntryKind.REVERSAL, at=at, pending=-points, taken=[(lot.pk, points)],
                           basket={"returned": units}, **fields)
    from_lot = min(points, lot.remaining)
    # Points of this lot that already expired were lost once; a return does not take them again.
    skip = min(points - from_lot, max(_expired_on(lot) - skipped_before, 0))
    taken, short = ledger.take_back(account, points - skip, first_lot=lot)
    basket = {"returned": units, "skipped_expired": skip}
    if account.may_go_negative:
        return ledger.post(account, EntryKind.REVERSAL, at=at, points=-(points - skip), owed=short, taken=taken,
                           basket=basket, **fields)
    return ledger.post(account, EntryKind.REVERSAL, at=at, points=-(points - skip - short), unrecovered=short,
                       taken=taken, basket=basket, **fields)


@transaction.atomic
def adjust(program: Program, customer_id: int, points: int, *, reason: str, staff_id: int | None,
           operation_id: str | None = None, at: datetime | None = None) -> LedgerEntry:
    """A staff member's correction: positive adds a lot, negative takes from lots (never below zero)."""
    at = at or now()
    if not reason.strip():
        raise DomainValidationError.single("reason", "Say why the points are adjusted.")
    if points == 0:
        raise DomainValidationError.single("points", "An adjustment changes the balance.")
    hold_customer(customer_id)
    account = ledger.lock_account(program, customer_id)
    if (done := ledger.existing(program, operation_id)) is not None:
        return done
    fields: dict[str, Any] = {"reason": reason[:200], "staff_id": staff_id, "operation_id": operation_id}
    if points > 0:
        return ledger.add_active_points(account, EntryKind.ADJUSTMENT, points, at=at,
                                        expires_at=lot_expiry(program, at), **fields)
    if -points > account.balance:
        raise DomainValidationError.single("points", f"The balance is {account.balance}; at most that can go.")
    taken, short = ledger.take_back(account, -points, first_lot=None)
    if short:
        raise ledger.LedgerBroken(f"account {account.pk}: lots hold less than the balance")
    return ledger.post(account, EntryKind.ADJUSTMENT, at=at, points=points, taken=taken, **fields)


@transaction.atomic
def give_bonus(program: Program, customer_id: int, points: int, *, operation_id: str, reason: str = "",
               at: datetime | None = None) -> LedgerEntry:
    at = at or now()
    hold_customer(customer_id)
    account = ledger.lock_account(program, customer_id)
    if (done := ledger.existing(program, operation_id)) is not None:
        return done
    return ledger.add_active_points(account, EntryKind.BONUS, points, at=at, expires_at=lot_expiry(program, at),
                                    operation_id=operation_id, reason=reason[:200])


def activate_pending(program: Program, *, at: datetime | None = None) -> int:
    """Pending lots whose return window has passed become spendable; returns how many."""
    at = at or now()
    count = 0
    due = Lot.objects.filter(program=program, active=False, activates_at__lte=at).values_list("pk", flat=True)
    for lot_id in list(due):
        with transaction.atomic():
            # Its owner now: a merge since the list was read moved the lot to the survivor.
            account = ledger.lock_account(program, hold_owner(Lot, lot_id))
            lot = Lot.objects.select_for_update().get(pk=lot_id)
            if lot.active:
                continue
            Lot.objects.filter(pk=lot.pk).update(active=True)
            # The pending balance gives its points to the active one: the lot itself is not consumed.
            ledger.post(account, EntryKind.ACTIVATION, at=at, points=lot.remaining, pending=-lot.remaining, lot=lot,
                        operation_id=f"activate:{lot.pk}")
            ledger.settle_owed(account, lot, at=at)
            count += 1
    return count
