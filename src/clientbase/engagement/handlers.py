"""Reactions at ingest time: a negative review (rating 1–2) is an immediate task for the owner (R3.5).

Runs inside the event's transaction (interactions.handlers), so the task exists exactly when the
event does; the task's idempotency key is the event id, so a re-delivered event adds nothing.
"""

from typing import Any

from clientbase.access.actor import SYSTEM
from clientbase.core.clock import now
from clientbase.engagement.models import TaskKind, Trigger, TriggerKind
from clientbase.interactions.handlers import handles

NEGATIVE_AT_MOST = 2


def _rating(data: dict[str, Any]) -> int | None:
    try:
        return int(data.get("rating"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@handles("review")
def on_review(event: Any, customer: Any) -> None:
    rating = _rating(event.data or {})
    if rating is None or rating > NEGATIVE_AT_MOST:
        return
    from clientbase.engagement import outbox, services
    from clientbase.engagement.triggers import occasion_key

    for trigger in Trigger.objects.filter(kind=TriggerKind.NEGATIVE_REVIEW, enabled=True):
        key = occasion_key(trigger, customer.pk, f"review:{event.pk}")
        comment = str((event.data or {}).get("comment", ""))[:120]
        services.create_task(customer, kind=trigger.task_kind or TaskKind.CALL, actor=SYSTEM, due_at=now(),
                             title=f"Negative review {rating}★: {comment}".strip(), source=f"trigger:{trigger.pk}",
                             idempotency_key=key)
        owner_email = getattr(customer.owner, "email", "") if customer.owner_id else ""
        if owner_email:
            outbox.enqueue(customer, idempotency_key=f"alert:review:{event.pk}:{trigger.pk}", kind="alert",
                           channel="email", address=owner_email, source=f"trigger:{trigger.pk}",
                           subject=f"Negative review {rating}★ from {customer.display_name}",
                           body=f"{customer.display_name} rated us {rating}★: {comment}\n"
                                f"A call is on your list for now.")
        if trigger.template_key:
            outbox.enqueue(customer, idempotency_key=key,
                           kind="transactional", template_key=trigger.template_key,
                           source=f"trigger:{trigger.pk}")
