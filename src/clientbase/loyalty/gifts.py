"""Coupons and gifts (R8.4): codes, the birthday coupon, the welcome bonus and retroactive credit.

Coupon uses are counted with a conditional UPDATE (``uses < max_uses``), so two tills using the last
use of a code at once give one success; a CHECK constraint is the backstop.
"""

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext_noop

from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError, MergedAway, NotFound
from clientbase.identity.locks import hold_customer
from clientbase.loyalty import ledger
from clientbase.loyalty.models import Coupon, CouponKind, CouponUse, LedgerEntry, Program

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_code(prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def create_coupon(*, kind: str, value: int = 0, program: Program | None = None, code: str | None = None,
                  customer_id: int | None = None, max_uses: int | None = 1, product_sku: str = "",
                  valid_from: datetime | None = None, valid_until: datetime | None = None,
                  issue_key: str | None = None, hold: bool = True) -> Coupon:
    """A coupon; a personal one (``customer_id``) holds its customer first (``identity.locks.hold_customer``),
    unless ``hold=False``: a trigger run issuing thousands in one transaction would keep every one of those
    customers locked until it ends. A coupon issued so to a customer merged meanwhile stays with the
    tombstone, whose message has no address and is refused."""
    if kind not in CouponKind.values:
        raise DomainValidationError.single("kind", f"One of {', '.join(CouponKind.values)}.")
    if kind == CouponKind.PERCENT and not 0 < value <= 100:
        raise DomainValidationError.single("value", "A percent between 1 and 100.")
    if kind == CouponKind.PRODUCT and not product_sku:
        raise DomainValidationError.single("product_sku", "Name the free product.")
    if issue_key and (found := Coupon.objects.filter(issue_key=issue_key).first()):
        return found
    code = (code or new_code()).strip().upper()
    if Coupon.objects.filter(code=code).exists():
        raise DomainValidationError.single("code", f"The code {code} is taken.")
    with transaction.atomic():
        if customer_id is not None and hold:
            hold_customer(customer_id)
        return Coupon.objects.create(program=program, code=code, kind=kind, value=value, product_sku=product_sku,
                                     customer_id=customer_id, max_uses=max_uses, valid_from=valid_from,
                                     valid_until=valid_until, issue_key=issue_key, created_at=now())


def check_coupon(code: str, customer_id: int, *, at: datetime | None = None) -> Coupon:
    at = at or now()
    coupon = Coupon.objects.filter(code=code.strip().upper()).first()
    if coupon is None or (coupon.customer_id is not None and coupon.customer_id != customer_id):
        raise NotFound(f"coupon {code}")
    if (coupon.valid_from and at < coupon.valid_from) or (coupon.valid_until and at > coupon.valid_until):
        raise DomainValidationError.single("code", "The coupon is not valid today.")
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise DomainValidationError.single("code", "The coupon has been used up.")
    return coupon


@transaction.atomic
def use_coupon(code: str, customer_id: int, *, operation_id: str, order_ref: str = "",
               at: datetime | None = None) -> CouponUse:
    """Use a coupon once per operation id; refused (nothing written) when invalid or used up."""
    at = at or now()
    if (done := CouponUse.objects.filter(operation_id=operation_id).first()) is not None:
        return done
    hold_customer(customer_id)
    coupon = check_coupon(code, customer_id, at=at)
    won = Coupon.objects.filter(pk=coupon.pk).filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses"))).update(
        uses=F("uses") + 1)
    if not won:
        raise DomainValidationError.single("code", "The coupon has been used up.")
    return CouponUse.objects.create(coupon=coupon, customer_id=customer_id, operation_id=operation_id,
                                    order_ref=order_ref, at=at)


def issue_birthday_coupons(program: Program, *, on: date | None = None) -> int:
    """A personal coupon for everyone whose birthday is ``on`` (29 Feb counts on 28 Feb in other years)."""
    from clientbase.customers.models import Customer

    on = on or now().date()
    if not program.birthday_coupon_percent:
        return 0
    days = [(on.month, on.day)]
    if (on.month, on.day) == (2, 28):
        try:
            date(on.year, 2, 29)
        except ValueError:
            days.append((2, 29))
    query = Q()
    for month, day in days:
        query |= Q(birth_date__month=month, birth_date__day=day)
    start = datetime(on.year, on.month, on.day, tzinfo=now().tzinfo)
    count = 0
    members = Customer.objects.filter(query, merged_into__isnull=True,
                                      loyalty_accounts__program=program, loyalty_accounts__enrolled_at__isnull=False)
    for customer_id in members.values_list("pk", flat=True):
        key = f"birthday:{program.pk}:{customer_id}:{on.year}"
        if not Coupon.objects.filter(issue_key=key).exists():
            try:
                create_coupon(kind=CouponKind.PERCENT, value=program.birthday_coupon_percent, program=program,
                              code=new_code("BD"), customer_id=customer_id, max_uses=1, valid_from=start,
                              valid_until=start + timedelta(days=program.birthday_coupon_days), issue_key=key)
            except MergedAway:
                continue  # merged since the list was read: the survivor is on it if the birthday is theirs
            count += 1
    return count


@transaction.atomic
def enroll(program: Program, customer_id: int, *, at: datetime | None = None) -> dict[str, Any]:
    """Register the customer: the welcome bonus once, and points for recent purchases made before."""
    from clientbase.loyalty.services import give_bonus

    at = at or now()
    hold_customer(customer_id)
    account = ledger.lock_account(program, customer_id)
    bonus: LedgerEntry | None = None
    if account.enrolled_at is None:
        account.enrolled_at = at
        account.save(update_fields=["enrolled_at"])
    if program.welcome_bonus:
        bonus = give_bonus(program, customer_id, program.welcome_bonus, operation_id=f"welcome:{customer_id}",
                           reason=gettext_noop("welcome bonus"), at=at)
    credited = credit_past_purchases(program, customer_id, at=at)
    return {"welcome_bonus": bonus.points if bonus else 0, "credited_orders": credited}


def credit_past_purchases(program: Program, customer_id: int, *, at: datetime | None = None) -> int:
    """Earn now for the customer's orders of the last ``retro_days`` that earned nothing (one-click buyers).

    Orders reach this customer through identity (a merge moves a one-click buyer's orders here);
    each order earns once: the operation id is the same one the purchase handler uses.
    """
    from clientbase.loyalty.adapters import credit_orders

    return credit_orders(program, customer_id, since=(at or now()) - timedelta(days=program.retro_days), at=at)
