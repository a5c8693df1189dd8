"""Importing a customer base from real XLSX and CSV files (R10.3)."""

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from clientbase.access.actor import SYSTEM
from clientbase.access.tests.builders import make_token
from clientbase.customers.importing import Problem, import_customers
from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.tests.test_api import call
from clientbase.customers.tests.test_views import logged_in
from clientbase.identity.models import Identifier

CLIENT_HEADER = ["Код", "Фамилия", "Имя", "Отчество", "Моб. телефон", "E-mail", "Дата рождения", "Город", "Пол",
                 "Карта", "Комментарий", "Любимый напиток"]
GOOD = [
    [1, "Петров", "Иван", "Сергеевич", "8 (916) 123-45-67", "Ivan@Mail.ru", dt.datetime(1990, 5, 1), "Москва", "М",
     "1234 5678", "постоянный"],
    [2, "Смирнова", "Ольга", None, 79031112233, None, "14.07.1985", "Казань", "ж", None, None],
    [3, "Петров", None, None, "+7 916 123 45 67", None, "1990-05-01", None, None, None, "тот же Иван"],
    [4, "Козлов", "Пётр", None, None, "petr@example.com", None, "Тула", None, None, None],
]
BAD = [
    [5, "Зайцев", "Олег", None, "12345", None, "31.02.1990", None, "X", None, None],  # phone, date, gender
    [6, "Волков", "Антон", None, "+79165550000", "not-an-email", "01/05/1990", None, None, None, None],
    [7, 12345, "Нина", None, "+79165551111", None, 33000, None, None, None, None],  # number as name, as date
    [None, "Без", "Контактов", None, None, None, None, None, None, None, None],  # nothing to recognise
]
EXPECTED_BAD = {
    ("Клиенты", 6, "Моб. телефон"), ("Клиенты", 6, "Дата рождения"), ("Клиенты", 6, "Пол"),
    ("Клиенты", 7, "E-mail"), ("Клиенты", 7, "Дата рождения"),
    ("Клиенты", 8, "Фамилия"), ("Клиенты", 8, "Дата рождения"),
    ("Клиенты", 9, ""), ("Телефоны", 4, "Код"),
}


def workbook(path: Path) -> Path:
    book = Workbook()
    clients = book.active
    assert clients is not None
    clients.title = "Клиенты"
    clients.append(CLIENT_HEADER)
    for row in GOOD + BAD:
        clients.append(row)
    phones = book.create_sheet("Телефоны")
    phones.append(["Код", "Телефон", "Тип"])
    phones.append([1, "+7 (903) 000-11-22", "рабочий"])
    phones.append([2, "8-916-777-66-55", "домашний"])
    phones.append([99, "+79160000099", "чужой"])  # no such client
    contracts = book.create_sheet("Договоры")
    contracts.append(["Код", "Номер договора", "Дата договора"])
    contracts.append([4, "Д-17", dt.datetime(2024, 2, 1)])
    book.save(path)
    return path


def counts() -> tuple[int, int, int]:
    return Customer.objects.count(), Identifier.objects.count(), ProfileChange.objects.count()


def test_valid_rows_mode_reports_every_bad_cell_and_reimport_changes_nothing(tmp_path: Path) -> None:
    path = workbook(tmp_path / "base.xlsx")
    problems: list[Problem] = []
    result = import_customers(path, actor=SYSTEM, mode="valid-rows", report=problems.append)
    assert {(p.sheet, p.row, p.column) for p in problems if p.rejected} == EXPECTED_BAD
    assert [p.column for p in problems if not p.rejected] == ["Любимый напиток"]
    assert (result.created, result.rejected_rows, result.stored) == (3, 5, True)
    ivan = Customer.objects.get(identifiers__kind="phone", identifiers__value="+79161234567")
    assert (ivan.first_name, ivan.birth_date, ivan.gender, ivan.notes) == ("Иван", dt.date(1990, 5, 1), "male",
                                                                           "тот же Иван")
    assert set(ivan.identifiers.values_list("kind", "value", "label")) == {
        ("external", "import:1", ""), ("external", "import:3", ""), ("phone", "+79161234567", ""),
        ("email", "ivan@mail.ru", ""), ("card", "12345678", ""), ("phone", "+79030001122", "рабочий")}
    # One history row per new customer carries every first value and the file it came from.
    created = ProfileChange.objects.get(customer=ivan, field="created")
    assert (created.source, created.channel, created.old_value) == ("import:base.xlsx", SYSTEM.channel, None)
    assert created.new_value == {
        "last_name": "Петров", "first_name": "Иван", "middle_name": "Сергеевич", "birth_date": "1990-05-01",
        "city": "Москва", "gender": "male", "notes": "тот же Иван",
        "identifiers.external": ["import:1", "import:3"], "identifiers.phone": ["+79161234567"],
        "identifiers.email": ["ivan@mail.ru"], "identifiers.card": ["12345678"]}
    later = ProfileChange.objects.filter(customer=ivan).exclude(field="created")
    assert set(later.values_list("field", "new_value", "source")) == {
        ("identifiers.phone", "+79030001122", "import:base.xlsx")}  # the Phones sheet, after the customer
    olga = Customer.objects.get(identifiers__value="+79031112233")
    assert olga.birth_date == dt.date(1985, 7, 14)
    assert Identifier.objects.filter(value="contract:Д-17", label="2024-02-01").exists()
    before = counts()
    again = import_customers(path, actor=SYSTEM, mode="valid-rows")
    assert counts() == before
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)  # per sheet: 3 + 2 + 1


