"""Merge (R2.3). The caller owns the transaction; ``merge_customers`` and ``merge_many`` are atomic.

Rules (docs/identity.md):
- everything of the absorbed customer moves to the survivor: identifiers, events, consents and the
  rows of every registered Participant; the absorbed row stays as a tombstone (``merged_into``);
- fields: the survivor keeps its non-empty values; its empty fields take the absorbed value; every
  value that lost or was overwritten is written to history with source ``merge:<id>``;
- consent: per channel the stricter current choice wins (a row is added to make it current).

``merge_many`` does many merges with a fixed number of queries per chain-free round (bulk ingest
merges hundreds of pairs per batch); ``merge_customers`` is one pair of it.
"""

import datetime
import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from clientbase.access.actor import Actor
from clientbase.core import fastinsert, fastsql
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.core.text import search_key
from clientbase.customers.history import history_row, insert_history
from clientbase.customers.models import Customer
from clientbase.customers.rules import BUILTIN_FIELDS, to_json
from clientbase.identity.consents import stricter
from clientbase.identity.locks import lock_identity, merging_lock
from clientbase.identity.models import Consent, Identifier, Merge
from clientbase.identity.participants import PROBE_CHUNK, participants

IDENTIFIER = "identity.Identifier"
EVENT = "interactions.Event"
CONSENT = "identity.Consent"
# Fields a merge never copies: they describe the profile row, not the person.
_NOT_MERGED = {"kind"}
Pair = tuple[int, int, str]  # survivor id, absorbed id, reason


def _empty(value: Any) -> bool:
    return value in ("", None, [], {})


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _labels() -> list[str]:
    return [IDENTIFIER, EVENT, CONSENT, *(p.model for p in participants())]


def notify_participants(customer_ids: list[int]) -> None:
    """Each distinct ``after_change`` once (several participants of one domain often share one), unless
    its probes (``Participant.probe``, all sent as one message per chunk of customers) found nothing."""
    callbacks: dict[Callable[[list[int]], None], list[Callable[[list[int]], tuple[str, list[Any]]]]] = {}
    due: set[Callable[[list[int]], None]] = set()  # a participant without a probe: always called
    for participant in participants():
        if participant.after_change is not None:
            probes = callbacks.setdefault(participant.after_change, [])
            if participant.probe is None:
                due.add(participant.after_change)
            elif participant.probe not in probes:
                probes.append(participant.probe)
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), PROBE_CHUNK):
        chunk = ids[start:start + PROBE_CHUNK]
        asked = [(callback, probe) for callback, probes in callbacks.items() if callback not in due
                 for probe in probes]
        if not asked:
            break
        for (callback, _), found in zip(asked, fastsql.rows_each([probe(chunk) for _, probe in asked]), strict=True):
            if found:
                due.add(callback)
    for callback in callbacks:
        if callback in due:
            callback(customer_ids)


def _names(label: str) -> tuple[str, str, str]:
    """Quoted table, primary key column and customer column of a participant's model."""
    meta = _model(label)._meta
    quote = connection.ops.quote_name
    return (quote(meta.db_table), quote(str(meta.pk.column)),  # type: ignore[union-attr]
            quote(str(meta.get_field("customer").column)))  # type: ignore[union-attr]


def _rows_of(labels: list[str], absorbed: list[int]) -> dict[str, dict[int, list[int]]]:
    """{label: {absorbed customer: ids of its rows, ascending}} for each participant's table.

    One statement of plain SQL for every table (``_rows_sql``), each read with one index lookup per
    absorbed customer: the ORM's CASE of hundreds of WHENs cost more to compile than the database took to
    run it, and a statement per table was most of a one-pair merge's statements on SQLite.
    """
    found: dict[str, dict[int, list[int]]] = {label: defaultdict(list) for label in labels}
    params = [fastinsert.ids_param(absorbed)]
    for index, row_id, customer_id in fastsql.rows(_rows_sql(tuple(labels), connection.vendor), params):
        found[labels[index]][customer_id].append(row_id)
    return {label: {a: sorted(ids) for a, ids in rows.items()} for label, rows in found.items()}


