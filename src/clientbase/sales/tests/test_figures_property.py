"""Whatever happens to orders, the stored figures equal a recomputation from the orders."""

import datetime as dt
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientbase.core.errors import DomainValidationError
from clientbase.customers.tests.builders import make_customer
from clientbase.sales import figures, services
from clientbase.sales.models import Order
from clientbase.sales.tests.builders import BASE_TIME, purchase_data

SKUS = [("LATTE", "coffee"), ("TEA", "tea"), ("CAKE", "desserts"), ("BEANS", "beans")]

line = st.fixed_dictionaries({
    "sku_index": st.integers(0, len(SKUS) - 1), "quantity": st.integers(1, 3),
    "price": st.integers(0, 50000), "discount_share": st.integers(0, 100)})
operation = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 2), st.integers(0, 400), st.lists(line, min_size=1, max_size=3),
              st.booleans()),
    st.tuples(st.just("status"), st.integers(0, 20), st.sampled_from(["confirmed", "paid", "shipped",
                                                                       "completed", "cancelled"])),
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(0, 3)),
    st.tuples(st.just("cart"), st.integers(0, 2)),
    st.tuples(st.just("move"), st.integers(0, 2), st.integers(0, 2)),
)


def _lines(spec: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for item in spec:
        sku, category = SKUS[item["sku_index"]]
        gross = item["price"] * item["quantity"]
        result.append({"sku": sku, "category": category, "quantity": item["quantity"], "price": item["price"],
                       "cost": item["price"] // 3, "discount": gross * item["discount_share"] // 100})
    return result


def _apply(op: tuple[Any, ...], customers: list[Any], orders: list[Order], step: int) -> None:
    kind = op[0]
    if kind == "order":
        _, who, day, spec, paid = op
        orders.append(services.record_purchase(
            customers[who], purchase_data(lines=_lines(spec), payment_status="paid" if paid else "unpaid"),
            source="pos", occurred_at=BASE_TIME + dt.timedelta(days=day, hours=step % 24)))
    elif kind == "status" and orders:
        services.change_status(orders[op[1] % len(orders)], op[2], source="pos")
    elif kind == "return" and orders:
        order = orders[op[1] % len(orders)]
        lines = None if op[2] == 0 else [{"sku": order.lines.first().product.sku, "quantity": op[2]}]  # type: ignore[union-attr]
        services.record_return(order, number=f"R-{step}", lines=lines, source="pos")
    elif kind == "cart":
        services.record_abandoned_cart(customers[op[1]], {"cart_id": f"C-{step}", "lines": []}, source="web",
                                       occurred_at=BASE_TIME)
    elif kind == "move" and op[1] != op[2]:
        # What a merge does to the rows of a participant: move them, then call after_change.
        source, target = customers[op[1]], customers[op[2]]
        Order.objects.filter(customer=source).update(customer=target)
        figures.recompute_customers([source.pk, target.pk])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, max_size=12))
def test_stored_figures_equal_recomputation(operations: list[tuple[Any, ...]]) -> None:
    with transaction.atomic():
        customers = [make_customer(phone=f"+7916000000{i}") for i in range(3)]
        orders: list[Order] = []
        for step, op in enumerate(operations):
            try:
                with transaction.atomic():
                    _apply(op, customers, orders, step)
            except DomainValidationError:
                pass  # refused actions (going back, over-returning) must leave figures as they were
            for order in orders:
                order.refresh_from_db()
        assert list(figures.drift([c.pk for c in customers])) == []
        transaction.set_rollback(True)
