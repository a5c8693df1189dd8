"""Figures rebuilt for a customer while tills record that customer's purchases lose no purchase (PostgreSQL).

A merge rebuilds figures from the orders (``recompute_customers``) and an order import counts a batch in
(``add_new_orders``); both read and write back whole rows while a till's purchase adds to them.
"""

import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction

from clientbase.customers.tests.builders import make_customer
from clientbase.sales import figures
from clientbase.sales.tests.builders import make_order

PURCHASES = 12


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="SQLite serializes writers (IMMEDIATE transactions)")
@pytest.mark.django_db(transaction=True)
def test_rebuilds_racing_purchases_lose_nothing(monkeypatch: Any) -> None:
    customer = make_customer()
    make_order(customer=customer)
    computed = figures.compute

    def slow_compute(customer_ids: list[int]) -> dict[int, figures.Computed]:
        result = computed(customer_ids)
        time.sleep(0.02)  # widen the window between reading the orders and writing the figures
        return result

    monkeypatch.setattr(figures, "compute", slow_compute)
    stop = threading.Event()
    errors: list[BaseException] = []

    def till() -> None:
        try:
            for _ in range(PURCHASES):
                make_order(customer=customer)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            stop.set()
            connection.close()

    def rebuilder() -> None:
        try:
            while not stop.is_set():
                with transaction.atomic():
                    figures.recompute_customers([customer.pk])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=till), threading.Thread(target=rebuilder)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(figures.drift([customer.pk])) == []
    assert figures.CustomerFigures.objects.get(pk=customer.pk).orders == PURCHASES + 1