@functools.cache
def _rows_sql(labels: tuple[str, ...], vendor: str) -> str:
    """``_rows_of``'s statement. PostgreSQL: joined straight to the unnest of the absorbed ids, the planner
    hashed it and read the whole table (an events table of millions, every merge round); ``CROSS JOIN
    LATERAL`` with OFFSET 0 keeps each subquery from being flattened back into that join. SQLite: the ids
    as a JSON array, ``IN`` a materialized list of them per table."""
    names = list(map(_names, labels))
    if vendor == "postgresql":
        parts = [f"SELECT {i}, r.{pk}, m.absorbed FROM m CROSS JOIN LATERAL "
                 f"(SELECT {pk} FROM {table} WHERE {column} = m.absorbed OFFSET 0) AS r"
                 for i, (table, pk, column) in enumerate(names)]
        return "WITH m AS (SELECT unnest(%s::bigint[]) AS absorbed) " + " UNION ALL ".join(parts)
    parts = [f"SELECT {i}, {pk}, {column} FROM {table} WHERE {column} IN m"
             for i, (table, pk, column) in enumerate(names)]
    return "WITH m(absorbed) AS (SELECT value FROM json_each(%s)) " + " UNION ALL ".join(parts)


def _move_rows(label: str, owners: dict[int, int], moved: dict[int, list[int]]) -> None:
    """Move the rows ``_rows_of`` found for each absorbed customer to its survivor.

    PostgreSQL: one ``UPDATE … FROM unnest(…)`` by primary key (array parameters, so the query text stays
    short); SQLite: one prepared UPDATE per absorbed customer that has rows. Within one round no customer
    is both absorbed and a survivor (``_rounds``), so the order of the updates does not matter.
    """
    if not moved:
        return
    table, pk, column = _names(label)
    absorbed = sorted(moved)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids_array = fastinsert.pg_array([row_id for a in absorbed for row_id in moved[a]])
            # "= ANY" as well as the join: the planner then reads the rows by primary key. Nobody reads its
            # result: in ``_round``'s ``together`` block it travels with the other tables' moves.
            fastinsert.write(f"UPDATE {table} AS t SET {column} = m.survivor "
                             f"FROM unnest(%s::bigint[], %s::bigint[]) AS m(id, survivor) "
                             f"WHERE t.{pk} = m.id AND t.{pk} = ANY(%s::bigint[])",
                             [ids_array, fastinsert.pg_array([owners[a] for a in absorbed for _ in moved[a]]),
                              ids_array])
        else:
            cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {column} = %s",
                               [(owners[a], a) for a in absorbed])


def _one_statement(owners: dict[int, int]) -> bool:
    return connection.vendor == "postgresql" and len(owners) == 1


@functools.cache
def _move_one_sql(labels: tuple[str, ...]) -> str:
    moves, reads = [], []
    for n, label in enumerate(labels):
        table, pk, column = _names(label)
        moves.append(f"m{n} AS (UPDATE {table} SET {column} = %s WHERE {column} = %s RETURNING {pk} AS id)")
        reads.append(f"SELECT {n}, id FROM m{n}")
    return f"WITH {', '.join(moves)} {' UNION ALL '.join(reads)}"


def _move_one(labels: tuple[str, ...], absorbed: int, survivor: int) -> dict[str, dict[int, list[int]]]:
    """``_rows_of`` and ``_move_rows`` of every table for one absorbed customer on PostgreSQL, in one statement.

    A merge that a single event makes moves one customer's rows out of some fifteen tables; a statement
    per table (and two where rows moved) was most of its round trips. Each ``UPDATE … WHERE customer =``
    walks that table's customer index; the tables are distinct, so the updates cannot meet."""
    moved: dict[str, dict[int, list[int]]] = {label: {} for label in labels}
    for n, row_id in fastsql.rows(_move_one_sql(labels), [survivor, absorbed] * len(labels)):
        moved[labels[n]].setdefault(absorbed, []).append(row_id)
    return {label: {a: sorted(ids) for a, ids in by.items()} for label, by in moved.items()}


