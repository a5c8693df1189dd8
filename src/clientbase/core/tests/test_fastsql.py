import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models.signals import post_init
from django.forms.models import model_to_dict

from clientbase.core import fastinsert, fastsql
from clientbase.customers.models import Customer
from clientbase.loyalty.models import LedgerEntry, Lot, Program

AT = dt.datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def _fields(obj: object) -> dict[str, object]:
    values = model_to_dict(obj)  # type: ignore[arg-type]
    values.pop("id")
    return values


@pytest.fixture
def owner(db: None) -> tuple[Program, Customer]:
    return Program.objects.create(name="Зёрна", slug="zerna"), Customer.objects.create(first_name="Анна")


def test_create_stores_what_the_orm_stores(owner: tuple[Program, Customer]) -> None:
    program, customer = owner
    values = {"program": program, "customer": customer, "kind": "accrual", "points": 12, "operation_id": "op-1",
              "basket": {"lines": [{"sku": "латте", "paid": 25000}]}, "created_at": AT}
    ours = fastsql.create(LedgerEntry(**values))
    assert ours.pk is not None and not ours._state.adding
    theirs = LedgerEntry.objects.create(**{**values, "operation_id": "op-2"})
    stored_ours = _fields(LedgerEntry.objects.get(pk=ours.pk))
    stored_theirs = _fields(LedgerEntry.objects.get(pk=theirs.pk))
    assert stored_ours == {**stored_theirs, "operation_id": "op-1"}
    assert stored_ours["created_at"] == AT


def test_fetch_reads_what_a_queryset_reads(owner: tuple[Program, Customer]) -> None:
    program, customer = owner
    lot = Lot.objects.create(program=program, customer=customer, points=10, remaining=7, active=False,
                             expires_at=AT, created_at=AT)
    found = fastsql.fetch(Lot, "customer_id = %s AND program_id = %s", (customer.pk, program.pk), lock=True)
    assert [_fields(x) for x in found] == [_fields(Lot.objects.get(pk=lot.pk))]
    assert found[0].expires_at == AT and found[0].expires_at.tzinfo is not None and found[0].active is False
    assert fastsql.fetch_one(Lot, "id = %s", (lot.pk + 1,)) is None


def test_fetch_in_reads_what_filter_in_reads(owner: tuple[Program, Customer]) -> None:
    _, first = owner
    others = [Customer.objects.create(last_name=f"Ли {n}", custom={"n": n}, children=[{"name": "Ян"}]) for n in range(3)]
    wanted = [first.pk, others[2].pk, others[0].pk, 10**9]  # unordered, one missing
    ours = sorted(fastsql.fetch_in(Customer, "id", wanted), key=lambda c: c.pk)
    theirs = list(Customer.objects.filter(pk__in=wanted).order_by("pk"))
    assert [_fields(c) for c in ours] == [_fields(c) for c in theirs] and len(ours) == 3
    assert [c.created_at for c in ours] == [c.created_at for c in theirs]
    assert all(not c._state.adding for c in ours)
    assert fastsql.fetch_in(Customer, "id", []) == []
    # Thousands of ids are one parameter: the statement's text is the same for any number.
    assert len(fastsql.fetch_in(Customer, "id", [*range(10**9, 10**9 + 40_000), first.pk])) == 1
    assert fastinsert.ids_match("id", [1])[0] == fastinsert.ids_match("id", [1, 2, 3])[0]


def test_fetched_instances_without_init_behave_as_the_orms(owner: tuple[Program, Customer]) -> None:
    """``built`` skips ``Model.__init__``: the instance still reads, compares, saves and refreshes as one
    the ORM made, its empty JSON values are fresh objects, and its foreign key's object loads."""
    program, customer = owner
    Customer.objects.filter(pk=customer.pk).update(custom={}, children=[])
    [ours] = fastsql.fetch_in(Customer, "id", [customer.pk])
    theirs = Customer.objects.get(pk=customer.pk)
    assert ours == theirs and _fields(ours) == _fields(theirs) and ours._state.db == "default"
    assert ours.custom == {} and ours.custom is not fastsql.fetch_in(Customer, "id", [customer.pk])[0].custom
    ours.custom["n"] = 1
    ours.first_name = "Аня"
    ours.save()
    assert Customer.objects.get(pk=customer.pk).custom == {"n": 1}
    ours.refresh_from_db()
    assert ours.first_name == "Аня"
    lot = Lot.objects.create(program=program, customer=customer, points=1, remaining=1, expires_at=AT, created_at=AT)
    [found] = fastsql.fetch(Lot, "id = %s", (lot.pk,))
    assert found.customer == customer and found.program.name == "Зёрна"


