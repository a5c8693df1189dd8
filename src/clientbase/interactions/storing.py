"""Writing one resolved group of events: merges, new customers, identifiers, events, consents, traits.

Traits follow one rule (docs/identity.md): they fill empty profile fields and never overwrite a
value someone already stored. New customers and trait fills are written in bulk, with ProfileChange
history rows (source = the event channel): one ``created`` row per new customer, as an import writes,
and the per-field rows ``update_customer`` writes for everything later.
"""

import functools
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import connection

from clientbase.access.actor import Actor
from clientbase.core import fastsql
from clientbase.core.clock import now
from clientbase.core.fastinsert import converter, insert_rows, update_rows
from clientbase.core.text import search_key
from clientbase.customers.history import change_row, history_row, insert_history
from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.rules import to_json
from clientbase.identity.guards import Guards
from clientbase.identity.locks import EXCLUSIVE, IdentityLock
from clientbase.identity.merges import merge_many
from clientbase.identity.models import Consent, Identifier, Merge, ReviewCase, ReviewStatus
from clientbase.interactions.fastinsert import insert_with_ids
from clientbase.interactions.handlers import handlers_for
from clientbase.interactions.models import Event
from clientbase.interactions.parsing import ParsedEvent
from clientbase.interactions.resolution import KnownState, Plan, resolve

if TYPE_CHECKING:
    from clientbase.interactions.ingest import EventResult

_CHUNK = 2000
# The tables storing a batch fills, row by row with its events (merges write ``Merge``; reviews are few):
# ``ingest_batches`` gives them their first statistics between batches (``core.bulk.FirstAnalyses``).
FILLED = (Event, Customer, Identifier, ProfileChange, Merge, Consent)
_NAME_FIELDS = ("last_name", "first_name", "middle_name", "legal_name")
_IDENTIFIER_COLUMNS = ("customer_id", "kind", "value", "raw", "verified", "label", "source", "created_at")
_EVENT_COLUMNS = ("source", "external_id", "type", "channel", "occurred_at", "received_at", "customer_id",
                  "identifiers", "traits", "data")


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _known_state(events: list[ParsedEvent], guards: Guards, lock: IdentityLock) -> KnownState:
    pairs = {(i.kind, i.value) for e in events for i in e.identifiers}
    # Every holder is locked before its counts are read (an event may attach to any of them, so none may
    # be merged meanwhile: see identity.locks); the counts are read only for those resolution may consult.
    owner = {f"{kind}:{value}": customer_id for (kind, value), customer_id in lock.holders(pairs).items()}
    customers = _consulted(events, owner)
    counts: dict[int, Counter[str]] = {c: Counter() for c in customers}
    verified: dict[int, set[str]] = {c: set() for c in customers}
    # Both reads as one message on PostgreSQL; a review needs two customers.
    counted, paired = fastsql.select_in_each([
        (f"SELECT customer_id, kind, verified, COUNT(*) FROM {Identifier._meta.db_table} "
         "WHERE {match} GROUP BY customer_id, kind, verified", "customer_id", customers, ()),
        (_family_reviews_sql(), "id", customers if len(customers) > 1 else [], ())])
    for customer_id, kind, is_verified, n in counted:
        counts[customer_id][kind] += n
        if is_verified and kind in guards.single_valued:
            verified[customer_id].add(kind)
    return KnownState(owner, counts, verified, _reviewed_pairs(paired))


@functools.cache
def _family_reviews_sql() -> str:
    """For each consulted customer (``{match}`` on its id), the undecided or kept-apart review cases of it and
    of every customer merged into it, directly or down a chain: (customer, member, case's a, case's b).

    A pair kept apart stays apart when one of them is later merged into a third profile: the survivor
    now holds that person. Before, an event carrying the other one's phone and the survivor's card merged
    them again, silently (a walkthrough of the seventeenth session). Each member costs one look into the
    customers' ``merged_into`` index and two into the cases' customer indexes."""
    customers, reviews = Customer._meta.db_table, ReviewCase._meta.db_table
    merged = ReviewStatus.MERGED.value
    cases = " UNION ALL ".join(
        f"SELECT family.root, family.id, r.customer_a_id, r.customer_b_id FROM family "
        f"JOIN {reviews} AS r ON r.{end} = family.id WHERE r.status <> '{merged}'"
        for end in ("customer_a_id", "customer_b_id"))
    return (f"WITH RECURSIVE family(root, id) AS (SELECT id, id FROM {customers} WHERE {{match}} "
            f"UNION ALL SELECT family.root, c.id FROM {customers} AS c JOIN family ON c.merged_into_id = family.id) "
            f"{cases}")


