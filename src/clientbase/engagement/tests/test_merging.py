"""A trigger's tasks through merge and unmerge: one open task per occasion and customer (engagement.merging)."""

from datetime import UTC, datetime, timedelta

from clientbase.access.actor import SYSTEM
from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.engagement import services
from clientbase.engagement.models import Task, TaskStatus, Trigger
from clientbase.engagement.triggers import evaluate
from clientbase.identity.merges import merge_customers
from clientbase.identity.unmerge import unmerge

AT = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def fading(*customers: Customer) -> None:
    from clientbase.analytics.scores import CustomerScore

    for customer in customers:
        CustomerScore.objects.create(customer=customer, model_version="t", computed_at=AT, frequency=3,
                                     segment="at_risk", probability_alive=0.2)


def statuses(customer: Customer) -> dict[int, str]:
    return dict(Task.objects.filter(customer=customer).values_list("pk", "status"))


def test_a_merge_closes_the_duplicate_trigger_task_and_the_unmerge_opens_it_again() -> None:
    keep, gone = make_customer(phone="+79160000001"), make_customer(phone="+79160000002")
    fading(keep, gone)
    churn = Trigger.objects.create(kind="churn_risk", name="Churn", config={"threshold": 0.3}, task_kind="call")
    assert evaluate(churn, AT) == 2
    mine, theirs = (Task.objects.get(customer=c) for c in (keep, gone))
    by_hand = services.create_task(gone, kind="call", title="Перезвонить", due_at=AT + timedelta(days=1),
                                   actor=SYSTEM)

    merge = merge_customers(keep, gone, actor=SYSTEM)
    # The survivor's own task stays open; the absorbed one's for the same occasion is closed as a duplicate;
    # the task a person made moves and stays open.
    assert statuses(keep) == {mine.pk: "open", theirs.pk: "merged", by_hand.pk: "open"}
    assert Task.objects.get(pk=theirs.pk).done_at is not None
    assert evaluate(churn, AT) == 0  # the occasion is not new for anyone
    from django.utils import translation

    with translation.override("ru"):
        assert Task.objects.get(pk=theirs.pk).get_status_display() == "Дубль после слияния"

    # The survivor's task is done; a later merge into it does not open the duplicate again.
    services.finish_task(SYSTEM, mine.pk)
    merge_customers(keep, make_customer(phone="+79160000003"), actor=SYSTEM)
    assert statuses(keep) == {mine.pk: "done", theirs.pk: "merged", by_hand.pk: "open"}

    unmerge(merge, actor=SYSTEM)
    assert statuses(keep) == {mine.pk: "done"}
    assert statuses(gone) == {theirs.pk: "open", by_hand.pk: "open"}
    assert Task.objects.get(pk=theirs.pk).done_at is None


def test_only_open_duplicates_of_one_occasion_are_closed() -> None:
    keep, gone, plain = (make_customer(phone=f"+7916000000{n}") for n in (1, 2, 3))
    fading(keep, gone)
    churn = Trigger.objects.create(kind="churn_risk", name="Churn", config={"threshold": 0.3}, task_kind="call")
    assert evaluate(churn, AT) == 2 and evaluate(churn, AT + timedelta(days=31)) == 2  # March, then April
    (march_keep, april_keep), (march_gone, april_gone) = (
        Task.objects.filter(customer=c).order_by("idempotency_key") for c in (keep, gone))
    assert (march_keep.idempotency_key or "").endswith(":churn_risk:2026-03")
    services.finish_task(SYSTEM, march_keep.pk, status=TaskStatus.CANCELLED)  # someone decided: no call in March

    merge_customers(keep, gone, actor=SYSTEM)
    # March: the survivor's task was cancelled by a person, so the absorbed one's is the only open one and
    # stays open. April: both were open; the absorbed one's is closed.
    expected = {march_keep.pk: "cancelled", march_gone.pk: "open", april_keep.pk: "open", april_gone.pk: "merged"}
    assert statuses(keep) == expected
    merge_customers(plain, keep, actor=SYSTEM)  # a survivor with no tasks of its own: nothing new is a duplicate
    assert statuses(plain) == expected


def test_the_probe_finds_only_a_trigger_task() -> None:
    """Merges skip ``settle_duplicate_tasks`` unless the probe finds a trigger's task among the customers."""
    from clientbase.core import fastsql
    from clientbase.engagement.merging import trigger_task_probe

    keep, gone, other = (make_customer(phone=f"+7916000000{n}") for n in range(3))
    services.create_task(gone, kind="call", title="Перезвонить", due_at=AT, actor=SYSTEM)
    assert fastsql.rows(*trigger_task_probe([keep.pk, gone.pk])) == []  # made by hand: nothing to settle
    fading(other)
    churn = Trigger.objects.create(kind="churn_risk", name="Churn", config={"threshold": 0.3}, task_kind="call")
    assert evaluate(churn, AT) == 1
    assert fastsql.rows(*trigger_task_probe([keep.pk, gone.pk])) == []
    assert fastsql.rows(*trigger_task_probe([keep.pk, other.pk])) == [(1,)]
