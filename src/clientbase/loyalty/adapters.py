"""The thin edge between sales and the ledger: an Order becomes a Basket, a Return a set of units.

The ledger never imports sales; only this module does. Operation ids: ``purchase:<source>:<number>``
for what an order earns, ``redeem:<source>:<number>`` for points an order was paid with (unless the
till already spent them through the API with ``order_id``), ``return:<source>:<number>`` per return.
"""

from datetime import datetime
from typing import Any

from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.interactions.handlers import handles
from clientbase.loyalty import services
from clientbase.loyalty.models import EntryKind, LedgerEntry, Program
from clientbase.loyalty.rules import Basket, BasketLine


def order_ref(source: str, number: str) -> str:
    return f"{source}:{number}"


def basket_of(order: Any) -> Basket:
    lines = [BasketLine(sku=line.product.sku, amount=line.amount, quantity=line.quantity,
                        category=line.product.category.slug if line.product.category_id else "", reward=line.reward)
             for line in order.lines.select_related("product__category").order_by("pk")]
    return Basket(lines=lines, paid_with_points=order.paid_with_points)


def programs_of(customer_id: int) -> list[Program]:
    """Active programs the customer is registered in."""
    return list(Program.objects.filter(active=True, accounts__customer_id=customer_id,
                                       accounts__enrolled_at__isnull=False))


def _spend_for_order(program: Program, order: Any, ref: str, basket: Basket, at: datetime) -> None:
    if order.paid_with_points <= 0:
        return
    if LedgerEntry.objects.filter(program=program, order_ref=ref, kind=EntryKind.REDEMPTION).exists():
        return
    points = -(-order.paid_with_points // program.point_value)
    try:
        services.redeem(program, order.customer_id, points, operation_id=f"redeem:{ref}", order_ref=ref,
                        basket_amount=None, at=at)
    except DomainValidationError as exc:
        raise DomainValidationError.single("data.paid_with_points", exc.errors[0].message) from exc


def earn_for_order(order: Any, *, at: datetime | None = None) -> list[LedgerEntry]:
    at = at or order.placed_at or now()
    ref = order_ref(order.source, order.number)
    basket = basket_of(order)
    entries = []
    for program in programs_of(order.customer_id):
        _spend_for_order(program, order, ref, basket, at)
        entry = services.earn(program, order.customer_id, basket, operation_id=f"purchase:{ref}", order_ref=ref,
                              at=at)
        if entry is not None:
            entries.append(entry)
    return entries


def credit_orders(program: Program, customer_id: int, *, since: datetime, at: datetime | None = None) -> int:
    """Earn for the customer's paid orders since ``since`` that have not earned in this program yet."""
    from clientbase.sales.models import Order, PaymentStatus

    count = 0
    orders = Order.objects.filter(customer_id=customer_id, placed_at__gte=since,
                                  payment_status=PaymentStatus.PAID).order_by("placed_at", "pk")
    for order in orders:
        ref = order_ref(order.source, order.number)
        if LedgerEntry.objects.filter(program=program, operation_id=f"purchase:{ref}").exists():
            continue
        entry = services.earn(program, customer_id, basket_of(order), operation_id=f"purchase:{ref}",
                              order_ref=ref, at=at or now())
        count += entry is not None
    return count


def _order_for(event: Any) -> Any:
    from clientbase.sales.models import Order

    data = event.data if isinstance(event.data, dict) else {}
    source = str(getattr(event, "source", "") or "events")
    return Order.objects.filter(source=source, number=str(data.get("order_id") or "")).first()


@handles("purchase")
def on_purchase(event: Any, customer: Customer) -> None:
    order = _order_for(event)
    if order is not None and order.payment_status == "paid":
        earn_for_order(order, at=event.occurred_at)


@handles("return")
def on_return(event: Any, customer: Customer) -> None:
    order = _order_for(event)
    data = event.data if isinstance(event.data, dict) else {}
    if order is None or not data.get("return_id"):
        return
    lines = data.get("lines") or None
    returned: dict[str, int] | None = None
    if lines:
        returned = {}
        for line in lines:
            sku = str(line.get("sku", ""))
            returned[sku] = returned.get(sku, 0) + int(line.get("quantity") or 0)
    ref = order_ref(order.source, order.number)
    for program in Program.objects.filter(active=True, entries__order_ref=ref).distinct():
        services.reverse_return(program, order_ref=ref, returned=returned,
                                operation_id=f"return:{order.source}:{data['return_id']}", at=event.occurred_at)