def _merge_fields(survivor: Customer, absorbed: Customer, merge: Merge, actor: Actor,
                  tags: dict[int, set[int]], tag_names: dict[int, str], at: datetime.datetime) -> list[tuple[Any, ...]]:
    """Apply the field rule to ``survivor``, note what it overwrote on ``merge``; the history rows
    (``history_row``) of every value that lost or was overwritten."""
    source = f"merge:{merge.pk}"
    rows = []
    for key in BUILTIN_FIELDS:
        if key in _NOT_MERGED:
            continue
        mine, theirs = getattr(survivor, key), getattr(absorbed, key)
        if _empty(theirs) or mine == theirs:
            continue
        if _empty(mine):
            merge.overwritten[key] = {"survivor": to_json(mine), "absorbed": to_json(theirs)}
            setattr(survivor, key, theirs)
            rows.append(history_row(survivor.pk, key, mine, theirs, actor=actor, source=source, at=at))
        else:
            # The survivor's value wins; the losing one is kept as the "old" side of a history row.
            rows.append(history_row(survivor.pk, key, theirs, mine, actor=actor, source=source, at=at))
    custom = dict(survivor.custom)
    for key, theirs in absorbed.custom.items():
        mine = custom.get(key)
        if _empty(theirs) or mine == theirs:
            continue
        if _empty(mine):
            merge.overwritten[f"custom.{key}"] = {"survivor": mine, "absorbed": theirs}
            custom[key] = theirs
            rows.append(history_row(survivor.pk, f"custom.{key}", mine, theirs, actor=actor, source=source, at=at))
        else:
            rows.append(history_row(survivor.pk, f"custom.{key}", theirs, mine, actor=actor, source=source, at=at))
    survivor.custom = custom
    added = tags[absorbed.pk] - tags[survivor.pk]
    if added:
        names = sorted(tag_names[t] for t in added)
        merge.overwritten["tags"] = {"added": names}
        tags[survivor.pk] |= added
        rows.append(history_row(survivor.pk, "tags", None, names, actor=actor, source=source, at=at))
    return rows


def _consent_state(consents: list[Consent]) -> dict[int, dict[str, tuple[Any, int, str]]]:
    """{customer: {channel: (at, pk, status) of the current row}} of these customers' consent rows."""
    state: dict[int, dict[str, tuple[Any, int, str]]] = defaultdict(dict)
    rows = [(c.customer_id, c.channel, c.at, c.pk, c.status) for c in consents]
    for customer_id, channel, at, pk, status in rows:
        current = state[customer_id].get(channel)
        if current is None or (at, pk) > current[:2]:
            state[customer_id][channel] = (at, pk, status)
    return state


def _merge_consents(pairs: list[tuple[Customer, Customer, Merge]],
                    state: dict[int, dict[str, tuple[Any, int, str]]]) -> dict[int, list[Consent]]:
    """The consent rows that make the stricter choice current, per merge. ``state``: ``_consent_state``
    of every customer of ``pairs`` read before the merge moved the absorbed customers' rows (afterwards
    they would all count as the survivor's, and the latest row would win instead of the stricter one)."""
    at = now()
    created: dict[int, list[Consent]] = defaultdict(list)
    for survivor, absorbed, merge in pairs:
        mine, theirs = state[survivor.pk], state.pop(absorbed.pk, {})
        for channel in sorted(set(mine) | set(theirs)):
            wanted = stricter(mine[channel][2] if channel in mine else None,
                              theirs[channel][2] if channel in theirs else None)
            latest = max(x for x in (mine.get(channel), theirs.get(channel)) if x is not None)
            if wanted is not None and latest[2] != wanted:
                # Current means latest: after the latest row even when that one is dated ahead of this
                # server's clock (an event's own time, another server's).
                stamp = max(at, latest[0] + datetime.timedelta(microseconds=1))
                created[merge.pk].append(Consent(customer_id=survivor.pk, channel=channel, status=wanted, at=stamp,
                                                 source=f"merge:{merge.pk}"))
                mine[channel] = (stamp, 1 << 62, wanted)
            else:
                mine[channel] = latest
    return created


def _rounds(pairs: Sequence[Pair]) -> list[list[Pair]]:
    """Split into rounds where no customer is absorbed after it survived a merge of the same round."""
    rounds: list[list[Pair]] = [[]]
    survivors: set[int] = set()
    for pair in pairs:
        if pair[1] in survivors:
            rounds.append([])
            survivors = set()
        rounds[-1].append(pair)
        survivors.add(pair[0])
    return [r for r in rounds if r]


def _check(pairs: Sequence[Pair], customers: dict[int, Customer]) -> None:
    absorbed_before: set[int] = set()
    for survivor, absorbed, _ in pairs:
        if survivor == absorbed:
            raise DomainValidationError.single("customer_id", "A customer cannot be merged into itself.")
        for who, pk in (("survivor", survivor), ("absorbed", absorbed)):
            into = customers[pk].merged_into_id
            if into is not None or pk in absorbed_before:
                raise DomainValidationError.single(who, f"Customer #{pk} was already merged into #{into}.")
        absorbed_before.add(absorbed)


Reads = tuple[dict[str, int], list[int], dict[int, set[int]], dict[int, dict[str, tuple[Any, int, str]]]]


