"""Recording profile changes (R1.5). Every write path goes through ``record_change``."""

from typing import Any

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.rules import to_json


def change_row(customer: Customer, field: str, old: Any, new: Any, *, actor: Actor,
               source: str = "") -> ProfileChange:
    return ProfileChange(
        customer=customer, field=field, old_value=to_json(old), new_value=to_json(new),
        actor_user_id=actor.user_id, actor_token=actor.token, channel=actor.channel,
        source=source, at=now(),
    )


def record_change(customer: Customer, field: str, old: Any, new: Any, *, actor: Actor,
                  source: str = "") -> ProfileChange:
    row = change_row(customer, field, old, new, actor=actor, source=source)
    row.save()
    return row
