"""Tiers (R8.3): up at once when the rolling figure qualifies, down only at a review date after a grace period.

The figure comes from the ledger itself: spend is the qualifying amount of accruals minus returns,
visits are the distinct days with an accrual, both over ``tier_window_days`` back from now.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate

from clientbase.core.clock import now
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry, Program, Tier, TierBasis, TierChange
from clientbase.loyalty.rules import TierView, qualified_tier


def tier_metric(account: Account, at: datetime) -> int:
    program = account.program
    since = at - timedelta(days=program.tier_window_days)
    entries = LedgerEntry.objects.filter(program_id=account.program_id, customer_id=account.customer_id,
                                         created_at__gt=since, created_at__lte=at)
    if program.tier_basis == TierBasis.VISITS:
        return (entries.filter(kind=EntryKind.ACCRUAL, amount__gt=0).annotate(day=TruncDate("created_at"))
                .values("day").distinct().count())
    return int(entries.filter(kind__in=[EntryKind.ACCRUAL, EntryKind.REVERSAL])
               .aggregate(s=Sum("amount"))["s"] or 0)


def _tiers(program: Program) -> dict[int, Tier]:
    # Kept on the program instance: a request or a job loads its program once, so tiers are read once.
    cached: dict[int, Tier] | None = getattr(program, "_loyalty_tiers", None)
    if cached is None:
        cached = {tier.pk: tier for tier in Tier.objects.filter(program=program)}
        program._loyalty_tiers = cached  # type: ignore[attr-defined]
    return cached


def _change(account: Account, new: Tier | None, metric: int, reason: str, at: datetime) -> None:
    old = account.tier
    account.tier = new
    account.tier_review_at = at + timedelta(days=account.program.tier_review_days)
    account.tier_grace_until = None
    account.save(update_fields=["tier", "tier_review_at", "tier_grace_until"])
    TierChange.objects.create(account=account, customer_id=account.customer_id, old_tier=old, new_tier=new,
                              metric=metric, reason=reason, at=at)


def upgrade_if_qualified(account: Account, *, at: datetime | None = None) -> bool:
    """Move the account up if its figure reaches a higher tier; never down (that waits for the review)."""
    at = at or now()
    tiers = _tiers(account.program)
    if not tiers:
        return False
    metric = tier_metric(account, at)
    best = qualified_tier([TierView(t.pk, t.threshold) for t in tiers.values()], metric)
    current = account.tier.threshold if account.tier else -1
    if best is not None and tiers[best].threshold > current:
        _change(account, tiers[best], metric, "upgrade", at)
        return True
    return False


def _review(account: Account, tiers: dict[int, Tier], at: datetime) -> None:
    metric = tier_metric(account, at)
    best_id = qualified_tier([TierView(t.pk, t.threshold) for t in tiers.values()], metric)
    best = tiers.get(best_id) if best_id else None
    current = account.tier
    if best is not None and (current is None or best.threshold >= current.threshold):
        # Still qualifies (or better): the tier is confirmed until the next review.
        if current is None or best.threshold > current.threshold:
            _change(account, best, metric, "upgrade", at)
        else:
            account.tier_review_at = at + timedelta(days=account.program.tier_review_days)
            account.tier_grace_until = None
            account.save(update_fields=["tier_review_at", "tier_grace_until"])
        return
    if account.tier_grace_until is None:
        account.tier_grace_until = at + timedelta(days=account.program.tier_grace_days)
        account.save(update_fields=["tier_grace_until"])
    elif at >= account.tier_grace_until:
        _change(account, best, metric, "downgrade", at)


def review_tiers(program: Program, *, at: datetime | None = None) -> int:
    """Accounts due for review: confirm, start a grace period, or downgrade when the grace has run out."""
    at = at or now()
    tiers = _tiers(program)
    due = Account.objects.filter(program=program, tier__isnull=False, tier_review_at__lte=at).select_related("tier")
    count = 0
    for account_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            account = (Account.objects.select_for_update(of=("self",)).select_related("program", "tier")
                       .get(pk=account_id))
            before = account.tier_id
            _review(account, tiers, at)
            count += account.tier_id != before
    return count
