"""Event ingest (R2.1, R10.2): validate, drop duplicates, resolve identities, store, run handlers.

Guarantees per event, whatever the batch size: a rejected event stores nothing and never blocks the
others; ``(source, id)`` is stored once. Events without typed handlers go through the bulk path: one
savepoint for a run of events, identifier lookups and inserts in bulk, resolution in memory
(``resolution.resolve``). If the bulk savepoint fails, its events are redone one by one. Events whose
type has handlers (``handlers.handles``) each get their own savepoint so a handler can reject one.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from clientbase.access.actor import Actor
from clientbase.core import collector
from clientbase.core.errors import DomainValidationError, FieldError
from clientbase.core.fastinsert import select_in
from clientbase.identity.guards import Guards
from clientbase.identity.services import load_guards, lock_identity
from clientbase.interactions.handlers import handlers_for
from clientbase.interactions.models import Event
from clientbase.interactions.parsing import MAX_BATCH, ParsedEvent, parse_event
from clientbase.interactions.storing import apply_group


@dataclass
class EventResult:
    index: int
    status: str = "created"
    source: str = ""
    id: str = ""
    customer_id: int | None = None
    merges: list[dict[str, int]] = field(default_factory=list)
    review_id: int | None = None
    errors: list[FieldError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"index": self.index, "status": self.status, "source": self.source,
                                  "id": self.id, "customer_id": self.customer_id}
        if self.merges:
            result["merges"] = self.merges
        if self.review_id is not None:
            result["review_id"] = self.review_id
        if self.errors:
            result["errors"] = [{"path": e.path, "message": e.message} for e in self.errors]
        if self.notes:
            result["notes"] = self.notes
        return result


@dataclass
class IngestReport:
    results: list[EventResult]

    def counts(self) -> dict[str, int]:
        totals = {"created": 0, "duplicate": 0, "rejected": 0, "merged": 0, "reviews": 0}
        for result in self.results:
            totals[result.status] += 1
            totals["merged"] += len(result.merges)
            totals["reviews"] += result.review_id is not None
        return totals


def _mark_duplicates(events: list[ParsedEvent], results: list[EventResult]) -> list[ParsedEvent]:
    """Drop events whose (source, id) is stored already or appeared earlier in this batch."""
    by_source: dict[str, set[str]] = {}
    for event in events:
        by_source.setdefault(event.source, set()).add(event.external_id)
    stored: dict[tuple[str, str], int] = {}
    for source, ids in by_source.items():
        # Walks the (source, external_id) unique index.
        rows = select_in(f"SELECT external_id, customer_id FROM {Event._meta.db_table} WHERE source = %s AND {{match}}",
                         "external_id", sorted(ids), [source])
        stored.update({(source, x): c for x, c in rows})
    fresh: list[ParsedEvent] = []
    seen: dict[tuple[str, str], int] = {}
    for event in events:
        key = (event.source, event.external_id)
        if key in stored or key in seen:
            result = results[event.index]
            result.status = "duplicate"
            result.customer_id = stored.get(key)
            if key in seen:
                result.notes.append(f"Same (source, id) as event {seen[key]} of this batch.")
            continue
        seen[key] = event.index
        fresh.append(event)
    return fresh


def _runs(events: list[ParsedEvent]) -> Iterable[list[ParsedEvent]]:
    """Consecutive events without handlers go together; an event with handlers goes alone."""
    run: list[ParsedEvent] = []
    for event in events:
        if handlers_for(event.type):
            if run:
                yield run
                run = []
            yield [event]
        else:
            run.append(event)
    if run:
        yield run


def _run_group(group: list[ParsedEvent], results: list[EventResult], actor: Actor, guards: Guards) -> None:
    try:
        with transaction.atomic():
            lock_identity()
            apply_group(group, results, actor, guards)
    except DomainValidationError as exc:
        if len(group) > 1:
            raise
        _reject(results[group[0].index], exc.errors)
    except IntegrityError:
        if len(group) > 1:
            raise
        # A concurrent writer stored one of our identifiers or the event itself first: look again.
        try:
            with transaction.atomic():
                lock_identity()
                fresh = _mark_duplicates(group, results)
                if fresh:
                    apply_group(fresh, results, actor, guards)
        except (IntegrityError, DomainValidationError) as exc:
            errors = exc.errors if isinstance(exc, DomainValidationError) else [FieldError("", str(exc))]
            _reject(results[group[0].index], errors)


def _reject(result: EventResult, errors: list[FieldError]) -> None:
    result.status, result.customer_id, result.merges, result.review_id = "rejected", None, [], None
    result.errors = errors


def ingest_events(raw_events: list[Any], *, actor: Actor) -> IngestReport:
    """Ingest up to MAX_BATCH raw events (parsed JSON objects); one result per event, in order."""
    with collector.paused(), transaction.atomic():
        return _ingest(raw_events, actor)


def _ingest(raw_events: list[Any], actor: Actor) -> IngestReport:
    if len(raw_events) > MAX_BATCH:
        raise DomainValidationError.single("events", f"At most {MAX_BATCH} events per request.")
    guards = load_guards()
    region = settings.CLIENTBASE_DEFAULT_REGION
    results = [EventResult(index=i) for i in range(len(raw_events))]
    parsed: list[ParsedEvent] = []
    for i, raw in enumerate(raw_events):
        if isinstance(raw, dict):
            results[i].source, results[i].id = str(raw.get("source", ""))[:60], str(raw.get("id", ""))[:120]
        try:
            parsed.append(parse_event(i, raw, guards, region))
        except DomainValidationError as exc:
            _reject(results[i], exc.errors)
    for group in _runs(_mark_duplicates(parsed, results)):
        try:
            _run_group(group, results, actor, guards)
        except (IntegrityError, DomainValidationError):
            for event in group:
                _run_group([event], results, actor, guards)
    return IngestReport(results)
