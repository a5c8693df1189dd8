"""Single-row reads and writes for hot paths, without the ORM compiling SQL for every query.

A till earning or spending points runs a handful of one-row statements per operation; Django's
query compiler and ``Model.save`` cost about 0.25 ms of CPU each, several times the database's own
work, and on a small server the CPU is what limits throughput. Here the SQL text of a statement is
built once per model and shape, values are converted as ``core.fastinsert`` does (so they are stored
exactly as the ORM would store them), and rows come back through the backend's own converters (so a
datetime read from SQLite is aware, as from a QuerySet). Signals are not sent and no validation runs:
callers are the service functions that own these tables.
"""

import contextlib
import functools
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.base import ModelState
from django.db.models.fields.json import JSONField
from django.db.models.signals import post_init, pre_init

from clientbase.core import fastinsert
from clientbase.core.fastinsert import _converter, _same, ids_match

Converter = Callable[[Any, Any, Any], Any]


@contextlib.contextmanager
def _run(sql: str, params: Sequence[Any]) -> Iterator[Any]:
    """Execute one statement and yield the cursor.

    On PostgreSQL one driver cursor per connection is kept and reused (creating Django's cursor wrapper
    and psycopg's cursor cost about as much CPU as the statement itself); Django's own checks still run
    (no statement after an error inside an atomic block) and errors are raised as Django's. Server-side
    prepared statements (psycopg's ``prepare=True``) were measured too and were slower for these.
    The price: on PostgreSQL these statements do not appear in Django's debug query log.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            yield cursor
        return
    connection.validate_no_broken_transaction()
    connection.ensure_connection()
    raw = connection.connection
    driver = _cursors.get(raw)
    if driver is None or driver.closed:
        driver = _cursors[raw] = raw.cursor()
    waiting = fastinsert.take_waiting()  # a together block's writes go in front, in the same message
    if waiting:
        sql = ";\n".join([*(text for text, _ in waiting), sql])
        params = [*(value for _, values in waiting for value in values), *params]
    with connection.wrap_database_errors:
        driver.execute(sql, params)
        for _ in waiting:
            driver.nextset()
        yield driver


_cursors: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def for_update() -> str:
    """`` FOR UPDATE`` where the database has row locks (not SQLite: IMMEDIATE transactions serialize writers)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a hand-written query, as the driver returns them (no field conversion)."""
    with _run(sql, list(params)) as cursor:
        return list(cursor.fetchall())


def rows_each(statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[tuple[Any, ...]]]:
    """The rows of each of several hand-written queries (as ``rows``), run one after another.

    On PostgreSQL they travel as one message and come back in one answer: a round trip costs the server
    and this process about 0.15 ms of CPU each on a small virtual machine, more than a simple lookup's
    own work (bench/RESULTS.md, fifteenth session). Django's psycopg cursor binds parameters on the
    client, so the text goes through the simple query protocol, which runs the statements in order, each
    with its own snapshot under READ COMMITTED; the first error stops the rest and is raised here. Inside
    a transaction that is what separate ``execute`` calls would do; outside one, the message is a
    transaction of its own (all or nothing). No statement may carry its own ``;``. With server-side
    binding (a database URL's ``server_side_binding``), and on SQLite, they run one by one.
    """
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return [rows(sql, params) for sql, params in statements]
    joined = ";\n".join(sql for sql, _ in statements)
    with _run(joined, [value for _, params in statements for value in params]) as cursor:
        results = [_fetched(cursor)]
        while cursor.nextset():
            results.append(_fetched(cursor))
    if len(results) != len(statements):
        raise RuntimeError(f"{len(statements)} statements gave {len(results)} results: one held a ';'")
    return results


def select_in_each(queries: Sequence[tuple[str, str, Sequence[Any], Sequence[Any]]]) -> list[list[tuple[Any, ...]]]:
    """``fastinsert.select_in(sql, column, values, params)`` for each query: on PostgreSQL as one message
    (``rows_each``), elsewhere one after another."""
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return [fastinsert.select_in(*query) for query in queries]
    asked = [query for query in queries if query[2]]  # no values: no rows, and nothing to send (select_in)
    found = iter(rows_each([fastinsert.select_in_statement(*query) for query in asked]) if asked else [])
    return [next(found) if query[2] else [] for query in queries]


def _fetched(cursor: Any) -> list[tuple[Any, ...]]:
    """The current result's rows; none for a statement that returns none (an UPDATE, an INSERT)."""
    return [] if cursor.description is None else list(cursor.fetchall())


@contextlib.contextmanager
def together(*, commit: bool = False) -> Iterator[None]:
    """Inside this block, ``fastinsert``'s writes whose results nobody reads (``update_rows``, an insert of
    a few rows) wait, and travel in front of the next statement of this module (one message: see
    ``rows_each``), or are sent just before any other statement (the ORM's, a ``COPY``) or at the block's
    end: always in the order they were asked for, and before anything that could read them. The price:
    a waiting write's error surfaces at that later statement or at the block's end, never at its call;
    if the block raises, what still waits is dropped (the caller's transaction is failing).

    ``commit``: the block ends the transaction, its waiting writes and the ``COMMIT`` going as one message
    (Django's own commit then finds nothing to do). Only where this block ends the outermost atomic block
    and nothing runs after it inside that block: otherwise the writes are just sent at the end.

    Inside an atomic block only (outside one, or at an inner block's commit, a write sent late would land
    in another transaction), and with no ``try``/``except`` of database errors around statements inside
    it: a waiting write's error would come out of someone else's statement. A ``ROLLBACK TO SAVEPOINT``
    drops what waits (it was all asked for after the savepoint: each ``SAVEPOINT`` sends what waits).
    A nested block joins the outer one. Elsewhere than on PostgreSQL with client-side binding
    (``rows_each``), or outside an atomic block, every write runs at its call, as outside the block."""
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding") \
            or fastinsert.waiting_writes.get() is not None or not connection.in_atomic_block:
        yield
        return
    def flush() -> None:
        if waiting := fastinsert.take_waiting():
            rows_each(waiting)

    def flushing(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("ROLLBACK TO SAVEPOINT"):
            fastinsert.take_waiting()  # undone by this rollback anyway
        else:
            flush()
        return execute(sql, params, many, context)

    token = fastinsert.waiting_writes.set(fastinsert.WaitingWrites([], flush))
    try:
        with connection.execute_wrapper(flushing):
            yield
        if commit and _ends_transaction():
            rows_each([("COMMIT", [])])
        else:
            flush()
    finally:
        fastinsert.waiting_writes.reset(token)


def _ends_transaction() -> bool:
    """Whether a COMMIT sent now ends the outermost atomic block's transaction, which nothing spoiled."""
    return (connection.in_atomic_block and len(connection.atomic_blocks) == 1 and not connection.savepoint_ids
            and not connection.needs_rollback)


@functools.cache
def _insert_plan(model: type[models.Model], vendor: str) -> tuple[str, list[models.Field[Any, Any]],
                                                                   list[Callable[[Any], Any]]]:
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    assert model._meta.pk is not None
    names = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    pk = quote(str(model._meta.pk.column))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks}) RETURNING {pk}"
    return sql, fields, [_converter(f) for f in fields]