def test_a_model_whose_init_is_listened_to_is_built_through_from_db(owner: tuple[Program, Customer]) -> None:
    _, customer = owner
    seen: list[object] = []

    def listener(sender: type, instance: object, **kwargs: object) -> None:
        seen.append(instance)
    post_init.connect(listener, sender=Customer)
    try:
        [ours] = fastsql.fetch_in(Customer, "id", [customer.pk])
    finally:
        post_init.disconnect(listener, sender=Customer)
    assert seen == [ours] and not ours._state.adding


def test_execute_counts_rows_and_constraint_errors_are_djangos(owner: tuple[Program, Customer]) -> None:
    program, customer = owner
    lot = fastsql.create(Lot(program=program, customer=customer, points=5, remaining=5, created_at=AT))
    assert fastsql.execute("UPDATE loyalty_lot SET remaining = remaining - %s WHERE id = %s AND remaining >= %s",
                           (3, lot.pk, 3)) == 1
    assert fastsql.execute("UPDATE loyalty_lot SET remaining = remaining - %s WHERE id = %s AND remaining >= %s",
                           (3, lot.pk, 3)) == 0
    fastsql.create(LedgerEntry(program=program, customer=customer, kind="bonus", operation_id="once", created_at=AT))
    with pytest.raises(IntegrityError), transaction.atomic():
        fastsql.create(LedgerEntry(program=program, customer=customer, kind="bonus", operation_id="once",
                                   created_at=AT))
    assert LedgerEntry.objects.filter(operation_id="once").count() == 1


