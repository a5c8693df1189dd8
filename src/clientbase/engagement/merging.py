"""Tasks after a merge or an unmerge (R2.3, R2.4): one open task per trigger occasion per customer.

A trigger gives each customer its own task for an occasion (keyed by ``triggers.occasion_key``). When two
customers who both had one are merged, the survivor would hold two open tasks for the same occasion, often
for two managers. After a merge, such a duplicate is closed as ``merged``, the survivor's own task (or else
the oldest) staying open; after an unmerge, a ``merged`` task is open again on a customer that has no other
task for its occasion: each side gets its own back. Tasks people made, and tasks someone closed, are left
as they are.
"""

from collections import defaultdict
from typing import Any

from clientbase.core.clock import now
from clientbase.core.fastinsert import any_of
from clientbase.engagement.models_work import Task, TaskStatus
from clientbase.engagement.triggers import KEY_PREFIX, parse_occasion_key


def trigger_task_probe(customer_ids: list[int]) -> tuple[str, list[Any]]:
    """A statement with a row if any of these customers has a trigger's task: the participant's probe
    (``identity.merges.notify_participants``), sent with the other probes. Most merges of an ingest join
    channel-only profiles with no tasks; without it ``settle_duplicate_tasks`` built and ran its query for
    every merge round (1.1 s of the ingesting thread's CPU in a million events on PostgreSQL)."""
    match, params = any_of("customer_id", customer_ids)
    return (f"SELECT 1 FROM {Task._meta.db_table} WHERE {match} AND idempotency_key LIKE %s LIMIT 1",
            [*params, f"{KEY_PREFIX}%"])


def settle_duplicate_tasks(customer_ids: list[int]) -> None:
    """The merge participant's ``after_change`` for tasks: see the module."""
    rows = (Task.objects.filter(customer_id__in=customer_ids, idempotency_key__startswith=KEY_PREFIX)
            .values_list("pk", "customer_id", "idempotency_key", "status"))
    groups: dict[tuple[int, str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for pk, customer_id, key, status in rows:
        found = parse_occasion_key(key or "")
        if found is not None:
            trigger, owner, occasion = found
            groups[(customer_id, trigger, occasion)].append((pk, owner, status))
    close, reopen = [], []
    for (customer_id, _, _), tasks in groups.items():
        open_ = sorted((owner != customer_id, pk) for pk, owner, status in tasks if status == TaskStatus.OPEN)
        if len(open_) > 1:
            close += [pk for _, pk in open_[1:]]
        elif all(status == TaskStatus.MERGED for _, _, status in tasks):
            # Every task of the occasion was closed by merges (an unmerge brought one back alone): the
            # customer's own one, or else the oldest, opens again. One that was done or cancelled after a
            # merge means the occasion was dealt with: nothing opens again.
            own = [pk for pk, owner, _ in tasks if owner == customer_id]
            reopen.append(min(own or [pk for pk, _, _ in tasks]))
    if close:
        Task.objects.filter(pk__in=close, status=TaskStatus.OPEN).update(status=TaskStatus.MERGED, done_at=now())
    if reopen:
        Task.objects.filter(pk__in=reopen, status=TaskStatus.MERGED).update(status=TaskStatus.OPEN, done_at=None)
