"""Event ingest (R2.1, R10.2): validate, drop duplicates, resolve identities, store, run handlers.

Guarantees per event, whatever the batch size: a rejected event stores nothing and never blocks the
others; ``(source, id)`` is stored once. Events without typed handlers go through the bulk path: one
savepoint for a run of events, identifier lookups and inserts in bulk, resolution in memory
(``resolution.resolve``). If the bulk savepoint fails, its events are redone one by one. Events whose
type has handlers (``handlers.handles``) each get their own savepoint so a handler can reject one. A
stream's batch tries first without the runs' savepoints, and on a failure is rolled back and stored
again with them (``_store_batch``).
Every group runs under the identity locks (``identity.locks``): fine-grained when the request is one
small group, its own transaction (a single-event request); the exclusive lock otherwise.
"""

import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from clientbase.access.actor import Actor
from clientbase.core import collector, fastsql, offload, readahead
from clientbase.core.bulk import FirstAnalyses
from clientbase.core.errors import DomainValidationError, FieldError
from clientbase.core.fastinsert import select_in
from clientbase.identity.guards import Guards
from clientbase.identity.locks import OwnersMoved, lock_identifiers
from clientbase.identity.services import load_guards
from clientbase.interactions.handlers import handlers_for
from clientbase.interactions.models import Event
from clientbase.interactions.parsing import MAX_BATCH, CarriedIdentifier, ParsedEvent, parse_event
from clientbase.interactions.storing import FILLED, apply_group, before_events, stored_columns


@dataclass(slots=True)
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


def _apply_locked(group: list[ParsedEvent], results: list[EventResult], actor: Actor, guards: Guards, *,
                  shared: bool, recheck: bool = False, savepoint: bool = True) -> None:
    """Store ``group`` in its own atomic block under the identity locks (``identity.locks``).

    ``shared``: fine-grained locks (the caller's transaction holds no identity lock). A writer that finds
    a customer merged meanwhile starts over (the rollback releases its locks); its third try takes the
    exclusive lock, so it always ends. ``recheck``: look for stored duplicates again under the lock.
    ``savepoint=False`` (not with ``shared``): inside the caller's transaction without a savepoint of its
    own, so a failure fails that transaction (``_store_batch``).
    """
    # The identifiers to lock one by one: only a shared-mode writer's (a bulk group takes the whole lock).
    keys = {(i.kind, i.value) for event in group for i in event.identifiers} if shared else set()
    # A request's own transaction of plain events: its writes whose results nobody reads wait and go with
    # the next statement, the last of them with the COMMIT (``fastsql.together``): a known person's
    # event insert and the commit are one round trip. Not with handlers, which may catch errors of
    # their own statements.
    joined = shared and not any(handlers_for(event.type) for event in group)
    for attempt in range(3):
        try:
            with transaction.atomic(savepoint=savepoint):
                lock = lock_identifiers(keys, shared=shared and attempt < 2)
                fresh = _mark_duplicates(group, results) if recheck else group
                if fresh:
                    with fastsql.together(commit=True) if joined else contextlib.nullcontext():
                        apply_group(fresh, results, actor, guards, lock)
            return
        except OwnersMoved:
            continue


def _run_group(group: list[ParsedEvent], results: list[EventResult], actor: Actor, guards: Guards, *,
               shared: bool = False) -> None:
    try:
        _apply_locked(group, results, actor, guards, shared=shared)
    except DomainValidationError as exc:
        if len(group) > 1:
            raise
        _reject(results[group[0].index], exc.errors)
    except IntegrityError:
        if len(group) > 1:
            raise
        # A concurrent writer stored one of our identifiers or the event itself first: look again.
        try:
            _apply_locked(group, results, actor, guards, shared=shared, recheck=True)
        except (IntegrityError, DomainValidationError) as exc:
            errors = exc.errors if isinstance(exc, DomainValidationError) else [FieldError("", str(exc))]
            _reject(results[group[0].index], errors)


