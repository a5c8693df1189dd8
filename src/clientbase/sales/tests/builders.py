import datetime as dt
from itertools import count
from typing import Any

from clientbase.customers.models import Customer
from clientbase.sales import services
from clientbase.sales.models import Order

_numbers = count(1)
BASE_TIME = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def purchase_data(*, order_id: str | None = None, lines: list[dict[str, Any]] | None = None,
                  **fields: Any) -> dict[str, Any]:
    return {"order_id": order_id or f"A-{next(_numbers)}", "store": "msk-1", "currency": "RUB",
            "lines": lines if lines is not None else [
                {"sku": "LATTE-M", "name": "Латте 0,4", "category": "coffee", "quantity": 2, "price": 25000,
                 "cost": 8000, "discount": 0, "reward": False}],
            "payment_status": "paid", "paid_with_points": 0, **fields}


def make_order(*, customer: Customer, at: dt.datetime = BASE_TIME, source: str = "pos",
               **data: Any) -> Order:
    return services.record_purchase(customer, purchase_data(**data), source=source, occurred_at=at)
