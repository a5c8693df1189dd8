from datetime import timedelta

from clientbase.core.clock import now
from clientbase.interactions.models import Event
from clientbase.loyalty import services
from clientbase.loyalty.audit import audit
from clientbase.loyalty.expiry import EXPIRING_EVENT, expire_points, warn_expiring
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry, Lot
from clientbase.loyalty.tests.builders import basket, make_member, make_program


def test_each_lot_expires_after_its_days_in_one_set_based_pass() -> None:
    program = make_program(earn_percent=10, lot_expiry_days=30, max_redeem_percent=100)
    a, b = make_member(program), make_member(program)
    t0 = now() - timedelta(days=31)
    services.earn(program, a.pk, basket(100_000), operation_id="a1", at=t0)
    services.earn(program, a.pk, basket(40_000), operation_id="a2")
    services.earn(program, b.pk, basket(70_000), operation_id="b1", at=t0)
    services.redeem(program, b.pk, 30, operation_id="b-spend", at=t0 + timedelta(days=1))
    result = expire_points(program)
    assert (result.lots, result.points) == (2, 140)
    assert Account.objects.get(customer=a).balance == 40
    assert Account.objects.get(customer=b).balance == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.EXPIRY).count() == 2
    assert expire_points(program).lots == 0
    assert audit().clean


def test_whole_balance_expires_after_inactivity() -> None:
    program = make_program(earn_percent=10, inactivity_expiry_days=180)
    idle, busy = make_member(program), make_member(program)
    old = now() - timedelta(days=200)
    services.earn(program, idle.pk, basket(100_000), operation_id="i1", at=old)
    services.earn(program, idle.pk, basket(100_000), operation_id="i2", at=old + timedelta(days=10))
    services.earn(program, busy.pk, basket(100_000), operation_id="b1", at=old)
    services.earn(program, busy.pk, basket(10_000), operation_id="b2", at=now() - timedelta(days=5))
    assert expire_points(program).lots == 2
    assert Account.objects.get(customer=idle).balance == 0
    assert Account.objects.get(customer=busy).balance == 110
    assert audit().clean


def test_customers_are_warned_once_before_their_points_expire() -> None:
    program = make_program(earn_percent=10, lot_expiry_days=30, warn_days=7)
    customer = make_member(program)
    services.earn(program, customer.pk, basket(100_000), operation_id="p1", at=now() - timedelta(days=25))
    services.earn(program, customer.pk, basket(10_000), operation_id="p2", at=now() - timedelta(days=24))
    assert warn_expiring(program) >= 1
    event = Event.objects.get(type=EXPIRING_EVENT)
    assert event.customer_id == customer.pk
    assert event.data["points"] == 110
    warn_expiring(program)
    assert Event.objects.filter(type=EXPIRING_EVENT).count() == 1
    assert Lot.objects.filter(warned_at__isnull=False).count() == 2