def _store(groups: list[list[ParsedEvent]], results: list[EventResult], actor: Actor, guards: Guards, *,
           savepoints: bool = True) -> None:
    """Store the groups: all in one transaction, or one group in its own (a single-event request).

    A lone group outside any transaction is the whole transaction, so it takes the shared-mode identity
    locks and concurrent requests for other people do not wait for it (``identity.locks``); it also saves
    the outer transaction's savepoint round trips. If such a group of several events fails, its events
    are redone one by one in one transaction, as any group's are.

    ``savepoints=False`` (``_store_batch``, inside the caller's transaction): groups without handlers go in
    without a savepoint, and a failure fails the caller's transaction instead of being redone event by
    event here. A group with handlers keeps its savepoint, so a handler still rejects only its event.
    """
    if not savepoints:
        for group in groups:
            if any(handlers_for(event.type) for event in group):
                _run_group(group, results, actor, guards)
            else:
                _apply_locked(group, results, actor, guards, shared=False, savepoint=False)
        return
    if len(groups) == 1 and not transaction.get_connection().in_atomic_block:
        try:
            _run_group(groups[0], results, actor, guards, shared=True)
            return
        except (IntegrityError, DomainValidationError):
            groups = [[event] for event in groups[0]]
    with transaction.atomic():
        for group in groups:
            try:
                _run_group(group, results, actor, guards)
            except (IntegrityError, DomainValidationError):
                for event in group:
                    _run_group([event], results, actor, guards)


def _reject(result: EventResult, errors: list[FieldError]) -> None:
    result.status, result.customer_id, result.merges, result.review_id = "rejected", None, [], None
    result.errors = errors


def ingest_events(raw_events: list[Any], *, actor: Actor) -> IngestReport:
    """Ingest up to MAX_BATCH raw events (parsed JSON objects); one result per event, in order."""
    guards = load_guards()
    with collector.paused_for(len(raw_events)):
        results, parsed = _parse(raw_events, guards, settings.CLIENTBASE_DEFAULT_REGION,
                                 transaction.get_connection().vendor)
        return _store_parsed(results, parsed, actor, guards)


def ingest_stream(batches: Iterable[list[Any]], *, actor: Actor) -> Iterator[IngestReport]:
    """``ingest_events`` for each batch of a stream, one report a batch, in order, each batch in its own
    transaction (``ingest_batches`` without anything travelling with the batches)."""
    for report, _ in ingest_batches(((batch, None) for batch in batches), actor=actor):
        yield report