def _reviewed_pairs(rows: list[tuple[Any, ...]]) -> set[frozenset[int]]:
    """The pairs of consulted customers that a review case (between them, or between customers merged
    into them) keeps apart, from ``_family_reviews_sql``'s rows."""
    root_of = {member: root for root, member, _, _ in rows}
    pairs = set()
    for _, _, a, b in rows:
        if a in root_of and b in root_of and root_of[a] != root_of[b]:
            pairs.add(frozenset((root_of[a], root_of[b])))
    return pairs


def _consulted(events: list[ParsedEvent], owner: dict[str, int]) -> list[int]:
    """The stored customers whose identifier counts, verified kinds and review pairs ``resolve`` may read.

    It reads them only for an event that attaches a new identifier or joins two or more customers.
    An event all of whose identifiers one customer holds already does neither (most traffic: a known
    person seen again), so its customer is left out unless another event names it. The customers
    that resolution makes targets later in the batch are owners named by such events, or survivors
    and owners that an earlier such event reached, so the set holds them all.
    """
    consulted: set[int] = set()
    for event in events:
        owners = {owner.get(i.key) for i in event.identifiers}
        if None in owners or len(owners) > 1:
            consulted.update(c for c in owners if c is not None)
    return sorted(consulted)


def _fill(target: dict[str, Any], traits: dict[str, Any]) -> dict[str, Any]:
    """The traits that land: those whose field is still empty."""
    filled = {}
    for key, value in traits.items():
        if target.get(key) in ("", None, [], {}) and value not in ("", None, [], {}):
            filled[key] = value
            target[key] = value
    return filled


def _execute_merges(plan: Plan, by_index: dict[int, ParsedEvent], results: "list[EventResult]",
                    actor: Actor) -> None:
    pairs = [(s, a, f"event {by_index[i].source}/{by_index[i].external_id}") for s, a, i in plan.merges]
    merges = merge_many(pairs, actor=actor)
    for (survivor, absorbed, index), merge in zip(plan.merges, merges, strict=True):
        results[index].merges.append({"merge_id": merge.pk, "survivor": survivor, "absorbed": absorbed})


def _create_customers(plan: Plan, events: list[ParsedEvent], actor: Actor) -> tuple[dict[int, int], set[int]]:
    """Create the new customers (virtual roots) with their first traits; returns ref -> id and the
    indexes of the events that created them.

    History reads as if the events had come one by one: the event that creates a customer writes one
    ``created`` row holding the traits and identifiers it brought (source = its channel) where a row per
    field and identifier took three or more; traits that later events of the batch fill get per-field
    rows, as for a customer that existed before (their identifiers get theirs in ``_store_identifiers``)."""
    values: dict[int, dict[str, Any]] = {r: {} for r in plan.new_refs if plan.find(r) == r}
    opening: dict[int, ParsedEvent] = {}
    first: dict[int, dict[str, Any]] = {}
    later: list[tuple[int, str, Any, str]] = []  # (ref, field, value, channel)
    for event in events:
        ref = plan.find(plan.targets[event.index])
        if ref not in values:
            continue
        filled = _fill(values[ref], event.traits)
        if ref not in opening:
            opening[ref] = event
            first[ref] = {key: to_json(value) for key, value in filled.items()}
        else:
            later.extend((ref, key, value, event.channel) for key, value in filled.items())
    openers = {event.index: ref for ref, event in opening.items()}
    for identifier, _, index in plan.new_identifiers:
        if index in openers:
            first[openers[index]].setdefault(f"identifiers.{identifier.kind}", []).append(identifier.value)
    roots = list(values)
    ids = dict(zip(roots, insert_with_ids(Customer, [
        {**values[ref], "search_key": search_key(*(values[ref].get(f, "") for f in _NAME_FIELDS))}
        for ref in roots]), strict=True))
    at = now()
    insert_history([
        *(history_row(ids[ref], "created", None, first[ref], actor=actor, source=opening[ref].channel, at=at)
          for ref in roots),
        *(history_row(ids[ref], key, None, value, actor=actor, source=channel, at=at)
          for ref, key, value, channel in later)])
    return ids, set(openers)


