"""Regression tests for the known failures: refunds that keep points, refunds deducted twice, reward lines."""

from datetime import timedelta

from clientbase.core.clock import now
from clientbase.loyalty import services
from clientbase.loyalty.audit import audit
from clientbase.loyalty.expiry import expire_points
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry
from clientbase.loyalty.tests.builders import basket, make_member, make_program


def balance(program, customer) -> int:
    return Account.objects.get(program=program, customer=customer).balance


def test_a_refund_removes_the_points_it_earned_once() -> None:
    program = make_program(earn_percent=10)
    customer = make_member(program)
    services.earn(program, customer.pk, basket(100_000), operation_id="purchase:o1", order_ref="o1")
    services.earn(program, customer.pk, basket(20_000), operation_id="purchase:o2", order_ref="o2")
    assert balance(program, customer) == 120
    services.reverse_return(program, order_ref="o1", operation_id="return:r1", returned=None)
    assert balance(program, customer) == 20
    # The same return again, and a second return of the same (already returned) order: nothing more.
    services.reverse_return(program, order_ref="o1", operation_id="return:r1", returned=None)
    services.reverse_return(program, order_ref="o1", operation_id="return:r2", returned=None)
    assert balance(program, customer) == 20
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1
    assert audit().clean


def test_partial_returns_add_up_to_exactly_what_was_earned() -> None:
    program = make_program(earn_percent=7)
    customer = make_member(program)
    earned = services.earn(program, customer.pk, basket(33_333, quantity=3), operation_id="p", order_ref="o")
    assert earned is not None and earned.points == 23
    for n in range(3):
        services.reverse_return(program, order_ref="o", operation_id=f"r{n}", returned={"sku-1": 1})
    assert balance(program, customer) == 0
    assert -sum(LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).values_list("points", flat=True)) == 23


def test_a_reward_line_earns_nothing_and_its_return_takes_nothing() -> None:
    program = make_program(earn_percent=10)
    customer = make_member(program)
    services.earn(program, customer.pk, basket(50_000, 30_000, reward=(1,)), operation_id="p", order_ref="o")
    assert balance(program, customer) == 50
    services.reverse_return(program, order_ref="o", operation_id="r", returned={"sku-2": 1})
    assert balance(program, customer) == 50


def test_spent_points_returned_when_balance_may_not_go_negative_are_forgiven_and_recorded() -> None:
    program = make_program(earn_percent=10, max_redeem_percent=100)
    customer = make_member(program)
    services.earn(program, customer.pk, basket(100_000), operation_id="p1", order_ref="o1")
    services.redeem(program, customer.pk, 80, operation_id="spend")
    services.reverse_return(program, order_ref="o1", operation_id="r1", returned=None)
    entry = LedgerEntry.objects.get(kind=EntryKind.REVERSAL)
    assert (entry.points, entry.unrecovered, entry.owed) == (-20, 80, 0)
    assert balance(program, customer) == 0
    assert audit().clean


def test_spent_points_returned_where_negative_is_allowed_go_below_zero_and_are_paid_back() -> None:
    program = make_program(earn_percent=10, max_redeem_percent=100, allow_negative=True)
    customer = make_member(program)
    services.earn(program, customer.pk, basket(100_000), operation_id="p1", order_ref="o1")
    services.redeem(program, customer.pk, 80, operation_id="spend")
    services.reverse_return(program, order_ref="o1", operation_id="r1", returned=None)
    acc = Account.objects.get(program=program, customer=customer)
    assert (acc.balance, acc.owed) == (-80, 80)
    services.earn(program, customer.pk, basket(50_000), operation_id="p2", order_ref="o2")
    acc.refresh_from_db()
    assert (acc.balance, acc.owed) == (-30, 30)
    services.earn(program, customer.pk, basket(50_000), operation_id="p3", order_ref="o3")
    acc.refresh_from_db()
    assert (acc.balance, acc.owed) == (20, 0)
    assert audit().clean


def test_points_an_order_was_paid_with_come_back_in_proportion_when_it_is_returned() -> None:
    program = make_program(earn_percent=10, max_redeem_percent=100)
    customer = make_member(program)
    services.earn(program, customer.pk, basket(200_000), operation_id="p0", order_ref="o0")
    services.redeem(program, customer.pk, 100, operation_id="redeem:o1", order_ref="o1", basket_amount=40_000)
    # 400 RUB basket: 100 RUB paid with points, two lines of 200 RUB; the other 300 RUB earn 30 points.
    services.earn(program, customer.pk, basket(20_000, 20_000, paid_with_points=10_000), operation_id="p1",
                  order_ref="o1")
    assert balance(program, customer) == 200 - 100 + 30
    services.reverse_return(program, order_ref="o1", operation_id="r1", returned={"sku-1": 1})
    # Half the order back: half its earning (15) taken, half the points spent on it (50) given back.
    assert balance(program, customer) == 130 - 15 + 50
    services.reverse_return(program, order_ref="o1", operation_id="r2", returned={"sku-2": 1})
    assert balance(program, customer) == 200
    assert audit().clean


def test_a_return_does_not_take_points_that_already_expired() -> None:
    program = make_program(earn_percent=10, lot_expiry_days=30)
    customer = make_member(program)
    t0 = now() - timedelta(days=40)
    services.earn(program, customer.pk, basket(100_000), operation_id="p1", order_ref="o1", at=t0)
    services.earn(program, customer.pk, basket(50_000), operation_id="p2", order_ref="o2")
    assert expire_points(program).lots == 1
    assert balance(program, customer) == 50
    services.reverse_return(program, order_ref="o1", operation_id="r1", returned=None)
    assert balance(program, customer) == 50
    assert audit().clean
