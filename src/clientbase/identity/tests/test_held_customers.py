"""Writers of a customer's own rows and merges (identity.locks, rules 4 and 5): nothing lands on a tombstone.

Every service that files rows under a customer refuses a merged one (``MergedAway``, naming the survivor)
and writes nothing, whoever calls it. On PostgreSQL a writer and a merge of its customer that run at once
end as if one ran after the other: the writer first and the merge carrying its rows, or the merge first
and the writer refused.
"""

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.urls import reverse

from clientbase.access.actor import SYSTEM
from clientbase.core.errors import MergedAway
from clientbase.customers import services as customer_services
from clientbase.customers.models import ContactPerson, Customer, ImportantDate, ProfileChange
from clientbase.customers.tests.builders import make_customer
from clientbase.engagement import contact, retention
from clientbase.engagement import services as engagement_services
from clientbase.engagement.models import ChurnReason, Message, Task
from clientbase.identity import consents
from clientbase.identity import services as identity_services
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Consent, Identifier
from clientbase.identity.unmerge import unmerge
from clientbase.interactions.tests.test_concurrency import _in_thread
from clientbase.loyalty import gifts
from clientbase.loyalty import services as loyalty_services
from clientbase.loyalty.audit import audit
from clientbase.loyalty.models import Account, Coupon, CouponUse, LedgerEntry, Lot
from clientbase.loyalty.tests.builders import basket, make_member, make_program
from clientbase.sales import services as sales_services
from clientbase.sales.models import AbandonedCart, Order
from clientbase.sales.tests.builders import make_order, purchase_data

pytestmark = pytest.mark.django_db

POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers with IMMEDIATE transactions; the race needs PostgreSQL")

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
WRITTEN = (LedgerEntry, Lot, Account, Coupon, CouponUse, Order, AbandonedCart, Consent, Identifier, ImportantDate,
           ContactPerson, Task, Message, ChurnReason, ProfileChange)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN}


def _people() -> tuple[Any, Customer, Customer]:
    """A program, a survivor and an absorbed member of it, merged (the absorbed one read before the merge)."""
    program = make_program(lot_expiry_days=0, max_redeem_percent=100)
    survivor = make_member(program, phone="+79165550001")
    absorbed = make_member(program, phone="+79165550002")
    loyalty_services.earn(program, absorbed.pk, basket(50_000), operation_id="before")
    merge_customers(survivor, Customer.objects.get(pk=absorbed.pk), actor=SYSTEM)
    return program, survivor, absorbed