def test_rows_each_gives_each_statements_rows_in_one_round_trip(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    Customer.objects.create(first_name="Анна")
    Customer.objects.create(first_name="Иван")
    sent: list[str] = []
    original = fastsql._run

    def counted(sql: str, params: list[object]) -> object:
        sent.append(sql)
        return original(sql, params)

    monkeypatch.setattr(fastsql, "_run", counted)
    table = Customer._meta.db_table
    found = fastsql.rows_each([
        (f"SELECT first_name FROM {table} WHERE first_name = %s", ["Анна"]),
        (f"SELECT first_name FROM {table} WHERE first_name LIKE %s ORDER BY first_name", ["%"]),
        (f"SELECT first_name FROM {table} WHERE first_name = %s", ["nobody"]),
    ])
    assert found == [[("Анна",)], [("Анна",), ("Иван",)], []]
    assert len(sent) == (1 if fastsql.connection.vendor == "postgresql" else 3)


@pytest.mark.django_db(transaction=True)
def test_rows_each_raises_the_first_error_as_djangos_and_the_block_rolls_back(transactional_db: None) -> None:
    customer = Customer.objects.create(first_name="Анна")
    table = Customer._meta.db_table
    with pytest.raises(DatabaseError, match="no_such_table"), transaction.atomic():
        fastsql.rows_each([
            (f"UPDATE {table} SET first_name = %s WHERE id = %s RETURNING id", ["Ирина", customer.pk]),
            ("SELECT 1 FROM no_such_table", []),
            (f"UPDATE {table} SET first_name = %s WHERE id = %s RETURNING id", ["Мария", customer.pk]),
        ])
    assert Customer.objects.get(pk=customer.pk).first_name == "Анна"


def _sent_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements sent (each one round trip on PostgreSQL, counted at the driver, where ``fastsql``'s
    own cursor goes too; SQLite's driver cursor cannot be patched, so Django's wrapper counts there)."""
    from django.db import connections

    connection = connections["default"]
    connection.ensure_connection()
    sent: list[str] = []
    if connection.vendor != "postgresql":
        def wrapper(run: Any, sql: str, *rest: Any) -> Any:
            sent.append(sql)
            return run(sql, *rest)

        monkeypatch.setattr(connection, "execute_wrappers", [*connection.execute_wrappers, wrapper])
        return sent
    cursor_class = type(connection.connection.cursor())
    original = cursor_class.execute

    def execute(self: object, query: str, *args: object, **kwargs: object) -> object:
        sent.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(cursor_class, "execute", execute)
    return sent


def test_together_sends_unread_writes_as_one_message_in_order(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Customer.objects.create(first_name="Анна"), Customer.objects.create(first_name="Иван")
    sent = _sent_statements(monkeypatch)
    with fastsql.together():
        fastinsert.update_rows(Customer, ["first_name"], [(first.pk, "Ирина")])
        fastinsert.update_rows(Customer, ["first_name"], [(first.pk, "Мария"), (second.pk, "Пётр")])
        fastinsert.insert([Customer(first_name="Олег")])
        if fastsql.connection.vendor == "postgresql":
            assert sent == []  # nothing sent before the block ends
    assert len(sent) == (1 if fastsql.connection.vendor == "postgresql" else 3)
    assert sorted(Customer.objects.values_list("first_name", flat=True)) == ["Мария", "Олег", "Пётр"]


def test_together_sends_what_waits_before_a_copy(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = Customer.objects.create(first_name="Анна")
    with fastsql.together():
        fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Ирина")])
        # Many rows go by COPY on PostgreSQL, which cannot join the message: the update goes first.
        fastinsert.insert([Customer(first_name=f"Гость {n}") for n in range(fastinsert.FEW + 5)])
        assert Customer.objects.get(pk=customer.pk).first_name == "Ирина"
    assert Customer.objects.count() == fastinsert.FEW + 6


@pytest.mark.django_db(transaction=True)
def test_together_raises_a_waiting_writes_error_at_its_end_and_drops_them_if_the_block_fails(
        transactional_db: None) -> None:
    customer = Customer.objects.create(first_name="Анна")
    with pytest.raises(IntegrityError), transaction.atomic(), fastsql.together():
        fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Ирина")])
        fastinsert.update_rows(Customer, ["merged_into_id"], [(customer.pk, 10**9)])  # no such customer
    assert Customer.objects.get(pk=customer.pk).first_name == "Анна"
    with pytest.raises(RuntimeError, match="the block"), transaction.atomic(), fastsql.together():
        fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Мария")])
        raise RuntimeError("the block failed")
    assert Customer.objects.get(pk=customer.pk).first_name == "Анна"


def test_together_writes_travel_in_front_of_the_next_read_and_before_an_orm_statement(
        db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = Customer.objects.create(first_name="Анна")
    sent = _sent_statements(monkeypatch)
    table = Customer._meta.db_table
    with fastsql.together():
        fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Ирина")])
        assert fastsql.rows(f"SELECT first_name FROM {table} WHERE id = %s", [customer.pk]) == [("Ирина",)]
        fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Мария")])
        assert Customer.objects.get(pk=customer.pk).first_name == "Мария"  # the ORM's read sees it too
    postgres = fastsql.connection.vendor == "postgresql"
    assert len(sent) == (3 if postgres else 4)  # update + read as one message; update; the ORM's read
    if postgres:
        assert sent[0].startswith("UPDATE") and "SELECT first_name" in sent[0]


@pytest.mark.django_db(transaction=True)
def test_together_can_end_the_transaction_with_its_writes(transactional_db: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connections

    customer = Customer.objects.create(first_name="Анна")
    sent = _sent_statements(monkeypatch)
    with transaction.atomic():
        fastsql.rows("SELECT 1", [])
        with fastsql.together(commit=True):
            fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Ирина")])
        if fastsql.connection.vendor == "postgresql":
            assert sent[-1].endswith("COMMIT")  # the update and the COMMIT: one message
            assert connections["default"].connection.info.transaction_status.name == "IDLE"
    assert Customer.objects.get(pk=customer.pk).first_name == "Ирина"
    # Inside a savepoint the block does not end the transaction: the outer block's rollback undoes it.
    with pytest.raises(RuntimeError), transaction.atomic():
        with transaction.atomic(), fastsql.together(commit=True):
            fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Мария")])
        raise RuntimeError("the outer block fails")
    assert Customer.objects.get(pk=customer.pk).first_name == "Ирина"


@pytest.mark.django_db(transaction=True)
def test_together_outside_an_atomic_block_writes_at_once(transactional_db: None) -> None:
    customer = Customer.objects.create(first_name="Анна")
    with fastsql.together():
        fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Ирина")])
        assert fastsql.connection.in_atomic_block is False
        with fastsql.connection.cursor() as cursor:
            cursor.execute(f"SELECT first_name FROM {Customer._meta.db_table} WHERE id = %s", [customer.pk])
            assert cursor.fetchone() == ("Ирина",)


def test_together_drops_what_waits_at_a_rollback_to_its_savepoint(db: None) -> None:
    if fastsql.connection.vendor != "postgresql":
        pytest.skip("writes wait only on PostgreSQL; elsewhere the failing write fails at its call")
    customer = Customer.objects.create(first_name="Анна")
    with fastsql.together():
        fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, "Ирина")])
        with pytest.raises(RuntimeError), transaction.atomic():  # its SAVEPOINT sends the update first
            fastinsert.update_rows(Customer, ["first_name"], [(customer.pk, None)])  # NOT NULL: would fail if sent
            raise RuntimeError("undo the savepoint")
        fastinsert.update_rows(Customer, ["last_name"], [(customer.pk, "Петрова")])
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("Ирина", "Петрова")