def test_all_or_nothing_stores_nothing_when_a_row_is_bad(tmp_path: Path) -> None:
    path = workbook(tmp_path / "base.xlsx")
    problems: list[Problem] = []
    result = import_customers(path, actor=SYSTEM, mode="all-or-nothing", report=problems.append)
    assert {(p.sheet, p.row, p.column) for p in problems if p.rejected} == EXPECTED_BAD
    assert not result.stored and counts() == (0, 0, 0)


def test_dry_run_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    path.write_text("Фамилия;Имя;Телефон;Дата рождения\nИванов;Пётр;8 916 100-00-01;02.03.1970\n", "utf-8")
    result = import_customers(path, actor=SYSTEM, dry_run=True)
    assert (result.created, result.stored) == (1, False) and counts() == (0, 0, 0)


def test_cp1251_csv_with_english_headers_mapping_and_updates(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("ФИО;Phone;DOB;Drink\nСидоров Павел Ильич;+7 916 200-00-02;1980-12-31;латте\n"
                     "Сидоров Павел;89162000002;;\n".encode("cp1251"))
    mapping = {"columns": {"Drink": None, "DOB": "birth_date"}}
    problems: list[Problem] = []
    result = import_customers(path, actor=SYSTEM, mapping=mapping, report=problems.append)
    assert problems == [] and result.created == 1
    customer = Customer.objects.get()
    assert (customer.last_name, customer.first_name, customer.middle_name, customer.birth_date) == (
        "Сидоров", "Павел", "Ильич", dt.date(1980, 12, 31))
    path.write_bytes("ФИО;Phone\nСидоров Павел Ильич;+79162000002\nНовиков Ян;+79162000003\n".encode("cp1251"))
    result = import_customers(path, actor=SYSTEM, mapping=mapping)
    assert (result.created, result.unchanged) == (1, 1)
    assert Customer.objects.get(pk=customer.pk).birth_date == dt.date(1980, 12, 31)  # empty never erases


def test_the_created_row_reads_field_by_field_on_the_card_and_in_the_api(tmp_path: Path, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    path = tmp_path / "base.csv"
    path.write_text("Фамилия;Имя;Телефон;Город\nИванов;Пётр;8 916 100-00-01;Тула\n", "utf-8")
    import_customers(path, actor=SYSTEM)
    customer = Customer.objects.get()
    client = logged_in()
    page = client.get(f"/customers/{customer.pk}/history/").content.decode()
    assert "first name: Пётр" in page and "Identifier: Phone: +79161000001" in page and "import:base.csv" in page
    token = make_token(role="admin")
    status, rows = call("get", f"/customers/{customer.pk}/history?field=city", token)
    assert status == 200 and [(r["field"], r["new_value"]["city"], r["source"]) for r in rows] == [
        ("created", "Тула", "import:base.csv")]
    assert call("get", f"/customers/{customer.pk}/history?field=notes", token)[1] == []


def test_order_moments_read_as_strptime_reads_them() -> None:
    # import_columns.moment skips strptime for DD.MM.YYYY[ HH:MM[:SS]]; it must agree with it everywhere.
    from clientbase.customers import import_columns as columns

    def by_strptime(raw: str) -> dt.datetime | None:
        for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
            try:
                return dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC)
            except ValueError:
                continue
        return None

    days = ["1.3.2025", "01.03.2025", "29.02.2024", "29.02.2025", "31.04.2025", "00.01.2025", "32.01.2025",
            "01.13.2025", "01.00.2025", "01.01.0000", "1.1.99999"]
    times = ["", " 9:05", " 09:30", " 23:59:59", " 24:00", " 12:60", " 0:0:0", " 12:00:60", " 12:00:61", "  09:30",
             " 9:5", " 123:00", " 12:00:"]
    for raw in (day + time for day in days for time in times):
        expected = by_strptime(raw)
        try:
            got: dt.datetime | None = columns.moment(raw, dt.UTC)
        except columns.CellError:
            got = None
        if expected is not None or got is None:
            assert got == expected, raw
        else:  # strptime refuses, fromisoformat may still read it: whatever it is, not the fast path's answer
            assert columns._dotted_moment(raw) is None, raw