def ingest_batches(source: Iterable[tuple[list[Any], Any]], *, actor: Actor,
                   in_process: bool = False) -> Iterator[tuple[IngestReport, Any]]:
    """``ingest_events`` for each ``(events, info)`` of ``source`` (``clientbase ingest FILE``), each batch in
    its own transaction; yields ``(report, info)`` a batch, in order. ``info`` is the caller's (the file's
    line numbers of the batch's events) and travels with its batch.

    The next batch is made ready by a helper thread while this one writes its events and commits
    (``storing.before_events``): both are mostly SQLite's or the server's work, during which the driver
    lets go of the GIL. The helper is idle while the rest of a batch is stored, so it does not take turns
    with that work for the GIL the way a reader running all the time did (``core.readahead``: no faster
    than parsing inline). What it does:

    - by default it parses the batch, which the stream read here, before the batch's transaction;
    - ``in_process``: a second process reads ``source`` and parses every batch (``core.offload``; ``source``
      must pickle), and the helper only takes the next batch from it and rebuilds its objects
      (``_Flattened``, ``_rebuilt``): about 1 µs an event of the parse's 30, and the rest no longer
      shares this process's GIL. Worth its start (a second or so) for a long stream.

    The guard rules are read once, at the start; the garbage collector is paused over the whole stream
    (``collector.paused_over``). On PostgreSQL the tables the stream fills get their first statistics
    between batches once they have grown (``core.bulk.FirstAnalyses``).

    A failure at a batch's commit (a deferred foreign key) ends the stream, where a failure inside the
    batch rolls it back and stores it again with savepoints, its failing events retried one by one
    (``_store_batch``, ``_store``): every key comes from a row read under the identity lock
    in the same transaction, and nothing deletes customers.
    """
    guards = load_guards()
    region, vendor = settings.CLIENTBASE_DEFAULT_REGION, transaction.get_connection().vendor
    Parsed = tuple[list[EventResult], list[ParsedEvent], Any]
    analyse = FirstAnalyses(transaction.get_connection(), [model._meta.db_table for model in FILLED])

    def reports() -> Iterator[tuple[IngestReport, Any]]:
        with contextlib.ExitStack() as stack:
            parser = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="clientbase-parse"))
            stack.enter_context(readahead.quick_switching())
            if in_process:
                offloaded = stack.enter_context(offload.Offloaded(_Flattened(source, guards, region, vendor), plain=True))

                def upcoming() -> Callable[[], Parsed | None] | None:
                    return lambda: _rebuilt(offloaded.receive())
            else:
                raw_batches = iter(source)

                def upcoming() -> Callable[[], Parsed | None] | None:
                    item = next(raw_batches, None)  # read here, before the batch's transaction
                    if item is None:
                        return None
                    raw, info = item
                    return lambda: (*_parse(raw, guards, region, vendor), info)

            job = upcoming()
            parsing: Future[Parsed | None] | None = None
            retired: list[ParsedEvent] | None = None  # the batch before's parsed events, freed by the helper

            def parse_upcoming() -> None:
                nonlocal job, parsing, retired
                if job is not None:
                    parsing = parser.submit(readahead.without_queries, job)
                    job = None
                if retired is not None:
                    # The helper holds the last reference, so freeing 5,000 events' objects (2.4 s of a million
                    # events' 58 s, taking turns with the parser for the GIL) happens beside this batch's insert.
                    parser.submit(len, retired)
                    retired = None

            parse_upcoming()
            while parsing is not None and (batch := parsing.result()) is not None:
                results, parsed, info = batch
                job, parsing = upcoming(), None
                report = _store_batch(results, parsed, actor, guards, parse_upcoming)
                analyse()
                retired = parsed
                del results, parsed, batch  # garbage before the consumer asks for more (paused_over)
                yield report, info

    yield from collector.paused_over(reports())


def _parse(raw_events: list[Any], guards: Guards, region: str,
           vendor: str) -> tuple[list[EventResult], list[ParsedEvent]]:
    """Every event validated (no database access): a result for each, the parsed ones to store."""
    if len(raw_events) > MAX_BATCH:
        raise DomainValidationError.single("events", f"At most {MAX_BATCH} events per request.")
    results = [EventResult(index=i) for i in range(len(raw_events))]
    parsed: list[ParsedEvent] = []
    for i, raw in enumerate(raw_events):
        if isinstance(raw, dict):
            results[i].source, results[i].id = str(raw.get("source", ""))[:60], str(raw.get("id", ""))[:120]
        try:
            event = parse_event(i, raw, guards, region)
        except DomainValidationError as exc:
            _reject(results[i], exc.errors)
            continue
        event.columns = stored_columns(event, vendor)
        parsed.append(event)
    return results, parsed


# What ``_Flattened`` sends for a batch: the number of results; the rejected events' (index, source, id,
# [(path, message)]); for each parsed event its result's source and id, then ParsedEvent's fields with the
# identifiers as (kind, value, raw, verified) and the moment as ISO text (datetime objects made pickling
# three times as slow); and the batch's info.
Flat = tuple[int, list[tuple[int, str, str, list[tuple[str, str]]]], list[tuple[Any, ...]], Any]


@dataclass(frozen=True)
class _Flattened:
    """A stream's batches parsed in ``core.offload``'s second process (``ingest_batches(in_process=True)``):
    the parse, then plain tuples: they pickle in a tenth of the time the objects take, and unpickle and
    rebuild (``_rebuilt``) in a fifth (about 1 µs an event)."""

    source: Iterable[tuple[list[Any], Any]]
    guards: Guards
    region: str
    vendor: str

    def __iter__(self) -> Iterator[Flat]:
        vendor = transaction.get_connection().vendor
        if vendor != self.vendor:  # the stored columns are converted for this database
            raise RuntimeError(f"The parsing process is set up for {vendor}, the stream for {self.vendor}.")
        for raw, info in self.source:
            results, parsed = _parse(raw, self.guards, self.region, self.vendor)
            rejected = [(r.index, r.source, r.id, [(e.path, e.message) for e in r.errors])
                        for r in results if r.status == "rejected"]
            yield len(results), rejected, [_flat(e, results[e.index]) for e in parsed], info


