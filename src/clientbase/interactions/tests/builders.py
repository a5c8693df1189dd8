from itertools import count
from typing import Any

from clientbase.access.actor import SYSTEM, Actor
from clientbase.interactions.ingest import IngestReport, ingest_events

_ids = count(1)


def make_event(*, identifiers: dict[str, Any] | None = None, type: str = "visit", channel: Any = "web",
               source: str = "test", id: str | None = None, traits: dict[str, Any] | None = None,
               occurred_at: str = "2026-11-01T10:15:00+03:00", **extra: Any) -> dict[str, Any]:
    return {"id": id or f"e{next(_ids)}", "source": source, "type": type, "channel": channel,
            "occurred_at": occurred_at,
            "identifiers": {"phone": "+79161234567"} if identifiers is None else identifiers,
            **({"traits": traits} if traits else {}), **extra}


def ingest(*events: dict[str, Any], actor: Actor = SYSTEM) -> IngestReport:
    return ingest_events(list(events), actor=actor)
