"""Typed event handlers: how domains react to ingested events without the ingest knowing them.

A domain registers ``@handles("purchase")`` functions (in its ``apps.py`` ``ready()`` import).
Ingest calls every handler of the event's type inside the event's transaction, after the event
is stored and attached to its customer. A handler that raises DomainValidationError rejects the
event: the whole event (its row, its customer changes, the handler's rows) is rolled back and
reported as ``rejected`` with the handler's field path, e.g. ``data.lines.0.sku``.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

# handler(event, customer): event is interactions.models.Event, customer is customers.models.Customer
EventHandler = Callable[[Any, Any], None]

_handlers: dict[str, list[EventHandler]] = defaultdict(list)


def handles(event_type: str) -> Callable[[EventHandler], EventHandler]:
    def decorate(func: EventHandler) -> EventHandler:
        if func not in _handlers[event_type]:
            _handlers[event_type].append(func)
        return func

    return decorate


def handlers_for(event_type: str) -> list[EventHandler]:
    return list(_handlers.get(event_type, ()))
