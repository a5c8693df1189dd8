"""The read path: balances, lots, history and coupons of a customer."""

from django.db.models import F, Q, QuerySet

from clientbase.core.clock import now
from clientbase.loyalty.models import Account, Coupon, LedgerEntry, Lot, Program, TierChange


def program_by_slug(slug: str | None) -> Program | None:
    programs = Program.objects.filter(active=True).order_by("pk")
    return programs.filter(slug=slug).first() if slug else programs.first()


def accounts_of(customer_id: int) -> QuerySet[Account]:
    return Account.objects.filter(customer_id=customer_id).select_related("program", "tier").order_by("program_id")


def open_lots(program_id: int, customer_id: int) -> QuerySet[Lot]:
    return Lot.objects.filter(program_id=program_id, customer_id=customer_id, remaining__gt=0).order_by(
        "active", "expires_at", "pk")


def history(program_id: int, customer_id: int) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(program_id=program_id, customer_id=customer_id).select_related(
        "staff").order_by("-created_at", "-pk")


def tier_history(account: Account) -> QuerySet[TierChange]:
    return TierChange.objects.filter(account=account).select_related("old_tier", "new_tier")


def usable_coupons(customer_id: int) -> QuerySet[Coupon]:
    at = now()
    return (Coupon.objects.filter(customer_id=customer_id)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=at))
            .exclude(max_uses__isnull=False, uses__gte=F("max_uses")).order_by("valid_until", "pk"))
