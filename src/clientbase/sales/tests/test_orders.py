import datetime as dt

import pytest

from clientbase.core.errors import DomainValidationError
from clientbase.customers.tests.builders import make_customer
from clientbase.sales import figures, services
from clientbase.sales.models import CustomerFigures, Order, OrderStatusChange, Product
from clientbase.sales.tests.builders import BASE_TIME, make_order, purchase_data


def test_purchase_stores_order_and_figures() -> None:
    customer = make_customer()
    order = make_order(customer=customer, lines=[
        {"sku": "LATTE-M", "name": "Латте", "category": "coffee", "quantity": 2, "price": 25000, "cost": 8000,
         "discount": 5000},
        {"sku": "CAKE", "name": "Чизкейк", "category": "desserts", "quantity": 1, "price": 30000}])
    assert order.status == "completed" and order.gross_amount == 80000 and order.discount_amount == 5000
    assert Product.objects.filter(sku="CAKE", category__slug="desserts").exists()
    row = CustomerFigures.objects.get(pk=customer.pk)
    assert (row.orders, row.items, row.total_spend, row.average_check) == (1, 3, 75000, 75000)
    assert row.profit == 80000 - 16000 - 5000
    assert row.favourite_products == [{"sku": "LATTE-M", "quantity": 2}, {"sku": "CAKE", "quantity": 1}]
    assert row.frequency == "one_off" and row.visit_days == 1
    assert list(figures.drift([customer.pk])) == []


def test_repeat_event_is_a_noop() -> None:
    customer = make_customer()
    data = purchase_data(order_id="A-1")
    first = services.record_purchase(customer, data, source="pos", occurred_at=BASE_TIME)
    again = services.record_purchase(customer, data, source="pos", occurred_at=BASE_TIME)
    assert first.pk == again.pk and Order.objects.count() == 1
    assert CustomerFigures.objects.get(pk=customer.pk).orders == 1


def test_bad_lines_are_named_and_nothing_stored() -> None:
    customer = make_customer()
    with pytest.raises(DomainValidationError) as exc:
        services.record_purchase(customer, purchase_data(lines=[
            {"sku": "", "quantity": 1, "price": 100}, {"sku": "X", "quantity": 0, "price": 1.5}]),
            source="pos", occurred_at=BASE_TIME)
    paths = {e.path for e in exc.value.errors}
    assert paths == {"data.lines.0.sku", "data.lines.1.quantity", "data.lines.1.price"}
    assert Order.objects.count() == 0 and not CustomerFigures.objects.exists()


def test_cancel_and_return_keep_figures_exact() -> None:
    customer = make_customer()
    kept = make_order(customer=customer, lines=[
        {"sku": "TEA", "category": "tea", "quantity": 3, "price": 10000, "discount": 1000}])
    cancelled = make_order(customer=customer, at=BASE_TIME + dt.timedelta(days=3), payment_status="unpaid")
    services.change_status(cancelled, "cancelled", source="pos")
    services.record_return(kept, number="R-1", lines=[{"sku": "TEA", "quantity": 1}], source="pos")
    services.record_return(kept, number="R-2", lines=None, source="pos")
    with pytest.raises(DomainValidationError):
        services.record_return(kept, number="R-3", lines=[{"sku": "TEA", "quantity": 1}], source="pos")
    row = CustomerFigures.objects.get(pk=customer.pk)
    assert (row.orders, row.returns, row.returns_amount, row.total_spend) == (1, 2, 29000, 0)
    assert row.last_purchase_at == BASE_TIME
    assert OrderStatusChange.objects.filter(order=cancelled).count() == 2
    assert list(figures.drift([customer.pk])) == []


def test_status_cannot_go_back() -> None:
    order = make_order(customer=make_customer(), payment_status="unpaid")
    services.change_status(order, "shipped", source="api")
    with pytest.raises(DomainValidationError):
        services.change_status(order, "confirmed", source="api")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("shipped", "paid")
