"""Small generated businesses for analytics tests: rows are bulk-created, bypassing the write services."""

import datetime as dt
from collections.abc import Sequence
from itertools import count

import numpy as np

from clientbase.customers.models import Customer
from clientbase.sales.models import Order

_numbers = count(1)
MOSCOW = dt.timezone(dt.timedelta(hours=3))


def make_orders(*, customer: Customer, days: Sequence[dt.date], amount: int = 50000,
                status: str = "completed") -> list[Order]:
    """One order per day given, at noon Moscow time, for ``amount`` kopecks."""
    orders = [Order(customer=customer, source="test", number=f"T-{next(_numbers)}", status=status,
                    placed_at=dt.datetime.combine(day, dt.time(12), tzinfo=MOSCOW), gross_amount=amount,
                    items=1) for day in days]
    return Order.objects.bulk_create(orders)


def make_business(*, customers: int = 40, start: dt.date = dt.date(2025, 1, 1), days: int = 400,
                  seed: int = 1) -> list[Customer]:
    """Customers with periodic, irregular and one-off buying between ``start`` and ``start + days``."""
    rng = np.random.default_rng(seed)
    people = Customer.objects.bulk_create(
        [Customer(first_name=f"Client{i}", last_name="Test", gender="female" if i % 2 else "male",
                  city="Moscow" if i % 3 else "Kazan", birth_date=dt.date(1970 + i % 30, 1 + i % 12, 1))
         for i in range(customers)])
    orders = []
    for i, person in enumerate(people):
        first = float(rng.uniform(0, days * 0.8))
        gap = [7.0, 14.0, 30.0, 60.0][i % 4]
        t = first
        while t < days:
            day = start + dt.timedelta(days=int(t))
            orders.append(Order(customer=person, source="test", number=f"G-{next(_numbers)}", status="completed",
                                placed_at=dt.datetime.combine(day, dt.time(12), tzinfo=MOSCOW),
                                gross_amount=int(rng.integers(20000, 90000)), items=1))
            if i % 5 == 4:
                break
            t += float(rng.gamma(8.0, gap / 8.0))
    Order.objects.bulk_create(orders)
    return people