def _enrich_existing(plan: Plan, events: list[ParsedEvent], actor: Actor) -> None:
    with_traits = [e for e in events if e.traits and plan.find(plan.targets[e.index]) > 0]
    if not with_traits:
        return
    customers = Customer.objects.in_bulk({plan.find(plan.targets[e.index]) for e in with_traits})
    state = {pk: {k: getattr(c, k) for e in with_traits for k in e.traits} for pk, c in customers.items()}
    rows, changed_fields, changed = [], set(), {}
    for event in with_traits:
        pk = plan.find(plan.targets[event.index])
        for key, value in _fill(state[pk], event.traits).items():
            customer = customers[pk]
            rows.append(change_row(customer, key, getattr(customer, key), value, actor=actor, source=event.channel))
            setattr(customer, key, value)
            changed_fields.add(key)
            changed[pk] = customer
    if changed:
        for customer in changed.values():
            customer.search_key = search_key(*(getattr(customer, f) for f in _NAME_FIELDS))
            customer.updated_at = now()
        columns = [*sorted(changed_fields), "search_key", "updated_at"]
        update_rows(Customer, columns, [(c.pk, *(getattr(c, f) for f in columns)) for c in changed.values()])
        ProfileChange.objects.bulk_create(rows, batch_size=1000)


def _open_reviews(plan: Plan, real: dict[int, int], by_index: dict[int, ParsedEvent],
                  results: "list[EventResult]") -> None:
    at = now()
    for a, b, kinds, index in plan.reviews:
        first, second = sorted((real[a], real[b]))
        event = by_index[index]
        case = ReviewCase.objects.create(
            customer_a_id=first, customer_b_id=second, created_at=at,
            reason=f"Both hold a different verified {', '.join(sorted(kinds))}",
            evidence={"event": f"{event.source}/{event.external_id}",
                      "identifiers": [i.key for i in event.identifiers]})
        results[index].review_id = case.pk


def _store_identifiers(plan: Plan, real: Any, by_index: dict[int, ParsedEvent], openers: set[int],
                       actor: Actor) -> None:
    """Attach the new identifiers; each gets a history row unless its event created the customer (the
    ``created`` row lists it)."""
    at = now()
    identifiers = [(real(ref), i.kind, i.value, i.raw, i.verified, "", by_index[index].channel, at)
                   for i, ref, index in plan.new_identifiers]
    insert_rows(Identifier, _IDENTIFIER_COLUMNS, identifiers)
    insert_history(history_row(row[0], f"identifiers.{row[1]}", None, row[2], actor=actor, source=row[6], at=at)
                   for row, (_, _, index) in zip(identifiers, plan.new_identifiers, strict=True) if index not in openers)


_CONVERTED = ("occurred_at", "identifiers", "traits", "data")
_before_events: ContextVar[Callable[[], None] | None] = ContextVar("before_events", default=None)


