"""Merge and unmerge carry the ledger (R2.3, R2.4, R8): rows move, caches are recounted, crossings repaired.

Identity moves ``Lot``, ``LedgerEntry`` (following its lot), ``Coupon`` and ``CouponUse`` rows. After
either operation ``recount`` runs in the same transaction:

1. an entry tied to a lot (accrual, activation, expiry, settlement, refund) goes with the lot;
2. a *crossing*, a consumption whose entry and lot now belong to different customers (the survivor
   spent the absorbed side's points after the merge, then the merge was undone), is repaired by two
   new entries: the lot's owner gets the points back into that same lot (its expiry date unchanged),
   the spender is charged from its own lots; what it lacks follows the return rule (owed where the
   account may go negative, otherwise forgiven and recorded as ``unrecovered``);
3. points owed by one side but settled by the other come back to the settler as a new lot;
4. every account of the customers is recounted from the entries; tiers may go up at once (down
   only at the next review, as always); a registered survivor earns for orders the merge brought.
"""

from datetime import datetime
from typing import Any

from django.db.models import F, Max, Min, Q, Sum
from django.utils.translation import gettext_noop

from clientbase.core.clock import now
from clientbase.core.fastinsert import any_of
from clientbase.customers.models import Customer
from clientbase.identity.participants import Participant, register
from clientbase.loyalty import ledger
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry, Lot, LotConsumption, Program


def _follow_lots(customer_ids: list[int]) -> None:
    strays = (LedgerEntry.objects.filter(Q(customer_id__in=customer_ids) | Q(lot__customer_id__in=customer_ids),
                                         lot__isnull=False).exclude(customer_id=F("lot__customer_id"))
              .values_list("pk", "lot__customer_id"))
    for entry_id, owner in list(strays):
        LedgerEntry.objects.filter(pk=entry_id).update(customer_id=owner)


def _repair_crossings(customer_ids: list[int], at: datetime) -> None:
    crossings = (LotConsumption.objects
                 .filter(Q(entry__customer_id__in=customer_ids) | Q(lot__customer_id__in=customer_ids),
                         points__gt=0, restored_by__isnull=True)
                 .exclude(entry__customer_id=F("lot__customer_id"))
                 .select_related("entry", "lot").order_by("pk"))
    for crossing in list(crossings):
        program = Program.objects.get(pk=crossing.entry.program_id)
        owner = ledger.lock_account(program, crossing.lot.customer_id)
        spender = ledger.lock_account(program, crossing.entry.customer_id)
        note = f"unmerge: entry #{crossing.entry_id} of customer #{spender.customer_id} used these points"
        ledger.post(owner, EntryKind.SETTLEMENT, at=at, taken=[(crossing.lot_id, -crossing.points)],
                    restores={crossing.lot_id: crossing.pk}, reason=note[:200])
        reason = f"unmerge: pays for points of customer #{owner.customer_id} spent by entry #{crossing.entry_id}"
        if crossing.entry.kind == EntryKind.EXPIRY:
            # The owner's lot is open again with its old date, so the next run expires it on the owner's side.
            ledger.post(spender, EntryKind.SETTLEMENT, at=at, points=crossing.points, reason=reason[:200])
            continue
        if not crossing.lot.active:
            # Pending points cannot be charged from spendable lots: the spender's pending sum is put right.
            ledger.post(spender, EntryKind.SETTLEMENT, at=at, pending=crossing.points, reason=reason[:200])
            continue
        taken, short = ledger.take_back(spender, crossing.points, first_lot=None)
        if spender.may_go_negative:
            ledger.post(spender, EntryKind.SETTLEMENT, at=at, owed=short, taken=taken, reason=reason[:200])
        else:
            ledger.post(spender, EntryKind.SETTLEMENT, at=at, points=short, unrecovered=short, taken=taken,
                        reason=reason[:200])


def _repair_expired_crossings(customer_ids: list[int], at: datetime) -> None:
    """Lots expired on the other side's account (recorded on the lot since 0004): the same repair as an
    expiry consumption above, but the lot is reopened by moving ``expired`` back to ``remaining``."""
    crossings = (Lot.objects.filter(Q(customer_id__in=customer_ids) | Q(expired_by__customer_id__in=customer_ids),
                                    expired_by__isnull=False, expired__gt=0)
                 .exclude(customer_id=F("expired_by__customer_id"))
                 .values_list("pk", "customer_id", "program_id", "expired", "expired_by_id", "expired_by__customer_id")
                 .order_by("pk"))
    for lot_id, owner_id, program_id, points, entry_id, spender_id in list(crossings):
        program = Program.objects.get(pk=program_id)
        owner = ledger.lock_account(program, owner_id)
        spender = ledger.lock_account(program, spender_id)
        reopened = Lot.objects.filter(pk=lot_id, expired_by_id=entry_id, expired=points).update(
            remaining=F("remaining") + points, expired=0, expired_by=None)
        if reopened != 1:
            raise ledger.LedgerBroken(f"lot {lot_id} changed while its expiry was being undone")
        # The owner's entries never lost these points, only its lot did: a zero entry on the lot says why it
        # is open again (with its old date, so the next run expires it on the owner's side).
        ledger.post(owner, EntryKind.SETTLEMENT, at=at, lot=Lot(pk=lot_id),
                    reason=f"unmerge: entry #{entry_id} of customer #{spender_id} expired these points"[:200])
        ledger.post(spender, EntryKind.SETTLEMENT, at=at, points=points,
                    reason=f"unmerge: pays for points of customer #{owner_id} expired by entry #{entry_id}"[:200])


