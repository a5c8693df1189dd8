"""Write path for the catalogue, orders, returns and carts. The caller owns the transaction.

Every function that adds or changes money updates the customer's figures in the same transaction
(``figures.add_*``), so the figures are never behind the orders.
"""

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError, FieldError, NotFound
from clientbase.customers.models import Customer
from clientbase.identity.locks import hold_customer, hold_owner
from clientbase.sales import figures, rules
from clientbase.sales.models import (
    AbandonedCart,
    Category,
    Order,
    OrderLine,
    OrderStatusChange,
    Product,
    Return,
    ReturnLine,
    StockArrival,
)


def category_for(name: str) -> Category | None:
    """The category called ``name`` (by its slug), created on first use; None for an empty name."""
    if not name.strip():
        return None
    slug = slugify(name, allow_unicode=True)[:100] or "category"
    category, _ = Category.objects.get_or_create(slug=slug, defaults={"name": name.strip()[:100]})
    return category


def products_for(lines: list[rules.LineIn]) -> dict[str, Product]:
    """Products of these lines by SKU. An unknown SKU is added to the catalogue from the line itself
    (name, category, price, cost), because a till sells what it sells whether or not we knew it."""
    known = {p.sku: p for p in Product.objects.filter(sku__in={line.sku for line in lines})}
    for line in lines:
        if line.sku not in known:
            product, _ = Product.objects.get_or_create(sku=line.sku, defaults={
                "name": line.name, "category": category_for(line.category), "price": line.price,
                "cost": line.cost})
            known[line.sku] = product
    return known


@transaction.atomic
def record_purchase(customer: Customer, data: Any, *, source: str, occurred_at: dt.datetime,
                    event_id: int | None = None, path: str = "data", status: str = "completed",
                    channel: str = "") -> Order:
    """Store a purchase (event data shape in docs/sales.md) once per (source, order_id).

    A repeat returns the order stored the first time, unchanged: ingest is idempotent.
    """
    purchase = rules.parse_purchase(data, path=path)
    hold_customer(customer.pk)
    existing = Order.objects.filter(source=source, number=purchase.order_id).first()
    if existing is not None:
        return existing
    if status == "completed" and purchase.payment_status != "paid":
        status = "new"
    products = products_for(purchase.lines)
    order = Order(customer=customer, source=source, number=purchase.order_id, store=purchase.store,
                  channel=channel, currency=purchase.currency, status=status,
                  payment_status=purchase.payment_status, paid_with_points=purchase.paid_with_points,
                  placed_at=occurred_at, event_id=event_id)
    lines = [OrderLine(product=products[li.sku], quantity=li.quantity, price=li.price, cost=li.cost,
                       discount=li.discount, reward=li.reward) for li in purchase.lines]
    order.items = sum(li.quantity for li in lines)
    order.gross_amount = sum(li.price * li.quantity for li in lines)
    order.discount_amount = sum(li.discount for li in lines)
    order.cost_amount = sum(li.cost * li.quantity for li in lines)
    order.save()
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    OrderStatusChange.objects.create(order=order, status=status, at=occurred_at, source=source)
    if status != "cancelled":
        figures.add_order(order, lines)
    return order


def find_order(source: str, number: Any, *, path: str = "data.order_id") -> Order:
    order = Order.objects.filter(source=source, number=str(number)).first() if number else None
    if order is None:
        raise DomainValidationError.single(path, f"No order {number!r} from {source!r}.")
    return order


@transaction.atomic
def change_status(order: Order, status: str, *, source: str, at: dt.datetime | None = None,
                  path: str = "status") -> Order:
    """Move the order along the pipeline; the same status again is a no-op (a repeated event).

    No customer is held: the order's own lock orders this against a merge that moves it (which then
    recounts both customers' figures), and it files no row under a customer. (A hold here, inside an
    ingest that holds the event's customer, could meet a second event with the two customers swapped.)"""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if status == order.status:
        return order
    rules.check_transition(order.status, status, has_returns=order.returns.exists(), path=path)
    at = at or now()
    previous = order.status
    order.status = status
    if status == "paid" or (status in rules.PIPELINE and order.payment_status == "unpaid"
                            and rules.PIPELINE.index(status) >= rules.PIPELINE.index("paid")):
        order.payment_status = "paid"
    order.save(update_fields=["status", "payment_status"])
    OrderStatusChange.objects.create(order=order, status=status, at=at, source=source)
    if status == "cancelled" and previous != "cancelled":
        figures.add_order(order, order.lines.select_related("product"), sign=-1)
    return order


@transaction.atomic
def record_return(order: Order, *, number: str, lines: list[dict[str, Any]] | None, source: str,
                  at: dt.datetime | None = None, path: str = "data") -> Return:
    """Return some lines (``[{"sku", "quantity"}]``) or, with no lines, everything not yet returned.

    Once per (source, number); more units than were bought and not yet returned are refused.
    """
    existing = Return.objects.filter(source=source, number=number).first()
    if existing is not None:
        return existing
    hold_owner(Order, order.pk)  # before the order's own lock, as a merge that moves it takes them
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == "cancelled":
        raise DomainValidationError.single(rules.at(path, "order_id"), "The order is cancelled; nothing to return.")
    order_lines = list(order.lines.select_related("product").order_by("id"))
    returned = {line.pk: sum(r.quantity for r in line.returned.all()) for line in order_lines}
    wanted = _wanted_units(order_lines, returned, lines, path)
    ret = Return.objects.create(order=order, source=source, number=number, at=at or now())
    rows = []
    for line, quantity in wanted:
        amount = rules.returned_amount(line.price, line.quantity, line.discount, returned[line.pk], quantity)
        rows.append(ReturnLine(ret=ret, line=line, quantity=quantity, amount=amount))
    ReturnLine.objects.bulk_create(rows)
    ret.amount, ret.items = sum(r.amount for r in rows), sum(r.quantity for r in rows)
    ret.save(update_fields=["amount", "items"])
    figures.add_return(order.customer_id, ret.amount)
    return ret


