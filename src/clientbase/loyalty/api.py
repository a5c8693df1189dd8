"""Loyalty endpoints: balance, history, quote, redeem, earn, adjust, coupons. Each checks access and calls one service.

Scopes: reading needs ``customers:read``; earning, spending and using coupons (a till's work) need
``orders:write``; registering a customer needs ``customers:write``; adjustments and new coupons need ``admin``.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from clientbase.api import require
from clientbase.core.errors import NotFound
from clientbase.customers.selectors import access_customer
from clientbase.loyalty import gifts, selectors, services
from clientbase.loyalty.models import Account, Coupon, Program
from clientbase.loyalty.rules import Basket, BasketLine
from clientbase.loyalty.schemas import (
    AccountOut,
    AdjustIn,
    CouponIn,
    CouponOut,
    CouponUseIn,
    EarnIn,
    EnrollOut,
    EntryOut,
    LotOut,
    ProgramIn,
    ProgramOut,
    QuoteIn,
    QuoteOut,
    RedeemIn,
)

router = Router(tags=["loyalty"])


def _program(slug: str | None) -> Program:
    program = selectors.program_by_slug(slug)
    if program is None:
        raise NotFound(f"loyalty program {slug or '(default)'}")
    return program


def account_out(account: Account) -> dict[str, Any]:
    return {"program": account.program.slug, "registered_at": account.enrolled_at, "balance": account.balance,
            "pending": account.pending, "owed": account.owed, "tier": account.tier.name if account.tier else None,
            "tier_review_at": account.tier_review_at, "last_purchase_at": account.last_purchase_at}


@router.get("/loyalty/programs", response=list[ProgramOut])
def list_programs(request: HttpRequest) -> Any:
    require(request, "customers:read")
    return list(Program.objects.filter(active=True).order_by("pk"))


@router.get("/loyalty/customers/{customer_id}/balance", response=list[AccountOut])
def balance(request: HttpRequest, customer_id: int) -> Any:
    customer = access_customer(require(request, "customers:read"), customer_id)
    return [account_out(a) for a in selectors.accounts_of(customer.pk)]


@router.get("/loyalty/customers/{customer_id}/lots", response=list[LotOut])
def lots(request: HttpRequest, customer_id: int, program: str | None = None) -> Any:
    customer = access_customer(require(request, "customers:read"), customer_id)
    return list(selectors.open_lots(_program(program).pk, customer.pk)[:500])


@router.get("/loyalty/customers/{customer_id}/history", response=list[EntryOut])
def history(request: HttpRequest, customer_id: int, program: str | None = None, limit: int = 100) -> Any:
    customer = access_customer(require(request, "customers:read"), customer_id)
    return list(selectors.history(_program(program).pk, customer.pk)[: max(1, min(limit, 1000))])


@router.post("/loyalty/customers/{customer_id}/enroll", response=EnrollOut)
def enroll(request: HttpRequest, customer_id: int, payload: ProgramIn) -> Any:
    customer = access_customer(require(request, "customers:write"), customer_id, write=True)
    return gifts.enroll(_program(payload.program), customer.pk)


@router.post("/loyalty/customers/{customer_id}/quote", response=QuoteOut)
def quote(request: HttpRequest, customer_id: int, payload: QuoteIn) -> Any:
    customer = access_customer(require(request, "customers:read"), customer_id)
    return services.quote(_program(payload.program), customer.pk, payload.amount)


@router.post("/loyalty/customers/{customer_id}/redeem", response=EntryOut)
def redeem(request: HttpRequest, customer_id: int, payload: RedeemIn) -> Any:
    customer = access_customer(require(request, "orders:write"), customer_id, write=True)
    return services.redeem(_program(payload.program), customer.pk, payload.points,
                           operation_id=payload.operation_id, basket_amount=payload.amount,
                           order_ref=payload.order_id)


@router.post("/loyalty/customers/{customer_id}/earn", response={200: EntryOut, 204: None})
def earn(request: HttpRequest, customer_id: int, payload: EarnIn) -> Any:
    customer = access_customer(require(request, "orders:write"), customer_id, write=True)
    basket = Basket(lines=[BasketLine(**line.dict()) for line in payload.lines],
                    paid_with_points=payload.paid_with_points)
    entry = services.earn(_program(payload.program), customer.pk, basket, operation_id=payload.operation_id,
                          order_ref=payload.order_id)
    return entry if entry is not None else (204, None)


@router.post("/loyalty/customers/{customer_id}/adjust", response=EntryOut)
def adjust(request: HttpRequest, customer_id: int, payload: AdjustIn) -> Any:
    actor = require(request, "admin")
    customer = access_customer(actor, customer_id, write=True)
    return services.adjust(_program(payload.program), customer.pk, payload.points, reason=payload.reason,
                           staff_id=actor.user_id, operation_id=payload.operation_id)


@router.get("/loyalty/customers/{customer_id}/coupons", response=list[CouponOut])
def customer_coupons(request: HttpRequest, customer_id: int) -> Any:
    customer = access_customer(require(request, "customers:read"), customer_id)
    return list(selectors.usable_coupons(customer.pk))


@router.post("/loyalty/coupons", response=CouponOut)
def create_coupon(request: HttpRequest, payload: CouponIn) -> Any:
    actor = require(request, "admin")
    if payload.customer_id is not None:
        access_customer(actor, payload.customer_id, write=True)
    data = payload.dict()
    slug = data.pop("program")
    program = _program(slug) if slug else None
    return gifts.create_coupon(program=program, **data)


@router.post("/loyalty/coupons/{code}/use", response=CouponOut)
def use_coupon(request: HttpRequest, code: str, payload: CouponUseIn) -> Any:
    customer = access_customer(require(request, "orders:write"), payload.customer_id, write=True)
    use = gifts.use_coupon(code, customer.pk, operation_id=payload.operation_id, order_ref=payload.order_id)
    return Coupon.objects.get(pk=use.coupon_id)