def _return_settled(customer_ids: list[int], at: datetime) -> None:
    negative = (LedgerEntry.objects.filter(customer_id__in=customer_ids).values("program_id", "customer_id")
                .annotate(owed=Sum("owed")).filter(owed__lt=0).order_by())
    for row in list(negative):
        program = Program.objects.get(pk=row["program_id"])
        account = ledger.lock_account(program, row["customer_id"])
        lot = ledger.new_lot(account, -row["owed"], at=at)
        ledger.post(account, EntryKind.SETTLEMENT, at=at, owed=-row["owed"], lot=lot,
                    reason=gettext_noop("unmerge: owed points this customer paid for the other side come back"))


def recount_accounts(customer_ids: list[int]) -> None:
    """Rewrite each account's cached sums from the entries (the audit's figures)."""
    sums = (LedgerEntry.objects.filter(customer_id__in=customer_ids).values("program_id", "customer_id")
            .annotate(balance=Sum("points"), pending=Sum("pending"), owed=Sum("owed"),
                      last=Max("created_at", filter=Q(kind=EntryKind.ACCRUAL, amount__gt=0))).order_by())
    seen = set()
    for row in sums:
        program = Program.objects.get(pk=row["program_id"])
        account = ledger.lock_account(program, row["customer_id"])
        seen.add(account.pk)
        Account.objects.filter(pk=account.pk).update(balance=row["balance"], pending=row["pending"], owed=row["owed"],
                                                     last_purchase_at=row["last"])
    Account.objects.filter(customer_id__in=customer_ids).exclude(pk__in=seen).update(balance=0, pending=0, owed=0)


def _carry_membership(customer_ids: list[int]) -> None:
    """A survivor is registered wherever either side was (kept after an unmerge: registration is not undone).

    One grouped query over every survivor among ``customer_ids`` (a bulk ingest passes hundreds), accounts
    locked in (survivor, program) order.
    """
    joined = (Account.objects.filter(customer__merged_into_id__in=customer_ids,
                                     customer__merged_into__merged_into__isnull=True, enrolled_at__isnull=False)
              .values("customer__merged_into_id", "program_id").annotate(first=Min("enrolled_at"))
              .order_by("customer__merged_into_id", "program_id"))
    for row in list(joined):
        program = Program.objects.get(pk=row["program_id"])
        survivor = row["customer__merged_into_id"]
        assert survivor is not None  # the filter joins through it
        account = ledger.lock_account(program, survivor)
        if account.enrolled_at is None:
            Account.objects.filter(pk=account.pk).update(enrolled_at=row["first"])


def loyalty_probe(customer_ids: list[int]) -> tuple[str, list[Any]]:
    """A statement with a row if any of these customers has an account, lot or entry, or an account of a
    customer merged into them (``_carry_membership``): the merge participants' probe (``notify_participants``)."""
    accounts, customers = Account._meta.db_table, Customer._meta.db_table
    # One statement, plain SQL: every merge asks this, and compiling three ORM queries cost a
    # single-event merge more CPU than the database took to answer them.
    mine, params = any_of("customer_id", customer_ids)
    merged, merged_params = any_of("c.merged_into_id", customer_ids)
    return (f"SELECT 1 WHERE EXISTS (SELECT 1 FROM {accounts} WHERE {mine})"
            f" OR EXISTS (SELECT 1 FROM {accounts} a JOIN {customers} c ON c.id = a.customer_id WHERE {merged})"
            f" OR EXISTS (SELECT 1 FROM {Lot._meta.db_table} WHERE {mine})"
            f" OR EXISTS (SELECT 1 FROM {LedgerEntry._meta.db_table} WHERE {mine})",
            [*params, *merged_params, *params, *params])


def recount(customer_ids: list[int]) -> None:
    """after_change of the participants: repair, then recount, then re-evaluate tiers and retro credit.

    Merge and unmerge call it only where ``loyalty_probe`` found a row (``notify_participants``): for
    channel-only profiles, most merges of a bulk ingest, every step below would find nothing."""
    from clientbase.loyalty.gifts import credit_past_purchases
    from clientbase.loyalty.tiers import upgrade_if_qualified

    at = now()
    _follow_lots(customer_ids)
    _repair_crossings(customer_ids, at)
    _repair_expired_crossings(customer_ids, at)
    _return_settled(customer_ids, at)
    recount_accounts(customer_ids)
    _carry_membership(customer_ids)
    for account in Account.objects.filter(customer_id__in=customer_ids, customer__merged_into__isnull=True,
                                          enrolled_at__isnull=False).select_related("program", "tier"):
        if account.program.active:
            credit_past_purchases(account.program, account.customer_id, at=at)
            account.refresh_from_db()
            upgrade_if_qualified(account, at=at)


def register_participants() -> None:
    # Lots first: unmerge sends lots back before entries follow them.
    register(Participant("loyalty.Lot"))
    register(Participant("loyalty.LedgerEntry", follows="lot", after_change=recount, probe=loyalty_probe))
    register(Participant("loyalty.Coupon"))
    register(Participant("loyalty.CouponUse"))
