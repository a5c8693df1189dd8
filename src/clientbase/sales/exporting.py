"""Export customers, orders and figures to CSV or XLSX (R10.3), streaming, under the ``export`` scope.

Rows are read in chunks (``iterator``) and written one at a time, so memory does not grow with the
base. Money is written in roubles with two decimals (what the importer reads back); times in the
business's time zone. Only customers the actor may see are exported.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

from clientbase.access.actor import Actor
from clientbase.core.errors import DomainValidationError
from clientbase.core.tabular import TableWriter
from clientbase.customers.selectors import visible, visible_customers
from clientbase.sales.models import CustomerFigures, OrderLine

KINDS = ("customers", "orders", "figures")
FORMATS = ("csv", "xlsx")
CHUNK = 2000
CENT = Decimal("0.01")


def roubles(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(CENT)


def _local(value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: write the wall-clock time of the business.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def customer_rows(actor: Actor) -> Iterator[list[Any]]:
    yield ["id", "last_name", "first_name", "middle_name", "birth_date", "gender", "city", "phones", "emails",
           "cards", "created_at"]
    queryset = visible_customers(actor).filter(merged_into__isnull=True).order_by("pk")
    for customer in queryset.prefetch_related("identifiers").iterator(chunk_size=CHUNK):
        by_kind: dict[str, list[str]] = {}
        for identifier in customer.identifiers.all():
            by_kind.setdefault(identifier.kind, []).append(identifier.value)
        yield [customer.pk, customer.last_name, customer.first_name, customer.middle_name, customer.birth_date,
               customer.gender, customer.city, ", ".join(by_kind.get("phone", [])),
               ", ".join(by_kind.get("email", [])), ", ".join(by_kind.get("card", [])),
               _local(customer.created_at)]


def order_rows(actor: Actor) -> Iterator[list[Any]]:
    yield ["order", "source", "customer_id", "placed_at", "status", "payment_status", "store", "sku", "product",
           "quantity", "price", "cost", "discount", "reward"]
    lines = (OrderLine.objects.filter(visible(actor, "order__customer__"))
             .select_related("order", "product").order_by("order_id", "id"))
    for line in lines.iterator(chunk_size=CHUNK):
        order = line.order
        yield [order.number, order.source, order.customer_id, _local(order.placed_at), order.status,
               order.payment_status, order.store, line.product.sku, line.product.name, line.quantity,
               roubles(line.price), roubles(line.cost), roubles(line.discount), line.reward]


FIGURE_MONEY = ("gross_amount", "discount_amount", "cost_amount", "returns_amount", "total_spend",
                "average_check", "profit")
FIGURE_COLUMNS = ("orders", "abandoned", "items", *FIGURE_MONEY[:4], "returns", *FIGURE_MONEY[4:],
                  "first_purchase_at", "last_purchase_at", "visit_days", "frequency")


def figure_rows(actor: Actor) -> Iterator[list[Any]]:
    yield ["customer_id", *FIGURE_COLUMNS, "favourite_products", "favourite_categories"]
    rows = CustomerFigures.objects.filter(visible(actor, "customer__")).order_by("pk")
    for row in rows.iterator(chunk_size=CHUNK):
        values = []
        for name in FIGURE_COLUMNS:
            value = getattr(row, name)
            values.append(roubles(value) if name in FIGURE_MONEY else
                          _local(value) if isinstance(value, dt.datetime) else value)
        yield [row.pk, *values, ", ".join(p["sku"] for p in row.favourite_products),
               ", ".join(c["category"] for c in row.favourite_categories)]


def export(kind: str, fmt: str, target: IO[bytes], *, actor: Actor) -> int:
    """Write ``kind`` as ``fmt`` to ``target``; the number of data rows written."""
    if kind not in KINDS:
        raise DomainValidationError.single("kind", f"Must be one of {', '.join(KINDS)}.")
    if fmt not in FORMATS:
        raise DomainValidationError.single("format", f"Must be one of {', '.join(FORMATS)}.")
    rows = {"customers": customer_rows, "orders": order_rows, "figures": figure_rows}[kind](actor)
    writer = TableWriter(target, fmt, sheet=kind)
    count = -1
    for count, row in enumerate(rows):  # noqa: B007  (the count after the loop is the point)
        writer.row(row)
    writer.close()
    return count