def create[M: models.Model](obj: M) -> M:
    """INSERT one instance (every concrete column, as ``save`` would) and set its primary key."""
    sql, fields, convert = _insert_plan(type(obj), connection.vendor)
    values = [c(f.pre_save(obj, True)) if c is not _same else f.pre_save(obj, True)
              for f, c in zip(fields, convert, strict=True)]
    with _run(sql, values) as cursor:
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


Plan = tuple[int, list[str], list[tuple[int, Any, list[Converter]]]]  # width, attnames, converters by index


def _columns(model: type[models.Model], alias: str) -> tuple[str, Plan]:
    """``alias.col, …`` for every concrete field, and how to turn a row slice back into an instance."""
    quote = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(alias)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if isinstance(field, JSONField) and field.decoder is None:
            found = [_quick_json(c) if getattr(c, "__func__", None) is JSONField.from_db_value else c for c in found]
        if found:
            converters.append((index, column, found))
    columns = ", ".join(f"{quote(alias)}.{quote(str(f.column))}" for f in fields)
    return columns, (len(fields), [f.attname for f in fields], converters)


def _instance[M: models.Model](model: type[M], plan: Plan, values: list[Any], real: Any = None,
                               plain: bool | None = None) -> M:
    """A row's instance: its values through the backend's and the fields' converters, then ``built``.

    The converters get the connection itself (``real``, looked up here if not given), not Django's
    ``connection`` proxy, whose attribute lookups (the converters read its settings) went through a
    thread-local each time: 7 of the 30 µs a customer's row took. A JSON column holding just ``[]`` or
    ``{}`` (most of a customer's five) is not given to the JSON decoder (``_quick_json``). ``plain``:
    ``built``'s check of the model's init signals, made once by a caller building many."""
    if real is None:
        real = connections[DEFAULT_DB_ALIAS]
    for index, column, chain in plan[2]:
        for convert in chain:
            values[index] = convert(values[index], column, real)
    return built(model, plan[1], values, real.alias, plain=plain)


def built[M: models.Model](model: type[M], attnames: Sequence[str], values: Sequence[Any],
                           alias: str = DEFAULT_DB_ALIAS, *, plain: bool | None = None) -> M:
    """An instance of a stored row from Python values of every concrete field (``attnames``, in the
    model's order), as ``Model.from_db`` makes it, but without ``Model.__init__`` setting each field
    through its descriptor: 11 µs of the 30 µs a customer's row took. The descriptors of concrete fields
    (a foreign key's id, a file) store into the instance's ``__dict__`` under the attname, which is what
    this fills. A model with its own ``__init__`` or ``from_db``, or with ``pre_init`` or ``post_init``
    receivers (Django's ImageField with dimension fields, say), gets ``from_db`` itself (``plain``: the
    answer of ``_plain_init``, if the caller asked it already)."""
    if not (_plain_init(model) if plain is None else plain):
        return model.from_db(alias, list(attnames), list(values))
    obj = model.__new__(model)
    obj.__dict__.update(zip(attnames, values, strict=True))
    state = obj._state = ModelState()
    state.adding, state.db = False, alias
    return obj


