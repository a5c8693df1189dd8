"""Orders API over HTTP: one-click orders by phone, status, returns, figures, scopes, team visibility."""

import json
from typing import Any

from django.test import Client

from clientbase.access.tests.builders import make_token
from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.sales.models import Order


def call(method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(Client(), method)(f"/api/v1{path}", **kwargs)
    return response.status_code, (response.json() if response.content else None)


LINES = [{"sku": "LATTE-M", "name": "Латте", "category": "coffee", "quantity": 2, "price": 25000}]


def test_one_click_order_by_phone_finds_or_creates_the_customer() -> None:
    token = make_token(role="manager")
    existing = make_customer(phone="+79161234567", team_id=None)
    status, body = call("post", "/orders", token, {"phone": "8 (916) 123-45-67", "lines": LINES})
    # A manager sees only their team's customers: another team's phone is refused, nothing stored.
    assert status == 404 and Order.objects.count() == 0
    admin = make_token(role="admin")
    status, body = call("post", "/orders", admin, {"phone": "8 (916) 123-45-67", "lines": LINES})
    assert status == 201, body
    assert body["customer_id"] == existing.pk and body["status"] == "new" and body["gross_amount"] == 50000
    status, body = call("post", "/orders", admin, {"phone": "+7 903 111 22 33", "lines": LINES,
                                                   "order_id": "W-1", "payment_status": "paid"})
    assert status == 201 and Customer.objects.count() == 2


def test_status_return_and_figures() -> None:
    admin = make_token(role="admin")
    customer = make_customer()
    status, order = call("post", "/orders", admin, {"customer_id": customer.pk, "lines": LINES})
    status, moved = call("post", f"/orders/{order['id']}/status", admin, {"status": "paid"})
    assert (status, moved["status"], moved["payment_status"]) == (200, "paid", "paid")
    status, ret = call("post", f"/orders/{order['id']}/returns", admin,
                       {"return_id": "R-1", "lines": [{"sku": "LATTE-M", "quantity": 5}]})
    assert status == 422 and ret["errors"][0]["path"] == "lines.0.quantity"
    status, ret = call("post", f"/orders/{order['id']}/returns", admin,
                       {"return_id": "R-1", "lines": [{"sku": "LATTE-M", "quantity": 1}]})
    assert (status, ret["amount"]) == (201, 25000)
    status, figures = call("get", f"/customers/{customer.pk}/figures", admin)
    assert (figures["orders"], figures["total_spend"], figures["returns"]) == (1, 25000, 1)
    status, page = call("get", f"/customers/{customer.pk}/orders", admin)
    assert [o["lines"][0]["returned"] for o in page["items"]] == [1]


def test_bad_lines_and_scopes() -> None:
    admin = make_token(role="admin")
    customer = make_customer()
    status, body = call("post", "/orders", admin, {"customer_id": customer.pk, "lines": [
        {"sku": "X", "quantity": 1, "price": 100, "discount": 500}]})
    assert status == 422 and body["errors"] == [{"path": "lines.0.discount",
                                                 "message": "Is more than the line's price times quantity."}]
    reader = make_token(role="support")
    status, _ = call("post", "/orders", reader, {"customer_id": customer.pk, "lines": LINES})
    assert status == 403 and Order.objects.count() == 0


def test_card_shows_orders_and_figures(client: Any) -> None:
    from clientbase.access.tests.builders import make_user
    from clientbase.sales.tests.builders import make_order

    customer = make_customer()
    make_order(customer=customer, order_id="A-77", lines=[
        {"sku": "LATTE-M", "name": "Латте", "category": "coffee", "quantity": 2, "price": 125050}])
    client.force_login(make_user(role="admin"))
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "A-77" in page and "Латте ×2" in page and "2\u00a0501,00\u00a0₽" in page