def _flat(event: ParsedEvent, result: EventResult) -> tuple[Any, ...]:
    """An event's ``Flat`` tuple. Texts that repeat go as one object: pickle sends an object it has sent
    before as a reference, and the receiving process then makes and frees one string instead of many
    (its thread shares the GIL with the batch being stored). Source, type, channel and identifier kinds
    are interned; a result's source and id, and an identifier's raw form, are the event's own strings
    where they are equal."""
    source = sys.intern(event.source)
    return (event.index, source if result.source == source else result.source,
            event.external_id if result.id == event.external_id else result.id, source, event.external_id,
            sys.intern(event.type), sys.intern(event.channel), event.occurred_at.isoformat(),
            [(sys.intern(i.kind), i.value, i.value if i.raw == i.value else i.raw, i.verified) for i in event.identifiers],
            event.traits, event.consent, event.data, event.junk, event.columns)


def _rebuilt(flat: Flat | None) -> tuple[list[EventResult], list[ParsedEvent], Any] | None:
    """``_parse``'s results and parsed events (and the batch's info) again from ``_Flattened``'s tuples."""
    if flat is None:
        return None
    count, rejected, events, info = flat
    results = [EventResult(index=i) for i in range(count)]
    for index, source, external_id, errors in rejected:
        result = results[index]
        result.source, result.id = source, external_id
        _reject(result, [FieldError(path, message) for path, message in errors])
    parsed = []
    for (index, result_source, result_id, source, external_id, kind, channel, occurred_at, identifiers, traits,
         consent, data, junk, columns) in events:
        result = results[index]
        result.source, result.id = result_source, result_id
        parsed.append(ParsedEvent(index, source, external_id, kind, channel, dt.datetime.fromisoformat(occurred_at),
                                  [CarriedIdentifier(*i) for i in identifiers], traits, consent, data, junk, columns))
    return results, parsed, info


def _store_batch(results: list[EventResult], parsed: list[ParsedEvent], actor: Actor, guards: Guards,
                 before: Callable[[], None]) -> IngestReport:
    """A stream's batch in a transaction of its own (``ingest_batches``; ``before``: its ``before_events``).

    First without savepoints (``_store(savepoints=False)``): on SQLite a savepoint open while a batch
    writes copies every page the batch changes into a journal of its own first, in case it is rolled
    back (7.9 GB written for a million events instead of 5.7 GB; bench/RESULTS.md, nineteenth session).
    The savepoints are only there for a group that fails, which in a stream is rare (another writer
    stored one of its events meanwhile): then the whole transaction is rolled back, the results are
    cleared, and the batch is stored again with them, its failing events redone one by one. A failure
    at the commit fails the second try the same way and ends the stream.
    """
    try:
        with transaction.atomic(), before_events(before):
            return _store_parsed(results, parsed, actor, guards, savepoints=False)
    except (IntegrityError, DomainValidationError):
        for event in parsed:  # each stored event's result as the parse left it (the rejected ones are untouched)
            first = results[event.index]
            results[event.index] = EventResult(first.index, source=first.source, id=first.id)
    with transaction.atomic(), before_events(before):
        return _store_parsed(results, parsed, actor, guards)


def _store_parsed(results: list[EventResult], parsed: list[ParsedEvent], actor: Actor,
                  guards: Guards, *, savepoints: bool = True) -> IngestReport:
    """Store a parsed batch (its duplicates reported, the rest in runs) and report on every event.

    A lone event outside a transaction (a single-event request) is not looked up first: the unique
    ``(source, id)`` constraint stops a resend, and the retry under the lock reports it as a duplicate
    (``_run_group``). That is a round trip fewer for every new event, and a rolled-back attempt for a resend.
    """
    lone = len(parsed) == 1 and not transaction.get_connection().in_atomic_block
    _store(list(_runs(parsed if lone else _mark_duplicates(parsed, results))), results, actor, guards,
           savepoints=savepoints)
    return IngestReport(results)
