from datetime import datetime
from decimal import Decimal
from typing import Any

from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.loyalty.gifts import enroll
from clientbase.loyalty.models import Program, Tier
from clientbase.loyalty.rules import Basket, BasketLine

_counter = iter(range(1, 10**9))


def make_program(*, slug: str | None = None, earn_percent: Decimal | int = 10, point_value: int = 100,
                 **fields: Any) -> Program:
    n = next(_counter)
    return Program.objects.create(name=fields.pop("name", f"Program {n}"), slug=slug or f"program-{n}",
                                  earn_percent=Decimal(earn_percent), point_value=point_value, **fields)


def make_tier(program: Program, *, name: str = "Silver", threshold: int = 0, multiplier_percent: int = 100) -> Tier:
    return Tier.objects.create(program=program, name=name, threshold=threshold, multiplier_percent=multiplier_percent)


def make_member(program: Program, *, at: datetime | None = None, phone: str | None = None,
                **fields: Any) -> Customer:
    customer = make_customer(phone=phone or f"+7916{next(_counter):07d}", **fields)
    enroll(program, customer.pk, at=at)
    return customer


def basket(*amounts: int, skus: list[str] | None = None, reward: tuple[int, ...] = (), category: str = "",
           paid_with_points: int = 0, quantity: int = 1) -> Basket:
    """A basket of lines with the given paid amounts in kopecks (sku-1, sku-2, … unless named)."""
    names = skus or [f"sku-{i + 1}" for i in range(len(amounts))]
    return Basket(lines=[BasketLine(sku=name, amount=amount, quantity=quantity, category=category,
                                    reward=i in reward)
                         for i, (name, amount) in enumerate(zip(names, amounts, strict=True))],
                  paid_with_points=paid_with_points)