def _before_moving(pairs: list[Pair], customer_ids: list[int] | None = None) -> tuple[Reads, dict[int, Customer]]:
    """What a round reads before it moves any row, as one message on PostgreSQL (``fastsql.rows_each``):
    a single event's merge was some twenty round trips, each about 0.3 ms of CPU between the server and
    this process. The events' and identifiers' watermarks (what unmerge treats as arriving later), the
    merges' ids, the customers' tags and their consent state (read before the absorbed rows move: see
    ``_merge_consents``); with ``customer_ids``, those customers' rows too (``merge_many``'s first round),
    locked before anything else is read (``locks.merging_lock``)."""
    quote = connection.ops.quote_name
    involved = sorted({pk for s, a, _ in pairs for pk in (s, a)})
    match, params = fastinsert.ids_match("customer_id", involved)
    reserve, reserve_params, reserved = fastinsert.reserve_ids_statement(Merge, len(pairs))
    consents, consent_params, consent_rows = fastsql.fetch_statement(Consent, match, params)
    # The customers first, locked (``locks.merging_lock``): what a writer holding one wrote is read below.
    with_customers = [fastsql.fetch_statement(Customer, *fastinsert.ids_match("id", customer_ids),
                                              suffix=merging_lock())] if customer_ids else []
    *customer_found, marks, merge_ids, tag_rows, consent_found = fastsql.rows_each([
        *((sql, values) for sql, values, _ in with_customers),
        (f"SELECT (SELECT MAX(id) FROM {quote(Identifier._meta.db_table)}), "
         f"(SELECT MAX(id) FROM {quote(_model(EVENT)._meta.db_table)})", []),
        (reserve, reserve_params),
        (f"SELECT customer_id, tag_id FROM {quote(Customer.tags.through._meta.db_table)} WHERE {match}", params),
        (consents, consent_params)])
    [(identifier_mark, event_mark)] = marks
    tags: dict[int, set[int]] = defaultdict(set)
    for customer_id, tag_id in tag_rows:
        tags[customer_id].add(tag_id)
    reads = ({"identifier_watermark": identifier_mark or 0, "event_watermark": event_mark or 0},
             reserved(merge_ids), tags, _consent_state(consent_rows(consent_found)))
    return reads, {c.pk: c for (_, _, build), found in zip(with_customers, customer_found, strict=True)
                   for c in build(found)}


def _round(pairs: list[Pair], customers: dict[int, Customer], actor: Actor, reads: Reads | None = None) -> list[Merge]:
    """One chain-free round; ``reads``: its ``_before_moving`` reads, if ``merge_many`` made them already."""
    at = now()
    marks, merge_ids, tags, consents = reads or _before_moving(pairs)[0]
    # Ids first, rows last (with what moved and what was overwritten): one insert instead of an insert
    # and an update of three JSON columns per merge.
    merges = [_new_merge(pk, s, a, at, actor, reason, marks) for (s, a, reason), pk in zip(pairs, merge_ids, strict=True)]
    owners = {a: s for s, a, _ in pairs}
    labels = _labels()
    if _one_statement(owners):
        found = _move_one(tuple(labels), *next(iter(owners.items())))
    else:
        found = _rows_of(labels, sorted(owners))
        for label, moved in found.items():
            _move_rows(label, owners, moved)
    for merge in merges:
        merge.moved = {label: found[label].get(merge.absorbed_id, []) for label in labels}
    involved = sorted({pk for s, a, _ in pairs for pk in (s, a)})
    through = Customer.tags.through
    tag_names = dict(Customer.tags.field.related_model.objects.filter(  # type: ignore[attr-defined]
        pk__in={t for ts in tags.values() for t in ts}).values_list("pk", "name")) if tags else {}
    before = {pk: set(tags[pk]) for pk in involved}
    triples = [(customers[s], customers[a], m) for (s, a, _), m in zip(pairs, merges, strict=True)]
    created = _merge_consents(triples, consents)
    Consent.objects.bulk_create([c for rows in created.values() for c in rows])
    history: list[tuple[Any, ...]] = []
    for survivor, absorbed, merge in triples:
        merge.created_consents = [c.pk for c in created.get(merge.pk, [])]
        history += _merge_fields(survivor, absorbed, merge, actor, tags, tag_names, at)
        history.append(history_row(absorbed.pk, "merged_into", None, survivor.pk, actor=actor,
                                   source=f"merge:{merge.pk}", at=at))
        absorbed.merged_into_id = survivor.pk
    through.objects.bulk_create([through(customer_id=pk, tag_id=t) for pk in involved
                                 for t in sorted(tags[pk] - before[pk])], ignore_conflicts=True)
    survivors = {s.pk: s for s, _, _ in triples}
    for customer in survivors.values():
        customer.search_key = search_key(customer.last_name, customer.first_name, customer.middle_name,
                                         customer.legal_name)
    for customer in [*survivors.values(), *(a for _, a, _ in triples)]:
        customer.updated_at = at
    # Only the columns some merge of the round filled (most merges of an ingest fill none): the other
    # values would be written back unchanged, at the cost of preparing every field of every survivor.
    filled = {key.partition(".")[0] for m in merges for key in m.overwritten if key != "tags"}
    fields = [k for k in [*BUILTIN_FIELDS, "custom"] if k in filled] + ["search_key", "updated_at"]
    with fastsql.together():  # one message where the rows are few (a single event's merge)
        fastinsert.update_rows(Customer, fields, [(c.pk, *(getattr(c, f) for f in fields)) for c in survivors.values()])
        fastinsert.update_rows(Customer, ["merged_into_id", "updated_at"],
                               [(a.pk, a.merged_into_id, at) for _, a, _ in triples])
        insert_history(history)
        names = _merge_attnames()
        fastinsert.insert_rows(Merge, names, [tuple(getattr(m, n) for n in names) for m in merges])
    return merges


