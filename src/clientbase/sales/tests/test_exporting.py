"""Export needs its own scope and writes readable CSV and XLSX."""

import csv
import io

from django.test import Client
from openpyxl import load_workbook

from clientbase.access.tests.builders import make_token
from clientbase.customers.tests.builders import make_customer
from clientbase.sales.tests.builders import make_order


def download(path: str, token: str) -> tuple[int, bytes]:
    response = Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {token}")
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return response.status_code, body


def test_export_orders_csv_and_figures_xlsx() -> None:
    customer = make_customer(first_name="Ольга")
    make_order(customer=customer, order_id="A-1", lines=[
        {"sku": "LATTE", "category": "coffee", "quantity": 2, "price": 25050, "discount": 100}])
    admin = make_token(role="admin")
    status, body = download("/export/orders?format=csv", admin)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert status == 200 and rows[1][0] == "A-1" and rows[1][7:13] == ["LATTE", "LATTE", "2", "250.50", "0.00",
                                                                      "1.00"]
    status, body = download("/export/figures?format=xlsx", admin)
    sheet = load_workbook(io.BytesIO(body), read_only=True)["figures"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("customer_id", "orders") and values[1][:2] == (customer.pk, 1)
    status, body = download("/export/customers?format=csv", admin)
    assert "Ольга" in body.decode("utf-8-sig") and "+79161234567" in body.decode("utf-8-sig")


def test_export_needs_the_export_scope() -> None:
    status, _ = download("/export/customers", make_token(role="marketer"))
    assert status == 403
