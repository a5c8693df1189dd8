"""Read path for orders, the catalogue and figures. Visibility always goes through the customer."""

from django.db.models import Prefetch, QuerySet

from clientbase.access.actor import Actor
from clientbase.core.errors import NotFound
from clientbase.customers.selectors import visible
from clientbase.sales.models import CustomerFigures, Order, OrderLine, Product


def orders_with_lines() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("id")),
        "status_changes", "returns__lines")


def visible_orders(actor: Actor) -> QuerySet[Order]:
    return Order.objects.filter(visible(actor, "customer__"))


def access_order(actor: Actor, order_id: int) -> Order:
    order = orders_with_lines().filter(visible(actor, "customer__"), pk=order_id).first()
    if order is None:
        raise NotFound(f"Order #{order_id}")
    return order


def customer_orders(customer_id: int) -> QuerySet[Order]:
    return orders_with_lines().filter(customer_id=customer_id).order_by("-placed_at", "-id")


def figures_of(customer_id: int) -> CustomerFigures:
    """The stored figures; a customer who never bought has all-zero figures (no row yet)."""
    return CustomerFigures.objects.filter(pk=customer_id).first() or CustomerFigures(customer_id=customer_id)


def products() -> QuerySet[Product]:
    return Product.objects.select_related("category")