# What a write needs made before it (counted before the write): a company for a contact person, a coupon.
PREPARED: dict[str, Callable[[Any], Any]] = {
    "add_contact_person": lambda p: make_customer(phone=None, kind="company", legal_name="ООО Ромашка"),
    "use_coupon": lambda p: gifts.create_coupon(kind="percent", value=10, program=p).code,
}
WRITES: dict[str, Callable[[Any, Customer, Any], Any]] = {
    "earn": lambda p, c, _: loyalty_services.earn(p, c.pk, basket(10_000), operation_id="after"),
    "redeem": lambda p, c, _: loyalty_services.redeem(p, c.pk, 1, operation_id="spend"),
    "adjust": lambda p, c, _: loyalty_services.adjust(p, c.pk, 5, reason="goodwill", staff_id=None),
    "give_bonus": lambda p, c, _: loyalty_services.give_bonus(p, c.pk, 5, operation_id="bonus"),
    "enroll": lambda p, c, _: gifts.enroll(make_program(welcome_bonus=100), c.pk),
    "create_coupon": lambda p, c, _: gifts.create_coupon(kind="percent", value=10, program=p, customer_id=c.pk),
    "use_coupon": lambda p, c, code: gifts.use_coupon(code, c.pk, operation_id="coupon"),
    "record_purchase": lambda p, c, _: make_order(customer=c),
    "record_abandoned_cart": lambda p, c, _: sales_services.record_abandoned_cart(
        c, {"cart_id": "cart-1", "lines": purchase_data()["lines"]}, source="web", occurred_at=AT),
    "set_consent": lambda p, c, _: consents.set_consent(c, "email", "unsubscribed", source="test"),
    "add_identifier": lambda p, c, _: identity_services.add_identifier(c, "email", "late@x.ru", actor=SYSTEM),
    "update_customer": lambda p, c, _: customer_services.update_customer(c, {"first_name": "Пётр"}, actor=SYSTEM),
    "add_important_date": lambda p, c, _: customer_services.add_important_date(
        c, {"kind": "birthday", "date": "1990-05-01"}, actor=SYSTEM),
    "add_contact_person": lambda p, c, company: customer_services.add_contact_person(company, c, role="director",
                                                                                    actor=SYSTEM),
    "create_task": lambda p, c, _: engagement_services.create_task(c, kind="call", title="Call", due_at=AT,
                                                                actor=SYSTEM),
    "send_message": lambda p, c, _: engagement_services.send_message(SYSTEM, c.pk, body="Hello",
                                                                  idempotency_key="m1"),
    "record_churn_reason": lambda p, c, _: engagement_services.record_churn_reason(c, reason="price", source="test"),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_service_refuses_a_tombstone_and_writes_nothing(write: str) -> None:
    program, survivor, absorbed = _people()
    prepared = PREPARED[write](program) if write in PREPARED else None
    before = _counts()
    with pytest.raises(MergedAway) as refused:
        WRITES[write](program, absorbed, prepared)  # the copy read before the merge, as a caller may hold it
    assert refused.value.survivor_id == survivor.pk
    assert _counts() == before
    assert Customer.objects.get(pk=absorbed.pk).merged_into_id == survivor.pk


def test_a_stale_copy_of_a_survivor_does_not_undo_what_the_merge_filled() -> None:
    """``update_customer`` saves the whole row: it reads it again under the hold, so the email and middle
    name a merge brought stay, and only the edited field changes."""
    survivor = make_customer(phone="+79165550011", first_name="Анна", middle_name="")
    stale = Customer.objects.get(pk=survivor.pk)
    absorbed = make_customer(phone="+79165550012", first_name="Анна", middle_name="Сергеевна")
    merge_customers(survivor, absorbed, actor=SYSTEM)
    customer_services.update_customer(stale, {"last_name": "Смирнова"}, actor=SYSTEM)
    survivor.refresh_from_db()
    assert (survivor.middle_name, survivor.last_name, survivor.merged_into_id) == ("Сергеевна", "Смирнова", None)


def test_an_unsubscribe_link_of_an_absorbed_customer_unsubscribes_the_survivor() -> None:
    _, survivor, absorbed = _people()
    assert contact.unsubscribe(contact.unsubscribe_token(absorbed.pk, "email")) == (survivor.pk, "email")
    assert consents.current_consents(survivor.pk)["email"] == "unsubscribed"


def test_a_survey_link_of_an_absorbed_customer_files_the_answer_on_the_survivor(client: Any) -> None:
    _, survivor, absorbed = _people()
    response = client.post(reverse("engagement:survey", args=[retention.survey_token(absorbed.pk)]),
                           {"reason": "price", "comment": "дорого"})
    assert response.status_code == 200
    assert list(ChurnReason.objects.values_list("customer_id", "reason")) == [(survivor.pk, "price")]


def _one_after_the_other(first: Callable[[], Any], second: Callable[[], Any], *,
                         waits: bool = True) -> tuple[Any, Any]:
    """``first`` in a transaction on another connection, paused after its work and before its commit;
    meanwhile ``second`` starts on a third and must wait for it (``waits=False``: must finish without
    waiting). Both results (or exceptions) once ``first`` is released."""
    done, release = threading.Event(), threading.Event()

    def paused() -> Any:
        with transaction.atomic():
            result = first()
            done.set()
            assert release.wait(30)
            return result

    holder, held = _in_thread(paused, name="first")
    assert done.wait(30)
    waiter, waited = _in_thread(second, name="second")
    try:
        waiter.join(0.5 if waits else 20)
        assert waiter.is_alive() == waits  # waiting for the first one's locks, or done without them
    finally:
        release.set()
    holder.join(30)
    waiter.join(30)
    return held[0], waited[0]


def _two_members() -> tuple[Any, Customer, Customer]:
    program = make_program(lot_expiry_days=0)
    return program, make_member(program, phone="+79165550021"), make_member(program, phone="+79165550022")


def _balance(program: Any, customer: Customer) -> int:
    return int(Account.objects.get(program=program, customer=customer).balance)


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_merge_waits_for_a_purchase_of_its_absorbed_customer_and_carries_its_points() -> None:
    program, survivor, absorbed = _two_members()
    _, merged = _one_after_the_other(
        lambda: loyalty_services.earn(program, absorbed.pk, basket(10_000), operation_id="during"),
        lambda: merge_customers(survivor, absorbed, actor=SYSTEM))
    assert not isinstance(merged, Exception), merged
    assert _balance(program, survivor) == 10 and _balance(program, absorbed) == 0  # 10 % of 100.00
    assert LedgerEntry.objects.get(operation_id="during").customer_id == survivor.pk
    assert audit().clean


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_purchase_during_a_merge_of_its_customer_is_refused_after_it() -> None:
    program, survivor, absorbed = _two_members()
    _, earned = _one_after_the_other(
        lambda: merge_customers(survivor, absorbed, actor=SYSTEM),
        lambda: loyalty_services.earn(program, absorbed.pk, basket(10_000), operation_id="late"))
    assert isinstance(earned, MergedAway) and earned.survivor_id == survivor.pk
    assert not LedgerEntry.objects.filter(operation_id="late").exists()
    assert _balance(program, survivor) == 0 and _balance(program, absorbed) == 0
    assert audit().clean


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_an_unsubscribe_during_a_merge_ends_on_the_survivor() -> None:
    """The complaint the issue names: a person who unsubscribed must not be mailed after a merge."""
    survivor, absorbed = make_customer(phone="+79165550031"), make_customer(phone="+79165550032")
    consents.set_consent(survivor, "email", "granted", source="test")
    _, unsubscribed = _one_after_the_other(
        lambda: merge_customers(survivor, absorbed, actor=SYSTEM),
        lambda: contact.unsubscribe(contact.unsubscribe_token(absorbed.pk, "email")))
    assert unsubscribed == (survivor.pk, "email")
    assert consents.current_consents(survivor.pk)["email"] == "unsubscribed"


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_an_order_status_change_during_a_merge_follows_the_order_to_the_survivor() -> None:
    """The order's own lock orders a status change after the merge that moved the order: no deadlock,
    and the change is made once the order is the survivor's."""
    survivor, absorbed = make_customer(phone="+79165550041"), make_customer(phone="+79165550042")
    order = make_order(customer=absorbed, payment_status="unpaid")
    _, changed = _one_after_the_other(
        lambda: merge_customers(survivor, absorbed, actor=SYSTEM),
        lambda: sales_services.change_status(order, "cancelled", source="test"))
    assert not isinstance(changed, Exception), changed
    order.refresh_from_db()
    assert (order.customer_id, order.status) == (survivor.pk, "cancelled")


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_an_unmerge_waits_for_a_purchase_of_the_survivor() -> None:
    program, survivor, absorbed = _two_members()
    merge = merge_customers(survivor, absorbed, actor=SYSTEM)
    _, parted = _one_after_the_other(
        lambda: loyalty_services.earn(program, survivor.pk, basket(10_000), operation_id="survivor's"),
        lambda: unmerge(merge, actor=SYSTEM))
    assert not isinstance(parted, Exception), parted
    assert _balance(program, survivor) == 10 and _balance(program, absorbed) == 0  # 10 % of 100.00
    assert audit().clean


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_pending_points_activated_during_a_merge_go_to_the_survivor() -> None:
    """The activation job reads its due lots first; one whose customer is merged meanwhile is activated on
    the survivor, where the merge moved the lot (``hold_owner``), not on a new account of the tombstone."""
    program = make_program(lot_expiry_days=0, pending_days=14)
    survivor, absorbed = make_member(program, phone="+79165550051"), make_member(program, phone="+79165550052")
    loyalty_services.earn(program, absorbed.pk, basket(10_000), operation_id="pending", at=AT)
    _, activated = _one_after_the_other(
        lambda: merge_customers(survivor, absorbed, actor=SYSTEM),
        lambda: loyalty_services.activate_pending(program, at=AT + dt.timedelta(days=15)))
    assert activated == 1
    assert LedgerEntry.objects.get(kind="activation").customer_id == survivor.pk
    assert _balance(program, survivor) == 10 and _balance(program, absorbed) == 0
    assert audit().clean
