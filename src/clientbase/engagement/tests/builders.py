from datetime import datetime
from itertools import count
from typing import Any

from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.engagement import outbox
from clientbase.engagement.models import ChannelConfig, ContactSettings, Message, MessageTemplate

_keys = count(1)


def make_contact(*, email: str | None = "anna@example.com", phone: str | None = "+79161234567",
                 telegram: str | None = None, **fields: Any) -> Customer:
    identifiers = []
    if email:
        identifiers.append({"kind": "email", "value": email})
    if telegram:
        identifiers.append({"kind": "telegram", "value": telegram})
    return make_customer(phone=phone, first_name=fields.pop("first_name", "Анна"),
                         identifiers=identifiers, **fields)


def make_message(*, customer: Customer, kind: str = "marketing", body: str = "Hello, {{ first_name }}!",
                 subject: str = "Hi", key: str | None = None, due_at: datetime | None = None,
                 **fields: Any) -> Message:
    return outbox.enqueue(customer, idempotency_key=key or f"test-{next(_keys)}", kind=kind, body=body,
                          subject=subject, due_at=due_at, **fields)


def make_template(*, key: str = "greeting", channel: str = "email", language: str = "en",
                  subject: str = "Hi {{ first_name }}", body: str = "Dear {{ name }}") -> MessageTemplate:
    return MessageTemplate.objects.create(key=key, channel=channel, language=language, subject=subject, body=body)


def configure(kind: str, **config: Any) -> ChannelConfig:
    row, _ = ChannelConfig.objects.update_or_create(kind=kind, defaults={"config": config, "enabled": True})
    return row


def contact_rules(**fields: Any) -> ContactSettings:
    row = ContactSettings.current()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row
