from datetime import timedelta

import pytest

from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.loyalty import services
from clientbase.loyalty.audit import audit
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry, Lot, LotConsumption
from clientbase.loyalty.tests.builders import basket, make_member, make_program


def account(program, customer) -> Account:
    return Account.objects.get(program=program, customer=customer)


def test_purchase_earns_percent_of_paid_amount_rounded_down() -> None:
    program = make_program(earn_percent=10)
    customer = make_member(program)
    entry = services.earn(program, customer.pk, basket(123_456, 9_999), operation_id="p1", order_ref="o1")
    # 10% of 1234.56 RUB = 123 points; 10% of 99.99 RUB = 9 points (per line, rounded down)
    assert entry is not None and entry.points == 132
    assert account(program, customer).balance == 132
    assert audit().clean


def test_same_operation_twice_is_one_operation() -> None:
    program = make_program()
    customer = make_member(program)
    first = services.earn(program, customer.pk, basket(10_000), operation_id="p1")
    second = services.earn(program, customer.pk, basket(10_000), operation_id="p1")
    assert first == second
    assert LedgerEntry.objects.filter(kind=EntryKind.ACCRUAL).count() == 1
    assert account(program, customer).balance == 10


def test_reward_line_and_points_paid_part_earn_nothing() -> None:
    program = make_program(earn_percent=10)
    customer = make_member(program)
    entry = services.earn(program, customer.pk, basket(10_000, 5_000, reward=(1,), paid_with_points=5_000),
                          operation_id="p1")
    # 150 RUB basket, 50 RUB paid with points spread 2:1 over the lines; the reward line earns nothing:
    # line 1 earns 10% of (100 - 33.34) RUB = 6 points.
    assert entry is not None and entry.points == 6


def test_unregistered_customer_earns_nothing() -> None:
    from clientbase.customers.tests.builders import make_customer

    program = make_program()
    customer = make_customer(phone="+79160000001")
    assert services.earn(program, customer.pk, basket(10_000), operation_id="p1") is None
    assert not LedgerEntry.objects.exists()


def test_redemption_takes_soonest_expiring_lots_first() -> None:
    program = make_program(lot_expiry_days=30, max_redeem_percent=100)
    customer = make_member(program)
    t0 = now() - timedelta(days=10)
    services.earn(program, customer.pk, basket(100_000), operation_id="old", at=t0)
    services.earn(program, customer.pk, basket(100_000), operation_id="new", at=t0 + timedelta(days=5))
    entry = services.redeem(program, customer.pk, 150, operation_id="r1")
    taken = sorted(LotConsumption.objects.filter(entry=entry).values_list("lot__created_at", "points"))
    assert [p for _, p in taken] == [100, 50]
    assert account(program, customer).balance == 50
    assert audit().clean


def test_redemption_beyond_limits_is_refused_and_writes_nothing() -> None:
    program = make_program(max_redeem_percent=30, min_balance_to_redeem=5, redeem_step=5)
    customer = make_member(program)
    services.earn(program, customer.pk, basket(1_000_000), operation_id="p1")
    assert account(program, customer).balance == 1000
    assert services.quote(program, customer.pk, 10_000) == {"balance": 1000, "points": 30, "amount": 3000}
    with pytest.raises(DomainValidationError):
        services.redeem(program, customer.pk, 35, operation_id="r1", basket_amount=10_000)
    with pytest.raises(DomainValidationError):
        services.redeem(program, customer.pk, 1001, operation_id="r2")
    with pytest.raises(DomainValidationError):
        services.redeem(program, customer.pk, 7, operation_id="r3")
    assert not LedgerEntry.objects.filter(kind=EntryKind.REDEMPTION).exists()
    assert account(program, customer).balance == 1000


def test_pending_points_activate_after_the_return_window() -> None:
    program = make_program(pending_days=14)
    customer = make_member(program)
    t0 = now() - timedelta(days=20)
    services.earn(program, customer.pk, basket(50_000), operation_id="p1", at=t0)
    acc = account(program, customer)
    assert (acc.balance, acc.pending) == (0, 50)
    assert services.activate_pending(program, at=t0 + timedelta(days=13)) == 0
    assert services.activate_pending(program, at=t0 + timedelta(days=14)) == 1
    acc.refresh_from_db()
    assert (acc.balance, acc.pending) == (50, 0)
    assert services.activate_pending(program, at=t0 + timedelta(days=15)) == 0
    assert audit().clean


def test_adjustment_needs_a_reason_and_never_overdraws() -> None:
    from clientbase.access.tests.builders import make_user

    program = make_program()
    customer = make_member(program)
    staff = make_user()
    services.adjust(program, customer.pk, 40, reason="goodwill", staff_id=staff.pk)
    with pytest.raises(DomainValidationError):
        services.adjust(program, customer.pk, 10, reason=" ", staff_id=staff.pk)
    with pytest.raises(DomainValidationError):
        services.adjust(program, customer.pk, -41, reason="typo", staff_id=staff.pk)
    services.adjust(program, customer.pk, -15, reason="typo", staff_id=staff.pk)
    assert account(program, customer).balance == 25
    assert Lot.objects.get().remaining == 25
    assert audit().clean
