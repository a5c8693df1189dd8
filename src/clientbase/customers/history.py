"""Recording profile changes (R1.5). Every write path goes through ``record_change``, ``change_row``, or,
for bulk writes (import, ingest, merge), ``history_row`` tuples stored by ``insert_history``."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from clientbase.access.actor import Actor
from clientbase.core import fastinsert
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


HISTORY_COLUMNS = ("customer_id", "field", "old_value", "new_value", "actor_user_id", "actor_token_id", "channel",
                   "source", "at")


def history_row(customer_id: int, field: str, old: Any, new: Any, *, actor: Actor, source: str,
                at: dt.datetime) -> tuple[Any, ...]:
    """The row ``change_row`` makes, as a plain tuple in ``HISTORY_COLUMNS`` order: a bulk write's
    thousands of rows without a model instance each (about 70 µs apiece in a merge round)."""
    return (customer_id, field, to_json(old), to_json(new), actor.user_id, actor.token.pk if actor.token else None,
            actor.channel, source, at)


def insert_history(rows: Iterable[tuple[Any, ...]]) -> int:
    """Store ``history_row`` tuples (``core.fastinsert``); returns how many."""
    return fastinsert.insert_rows(ProfileChange, HISTORY_COLUMNS, rows)
