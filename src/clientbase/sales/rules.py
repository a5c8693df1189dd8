"""Pure sales decisions: parsing event data, the status pipeline, figure formulas. No ORM here."""

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

from clientbase.core.errors import DomainValidationError, FieldError

STATUSES = ("new", "confirmed", "paid", "shipped", "delivered", "completed", "cancelled")
PAYMENT_STATUSES = ("unpaid", "paid", "refunded")
PIPELINE = STATUSES[:6]
MAX_LINES = 500


@dataclass(frozen=True)
class LineIn:
    sku: str
    name: str
    category: str
    quantity: int
    price: int
    cost: int
    discount: int
    reward: bool


@dataclass(frozen=True)
class PurchaseIn:
    order_id: str
    store: str
    currency: str
    payment_status: str
    paid_with_points: int
    lines: list[LineIn] = field(default_factory=list)


def at(path: str, key: str) -> str:
    """``data.lines`` under an event, plain ``lines`` at the top of an API body."""
    return f"{path}.{key}" if path else key


def _text(data: dict[str, Any], key: str, path: str, errors: list[FieldError], *, required: bool = False,
          max_length: int = 64, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        value = default
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        errors.append(FieldError(at(path, f"{key}"), "Must be text."))
        return default
    value = value.strip()
    if required and not value:
        errors.append(FieldError(at(path, f"{key}"), "Required."))
    elif len(value) > max_length:
        errors.append(FieldError(at(path, f"{key}"), f"At most {max_length} characters."))
    return value


def _integer(data: dict[str, Any], key: str, path: str, errors: list[FieldError], *, minimum: int = 0,
             default: int | None = 0) -> int:
    value = data.get(key, default)
    # Amounts are kopecks: a float or a numeric string is refused rather than rounded.
    if not isinstance(value, int) or isinstance(value, bool):
        errors.append(FieldError(at(path, f"{key}"), "Must be a whole number (money in kopecks)."))
        return 0
    if value < minimum:
        errors.append(FieldError(at(path, f"{key}"), f"Must be at least {minimum}."))
    return value


def parse_line(raw: Any, path: str, errors: list[FieldError]) -> LineIn | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(path, "Must be an object with sku, quantity and price."))
        return None
    start = len(errors)
    sku = _text(raw, "sku", path, errors, required=True)
    name = _text(raw, "name", path, errors, max_length=200)
    category = _text(raw, "category", path, errors, max_length=100)
    quantity = _integer(raw, "quantity", path, errors, minimum=1, default=None)
    price = _integer(raw, "price", path, errors, default=None)
    cost = _integer(raw, "cost", path, errors)
    discount = _integer(raw, "discount", path, errors)
    reward = raw.get("reward", False)
    if not isinstance(reward, bool):
        errors.append(FieldError(at(path, "reward"), "Must be true or false."))
    if len(errors) == start and discount > price * quantity:
        errors.append(FieldError(at(path, "discount"), "Is more than the line's price times quantity."))
    if len(errors) > start:
        return None
    return LineIn(sku, name or sku, category, quantity, price, cost, discount, bool(reward))


def parse_purchase(data: Any, *, path: str = "data") -> PurchaseIn:
    """Validate a ``purchase`` event's data (shape in docs/sales.md); raise naming every bad field."""
    if not isinstance(data, dict):
        raise DomainValidationError.single(path, "Must be an object.")
    errors: list[FieldError] = []
    order_id = _text(data, "order_id", path, errors, required=True)
    store = _text(data, "store", path, errors, max_length=50)
    currency = _text(data, "currency", path, errors, default="RUB", max_length=3).upper() or "RUB"
    payment = _text(data, "payment_status", path, errors, default="paid")
    if payment not in PAYMENT_STATUSES:
        errors.append(FieldError(at(path, "payment_status"), f"Must be one of {', '.join(PAYMENT_STATUSES)}."))
    points = _integer(data, "paid_with_points", path, errors)
    raw_lines = data.get("lines")
    lines: list[LineIn] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(FieldError(at(path, "lines"), "Must be a non-empty list of lines."))
    elif len(raw_lines) > MAX_LINES:
        errors.append(FieldError(at(path, "lines"), f"At most {MAX_LINES} lines."))
    else:
        for i, raw in enumerate(raw_lines):
            line = parse_line(raw, at(path, f"lines.{i}"), errors)
            if line is not None:
                lines.append(line)
    if errors:
        raise DomainValidationError(errors)
    return PurchaseIn(order_id, store, currency, payment, points, lines)


def check_transition(current: str, new: str, *, has_returns: bool, path: str = "status") -> None:
    """Orders move forward along the pipeline (skipping is allowed) or get cancelled.

    Cancelled is final, and an order with returns cannot be cancelled: its money already moved back
    line by line, so cancelling would count it twice.
    """
    if new not in STATUSES:
        raise DomainValidationError.single(path, f"{new!r} is not one of {', '.join(STATUSES)}.")
    if current == "cancelled":
        raise DomainValidationError.single(path, "The order is cancelled; it cannot change any more.")
    if new == "cancelled":
        if current == "completed":
            raise DomainValidationError.single(path, "A completed order is returned, not cancelled.")
        if has_returns:
            raise DomainValidationError.single(path, "The order has returns; it cannot be cancelled.")
        return
    if PIPELINE.index(new) < PIPELINE.index(current):
        raise DomainValidationError.single(path, f"An order cannot go back from {current} to {new}.")


def returned_amount(price: int, line_quantity: int, line_discount: int, already: int, quantity: int) -> int:
    """Money given back for ``quantity`` more units when ``already`` units of the line were returned.

    Each unit carries its price less its share of the line discount; the share is rounded down on the
    running total, so returning a line in several parts gives back exactly what was paid for it.
    """

    def paid_for(units: int) -> int:
        return price * units - line_discount * units // line_quantity

    return paid_for(already + quantity) - paid_for(already)


@dataclass(frozen=True)
class FrequencyRules:
    """A customer is *regular* with at least ``regular_min_orders`` orders and a mean gap between
    purchases of at most ``regular_max_gap_days``; *one-off* with exactly one order; *rare* otherwise."""

    regular_min_orders: int = 4
    regular_max_gap_days: float = 21.0


def frequency_rules() -> FrequencyRules:
    return FrequencyRules(
        regular_min_orders=int(os.environ.get("CLIENTBASE_REGULAR_MIN_ORDERS", "4")),
        regular_max_gap_days=float(os.environ.get("CLIENTBASE_REGULAR_MAX_GAP_DAYS", "21")),
    )


def service_cost_per_order() -> int:
    """Kopecks the business spends to serve one order (packing, delivery, acquiring); CLIENTBASE_SERVICE_COST."""
    return int(os.environ.get("CLIENTBASE_SERVICE_COST", "0"))


def frequency_class(orders: int, first: dt.datetime | None, last: dt.datetime | None,
                    rules: FrequencyRules) -> str:
    if orders <= 0 or first is None or last is None:
        return ""
    if orders == 1:
        return "one_off"
    mean_gap_days = (last - first).total_seconds() / 86400 / (orders - 1)
    if orders >= rules.regular_min_orders and mean_gap_days <= rules.regular_max_gap_days:
        return "regular"
    return "rare"


def derived(orders: int, gross: int, discount: int, cost: int, returns_amount: int,
            service_cost: int) -> tuple[int, int, int]:
    """(total spend, average check, profit) from the stored sums; see docs/sales.md."""
    total_spend = gross - discount - returns_amount
    average_check = (gross - discount) // orders if orders else 0
    profit = gross - cost - discount - returns_amount - service_cost * orders
    return total_spend, average_check, profit