@functools.cache
def _merge_attnames() -> tuple[str, ...]:
    return tuple(f.attname for f in Merge._meta.concrete_fields)


def _new_merge(pk: int, survivor: int, absorbed: int, at: datetime.datetime, actor: Actor, reason: str,
               marks: dict[str, int]) -> Merge:
    """A merge row about to be stored (``_round`` inserts it last, with what moved and what was
    overwritten), built as a stored row is (``fastsql.built``): ``Merge(**fields)`` was a sixth of a round."""
    values: dict[str, Any] = {
        "id": pk, "survivor_id": survivor, "absorbed_id": absorbed, "at": at, "actor_user_id": actor.user_id,
        "reason": reason[:200], "moved": {}, "overwritten": {}, "created_consents": [], **marks,
        "unmerged_at": None, "unmerged_by_id": None}
    return fastsql.built(Merge, _merge_attnames(), [values[name] for name in _merge_attnames()], connection.alias)


def merge_many(pairs: Sequence[Pair], *, actor: Actor, notify: bool = True) -> list[Merge]:
    """Merge each (survivor id, absorbed id, reason) in order, as if one ``merge_customers`` after another.

    Atomic, without a savepoint of its own inside a caller's transaction (two round trips on PostgreSQL):
    a failure fails the caller's atomic block, which both callers (``merge_customers``, ingest) let
    propagate. The caller holds the identity lock over these customers (``identity.locks``: ingest holds
    them already; ``merge_customers`` takes the exclusive lock). No pairs: no statement at all (most
    ingest groups merge nothing)."""
    if not pairs:
        return []
    with transaction.atomic(savepoint=False):
        ids = sorted({pk for s, a, _ in pairs for pk in (s, a)})
        rounds = _rounds(pairs)
        # The customers come with the first round's reads (one message on PostgreSQL); those reads write
        # nothing, so they may come before the checks (a merge id reserved for nothing is only a gap).
        first, customers = _before_moving(rounds[0], ids)
        missing = [pk for pk in ids if pk not in customers]
        if missing:
            raise DomainValidationError.single("customer_id", f"No customer #{missing[0]}.")
        _check(pairs, customers)
        # PostgreSQL: the writes nobody reads (each table's move, the customers' updates, history and merge
        # rows) wait and travel together, in front of the next round's reads or at the end.
        with fastsql.together():
            merges = [m for n, chunk in enumerate(rounds)
                      for m in _round(chunk, customers, actor, first if n == 0 else None)]
        if notify:
            notify_participants(ids)
        return merges


@transaction.atomic
def merge_customers(survivor: Customer, absorbed: Customer, *, actor: Actor, reason: str = "",
                    notify: bool = True) -> Merge:
    """Move everything of ``absorbed`` to ``survivor`` and leave ``absorbed`` as a tombstone.

    ``notify=False`` skips the participants' ``after_change`` (the caller calls ``notify_participants``).
    Takes the exclusive identity lock: no ingest runs beside a manual merge.
    """
    lock_identity()
    [merge] = merge_many([(survivor.pk, absorbed.pk, reason)], actor=actor, notify=notify)
    survivor.refresh_from_db()
    absorbed.refresh_from_db()
    return merge
