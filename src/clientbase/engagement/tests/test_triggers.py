"""Triggers: set-based, idempotent per (trigger, customer, occasion), wired to other domains' data."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientbase.access.tests.builders import make_user
from clientbase.core.clock import now
from clientbase.customers.tests.builders import make_customer
from clientbase.engagement import outbox
from clientbase.engagement.models import Holiday, Message, Task, Trigger, TriggerFire
from clientbase.engagement.tests.builders import make_template
from clientbase.engagement.tests.servers import Mailbox
from clientbase.engagement.triggers import evaluate, run_due_triggers
from clientbase.interactions.tests.builders import ingest, make_event

AT = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # 12:00 in Moscow, Thursday


def test_birthday_fires_once_per_year_in_a_fixed_number_of_queries() -> None:
    owner = make_user(role="manager")
    born = [make_customer(phone=f"+7916000000{i}", birth_date="1990-03-08", owner_id=owner.pk) for i in range(5)]
    make_customer(phone="+79160000099", birth_date="1990-03-09")
    trigger = Trigger.objects.create(kind="birthday", name="Birthday", config={"days_before": 3},
                                     template_key="birthday", task_kind="congratulate")

    with CaptureQueriesContext(connection) as queries:
        assert evaluate(trigger, AT) == 5
    assert len(queries) <= 6  # insert fires, read them back, messages, owners, tasks (not one per customer)
    assert evaluate(trigger, AT) == 0  # same occasion, even at the same instant: nothing new
    assert evaluate(trigger, AT + timedelta(hours=2)) == 0
    assert sorted(Message.objects.values_list("customer_id", flat=True)) == [c.pk for c in born]
    assert Task.objects.filter(assignee_id=owner.pk, kind="congratulate").count() == 5
    assert TriggerFire.objects.filter(occasion="birthday:2026").count() == 5


def test_birthday_coupon_from_loyalty_reaches_the_message(mailbox: Mailbox) -> None:
    from clientbase.loyalty.models import Coupon

    customer = make_customer(birth_date="1990-03-05", identifiers=[{"kind": "email", "value": "b@example.com"}])
    make_template(key="birthday", body="Happy birthday! Your code: {{ coupon_code }}")
    trigger = Trigger.objects.create(kind="birthday", name="Birthday", template_key="birthday",
                                     config={"coupon_percent": 15})
    assert evaluate(trigger, AT) == 1
    coupon = Coupon.objects.get(customer=customer)
    assert coupon.value == 15
    assert Message.objects.get(customer=customer).context == {"coupon_code": coupon.code}


def test_holiday_for_an_audience() -> None:
    women = make_customer(phone="+79160000001", gender="female")
    make_customer(phone="+79160000002", gender="male")
    Holiday.objects.create(month=3, day=8, name="8 March", audience="female")
    trigger = Trigger.objects.create(kind="holiday", name="Holidays", config={"days_before": 3},
                                     template_key="holiday")
    assert evaluate(trigger, AT) == 1
    message = Message.objects.get()
    assert (message.customer_id, message.context) == (women.pk, {"holiday": "8 March"})


def test_predicted_next_purchase_from_analytics() -> None:
    from clientbase.analytics.scores import CustomerScore

    soon, later = make_customer(phone="+79160000001"), make_customer(phone="+79160000002")
    for customer, day in ((soon, date(2026, 3, 8)), (later, date(2026, 3, 20))):
        CustomerScore.objects.create(customer=customer, model_version="t", computed_at=AT, next_purchase_at=day,
                                     segment="loyal", probability_alive=0.9)
    trigger = Trigger.objects.create(kind="next_purchase", name="Reminder", config={"days_before": 3},
                                     template_key="reminder")
    assert evaluate(trigger, AT) == 1
    assert Message.objects.get().context == {"next_purchase_date": "08.03"}


def test_churn_risk_below_threshold() -> None:
    from clientbase.analytics.scores import CustomerScore

    fading, fine = make_customer(phone="+79160000001"), make_customer(phone="+79160000002")
    for customer, alive in ((fading, 0.2), (fine, 0.8)):
        CustomerScore.objects.create(customer=customer, model_version="t", computed_at=AT, frequency=3,
                                     segment="at_risk", probability_alive=alive)
    trigger = Trigger.objects.create(kind="churn_risk", name="Churn", config={"threshold": 0.3}, task_kind="call")
    assert evaluate(trigger, AT) == 1
    assert Task.objects.get().customer_id == fading.pk


def test_product_arrival_matches_buyers_and_stated_preferences() -> None:
    from clientbase.sales.services import record_arrival
    from clientbase.sales.tests.builders import make_order

    buyer = make_customer(phone="+79160000001")
    make_order(customer=buyer, at=AT - timedelta(days=30))
    fan = make_customer(phone="+79160000002", preferences={"drinks": "латте"})
    make_customer(phone="+79160000003", preferences={"drinks": "tea"})
    record_arrival("LATTE-M", 100, at=AT - timedelta(minutes=5))
    trigger = Trigger.objects.create(kind="product_arrival", name="Arrivals", template_key="arrival")
    assert evaluate(trigger, AT) == 2
    assert set(Message.objects.values_list("customer_id", flat=True)) == {buyer.pk, fan.pk}


def test_no_contact_for_n_days() -> None:
    quiet = make_customer(phone="+79160000001")
    active = make_customer(phone="+79160000002")
    from clientbase.customers.models import Customer

    Customer.objects.update(created_at=now() - timedelta(days=200))
    outbox.enqueue(active, idempotency_key="x", kind="transactional", body="hi")
    Message.objects.update(status="sent", sent_at=now() - timedelta(days=3))
    trigger = Trigger.objects.create(kind="no_contact", name="Silent", config={"days": 90}, task_kind="call")
    assert evaluate(trigger, now()) == 1
    assert Task.objects.get().customer_id == quiet.pk


def test_points_expiring_from_loyalty_warnings() -> None:
    from clientbase.loyalty.expiry import warn_expiring
    from clientbase.loyalty.models import Lot, Program

    program = Program.objects.create(name="Cups", slug="cups", warn_days=7)
    customer = make_customer()
    make_customer(phone="+79160000002")
    Lot.objects.create(program=program, customer=customer, points=500, remaining=300, created_at=AT,
                       expires_at=AT + timedelta(days=3))
    assert warn_expiring(program, at=AT) == 1
    trigger = Trigger.objects.create(kind="points_expiring", name="Expiring", template_key="expiring")
    assert evaluate(trigger, AT + timedelta(minutes=1)) == 1
    assert Message.objects.get().context == {"points_expiring": 300}
    assert evaluate(trigger, AT + timedelta(minutes=2)) == 0


def test_negative_review_is_an_immediate_task_and_alert_for_the_owner(mailbox: Mailbox) -> None:
    owner = make_user(role="manager")
    owner.email = "boss@example.com"
    owner.save()
    customer = make_customer(owner_id=owner.pk)
    Trigger.objects.create(kind="negative_review", name="Bad review", task_kind="call")
    event = make_event(type="review", data={"rating": 2, "comment": "Cold coffee"})
    ingest(event, make_event(type="review", data={"rating": 5}))
    ingest(event)  # the same event again: nothing new
    task = Task.objects.get()
    assert (task.customer_id, task.assignee_id, task.kind) == (customer.pk, owner.pk, "call")
    assert task.title == "Negative review 2★: Cold coffee"
    assert outbox.run_once("w") == {"sent": 1}  # the alert: to the owner, whatever the customer's consent
    assert mailbox.recipients == [["boss@example.com"]]
    payload = mailbox.messages[0].get_payload(decode=True)
    assert isinstance(payload, bytes) and "Cold coffee" in payload.decode()


def test_worker_runs_each_trigger_once_per_interval() -> None:
    make_customer(birth_date="1990-03-05")
    Trigger.objects.create(kind="birthday", name="Birthday", task_kind="congratulate")
    assert run_due_triggers(interval=timedelta(hours=1), at=AT) == 1
    assert run_due_triggers(interval=timedelta(hours=1), at=AT + timedelta(minutes=10)) == 0
    assert Trigger.objects.get().last_run_at == AT


def test_a_crash_between_fires_and_tasks_leaves_nothing_half_done(monkeypatch: pytest.MonkeyPatch) -> None:
    from clientbase.engagement import triggers

    make_customer(birth_date="1990-03-05")
    trigger = Trigger.objects.create(kind="birthday", name="Birthday", task_kind="congratulate")

    def crash(*args: object) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(triggers, "act", crash)
    with pytest.raises(RuntimeError):
        evaluate(trigger, AT)
    assert TriggerFire.objects.count() == 0
    monkeypatch.undo()
    assert evaluate(trigger, AT) == 1
    assert Task.objects.count() == 1
