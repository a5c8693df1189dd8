"""Whatever happens to orders and customers, the stored figures equal a recomputation from the orders."""

import datetime as dt
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientbase.access.actor import SYSTEM
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Merge
from clientbase.identity.unmerge import unmerge
from clientbase.interactions.tests.builders import ingest, make_event
from clientbase.sales import figures, services
from clientbase.sales.models import CustomerFigures, CustomerProductCount, CustomerVisitDay, Order
from clientbase.sales.tests.builders import BASE_TIME, purchase_data

SKUS = [("LATTE", "coffee"), ("TEA", "tea"), ("CAKE", "desserts"), ("BEANS", "beans")]

line = st.fixed_dictionaries({
    "sku_index": st.integers(0, len(SKUS) - 1), "quantity": st.integers(1, 3),
    "price": st.integers(0, 50000), "discount_share": st.integers(0, 100)})
operation = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 2), st.integers(0, 400), st.lists(line, min_size=1, max_size=3),
              st.booleans(), st.booleans()),
    st.tuples(st.just("status"), st.integers(0, 20), st.sampled_from(["confirmed", "paid", "shipped",
                                                                       "completed", "cancelled"])),
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(0, 3)),
    st.tuples(st.just("cart"), st.integers(0, 2)),
    st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("unmerge"), st.integers(0, 5)),
)
PHONES = [f"+7916000000{i}" for i in range(3)]


def _live(customer: Customer) -> Customer:
    customer.refresh_from_db()
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def _lines(spec: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for item in spec:
        sku, category = SKUS[item["sku_index"]]
        gross = item["price"] * item["quantity"]
        result.append({"sku": sku, "category": category, "quantity": item["quantity"], "price": item["price"],
                       "cost": item["price"] // 3, "discount": gross * item["discount_share"] // 100})
    return result


def _apply(op: tuple[Any, ...], customers: list[Customer], orders: list[Order], merges: list[Merge],
           step: int) -> None:
    kind = op[0]
    if kind == "order":
        _, who, day, spec, paid, via_event = op
        data = purchase_data(order_id=f"A-{step}", lines=_lines(spec),
                             payment_status="paid" if paid else "unpaid")
        at = BASE_TIME + dt.timedelta(days=day, hours=step % 24)
        if via_event:
            # Through ingest: the order gets its event, and the phone finds whoever holds it now.
            ingest(make_event(type="purchase", id=f"p{step}", source="pos", identifiers={"phone": PHONES[who]},
                              occurred_at=at.isoformat(), data=data))
            orders.extend(Order.objects.filter(number=f"A-{step}"))
        else:
            orders.append(services.record_purchase(_live(customers[who]), data, source="pos", occurred_at=at))
    elif kind == "status" and orders:
        services.change_status(orders[op[1] % len(orders)], op[2], source="pos")
    elif kind == "return" and orders:
        order = orders[op[1] % len(orders)]
        lines = None if op[2] == 0 else [{"sku": order.lines.first().product.sku, "quantity": op[2]}]  # type: ignore[union-attr]
        services.record_return(order, number=f"R-{step}", lines=lines, source="pos")
    elif kind == "cart":
        services.record_abandoned_cart(_live(customers[op[1]]), {"cart_id": f"C-{step}", "lines": []},
                                       source="web", occurred_at=BASE_TIME)
    elif kind == "merge":
        survivor, absorbed = _live(customers[op[1]]), _live(customers[op[2]])
        if survivor.pk != absorbed.pk:
            merges.append(merge_customers(survivor, absorbed, actor=SYSTEM))
    elif kind == "unmerge" and merges:
        unmerge(merges.pop(op[1] % len(merges)), actor=SYSTEM)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, max_size=9))
def test_stored_figures_equal_recomputation(operations: list[tuple[Any, ...]]) -> None:
    with transaction.atomic():
        customers = [make_customer(phone=phone) for phone in PHONES]
        orders: list[Order] = []
        merges: list[Merge] = []
        for step, op in enumerate(operations):
            try:
                with transaction.atomic():
                    _apply(op, customers, orders, merges, step)
            except DomainValidationError:
                pass  # refused actions (going back, over-returning) must leave figures as they were
            for order in orders:
                order.refresh_from_db()
        assert list(figures.drift([c.pk for c in customers])) == []
        assert list(figures.orphans()) == []
        # Every order sits with a live customer's figures (none counted on a tombstone).
        assert not CustomerFigures.objects.filter(customer__merged_into__isnull=False, orders__gt=0).exists()
        transaction.set_rollback(True)


def test_orders_follow_merge_and_unmerge() -> None:
    first, second = (make_customer(phone=phone) for phone in PHONES[:2])
    services.record_purchase(first, purchase_data(order_id="X-1"), source="pos", occurred_at=BASE_TIME)
    services.record_purchase(second, purchase_data(order_id="X-2"), source="pos", occurred_at=BASE_TIME)
    merge = merge_customers(first, second, actor=SYSTEM)
    assert CustomerFigures.objects.get(pk=first.pk).orders == 2
    assert CustomerFigures.objects.get(pk=second.pk).orders == 0
    # An order made after the merge through an event for the absorbed phone goes back with it on unmerge.
    ingest(make_event(type="purchase", id="late", source="pos", identifiers={"phone": PHONES[1]},
                      data=purchase_data(order_id="X-3")))
    assert Order.objects.get(number="X-3").customer_id == first.pk
    unmerge(merge, actor=SYSTEM)
    assert dict(Order.objects.values_list("number", "customer_id")) == {
        "X-1": first.pk, "X-2": second.pk, "X-3": second.pk}
    assert (CustomerFigures.objects.get(pk=first.pk).orders, CustomerFigures.objects.get(pk=second.pk).orders) == (1, 2)
    assert list(figures.drift([first.pk, second.pk])) == []


def test_a_helper_row_left_without_its_parent_is_reported() -> None:
    """The figures tables carry no foreign-key constraints in the database; ``orphans`` is their check."""
    customer = make_customer(phone=PHONES[0])
    services.record_purchase(customer, purchase_data(order_id="O-1"), source="pos", occurred_at=BASE_TIME)
    assert list(figures.orphans()) == []
    missing = Customer.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    CustomerVisitDay.objects.create(customer_id=missing, day=dt.date(2026, 1, 1), orders=1)
    product = CustomerProductCount.objects.get(customer=customer)
    CustomerProductCount.objects.filter(pk=product.pk).update(category_id=999_999)
    assert sorted(figures.orphans()) == sorted([
        (missing, "orphan.sales_customervisitday.customer_id", missing, None),
        (customer.pk, "orphan.sales_customerproductcount.category_id", 999_999, None)])
