"""Event handlers: purchases, status changes, abandoned carts and returns arriving through ingest.

Ingest calls these inside the event's savepoint; a DomainValidationError rejects that event only.
Paths name the event field (``data.lines.0.sku``).
"""

from typing import Any

from clientbase.customers.models import Customer
from clientbase.interactions.handlers import handles
from clientbase.sales import services


def _source(event: Any) -> str:
    return str(getattr(event, "source", "") or "events")


@handles("purchase")
def on_purchase(event: Any, customer: Customer) -> None:
    services.record_purchase(customer, event.data, source=_source(event), occurred_at=event.occurred_at,
                             event_id=event.pk, channel=str(getattr(event, "channel", "") or ""))


@handles("order_status")
def on_order_status(event: Any, customer: Customer) -> None:
    data = event.data if isinstance(event.data, dict) else {}
    order = services.find_order(_source(event), data.get("order_id"))
    services.change_status(order, str(data.get("status") or ""), source=_source(event), at=event.occurred_at,
                           path="data.status")


@handles("cart_abandoned")
def on_cart_abandoned(event: Any, customer: Customer) -> None:
    services.record_abandoned_cart(customer, event.data, source=_source(event), occurred_at=event.occurred_at,
                                   event_id=event.pk)


@handles("return")
def on_return(event: Any, customer: Customer) -> None:
    data = event.data if isinstance(event.data, dict) else {}
    order = services.find_order(_source(event), data.get("order_id"))
    number = str(data.get("return_id") or "").strip()
    if not number:
        from clientbase.core.errors import DomainValidationError

        raise DomainValidationError.single("data.return_id", "Required.")
    services.record_return(order, number=number, lines=data.get("lines"), source=_source(event),
                           at=event.occurred_at)
