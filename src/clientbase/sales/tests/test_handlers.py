"""Purchases, status changes, carts and returns arriving as events through ingest."""

from clientbase.interactions.tests.builders import ingest, make_event
from clientbase.sales.models import AbandonedCart, CustomerFigures, Order, Return
from clientbase.sales.tests.builders import purchase_data


def test_purchase_event_creates_one_order_even_when_sent_twice() -> None:
    event = make_event(type="purchase", channel="pos", id="p1", data=purchase_data(order_id="A-1001"))
    report = ingest(event, event)
    assert report.counts()["created"] == 1
    order = Order.objects.get()
    assert (order.number, order.source, order.event is not None) == ("A-1001", "test", True)
    assert order.customer_id == report.results[0].customer_id
    ingest(make_event(type="order_status", id="s1", data={"order_id": "A-1001", "status": "completed"}),
           make_event(type="return", id="r1", data={"order_id": "A-1001", "return_id": "R-1",
                                                    "lines": [{"sku": "LATTE-M", "quantity": 1}]}),
           make_event(type="cart_abandoned", id="c1", data={"cart_id": "C-1", "lines": []}))
    row = CustomerFigures.objects.get(pk=order.customer_id)
    assert (row.orders, row.returns, row.returns_amount, row.abandoned) == (1, 1, 25000, 1)
    assert Return.objects.count() == 1 and AbandonedCart.objects.count() == 1


def test_bad_purchase_is_rejected_with_the_line_path_and_stores_nothing() -> None:
    bad = purchase_data(lines=[{"sku": "", "quantity": 1, "price": 100}])
    report = ingest(make_event(type="purchase", id="p2", data=bad))
    result = report.results[0]
    assert result.status == "rejected" and [e.path for e in result.errors] == ["data.lines.0.sku"]
    assert Order.objects.count() == 0 and CustomerFigures.objects.count() == 0


def test_status_of_unknown_order_is_rejected() -> None:
    report = ingest(make_event(type="order_status", id="s2", data={"order_id": "nope", "status": "paid"}))
    assert [e.path for e in report.results[0].errors] == ["data.order_id"]
