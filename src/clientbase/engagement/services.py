"""Write path for staff-facing engagement: templates, tasks, one-off messages, churn reasons."""

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from clientbase.access.actor import Actor
from clientbase.access.models import StaffProfile
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError, FieldError, NotFound
from clientbase.customers.models import Customer
from clientbase.customers.selectors import access_customer
from clientbase.engagement import outbox, templating
from clientbase.engagement.models import (
    ChurnReason,
    Message,
    MessageKind,
    MessageTemplate,
    Task,
    TaskKind,
    TaskStatus,
)
from clientbase.identity.locks import hold_customer

CHURN_REASONS = {
    "price": gettext_lazy("Prices are too high"),
    "quality": gettext_lazy("Quality got worse"),
    "service": gettext_lazy("Service or staff"),
    "moved": gettext_lazy("Moved away"),
    "competitor": gettext_lazy("Went to a competitor"),
    "no_need": gettext_lazy("No longer needed"),
    "other": gettext_lazy("Other"),
}


def save_template(data: dict[str, Any], *, actor: Actor) -> MessageTemplate:
    """Create or replace the template for (key, channel, language); refused if any field is unknown."""
    errors: list[FieldError] = []
    for field in ("subject", "body"):
        try:
            templating.validate(str(data.get(field, "")), path=field)
        except DomainValidationError as exc:
            errors.extend(exc.errors)
    if not data.get("key") or not data.get("channel") or not data.get("body"):
        errors.append(FieldError("key", "key, channel and body are required."))
    if errors:
        raise DomainValidationError(errors)
    template, _ = MessageTemplate.objects.update_or_create(
        key=data["key"], channel=data["channel"], language=data.get("language") or "ru",
        defaults={"subject": data.get("subject", ""), "body": data["body"], "updated_by_id": actor.user_id})
    return template


def allowed_assignees(customer: Customer) -> list[int]:
    """The customer's owner and the members of the customer's team (R9.1 ownership)."""
    ids = set(StaffProfile.objects.filter(team_id=customer.team_id).values_list("user_id", flat=True)
              ) if customer.team_id else set()
    if customer.owner_id:
        ids.add(customer.owner_id)
    return sorted(ids)


def default_assignee(customer: Customer) -> int | None:
    if customer.owner_id:
        return customer.owner_id
    members = allowed_assignees(customer)
    return members[0] if members else None


def create_task(customer: Customer, *, kind: str, title: str, due_at: datetime, actor: Actor,
                assignee_id: int | None = None, gift: str = "", source: str = "manual",
                idempotency_key: str | None = None) -> Task:
    """A task for someone who may work with this customer; a trigger passes an idempotency key."""
    if kind not in TaskKind.values:
        raise DomainValidationError.single("kind", f"Must be one of {', '.join(TaskKind.values)}.")
    if kind == TaskKind.GIFT and not gift:
        raise DomainValidationError.single("gift", "Say what to give.")
    if assignee_id is None:
        assignee_id = default_assignee(customer)
    elif assignee_id not in allowed_assignees(customer) and not _sees_all(assignee_id):
        raise DomainValidationError.single("assignee_id", "Assign to the customer's owner or a member of "
                                                          "the customer's team.")
    if idempotency_key and (existing := Task.objects.filter(idempotency_key=idempotency_key).first()):
        return existing
    try:
        with transaction.atomic():
            hold_customer(customer.pk)
            return Task.objects.create(kind=kind, customer=customer, assignee_id=assignee_id, title=title[:200],
                                       gift=gift, due_at=due_at, source=source, idempotency_key=idempotency_key,
                                       created_at=now())
    except IntegrityError:
        return Task.objects.get(idempotency_key=idempotency_key)


def _sees_all(user_id: int) -> bool:
    """Admins, marketers and support see every customer, so they may take any customer's task."""
    from clientbase.access.rules import sees_all_customers

    staff = StaffProfile.objects.filter(user_id=user_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    return bool(user and (user.is_superuser or (staff and sees_all_customers(staff.role))))


def task_for_actor(actor: Actor, task_id: int) -> Task:
    task = Task.objects.select_related("customer").filter(pk=task_id).first()
    if task is None:
        raise NotFound(f"Task #{task_id}")
    access_customer(actor, task.customer_id)
    return task


def finish_task(actor: Actor, task_id: int, *, status: str = TaskStatus.DONE) -> Task:
    task = task_for_actor(actor, task_id)
    if status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
        raise DomainValidationError.single("status", "Must be done or cancelled.")
    Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(status=status, done_at=now())
    task.refresh_from_db()
    return task


def send_message(actor: Actor, customer_id: int, *, body: str, subject: str = "", channel: str = "",
                 kind: str = MessageKind.TRANSACTIONAL, idempotency_key: str) -> Message:
    """A message written by staff, queued through the same rules as every other."""
    customer = access_customer(actor, customer_id, write=True)
    templating.validate(body, path="body")
    templating.validate(subject, path="subject")
    with transaction.atomic():
        hold_customer(customer.pk)
        return outbox.enqueue(customer, idempotency_key=f"manual:{idempotency_key}", kind=kind, body=body,
                              subject=subject, channel=channel, source=f"manual:{actor.describe()}")


def record_churn_reason(customer: Customer, *, reason: str, comment: str = "", source: str) -> ChurnReason:
    if reason not in CHURN_REASONS:
        raise DomainValidationError.single("reason", f"Must be one of {', '.join(CHURN_REASONS)}.")
    with transaction.atomic():
        hold_customer(customer.pk)
        return ChurnReason.objects.create(customer=customer, reason=reason, comment=comment[:2000], source=source,
                                          at=now())
