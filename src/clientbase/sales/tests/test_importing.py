"""Importing order history from real CSV and XLSX files."""

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from clientbase.customers.importing import Problem
from clientbase.customers.tests.builders import make_customer
from clientbase.sales import figures
from clientbase.sales.importing import import_orders
from clientbase.sales.models import CustomerFigures, Order, OrderLine


def test_orders_csv_groups_lines_reports_bad_cells_and_reimport_is_a_noop(tmp_path: Path) -> None:
    ivan = make_customer(phone="+79161234567")
    path = tmp_path / "orders.csv"
    path.write_text(
        "Номер заказа;Дата;Телефон;Артикул;Товар;Категория;Количество;Цена;Скидка\n"
        "A-1;01.03.2025 09:30;8 916 123-45-67;LATTE;Латте;coffee;2;250;0\n"
        "A-1;;;CAKE;Чизкейк;desserts;1;300,50;50\n"
        "A-2;2025-03-05;+79161234567;TEA;Чай;tea;1,5;120;0\n"
        "A-3;05.03.2025;+79990000000;TEA;Чай;tea;1;120;0\n"
        "A-4;07.03.2025;89161234567;TEA;Чай;tea;1;120;0\n", "utf-8")
    problems: list[Problem] = []
    result = import_orders(path, mode="valid-rows", report=problems.append)
    assert [(p.row, p.column) for p in problems] == [(4, "Количество"), (5, "")]
    assert (result.created, result.rejected_rows, result.rows) == (2, 2, 5)
    order = Order.objects.get(number="A-1")
    assert (order.customer_id, order.gross_amount, order.discount_amount, order.items) == (ivan.pk, 80050, 5000, 3)
    assert order.placed_at == dt.datetime(2025, 3, 1, 6, 30, tzinfo=dt.UTC)  # 09:30 Moscow
    row = CustomerFigures.objects.get(pk=ivan.pk)
    assert (row.orders, row.total_spend) == (2, 80050 - 5000 + 12000)
    assert list(figures.drift([ivan.pk])) == []
    lines = OrderLine.objects.count()
    again = import_orders(path, mode="valid-rows")
    assert (again.created, again.unchanged, OrderLine.objects.count()) == (0, 2, lines)


def test_all_or_nothing_xlsx_with_excel_dates(tmp_path: Path) -> None:
    make_customer(phone="+79161234567")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Заказы"
    sheet.append(["Order", "Date", "Phone", "SKU", "Qty", "Price"])
    sheet.append(["B-1", dt.datetime(2025, 1, 2, 10, 0), 79161234567, "BEANS", 1, 990])
    sheet.append(["B-2", "yesterday", 79161234567, "BEANS", 1, 990])
    book.save(tmp_path / "orders.xlsx")
    problems: list[Problem] = []
    result = import_orders(tmp_path / "orders.xlsx", report=problems.append)
    assert [(p.sheet, p.row, p.column, p.value) for p in problems] == [("Заказы", 3, "Date", "yesterday")]
    assert not result.stored and Order.objects.count() == 0


