"""The card's "Orders & figures" section: the customer's purchase figures and latest orders."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from clientbase.access.actor import Actor
from clientbase.customers.models import Customer
from clientbase.sales import selectors
from clientbase.sales.models import FrequencyClass, Order
from clientbase.web.cards import register_card_section

LATEST = 10


def roubles(kopecks: int) -> str:
    sign = "−" if kopecks < 0 else ""
    whole, cents = divmod(abs(kopecks), 100)
    return f"{sign}{whole:,}".replace(",", "\u00a0") + f",{cents:02d}\u00a0₽"


def _order_row(order: Order) -> dict[str, Any]:
    return {"order": order, "amount": roubles(order.net_amount),
            "lines": ", ".join(f"{li.product.name} ×{li.quantity}" for li in order.lines.all())}


def _orders(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    if not actor.has_scope("orders:read"):
        return None
    orders = list(selectors.customer_orders(customer.pk)[:LATEST])
    row = selectors.figures_of(customer.pk)
    if not orders and not row.abandoned:
        return None
    money = {name: roubles(getattr(row, name)) for name in ("total_spend", "average_check", "returns_amount",
                                                           "profit")}
    return {"figures": row, "money": money, "orders": [_order_row(o) for o in orders],
            "frequency": dict(FrequencyClass.choices).get(row.frequency, row.frequency)}


register_card_section("orders", _orders, title=_("Orders & figures"), template="sales/card_orders.html",
                      order=300)
