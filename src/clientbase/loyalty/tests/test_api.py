import json
from typing import Any

from django.test import Client

from clientbase.access.tests.builders import make_token
from clientbase.loyalty.models import LedgerEntry
from clientbase.loyalty.tests.builders import make_member, make_program


def call(method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(Client(), method)(f"/api/v1{path}", **kwargs)
    return response.status_code, (response.json() if response.content else None)


def test_earn_quote_and_redeem_through_the_api_once_per_operation() -> None:
    program = make_program(slug="zerna", earn_percent=10, max_redeem_percent=50)
    customer = make_member(program)
    till = make_token(role="manager", team=None)
    admin = make_token(role="admin")
    body = {"operation_id": "pos-1", "order_id": "A-1", "lines": [{"sku": "latte", "amount": 100_000}]}
    for _ in range(2):
        status, entry = call("post", f"/loyalty/customers/{customer.pk}/earn", admin, body)
        assert status == 200 and entry["points"] == 100
    status, quote = call("post", f"/loyalty/customers/{customer.pk}/quote", admin, {"amount": 10_000})
    assert (status, quote) == (200, {"balance": 100, "points": 50, "amount": 5_000})
    status, _ = call("post", f"/loyalty/customers/{customer.pk}/redeem", admin,
                     {"points": 51, "operation_id": "r1", "amount": 10_000})
    assert status == 422
    for _ in range(2):
        status, entry = call("post", f"/loyalty/customers/{customer.pk}/redeem", admin,
                             {"points": 50, "operation_id": "r2", "amount": 10_000, "order_id": "A-2"})
        assert status == 200 and entry["points"] == -50
    status, accounts = call("get", f"/loyalty/customers/{customer.pk}/balance", admin)
    assert accounts[0]["balance"] == 50
    status, rows = call("get", f"/loyalty/customers/{customer.pk}/history", admin)
    assert [r["kind"] for r in rows] == ["redemption", "accrual"]
    # A manager of another team cannot see this customer; a support token cannot spend.
    assert call("get", f"/loyalty/customers/{customer.pk}/balance", till)[0] == 404
    assert call("post", f"/loyalty/customers/{customer.pk}/redeem", make_token(role="support"),
                {"points": 1, "operation_id": "x"})[0] == 403
    assert LedgerEntry.objects.count() == 2


def test_coupons_are_single_use_and_personal() -> None:
    program = make_program(slug="zerna2")
    owner, other = make_member(program), make_member(program)
    admin = make_token(role="admin")
    status, coupon = call("post", "/loyalty/coupons", admin,
                          {"kind": "percent", "value": 15, "code": "hello15", "customer_id": owner.pk})
    assert status == 200 and coupon["code"] == "HELLO15"
    assert call("post", "/loyalty/coupons/HELLO15/use", admin, {"customer_id": other.pk, "operation_id": "u0"})[0] == 404
    assert call("post", "/loyalty/coupons/HELLO15/use", admin, {"customer_id": owner.pk, "operation_id": "u1"})[0] == 200
    assert call("post", "/loyalty/coupons/HELLO15/use", admin, {"customer_id": owner.pk, "operation_id": "u1"})[0] == 200
    status, body = call("post", "/loyalty/coupons/HELLO15/use", admin, {"customer_id": owner.pk, "operation_id": "u2"})
    assert status == 422 and body["errors"][0]["path"] == "code"
    assert call("get", f"/loyalty/customers/{owner.pk}/coupons", admin)[1] == []
