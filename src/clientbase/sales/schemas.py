"""API shapes of products, orders, returns and figures. Money is integer kopecks."""

import datetime as dt
from typing import Any

from ninja import Schema


class ProductIn(Schema):
    sku: str
    name: str
    category: str = ""
    attributes: dict[str, Any] = {}
    price: int = 0
    cost: int = 0
    active: bool = True


class ProductPatch(Schema):
    name: str | None = None
    category: str | None = None
    attributes: dict[str, Any] | None = None
    price: int | None = None
    cost: int | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    category: str | None
    attributes: dict[str, Any]
    price: int
    cost: int
    active: bool


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


class ArrivalIn(Schema):
    quantity: int
    store: str = ""


class ArrivalOut(Schema):
    id: int
    sku: str
    quantity: int
    store: str
    arrived_at: dt.datetime


class LineIn(Schema):
    sku: str
    name: str = ""
    category: str = ""
    quantity: int
    price: int
    cost: int = 0
    discount: int = 0
    reward: bool = False


class OrderIn(Schema):
    """Either ``customer_id`` or ``phone`` (a one-click order: the phone finds or creates the customer)."""

    customer_id: int | None = None
    phone: str | None = None
    order_id: str | None = None
    store: str = ""
    currency: str = "RUB"
    status: str = "new"
    payment_status: str = "unpaid"
    paid_with_points: int = 0
    lines: list[LineIn]


class LineOut(Schema):
    sku: str
    name: str
    quantity: int
    price: int
    cost: int
    discount: int
    reward: bool
    returned: int


class StatusChangeOut(Schema):
    status: str
    at: dt.datetime
    source: str


class ReturnOut(Schema):
    id: int
    number: str
    amount: int
    items: int
    at: dt.datetime


class OrderOut(Schema):
    id: int
    number: str
    source: str
    customer_id: int
    store: str
    channel: str
    currency: str
    status: str
    payment_status: str
    paid_with_points: int
    placed_at: dt.datetime
    items: int
    gross_amount: int
    discount_amount: int
    lines: list[LineOut]
    status_changes: list[StatusChangeOut]
    returns: list[ReturnOut]


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class StatusIn(Schema):
    status: str


class ReturnLineIn(Schema):
    sku: str
    quantity: int


class ReturnIn(Schema):
    return_id: str
    lines: list[ReturnLineIn] | None = None


class FiguresOut(Schema):
    customer_id: int
    orders: int
    abandoned: int
    items: int
    total_spend: int
    average_check: int
    returns: int
    returns_amount: int
    gross_amount: int
    discount_amount: int
    cost_amount: int
    profit: int
    first_purchase_at: dt.datetime | None
    last_purchase_at: dt.datetime | None
    visit_days: int
    favourite_products: list[dict[str, Any]]
    favourite_categories: list[dict[str, Any]]
    frequency: str
