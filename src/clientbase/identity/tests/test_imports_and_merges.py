"""Imports beside merges and ingest (identity.locks): an import batch and a merge of a customer it names end
as one after the other, and an import and an event never give one identifier two customers.

The customer import is an identity writer (it adds identifiers and customers) and takes the exclusive
identity lock per batch; the order import holds the customers its orders go to (``held_owners``). Before,
an order imported while a merge ran was filed, with its figures, under the tombstone, a customer row
imported meanwhile was written on the tombstone, and an import adding a phone an event had just brought
failed on the unique constraint.
"""

from pathlib import Path

import pytest
from django.db import transaction

from clientbase.access.actor import SYSTEM
from clientbase.core.text import search_key
from clientbase.customers import services as customer_services
from clientbase.customers.importing import import_customers
from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.locks import held_owners
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Identifier
from clientbase.identity.tests.test_held_customers import POSTGRES_ONLY, _one_after_the_other
from clientbase.interactions.ingest import ingest_events
from clientbase.sales import figures
from clientbase.sales.importing import import_orders
from clientbase.sales.models import CustomerFigures, Order

pytestmark = pytest.mark.django_db


def _orders_file(tmp_path: Path, phone: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("Номер заказа;Дата;Телефон;Артикул;Количество;Цена\n"
                    f"M-1;01.03.2025 09:30;{phone};LATTE;2;250\n", "utf-8")
    return path


def _customers_file(tmp_path: Path, phone: str, city: str, first_name: str = "") -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(f"Телефон;Город;Имя\n{phone};{city};{first_name}\n", "utf-8")
    return path


def test_held_owners_finds_the_holders_of_stored_identifiers() -> None:
    ivan, olga = make_customer(phone="+79165550061"), make_customer(phone="+79165550062")
    with transaction.atomic():
        owners = held_owners({("phone", "+79165550061"), ("phone", "+79165550062"), ("phone", "+79165550069")})
    assert owners == {("phone", "+79165550061"): ivan.pk, ("phone", "+79165550062"): olga.pk}


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_held_owners_needs_a_transaction() -> None:
    make_customer(phone="+79165550063")
    with pytest.raises(RuntimeError, match="inside one"):
        held_owners({("phone", "+79165550063")})


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_orders_imported_during_a_merge_of_their_customer_go_to_the_survivor(tmp_path: Path) -> None:
    survivor, absorbed = make_customer(phone="+79165550071"), make_customer(phone="+79165550072")
    path = _orders_file(tmp_path, "+79165550072")
    _, imported = _one_after_the_other(lambda: merge_customers(survivor, absorbed, actor=SYSTEM),
                                       lambda: import_orders(path, mode="valid-rows"))
    assert not isinstance(imported, Exception), imported
    assert imported.created == 1
    assert Order.objects.get(number="M-1").customer_id == survivor.pk
    assert CustomerFigures.objects.get(pk=survivor.pk).orders == 1
    assert not CustomerFigures.objects.filter(pk=absorbed.pk, orders__gt=0).exists()
    assert list(figures.drift([survivor.pk, absorbed.pk])) == []


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_merge_waits_for_an_order_import_and_carries_its_orders(tmp_path: Path) -> None:
    survivor, absorbed = make_customer(phone="+79165550073"), make_customer(phone="+79165550074")
    path = _orders_file(tmp_path, "+79165550074")
    imported, merged = _one_after_the_other(lambda: import_orders(path, mode="all-or-nothing"),
                                            lambda: merge_customers(survivor, absorbed, actor=SYSTEM))
    assert not isinstance(merged, Exception), merged
    assert imported.created == 1
    assert Order.objects.get(number="M-1").customer_id == survivor.pk
    assert CustomerFigures.objects.get(pk=survivor.pk).orders == 1
    assert list(figures.drift([survivor.pk, absorbed.pk])) == []


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_customer_row_imported_during_a_merge_updates_the_survivor(tmp_path: Path) -> None:
    survivor, absorbed = make_customer(phone="+79165550075"), make_customer(phone="+79165550076")
    path = _customers_file(tmp_path, "+79165550076", "Тверь")
    _, imported = _one_after_the_other(lambda: merge_customers(survivor, absorbed, actor=SYSTEM),
                                       lambda: import_customers(path, actor=SYSTEM, mode="valid-rows"))
    assert not isinstance(imported, Exception), imported
    assert (imported.created, imported.updated) == (0, 1)
    assert Customer.objects.get(pk=survivor.pk).city == "Тверь"
    assert Customer.objects.get(pk=absorbed.pk).city == ""


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_an_import_and_an_event_bringing_one_new_phone_make_one_customer(tmp_path: Path) -> None:
    """The event's transaction created the customer and the phone; the import, waiting for it, finds them
    (before, it created a second customer and failed on the identifiers' unique constraint)."""
    event = {"id": "e-1", "source": "site", "type": "visit", "channel": "web",
             "occurred_at": "2026-11-01T10:00:00+03:00", "identifiers": {"phone": "+79165550077"}}
    path = _customers_file(tmp_path, "+79165550077", "Тверь")
    ingested, imported = _one_after_the_other(lambda: ingest_events([event], actor=SYSTEM),
                                              lambda: import_customers(path, actor=SYSTEM, mode="valid-rows"))
    assert not isinstance(imported, Exception), imported
    assert (imported.created, imported.updated) == (0, 1)
    owner = Identifier.objects.get(kind="phone", value="+79165550077").customer
    assert (owner.pk, owner.city) == (ingested.results[0].customer_id, "Тверь")
    assert Customer.objects.count() == 1


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_customer_import_waits_for_a_profile_edit_and_builds_on_it(tmp_path: Path) -> None:
    """The import reads the customer once it holds it: the edit's last name is in the search key the
    import writes with its first name (read before the edit committed, the key was built from the old one)."""
    ivan = make_customer(phone="+79165550078", last_name="Петров", first_name="")
    path = _customers_file(tmp_path, "+79165550078", "", first_name="Иван")
    _, imported = _one_after_the_other(
        lambda: customer_services.update_customer(ivan, {"last_name": "Сидоров"}, actor=SYSTEM),
        lambda: import_customers(path, actor=SYSTEM, mode="valid-rows"))
    assert not isinstance(imported, Exception), imported
    ivan.refresh_from_db()
    assert (ivan.last_name, ivan.first_name) == ("Сидоров", "Иван")
    assert ivan.search_key == search_key("Сидоров", "Иван", "")


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_a_dry_run_takes_no_identity_lock(tmp_path: Path, kind: str) -> None:
    """A preview stores nothing, so it does not wait for the identity lock (here a merge of two other
    customers holds it), nor make events and merges wait for it while it runs."""
    survivor, absorbed = make_customer(phone="+79165550080"), make_customer(phone="+79165550081")
    make_customer(phone="+79165550079")
    path = (_customers_file(tmp_path, "+79165550079", "Тверь") if kind == "customers"
            else _orders_file(tmp_path, "+79165550079"))
    _, previewed = _one_after_the_other(
        lambda: merge_customers(survivor, absorbed, actor=SYSTEM),
        lambda: (import_customers(path, actor=SYSTEM, dry_run=True) if kind == "customers"
                 else import_orders(path, dry_run=True)), waits=False)
    assert not isinstance(previewed, Exception), previewed
    assert previewed.stored is False


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_an_order_import_batch_waits_for_a_bulk_ingest_batch(tmp_path: Path) -> None:
    """A bulk ingest batch (exclusive identity lock) updates customers in its own order; an order import
    batch holding thousands of customers in id order could deadlock with it, so it takes the identity lock
    in shared mode first and runs before or after the batch, even when they share no customer."""
    customer = make_customer(phone="+79165550082")
    path = _orders_file(tmp_path, "+79165550082")
    event = {"id": "e-2", "source": "site", "type": "visit", "channel": "web",
             "occurred_at": "2026-11-01T10:00:00+03:00", "identifiers": {"phone": "+79165550083"}}
    _, imported = _one_after_the_other(lambda: ingest_events([event], actor=SYSTEM),
                                       lambda: import_orders(path, mode="valid-rows"))
    assert not isinstance(imported, Exception), imported
    assert Order.objects.get(number="M-1").customer_id == customer.pk