def _wanted_units(order_lines: list[OrderLine], returned: dict[int, int], lines: list[dict[str, Any]] | None,
                  path: str) -> list[tuple[OrderLine, int]]:
    if not lines:
        wanted = [(line, line.quantity - returned[line.pk]) for line in order_lines
                  if line.quantity > returned[line.pk]]
        if not wanted:
            raise DomainValidationError.single(rules.at(path, "lines"), "Everything in this order is already returned.")
        return wanted
    errors: list[FieldError] = []
    asked: dict[int, int] = {}
    result: list[tuple[OrderLine, int]] = []
    for i, item in enumerate(lines):
        sku, quantity = (item.get("sku"), item.get("quantity")) if isinstance(item, dict) else (None, None)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            errors.append(FieldError(rules.at(path, f"lines.{i}.quantity"), "Must be a whole number of at least 1."))
            continue
        candidates = [li for li in order_lines if li.product.sku == sku]
        if not candidates:
            errors.append(FieldError(rules.at(path, f"lines.{i}.sku"), f"The order has no line with SKU {sku!r}."))
            continue
        remaining = quantity
        for line in candidates:
            free = line.quantity - returned[line.pk] - asked.get(line.pk, 0)
            take = min(free, remaining)
            if take > 0:
                asked[line.pk] = asked.get(line.pk, 0) + take
                result.append((line, take))
                remaining -= take
        if remaining:
            errors.append(FieldError(rules.at(path, f"lines.{i}.quantity"),
                                     f"Only {quantity - remaining} of {sku} can still be returned."))
    if errors:
        raise DomainValidationError(errors)
    return result


@transaction.atomic
def record_abandoned_cart(customer: Customer, data: Any, *, source: str, occurred_at: dt.datetime,
                          event_id: int | None = None, path: str = "data") -> AbandonedCart:
    if not isinstance(data, dict) or not str(data.get("cart_id") or "").strip():
        raise DomainValidationError.single(rules.at(path, "cart_id"), "Required.")
    cart_id = str(data["cart_id"]).strip()[:64]
    hold_customer(customer.pk)
    existing = AbandonedCart.objects.filter(source=source, cart_id=cart_id).first()
    if existing is not None:
        return existing
    errors: list[FieldError] = []
    raw_lines = data.get("lines") or []
    if not isinstance(raw_lines, list):
        raise DomainValidationError.single(rules.at(path, "lines"), "Must be a list of lines.")
    parsed = [rules.parse_line(raw, rules.at(path, f"lines.{i}"), errors) for i, raw in enumerate(raw_lines)]
    if errors:
        raise DomainValidationError(errors)
    amount = sum(li.price * li.quantity - li.discount for li in parsed if li is not None)
    cart = AbandonedCart.objects.create(customer=customer, source=source, cart_id=cart_id, lines=raw_lines,
                                        amount=amount, at=occurred_at, event_id=event_id)
    figures.add_abandoned(customer.pk)
    return cart


def save_product(data: dict[str, Any], *, product: Product | None = None) -> Product:
    """Create or change a product; ``category`` is a category name (created on first use)."""
    errors: list[FieldError] = []
    product = product or Product()
    for key in ("sku", "name"):
        if key in data:
            value = str(data[key] or "").strip()
            if not value:
                errors.append(FieldError(key, "Required."))
            setattr(product, key, value)
    for key in ("price", "cost"):
        if key in data:
            value = data[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                errors.append(FieldError(key, "Must be a whole number of kopecks, 0 or more."))
            setattr(product, key, value)
    if "attributes" in data:
        if not isinstance(data["attributes"], dict):
            errors.append(FieldError("attributes", "Must be an object."))
        product.attributes = data["attributes"]
    if "active" in data:
        product.active = bool(data["active"])
    if not product.sku:
        errors.append(FieldError("sku", "Required."))
    elif Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
        errors.append(FieldError("sku", f"{product.sku} is already in the catalogue."))
    if errors:
        raise DomainValidationError(errors)
    if "category" in data:
        product.category = category_for(str(data["category"] or ""))
    product.save()
    return product


def record_arrival(sku: str, quantity: int, *, store: str = "", at: dt.datetime | None = None) -> StockArrival:
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise NotFound(f"product {sku}")
    if quantity < 1:
        raise DomainValidationError.single("quantity", "Must be at least 1.")
    return StockArrival.objects.create(product=product, quantity=quantity, store=store, arrived_at=at or now())


def customer_for_phone(phone: str, *, actor: Actor, source: str = "order") -> Customer:
    """The customer holding ``phone`` in any spelling, or a new one with just that phone (R10.5).

    Interactions' ingest does full identity resolution for events; an order placed by hand carries one
    phone, so a lookup of the normalised number is the whole resolution here.
    """
    from clientbase.customers.services import create_customer
    from clientbase.identity.models import Identifier
    from clientbase.identity.services import normalize

    value = normalize("phone", phone, field="phone")
    identifier = Identifier.objects.filter(kind="phone", value=value).select_related("customer").first()
    if identifier is not None:
        return identifier.customer
    return create_customer({"identifiers": [{"kind": "phone", "value": value}]}, actor=actor, source=source)


def new_order_number() -> str:
    return f"W-{secrets.token_hex(5).upper()}"