@contextmanager
def before_events(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` once in this block: on SQLite just before its events insert, once their rows are
    converted (``_store_events``), otherwise (or if no events came to be inserted) when the block ends
    without an error.

    ``ingest.ingest_stream`` starts parsing the next batch there. On SQLite the events then go in with
    multi-row statements, during which the driver lets go of the GIL (``insert_rows(one_call=True)``),
    and the commit follows, so the parse
    runs beside them; before, it started at the commit and the batch's thread waited for it (11 of 68 s
    for a million events). The events insert is the last large write of a batch: what follows it is the
    batch's results and the rare consents and reviews. On PostgreSQL the events go in by ``COPY``, which
    this thread feeds row by row in Python, so the parse would take turns with it; there it starts at the
    commit, a long wait on the server (the deferred foreign-key checks)."""
    token = _before_events.set(callback)
    try:
        yield
        if _before_events.get() is not None:
            callback()
    finally:
        _before_events.reset(token)


@functools.cache
def _converters(vendor: str) -> tuple[Callable[[Any], Any], ...]:  # one set per engine
    return tuple(converter(Event, column) for column in _CONVERTED)


def stored_columns(event: ParsedEvent, vendor: str) -> tuple[Any, ...]:
    """The event's own columns that need converting (``_CONVERTED``), as ``insert_rows`` would convert them
    for a database of ``vendor``.

    The parse step calls this, so in a stream the work is done by the helper thread beside the batch
    before (``before_events``) rather than by the thread that stores: 4.8 s of that thread's 57 s for a
    million events on SQLite. The caller names the vendor once a batch: ``connection.vendor`` looks up
    the thread's connection on each call, 2.2 s of a million events' parse (``bench/RESULTS.md``, the
    seventeenth session)."""
    occurred, identifiers, traits, data = _converters(vendor)
    moment, keys, filled, payload = _own_values(event)
    return occurred(moment), identifiers(keys), traits(filled), data(payload)


def _own_values(event: ParsedEvent) -> tuple[Any, ...]:
    """The ``_CONVERTED`` columns' values as the model holds them."""
    return (event.occurred_at, [i.key for i in event.identifiers], _jsonable(event.traits) if event.traits else {},
            event.data)


def _now_before_events() -> Callable[[], None] | None:
    """The ``before_events`` callback, if one waits, as a call that also marks it done."""
    callback = _before_events.get()
    if callback is None:
        return None

    def call() -> None:
        _before_events.set(None)
        callback()
    return call


def _store_events(events: list[ParsedEvent], customer_ids: list[int]) -> list[Event] | None:
    """Store the events; model instances (with ids) only when handlers will need them. On SQLite the
    ``before_events`` callback runs just before the insert, once the rows are built."""
    received = now()
    callback = _now_before_events() if connection.vendor == "sqlite" else None
    if not any(handlers_for(e.type) for e in events):
        rows = [(e.source, e.external_id, e.type, e.channel, occurred, received, customer_id, identifiers, traits, data)
                for e, customer_id in zip(events, customer_ids, strict=True)
                for occurred, identifiers, traits, data in (e.columns or stored_columns(e, connection.vendor),)]
        # The callback once the rows are ready: while they were built, a helper started by it took turns
        # with this thread for the GIL; during the statement this thread does not need it.
        insert_rows(Event, _EVENT_COLUMNS, rows, converted=_CONVERTED, one_call=True, ready=callback)
        return None
    if callback is not None:
        callback()
    return Event.objects.bulk_create([
        Event(source=e.source, external_id=e.external_id, type=e.type, channel=e.channel, received_at=received,
              customer_id=customer_id, **dict(zip(_CONVERTED, _own_values(e), strict=True)))
        for e, customer_id in zip(events, customer_ids, strict=True)])


def apply_group(events: list[ParsedEvent], results: "list[EventResult]", actor: Actor, guards: Guards,
                lock: IdentityLock = EXCLUSIVE) -> None:
    """Resolve and store ``events`` (none of them stored yet); fill in their results.

    The caller holds ``lock`` (``identity.locks``); a shared-mode one has found and locked the holders
    of the events' identifiers already (``lock_identifiers``)."""
    by_index = {e.index: e for e in events}
    plan = resolve(events, _known_state(events, guards, lock), guards)
    _execute_merges(plan, by_index, results, actor)
    created, openers = _create_customers(plan, events, actor)

    def real(ref: int) -> int:
        root = plan.find(ref)
        return root if root > 0 else created[root]

    _enrich_existing(plan, events, actor)
    _store_identifiers(plan, real, by_index, openers, actor)
    customer_ids = [real(plan.targets[e.index]) for e in events]
    stored = _store_events(events, customer_ids)
    Consent.objects.bulk_create(
        [Consent(customer_id=customer_id, channel=channel, status=status, at=e.occurred_at,
                 source=f"event:{e.source}/{e.external_id}")
         for e, customer_id in zip(events, customer_ids, strict=True) for channel, status in e.consent.items()])
    _open_reviews(plan, {r: real(r) for pair in plan.reviews for r in pair[:2]}, by_index, results)
    for index, key in plan.capped:
        results[index].notes.append(f"{key} not attached: the customer has reached the cap for its kind.")
    for index, a, b in plan.kept_apart:
        results[index].notes.append(f"Customers #{a} and #{b} not merged: they, or customers merged into them, "
                                    "are kept apart or wait in the review queue.")
    for event, customer_id in zip(events, customer_ids, strict=True):
        results[event.index].customer_id = customer_id
        for junk in event.junk:
            results[event.index].notes.append(f"{junk} ignored: a placeholder value never links anyone.")
    for event, row in zip(events, stored or [], strict=False):
        for handler in handlers_for(event.type):
            handler(row, Customer.objects.get(pk=row.customer_id))


def _jsonable(traits: dict[str, Any]) -> dict[str, Any]:
    return {k: to_json(v) for k, v in traits.items()}