def _plain_init(model: type[models.Model]) -> bool:
    """Whether ``built`` may skip ``__init__``: the model keeps Django's ``__init__`` and ``from_db``, and
    nothing listens to its ``pre_init`` and ``post_init``."""
    return (model.__init__ is models.Model.__init__
            and getattr(model.from_db, "__func__", None) is models.Model.from_db.__func__  # type: ignore[attr-defined]
            and not (pre_init.has_listeners(model) or post_init.has_listeners(model)))


def _quick_json(convert: Converter) -> Converter:
    """A JSON field's ``from_db_value`` that hands back an empty list or object without the decoder."""
    def quick(value: Any, expression: Any, connection: Any) -> Any:
        if value == "[]":
            return []
        if value == "{}":
            return {}
        return convert(value, expression, connection)
    return quick


@functools.cache
def _select_plan(model: type[models.Model], where: str, suffix: str, lock: bool, vendor: str) -> tuple[str, Plan]:
    table = model._meta.db_table
    columns, plan = _columns(model, table)
    sql = f"SELECT {columns} FROM {connection.ops.quote_name(table)} WHERE {where} {suffix}".rstrip()
    return sql + (for_update() if lock else ""), plan


def fetch[M: models.Model](model: type[M], where: str, params: Sequence[Any], *, suffix: str = "",
                           lock: bool = False) -> list[M]:
    """Instances of ``model`` WHERE ``where`` (column names, ``%s`` placeholders), optionally locked
    FOR UPDATE (a no-op on SQLite, whose IMMEDIATE transactions serialize writers); ``suffix`` may
    add ORDER BY / LIMIT."""
    sql, values, build = fetch_statement(model, where, params, suffix=suffix, lock=lock)
    return build(rows(sql, values))


def fetch_statement[M: models.Model](model: type[M], where: str, params: Sequence[Any], *, suffix: str = "",
                                     lock: bool = False) -> tuple[str, list[Any], Callable[[list[tuple[Any, ...]]], list[M]]]:
    """``fetch`` as a statement to send with others (``rows_each``): its SQL, its parameters, and what
    turns its rows into instances."""
    sql, plan = _select_plan(model, where, suffix, lock, connection.vendor)
    def build(found: list[tuple[Any, ...]]) -> list[M]:
        real, plain = connections[DEFAULT_DB_ALIAS], _plain_init(model)
        return [_instance(model, plan, list(row), real, plain) for row in found]
    return sql, list(params), build


@functools.cache
def _joined_plan(parts: tuple[tuple[type[models.Model], str], ...], tail: str, vendor: str) -> tuple[str, list[Plan]]:
    selected = [_columns(model, alias) for model, alias in parts]
    return f"SELECT {', '.join(c for c, _ in selected)} {tail}", [plan for _, plan in selected]


def fetch_joined(parts: Sequence[tuple[type[models.Model], str]], tail: str,
                 params: Sequence[Any]) -> list[tuple[models.Model | None, ...]]:
    """One joined query giving an instance of each model per row (None where an outer join found none).

    ``parts``: (model, alias) pairs; ``tail``: ``FROM … JOIN … WHERE …`` naming the tables by those aliases.
    """
    sql, plans = _joined_plan(tuple(parts), tail, connection.vendor)
    with _run(sql, list(params)) as cursor:
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values, start, instances = list(row), 0, []
        for (model, _), plan in zip(parts, plans, strict=True):
            chunk = values[start:start + plan[0]]
            start += plan[0]
            instances.append(None if chunk[plan[1].index(model._meta.pk.attname)] is None
                             else _instance(model, plan, chunk))
        found.append(tuple(instances))
    return found


def fetch_in[M: models.Model](model: type[M], column: str, ids: Sequence[int]) -> list[M]:
    """Instances of ``model`` whose integer ``column`` is one of ``ids`` (``ids_match``): what
    ``filter(column__in=ids)`` reads, without compiling a query for every call."""
    if not ids:
        return []
    where, params = ids_match(column, ids)
    return fetch(model, where, params)


def fetch_one[M: models.Model](model: type[M], where: str, params: Sequence[Any], *,
                               lock: bool = False) -> M | None:
    rows = fetch(model, where, params, lock=lock)
    return rows[0] if rows else None


def execute(sql: str, params: Sequence[Any]) -> int:
    """One statement of hand-written SQL; returns the number of rows it changed."""
    with _run(sql, list(params)) as cursor:
        return int(cursor.rowcount)