def test_import_api_upload_reports_bad_cells() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from clientbase.access.tests.builders import make_token

    token = make_token(role="support")
    data = "Фамилия;Телефон;Дата рождения\nИванова;+79160000001;31.12.1999\nПетрова;+79160000002;1/2/99\n"
    upload = SimpleUploadedFile("base.csv", data.encode("utf-8"), content_type="text/csv")
    response = Client().post("/api/v1/import", {"file": upload, "mode": "valid-rows"},
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    body = response.json()
    assert response.status_code == 200, body
    assert (body["created"], body["refused_rows"], body["stored"]) == (1, 1, True)
    assert [(r["row"], r["column"]) for r in body["report"]] == [(3, "Дата рождения")]


def test_import_page_shows_the_report(client: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from clientbase.access.tests.builders import make_user

    client.force_login(make_user(role="admin"))
    assert client.get("/sales/import/").status_code == 200
    upload = SimpleUploadedFile("base.csv", "Фамилия;Телефон\nИванова;не телефон\n".encode(), content_type="text/csv")
    page = client.post("/sales/import/", {"file": upload, "kind": "customers"}, HTTP_HX_REQUEST="true")
    text = page.content.decode()
    assert page.status_code == 200 and "не телефон" in text and "Nothing was stored." in text


def test_figures_after_imports_in_many_batches_equal_a_recomputation(tmp_path: Path, monkeypatch: Any) -> None:
    # Batches of 2 orders: a customer's orders land in several batches, on top of orders and a return
    # that arrived the ordinary way, and same-day orders share a visit day across batches.
    from clientbase.sales import importing, services
    from clientbase.sales.tests.builders import make_order

    monkeypatch.setattr(importing, "BATCH", 2)
    ivan, olga = make_customer(phone="+79161234567"), make_customer(phone="+79031112233")
    earlier = make_order(customer=ivan, at=dt.datetime(2025, 3, 1, 7, 0, tzinfo=dt.UTC))
    services.record_return(earlier, number="R-1", lines=None, source="pos")
    rows = ["Номер заказа;Дата;Телефон;Артикул;Категория;Количество;Цена;Себестоимость;Скидка"]
    for n in range(9):
        phone = "+79161234567" if n % 3 else "+79031112233"
        day = f"{1 + n % 4:02d}.03.2025 {9 + n}:15"
        rows += [f"C-{n};{day};{phone};LATTE-M;coffee;{1 + n % 2};250;80;{n}",
                 f"C-{n};;;BEANS-{n % 2};beans;1;990,50;400;0"]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", "utf-8")
    result = import_orders(path, mode="valid-rows")
    assert (result.created, result.rejected_rows) == (9, 0)
    assert list(figures.drift([ivan.pk, olga.pk])) == []
    ivan_figures = CustomerFigures.objects.get(pk=ivan.pk)
    assert (ivan_figures.orders, ivan_figures.returns, ivan_figures.first_purchase_at) == (
        7, 1, dt.datetime(2025, 3, 1, 7, 0, tzinfo=dt.UTC))
    assert ivan_figures.favourite_products[0] == {"sku": "LATTE-M", "quantity": 2 + 9}


def test_an_order_whose_lines_are_apart_is_refused_across_batches_and_refusals(tmp_path: Path,
                                                                                monkeypatch: Any) -> None:
    # A tiny Bloom filter answers "maybe" for every number, so each check is settled exactly: by the
    # batch not yet stored, the orders stored by this run, or the refused ones.
    from clientbase.sales import importing

    monkeypatch.setattr(importing, "BATCH", 2)
    monkeypatch.setattr(importing.NumbersMet, "BITS", 8)
    make_customer(phone="+79161234567")
    head = "Номер заказа;Дата;Телефон;Артикул;Количество;Цена\n"
    rows = ["D-1;01.03.2025;+79161234567;TEA;1;120", "D-2;02.03.2025;+79161234567;TEA;1;120",
            "D-3;03.03.2025;+79990000000;TEA;1;120",  # nobody has this phone: refused
            "D-4;04.03.2025;+79161234567;TEA;1;120", "D-5;05.03.2025;+79161234567;TEA;1;120",
            "D-1;06.03.2025;+79161234567;CAKE;1;300",  # stored two batches ago
            "D-3;07.03.2025;+79161234567;CAKE;1;300",  # refused earlier
            "D-6;08.03.2025;+79161234567;TEA;1;120", "D-6;;;CAKE;1;300",  # adjacent lines: one order
            "D-5;09.03.2025;+79161234567;CAKE;1;300"]  # met again after three other orders
    path = tmp_path / "orders.csv"
    path.write_text(head + "\n".join(rows) + "\n", "utf-8")
    problems: list[Problem] = []
    result = import_orders(path, mode="valid-rows", report=problems.append)
    apart = [p.value for p in problems if "not next to each other" in p.reason]
    assert sorted(apart) == ["D-1", "D-3", "D-5"]
    assert sorted(Order.objects.values_list("number", flat=True)) == ["D-1", "D-2", "D-4", "D-5", "D-6"]
    assert result.created == 5
    again = import_orders(path, mode="valid-rows")  # a re-import stays a no-op
    assert again.created == 0 and Order.objects.count() == 5


def test_the_store_of_an_order_comes_from_its_first_line(tmp_path: Path) -> None:
    make_customer(phone="+79161234567")
    path = tmp_path / "orders.csv"
    path.write_text("Номер заказа;Дата;Телефон;Магазин;Артикул;Количество;Цена\n"
                    "S-1;01.03.2025;+79161234567;Тверская, 7;LATTE;1;250\n"
                    "S-1;;;;CAKE;1;300\n"
                    "S-2;02.03.2025;+79161234567;;TEA;1;120\n", "utf-8")
    assert import_orders(path, mode="valid-rows").created == 2
    assert dict(Order.objects.values_list("number", "store")) == {"S-1": "Тверская, 7", "S-2": ""}


def test_a_one_transaction_import_of_many_batches_holds_few_locks(tmp_path: Path, monkeypatch: Any) -> None:
    """All-or-nothing is one transaction: whatever a batch locks on PostgreSQL is held to the end. A temporary
    table per figures upsert held ~21 lock entries per batch and ran out of shared memory near 4,000
    two-order batches; the count must not grow with the number of batches."""
    from django.db import connection

    from clientbase.sales import importing

    monkeypatch.setattr(importing, "BATCH", 2)
    for i in range(20):
        make_customer(phone=f"+7916000{i:04d}")
    head = "Номер заказа;Дата;Телефон;Артикул;Количество;Цена\n"
    rows = [f"L-{n};01.03.2025;+7916000{n % 20:04d};TEA;1;120" for n in range(300)]
    path = tmp_path / "orders.csv"
    path.write_text(head + "\n".join(rows) + "\n", "utf-8")
    result = import_orders(path, mode="all-or-nothing")
    assert result.created == 300 and result.stored
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")
            assert cursor.fetchone()[0] < 100
    assert list(figures.drift()) == []
