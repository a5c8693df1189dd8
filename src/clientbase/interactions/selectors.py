"""Read path for events: the dialog timeline (messages and calls across channels) and recent events."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from clientbase.customers.display import choice_label
from clientbase.customers.models import Customer
from clientbase.interactions.models import Event, EventChannel

DIALOG_TYPES = ("message", "call")


@dataclass(frozen=True)
class TimelineItem:
    id: int
    at: datetime
    type: str
    channel: str
    direction: str
    text: str
    thread: str
    duration_seconds: int | None
    data: dict[str, Any]

    @property
    def channel_label(self) -> str:
        """The channel's name in the user's language (a stored code the choices no longer name, as it is)."""
        return choice_label(EventChannel, self.channel)


def customer_events(customer: Customer, *, types: tuple[str, ...] | None = None) -> QuerySet[Event]:
    queryset = Event.objects.filter(customer=customer)
    if types:
        queryset = queryset.filter(type__in=types)
    return queryset.order_by("-occurred_at", "-pk")


def dialog_timeline(customer: Customer, *, limit: int = 100, before: datetime | None = None,
                    channel: str | None = None) -> list[TimelineItem]:
    """Messages (either direction) and calls of every channel, newest first, in one list."""
    queryset = customer_events(customer, types=DIALOG_TYPES)
    if before is not None:
        queryset = queryset.filter(occurred_at__lt=before)
    if channel:
        queryset = queryset.filter(channel=channel)
    items = []
    for event in queryset[:limit]:
        data = event.data if isinstance(event.data, dict) else {}
        duration = data.get("duration_seconds")
        items.append(TimelineItem(
            id=event.pk, at=event.occurred_at, type=event.type, channel=event.channel,
            direction=str(data.get("direction", "inbound")), text=str(data.get("text", "")),
            thread=str(data.get("thread", "")), data=data,
            duration_seconds=int(duration) if isinstance(duration, int | float) else None))
    return items
