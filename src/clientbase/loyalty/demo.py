"""Demo stage "loyalty": the program «Зёрна» over the demo's orders (after "catalogue_and_orders").

Seven guests in ten are registered. Their paid orders earn 5 % in bulk (one lot and one accrual entry
per order, operation id ``purchase:<source>:<number>`` as a live purchase would have), lots expire a
year after the purchase, tiers Bronze/Silver/Gold are set from the last year's spend, a sample of guests
spends points through the real service, the expiry job runs at the demo's "today", birthday and public
coupons are issued. The audit must be clean afterwards (the demo test checks it).
Bulk earning uses the order's net amount; it does not record per-line points, so returning a demo
order takes nothing back (a live purchase records its lines).
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Sum

from clientbase.demo.stages import DemoContext
from clientbase.loyalty import services
from clientbase.loyalty.expiry import expire_points
from clientbase.loyalty.gifts import create_coupon, issue_birthday_coupons
from clientbase.loyalty.models import Account, CouponKind, LedgerEntry, Lot, Program, Tier, TierChange

STAGE = "loyalty"
CHUNK = 5000
TIERS = [("Bronze", 0, 100), ("Silver", 1_500_000, 150), ("Gold", 5_000_000, 200)]


def _program() -> Program:
    program, _ = Program.objects.get_or_create(slug="zerna", defaults={
        "name": "Зёрна", "points_name": "зёрен", "earn_percent": Decimal(5), "max_redeem_percent": 30,
        "lot_expiry_days": 365, "inactivity_expiry_days": 540, "warn_days": 14, "pending_days": 0,
        "welcome_bonus": 100, "birthday_coupon_percent": 20, "tier_window_days": 365})
    for name, threshold, multiplier in TIERS:
        Tier.objects.get_or_create(program=program, threshold=threshold,
                                   defaults={"name": name, "multiplier_percent": multiplier})
    return program


def _enroll(program: Program) -> list[int]:
    from clientbase.customers.models import Customer

    people = Customer.objects.filter(kind="person", merged_into__isnull=True).order_by("pk")
    rows = [(pk, created) for pk, created in people.values_list("pk", "created_at") if pk % 10 < 7]
    Account.objects.bulk_create([Account(program=program, customer_id=pk, enrolled_at=created)
                                 for pk, created in rows], batch_size=CHUNK, ignore_conflicts=True)
    return [pk for pk, _ in rows]


def _earn_chunk(program: Program, customer_ids: list[int]) -> int:
    from clientbase.sales.models import Order, PaymentStatus

    orders = list(Order.objects.filter(customer_id__in=customer_ids, payment_status=PaymentStatus.PAID)
                  .values_list("customer_id", "source", "number", "placed_at", "gross_amount", "discount_amount",
                               "paid_with_points").order_by("pk"))
    if not orders:
        return 0
    rate = program.earn_percent / 100 / program.point_value
    plan = []
    for customer_id, source, number, placed, gross, discount, by_points in orders:
        paid = max(gross - discount - by_points, 0)
        plan.append((customer_id, f"{source}:{number}", placed, paid, int(Decimal(paid) * rate)))
    lots = Lot.objects.bulk_create([Lot(program=program, customer_id=c, points=p, remaining=p, active=True,
                                        expires_at=at + dt.timedelta(days=365), created_at=at)
                                    for c, _, at, _, p in plan], batch_size=CHUNK)
    LedgerEntry.objects.bulk_create([
        LedgerEntry(program=program, customer_id=c, kind="accrual", points=p, lot=lot, operation_id=f"purchase:{ref}",
                    order_ref=ref, amount=paid, created_at=at)
        for (c, ref, at, paid, p), lot in zip(plan, lots, strict=True)], batch_size=CHUNK)
    return len(plan)


def _recount(program: Program, customer_ids: list[int]) -> None:
    sums = (LedgerEntry.objects.filter(program=program, customer_id__in=customer_ids).values("customer_id")
            .annotate(balance=Sum("points"), last=Max("created_at")).order_by())
    accounts = {a.customer_id: a for a in Account.objects.filter(program=program, customer_id__in=customer_ids)}
    for row in sums:
        account = accounts[row["customer_id"]]
        account.balance, account.last_purchase_at = row["balance"] or 0, row["last"]
    Account.objects.bulk_update(list(accounts.values()), ["balance", "last_purchase_at"], batch_size=CHUNK)


def _tiers(program: Program, customer_ids: list[int], at: dt.datetime) -> int:
    tiers = sorted(Tier.objects.filter(program=program), key=lambda t: t.threshold)
    spend = dict(LedgerEntry.objects.filter(program=program, customer_id__in=customer_ids, kind="accrual",
                                            created_at__gt=at - dt.timedelta(days=365))
                 .values("customer_id").annotate(s=Sum("amount")).values_list("customer_id", "s").order_by())
    changes, accounts = [], []
    for account in Account.objects.filter(program=program, customer_id__in=customer_ids):
        tier = next((t for t in reversed(tiers) if (spend.get(account.customer_id) or 0) >= t.threshold), None)
        if tier is None or tier.pk == account.tier_id:
            continue
        changes.append(TierChange(account=account, customer_id=account.customer_id, old_tier_id=account.tier_id,
                                  new_tier=tier, metric=spend.get(account.customer_id) or 0, reason="upgrade", at=at))
        account.tier, account.tier_review_at = tier, at + dt.timedelta(days=program.tier_review_days)
        accounts.append(account)
    Account.objects.bulk_update(accounts, ["tier", "tier_review_at"], batch_size=CHUNK)
    TierChange.objects.bulk_create(changes, batch_size=CHUNK)
    return len(changes)


def _spend(ctx: DemoContext, program: Program, members: list[int], at: dt.datetime) -> int:
    rng = ctx.rng(STAGE, 1)
    sample = [members[i] for i in rng.choice(len(members), size=min(len(members) // 5, 2000), replace=False)]
    spent = 0
    for customer_id in sample:
        balance = Account.objects.get(program=program, customer_id=customer_id).balance
        points = int(balance * float(rng.uniform(0.2, 0.8)))
        if points > 0:
            services.redeem(program, customer_id, points, operation_id=f"demo-spend:{customer_id}",
                            at=at - dt.timedelta(days=int(rng.integers(1, 30))))
            spent += 1
    return spent


def run(ctx: DemoContext) -> dict[str, int]:
    program = _program()
    members = _enroll(program)
    # The start of the demo's "today" in the business's zone: always in the past when the demo is built
    # (21:00 UTC of that day was in the future for a demo built in the small hours).
    at = dt.datetime.combine(ctx.anchor, dt.time(0), tzinfo=ZoneInfo(settings.TIME_ZONE))
    counts: dict[str, int] = {"members": len(members), "accruals": 0}
    for start in range(0, len(members), CHUNK):
        chunk = members[start:start + CHUNK]
        with transaction.atomic():
            counts["accruals"] += _earn_chunk(program, chunk)
            _recount(program, chunk)
            _tiers(program, chunk, at)
        ctx.log(f"loyalty: {min(start + CHUNK, len(members))}/{len(members)} members earned")
    counts["redemptions"] = _spend(ctx, program, members, at)
    expired = expire_points(program, at=at)
    counts["expired_lots"] = expired.lots
    counts["birthday_coupons"] = sum(issue_birthday_coupons(program, on=ctx.anchor - dt.timedelta(days=d))
                                     for d in range(7))
    for code, kind, value, sku in (("ZERNA10", CouponKind.PERCENT, 10, ""), ("COOKIE", CouponKind.PRODUCT, 0,
                                                                            "COOKIE")):
        create_coupon(kind=kind, value=value, program=program, code=code, max_uses=None, product_sku=sku,
                      issue_key=f"demo:{code}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE loyalty_lot, loyalty_ledgerentry, loyalty_account")
    return counts
