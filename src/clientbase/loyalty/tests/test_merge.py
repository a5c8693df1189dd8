"""Merge and unmerge carry ledgers and lots exactly (docs/loyalty.md, "Merge and unmerge")."""

from datetime import timedelta

from clientbase.access.actor import SYSTEM
from clientbase.core.clock import now
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.merges import merge_customers
from clientbase.identity.unmerge import unmerge
from clientbase.loyalty import services
from clientbase.loyalty.audit import audit
from clientbase.loyalty.gifts import enroll
from clientbase.loyalty.models import Account, LedgerEntry, Lot
from clientbase.loyalty.tests.builders import basket, make_member, make_program


def balances(program, *customers) -> list[int]:
    return [Account.objects.get(program=program, customer=c).balance for c in customers]


def test_merge_sums_the_ledgers_and_unmerge_splits_them_back() -> None:
    program = make_program(earn_percent=10, max_redeem_percent=100)
    survivor, absorbed = make_member(program), make_member(program)
    services.earn(program, survivor.pk, basket(100_000), operation_id="s1")
    services.earn(program, absorbed.pk, basket(70_000), operation_id="a1")
    services.redeem(program, absorbed.pk, 20, operation_id="a-spend")
    before = {c.pk: sorted(LedgerEntry.objects.filter(customer=c).values_list("pk", flat=True))
              for c in (survivor, absorbed)}
    merge = merge_customers(survivor, absorbed, actor=SYSTEM)
    assert balances(program, survivor, absorbed) == [150, 0]
    assert audit().clean
    unmerge(merge, actor=SYSTEM)
    assert balances(program, survivor, absorbed) == [100, 50]
    assert {c.pk: sorted(LedgerEntry.objects.filter(customer=c).values_list("pk", flat=True))
            for c in (survivor, absorbed)} == before
    assert audit().clean


def test_points_of_the_absorbed_side_spent_after_the_merge_are_restored_to_it_and_charged_to_the_spender() -> None:
    program = make_program(earn_percent=10, max_redeem_percent=100, lot_expiry_days=365)
    survivor, absorbed = make_member(program), make_member(program)
    services.earn(program, absorbed.pk, basket(100_000), operation_id="a1", at=now() - timedelta(days=100))
    services.earn(program, survivor.pk, basket(50_000), operation_id="s1")
    merge = merge_customers(survivor, absorbed, actor=SYSTEM)
    # The absorbed side's lot expires first, so this spending takes 100 of its points and 20 of the survivor's.
    services.redeem(program, survivor.pk, 120, operation_id="after-merge")
    assert balances(program, survivor, absorbed) == [30, 0]
    unmerge(merge, actor=SYSTEM)
    # The absorbed side has its 100 points back in the same lot; the survivor pays for what it spent:
    # 30 of its own points, the missing 70 forgiven (recorded as unrecovered) since it may not go negative.
    assert balances(program, survivor, absorbed) == [0, 100]
    absorbed_lot = Lot.objects.get(customer=absorbed)
    assert absorbed_lot.remaining == 100
    assert sum(LedgerEntry.objects.filter(customer=survivor).values_list("unrecovered", flat=True)) == 70
    assert audit().clean


def test_a_lot_of_the_absorbed_side_expired_after_the_merge_is_reopened_for_it_and_paid_back_to_the_survivor() -> None:
    from clientbase.loyalty.expiry import expire_points

    program = make_program(earn_percent=10, max_redeem_percent=100, lot_expiry_days=30)
    survivor, absorbed = make_member(program), make_member(program)
    services.earn(program, absorbed.pk, basket(100_000), operation_id="a1", at=now() - timedelta(days=40))
    services.earn(program, survivor.pk, basket(50_000), operation_id="s1")
    merge = merge_customers(survivor, absorbed, actor=SYSTEM)
    assert expire_points(program).lots == 1
    lot = Lot.objects.get(customer=survivor, expired=100)
    assert lot.expired_by is not None and lot.expired_by.customer_id == survivor.pk
    assert balances(program, survivor, absorbed) == [50, 0]
    assert audit().clean
    unmerge(merge, actor=SYSTEM)
    # The survivor's expiry entry is paid back; the absorbed side's lot is open again with its old date.
    assert balances(program, survivor, absorbed) == [50, 100]
    lot.refresh_from_db()
    assert (lot.customer_id, lot.remaining, lot.expired, lot.expired_by_id) == (absorbed.pk, 100, 0, None)
    assert audit().clean
    assert expire_points(program).lots == 1
    assert balances(program, survivor, absorbed) == [50, 0]
    assert audit().clean


def test_a_registered_survivor_is_credited_for_a_one_click_buyers_orders_after_the_merge() -> None:
    from clientbase.sales.services import record_purchase

    program = make_program(earn_percent=10, retro_days=90)
    buyer = make_customer(phone="+79160000002")
    record_purchase(buyer, {"order_id": "A-1", "lines": [{"sku": "bean-1", "name": "Beans", "quantity": 2,
                                                          "price": 50_000}], "payment_status": "paid"},
                    source="pos", occurred_at=now() - timedelta(days=3))
    member = make_customer(phone="+79160000003")
    enroll(program, member.pk)
    merge_customers(member, buyer, actor=SYSTEM)
    assert balances(program, member) == [100]
    assert audit().clean


def test_enrolling_later_credits_recent_purchases_once() -> None:
    from clientbase.sales.services import record_purchase

    program = make_program(earn_percent=10, retro_days=30, welcome_bonus=25)
    buyer = make_customer(phone="+79160000004")
    for n, days in enumerate((5, 60)):
        record_purchase(buyer, {"order_id": f"B-{n}", "lines": [{"sku": "cup", "name": "Cup", "quantity": 1,
                                                                 "price": 30_000}], "payment_status": "paid"},
                        source="pos", occurred_at=now() - timedelta(days=days))
    assert enroll(program, buyer.pk) == {"welcome_bonus": 25, "credited_orders": 1}
    assert enroll(program, buyer.pk) == {"welcome_bonus": 25, "credited_orders": 0}
    assert balances(program, buyer) == [25 + 30]
