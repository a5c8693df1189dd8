"""Read path: a person's day, the week's calendar, a customer's messages and tasks."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from clientbase.access.actor import Actor
from clientbase.customers.models import Customer
from clientbase.customers.selectors import visible
from clientbase.engagement.models import Message, Task, TaskKind, TaskStatus

# Kinds that belong on a calendar (they happen at a time with someone), as opposed to reminders.
CALENDAR_KINDS = (TaskKind.CALL, TaskKind.MEETING, TaskKind.NEGOTIATION)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def visible_tasks(actor: Actor) -> QuerySet[Task]:
    return Task.objects.filter(visible(actor, "customer__")).select_related("customer", "assignee")


def my_day(actor: Actor, day: date) -> dict[str, list[Task]]:
    """The actor's open tasks: overdue ones, and those due on ``day`` (business time zone)."""
    start = datetime.combine(day, time(0), tzinfo=_zone())
    end = start + timedelta(days=1)
    mine = visible_tasks(actor).filter(assignee_id=actor.user_id, status=TaskStatus.OPEN).order_by("due_at", "pk")
    return {"overdue": list(mine.filter(due_at__lt=start)),
            "today": list(mine.filter(due_at__gte=start, due_at__lt=end))}


def week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def calendar_week(actor: Actor, monday: date, *, everyone: bool = False) -> list[tuple[date, list[Task]]]:
    """Planned calls, meetings and negotiations per day of the week starting ``monday``."""
    zone = _zone()
    start = datetime.combine(monday, time(0), tzinfo=zone)
    tasks = visible_tasks(actor).filter(kind__in=CALENDAR_KINDS, due_at__gte=start,
                                        due_at__lt=start + timedelta(days=7)).exclude(
                                            status__in=(TaskStatus.CANCELLED, TaskStatus.MERGED))
    if not everyone:
        tasks = tasks.filter(assignee_id=actor.user_id)
    days: dict[date, list[Task]] = {monday + timedelta(days=i): [] for i in range(7)}
    for task in tasks.order_by("due_at", "pk"):
        days[task.due_at.astimezone(zone).date()].append(task)
    return list(days.items())


def customer_messages(customer: Customer, *, limit: int = 10) -> list[Message]:
    return list(Message.objects.filter(customer=customer).prefetch_related("decisions")
                .order_by("-created_at", "-pk")[:limit])


def customer_tasks(customer: Customer, *, limit: int = 10) -> list[Task]:
    return list(Task.objects.filter(customer=customer).select_related("assignee")
                .order_by("status", "due_at")[:limit])
