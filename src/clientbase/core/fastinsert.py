"""Insert many model instances fast: ``COPY`` on PostgreSQL, one prepared ``executemany`` on SQLite.

Django's ``bulk_create`` assembles SQL text for every row and value, which dominates an import of
millions of rows. Here each field's ``pre_save`` gives the value (so defaults and ``auto_now_add``
behave as with the ORM), a per-type converter turns it into what the driver takes (JSON text and
naive-UTC datetime text on SQLite, as Django stores them), and the whole list goes in with one
``COPY`` on PostgreSQL (a few rows: one multi-row ``INSERT``) or one prepared ``executemany`` on SQLite.
Must run inside a transaction. Signals are not sent, as with ``bulk_create``.
"""

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from django.db import connection, models, transaction

_sequences: dict[str, str] = {}  # table -> its id sequence (PostgreSQL)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``, in order.

    PostgreSQL hands them out from the table's sequence, safe with concurrent writers. SQLite: after both
    the highest id ever handed out (``sqlite_sequence``: Django's tables are AUTOINCREMENT, so the id of a
    deleted row is never reused) and the highest present; the IMMEDIATE transaction (settings) holds the
    write lock, so this cannot race.
    """
    sql, params, ids = reserve_ids_statement(model, count)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return ids(cursor.fetchall())


def reserve_ids_statement(model: type[models.Model], count: int) -> tuple[str, list[Any],
                                                                          Callable[[list[tuple[Any, ...]]], list[int]]]:
    """``reserve_ids`` as a statement to send with others (``fastsql.rows_each``): its SQL, its
    parameters, and what turns its rows into the ids. Inside a transaction only. On PostgreSQL the first
    call for a table looks its sequence up (one statement, once per process)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve_ids needs a transaction")
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        # The sequence is looked up once: pg_get_serial_sequence in the select list ran once per id
        # (5.4 ms for 2,000 ids, 1.0 ms with the name).
        if table not in _sequences:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                _sequences[table] = cursor.fetchone()[0]
        return ("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequences[table], count],
                lambda found: [row[0] for row in found])

    def following(found: list[tuple[Any, ...]]) -> list[int]:
        start = int(found[0][0]) + 1
        return list(range(start, start + count))

    return (f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0))", [table], following)


def pg_array(values: Iterable[Any]) -> Any:
    """A list of values as one PostgreSQL array literal (``{1,2,NULL}``, ``{"a","b"}``) for a parameter the
    statement casts (``%s::bigint[]``); the list itself where a value is of a type not written here.

    psycopg dumps a list parameter element by element in Python (quoting each one), which cost an order
    import a tenth of its time and a 5,000-event lookup a millisecond; one ``join`` does the same.
    Numbers are written as they are, text quoted with ``\\`` and ``"`` escaped, dates and times in ISO
    form, None as NULL.
    """
    items = list(values)
    kinds = {type(v) for v in items}
    if kinds <= _PLAIN_NUMBERS:
        return "{" + ",".join(map(str, items)) + "}"
    if kinds == _TEXT:
        # Texts (identifiers, external ids: a batch's lookups) joined at once, where no value needs an
        # escape: a NUL, which stored text never holds, marks where one ends.
        joined = "\x00".join(items)
        if "\\" not in joined and '"' not in joined and joined.count("\x00") == len(items) - 1:
            return '{"' + joined.replace("\x00", '","') + '"}'
    if kinds <= _QUOTED:
        return "{" + ",".join(_array_item(v) for v in items) + "}"
    return items


_PLAIN_NUMBERS = frozenset({int})
_TEXT = frozenset({str})
_QUOTED = frozenset({int, str, type(None), bool, dt.date, dt.datetime, dt.time})


def _array_item(value: Any) -> str:
    if value is None:
        return "NULL"
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    text = value if kind is str else value.isoformat()
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def any_of(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """SQL and parameters for ``column`` being one of ``values`` (a list of thousands, as a batch has):
    one array parameter on PostgreSQL (``= ANY(%s)``; thousands of literals in the statement cost the
    server more to parse and plan than the lookups themselves), placeholders on SQLite."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [pg_array(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def ids_param(ids: Sequence[int]) -> Any:
    """A list of integer ids as one parameter: an array literal on PostgreSQL (cast it ``%s::bigint[]``),
    a JSON array on SQLite (read it with ``json_each(%s)``)."""
    return pg_array(ids) if connection.vendor == "postgresql" else json.dumps(list(ids))


def ids_match(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``any_of`` for integer ids, in a text that does not depend on how many there are (one ``ids_param``),
    so a statement built on it is compiled and cached once, here and by the driver. Both engines walk
    ``column``'s index once per id."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [ids_param(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [ids_param(ids)]


def insert(objects: Sequence[models.Model], *, with_ids: bool = False) -> None:
    """INSERT ``objects`` (all of one model). With ``with_ids`` each first gets a reserved primary key;
    objects whose primary key is already set (a OneToOne key) are inserted with it."""
    if not objects:
        return
    model = type(objects[0])
    if with_ids:
        for obj, pk in zip(objects, reserve_ids(model, len(objects)), strict=True):
            obj.pk = pk
    keyed = objects[0].pk is not None
    fields = [f for f in model._meta.concrete_fields if keyed or not f.primary_key]
    convert = [(f, _row_converter(f)) for f in fields]
    rows: list[tuple[Any, ...]] = [tuple(c(f.pre_save(obj, True)) for f, c in convert) for obj in objects]
    _execute(model._meta.db_table, [str(f.column) for f in fields], rows)


def _row_converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """The conversion for rows this module writes. JSON goes as text on both engines: ``COPY``'s text
    format hands PostgreSQL the characters to parse as jsonb, so the shortcuts of ``_json_text`` apply
    there too (``_converter``, for bound parameters, keeps the Jsonb wrapper). So do moments on PostgreSQL:
    ISO text with its offset, which the server reads as the same instant; psycopg's own dumping of a
    datetime made an event row's ``COPY`` formatting take 8.2 µs instead of 5.3 (bench/RESULTS.md,
    nineteenth session). Where a few rows go as an ``INSERT``'s parameters instead, the text is untyped
    and the server casts it to the column's type, as it does the JSON text."""
    if isinstance(field, models.JSONField):
        return _json_text
    if isinstance(field, models.DateTimeField) and connection.vendor == "postgresql":
        return _moment_text_converter(naive_utc=False)
    return _converter(field)


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """A cheap per-value conversion to what the driver expects, for the field types imports write."""
    postgres = connection.vendor == "postgresql"
    if isinstance(field, models.JSONField):
        if postgres:
            from psycopg.types.json import Jsonb

            return lambda v: None if v is None else Jsonb(v)
        return _json_text
    if isinstance(field, models.DateTimeField) and not postgres:
        # Django keeps SQLite datetimes as naive UTC text.
        return _moment_text_converter(naive_utc=True)
    if isinstance(field, models.DateField | models.TimeField) and not postgres:
        return lambda v: None if v is None else v.isoformat()
    if isinstance(field, models.DecimalField | models.UUIDField | models.FileField):
        return lambda v: field.get_db_prep_save(v, connection)
    return _same


def _moment_text_converter(*, naive_utc: bool) -> Callable[[Any], str | None]:
    """A converter of moments to text for one column: the naive UTC text Django stores on SQLite
    (``naive_utc``), or ISO 8601 with the moment's own offset for PostgreSQL to read. It keeps its last
    answer, since a batch stamps thousands of rows with one moment object (``created_at``, ``received_at``),
    while the other moments (each event's, each order's) are nearly all different and a cache of answers by
    value only cost its lookups. One per column, so a row's constant and varying moments do not evict each other."""
    last: list[tuple[Any, str | None]] = [(None, None)]

    def convert(value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        memo = last[0]  # one read and one write of the pair: a converter may be shared (fastsql's plans)
        if memo[0] is value:
            return memo[1]
        text = value.astimezone(dt.UTC).isoformat(" ")[:-6] if naive_utc else value.isoformat()  # [:-6]: "+00:00"
        last[0] = (value, text)
        return text
    return convert


# What ``json.dumps`` builds on every call (with its defaults: ASCII, ", " and ": "), made once: the
# call's own setup cost more than encoding the small objects an event or an import row carries.
_ENCODE = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False, False, True,
) if getattr(json.encoder, "c_make_encoder", None) else None


def _json_text(value: Any) -> str | None:
    """``json.dumps(value)`` (what Django stores on SQLite, and PostgreSQL parses), with the values most rows carry (nothing,
    an empty object or list, a plain text) answered without the encoder's per-call overhead: an ingest
    converts several JSON values for each of its rows."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)  # what json.dumps does for a str (ensure_ascii)
    if kind is dict and not value:
        return "{}"
    if kind is list and not value:
        return "[]"
    if _ENCODE is not None and (kind is dict or kind is list):
        return "".join(_ENCODE(value, 0))
    return json.dumps(value)


def _same(value: Any) -> Any:
    return value


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                converted: Collection[str] = (), one_call: bool = False,
                ready: Callable[[], None] | None = None) -> int:
    """INSERT plain tuples (values in ``columns`` order, by attname: ``customer_id``) without building
    model instances; model defaults fill the other columns. Returns the number of rows.

    ``converted``: columns whose values the caller already turned into what the driver takes, with
    ``converter`` (ingest does it in its parse thread); they are passed on as they are.

    ``one_call``: on SQLite, every row in multi-row statements (``_insert_many``), none by ``executemany``.
    The driver lets go of the GIL while SQLite runs a statement, and ``executemany`` takes it back for every
    row: a helper thread running Python meanwhile (ingest's parser) then works beside the insert instead of
    taking turns with it.
    PostgreSQL: ``COPY`` either way.

    ``ready``: called once the rows are converted, just before they are sent (if there are any)."""
    names, prepared = _plain_rows(model, columns, rows, converted)
    if not prepared:
        return 0
    if ready is not None:
        ready()
    if one_call and connection.vendor == "sqlite":
        _insert_many(model._meta.db_table, names, prepared)
    else:
        _execute(model._meta.db_table, names, prepared)
    return len(prepared)


_ROWS_PER_STATEMENT = 1000
_SMALL_STATEMENT = 32


def _insert_many(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """SQLite, ``one_call``: statements of ``_ROWS_PER_STATEMENT`` rows, then of ``_SMALL_STATEMENT``, then one
    of the rest (``_multi_row``), each run with the GIL free: ``executemany`` takes it back for every row,
    and a helper thread running Python meanwhile (ingest's parser) then took turns with the insert (3 s of
    helper work added 3.4 s to it). One statement of a whole batch of 10,000 events, as before the twentieth
    session, took 31 ms to compile whenever a batch's count of new events changed, against 3.5 ms to run
    (bench/RESULTS.md, twentieth session). The ``json_each`` insert of the tenth to twelfth sessions made
    SQLite parse the rows' JSON again for every column of every row.
    """
    with connection.cursor() as cursor:
        _multi_row(cursor, table, columns, rows, (_ROWS_PER_STATEMENT, _SMALL_STATEMENT), rest_in_one=True)


def _multi_row(cursor: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]], sizes: tuple[int, ...], *,
               rest_in_one: bool) -> None:
    """SQLite: ``INSERT … VALUES (…), (…), …`` statements of each of ``sizes`` rows while they last (fewer where
    SQLite's limit on parameters says so: 250,000 in Debian's build, 32,766 by default), binding the values
    ``executemany`` binds, in order; then the rows left over, in one statement (``rest_in_one``) or by
    Django's ``executemany``.

    Every statement's text but the rest's repeats from call to call, so the driver keeps it compiled (its
    statement cache). They go through the driver's own cursor, which takes ``?`` marks (Django's wrapper
    would rewrite every ``%s`` of their long text on each call): they do not appear in Django's query log,
    and their errors are wrapped as Django's here."""
    quote = connection.ops.quote_name
    most = max(1, (connection.features.max_query_params or max(sizes) * len(columns)) // len(columns))
    fitted = tuple(min(size, most) for size in sizes)
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    marks = "(" + ", ".join(["?"] * len(columns)) + ")"
    pieces = list(_pieces(len(rows), *fitted))
    rest = pieces.pop() if pieces and pieces[-1][1] < fitted[-1] and not rest_in_one else None
    with connection.wrap_database_errors:
        for start, count in pieces:
            sqlite3.Cursor.execute(cursor.cursor, head + ", ".join([marks] * count),
                                   [value for row in rows[start:start + count] for value in row])
    if rest is not None:
        cursor.executemany(f"{head}({', '.join(['%s'] * len(columns))})", rows[rest[0]:])


def _pieces(total: int, *sizes: int) -> Iterator[tuple[int, int]]:
    """(start, count) of ``_multi_row``'s statements: each of ``sizes`` rows while they last, then the rest."""
    start = 0
    for size in sizes:
        while total - start >= size:
            yield start, size
            start += size
    if start < total:
        yield start, total - start


def insert_returning_ids(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """``insert_rows`` of a few rows (at most ``FEW``) on PostgreSQL in one ``INSERT … RETURNING``: the new
    ids in row order, without the round trip of ``reserve_ids`` first (a single event's new profile)."""
    if connection.vendor != "postgresql" or len(rows) > FEW:
        raise ValueError("insert_returning_ids is for a few rows on PostgreSQL")
    names, prepared = _plain_rows(model, columns, rows)
    if not prepared:
        return []
    returning = f" RETURNING {connection.ops.quote_name(str(model._meta.pk.column))}"  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        _insert_values(cursor, model._meta.db_table, names, prepared, returning)
        return [row[0] for row in cursor.fetchall()]


def upsert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]],
                key: Sequence[str]) -> int:
    """``insert_rows``, where a row whose ``key`` columns (a unique constraint) match a stored row
    overwrites that row's other ``columns`` instead (``ON CONFLICT … DO UPDATE``); columns not given keep
    their stored values. Each key at most once per call. Returns the number of rows.

    SQLite: one prepared statement run per row (``executemany``). PostgreSQL: one ``INSERT … SELECT …
    FROM unnest(one array per column) … ON CONFLICT`` (a temporary table to COPY into cost catalog writes
    and a lock-table entry per call, which a one-transaction import of a million orders ran out of).
    """
    names, prepared = _plain_rows(model, columns, rows)
    if not prepared:
        return 0
    quote = connection.ops.quote_name
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    by_column = {str(f.column): f for f in model._meta.concrete_fields}
    conflict = ", ".join(quote(str(by_attname[k].column)) for k in key)
    changed = [quote(str(by_attname[c].column)) for c in columns if c not in key]
    updates = ", ".join(f"{c} = excluded.{c}" for c in changed)
    table, listed = quote(model._meta.db_table), ", ".join(quote(c) for c in names)
    tail = f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}" if updates else f"ON CONFLICT ({conflict}) DO NOTHING"
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(f"INSERT INTO {table} ({listed}) VALUES ({marks}) {tail}", prepared)
            return len(prepared)
        # JSON goes as text (what _plain_rows made of it) and is cast per value; the rest as arrays of its type.
        types = [("text", "::jsonb") if isinstance(by_column[c], models.JSONField)
                 else (str(by_column[c].db_type(connection)), "") for c in names]
        arrays = ", ".join(f"%s::{kind}[]" for kind, _ in types)
        aliases = [f"v{i}" for i in range(len(names))]
        selected = ", ".join(f"{alias}{cast}" for alias, (_, cast) in zip(aliases, types, strict=True))
        cursor.execute(f"INSERT INTO {table} ({listed}) SELECT {selected} FROM unnest({arrays}) "
                       f"AS v({', '.join(aliases)}) {tail}", [pg_array(column) for column in zip(*prepared, strict=True)])
    return len(prepared)


def converter(model: type[models.Model], column: str) -> Callable[[Any], Any]:
    """What ``insert_rows`` does to a value of ``column`` (an attname) before handing it to the driver,
    for a caller that converts ahead and names the column in ``converted``. Depends on the database engine:
    call it where the connection is the one the rows will go through."""
    return _row_converter(next(f for f in model._meta.concrete_fields if f.attname == column))


def _plain_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]],
                converted: Collection[str] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and the rows, converted for the driver and completed with the model's defaults."""
    names, width, needed, rest, defaults = _rows_plan(model, tuple(columns), frozenset(converted), connection.vendor)
    if defaults is None:
        defaults = _defaults(rest)
    if needed:
        prepared = [_prepare_row(row, width, needed) + defaults for row in rows]
    else:  # plain numbers (order lines): no call per row
        prepared = [tuple(row) + defaults for row in rows]
        if any(len(row) != width + len(defaults) for row in prepared):
            raise ValueError(f"expected {width} values in every row")
    return list(names), prepared  # a copy: the plan is shared


RowsPlan = tuple[tuple[str, ...], int, tuple[tuple[int, Callable[[Any], Any]], ...],
                 tuple[models.Field[Any, Any], ...], tuple[Any, ...] | None]


@functools.cache
def _rows_plan(model: type[models.Model], columns: tuple[str, ...], converted: frozenset[str],
               vendor: str) -> RowsPlan:
    """What ``_plain_rows`` does for these columns, worked out once per engine: the column names, how many
    are given, the converters of those that need one (a converter call per value was a third of an
    import's time), the other fields, and their converted defaults (None if one is computed per call:
    a callable other than ``dict`` or ``list``). Built for every call, this was 35-115 µs of a
    single-event request's insert of one row."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[name] for name in columns]
    convert = [_same if f.attname in converted else _row_converter(f) for f in fields]
    rest = [f for f in meta.concrete_fields if f.attname not in columns and not f.primary_key]
    needed = [(i, c) for i, c in enumerate(convert) if c is not _same]
    fixed = all(not callable(f.default) or f.default in (dict, list) for f in rest if f.has_default())
    return (tuple(str(f.column) for f in [*fields, *rest]), len(fields), tuple(needed), tuple(rest),
            _defaults(rest) if fixed else None)


def _defaults(rest: Sequence[models.Field[Any, Any]]) -> tuple[Any, ...]:
    # Converted as the given columns are: a JSON default as text, not a Jsonb wrapper psycopg would encode
    # again for every row (500,000 json.dumps calls in a 100,000-customer import).
    return tuple(_row_converter(f)(f.get_default()) for f in rest)


def _prepare_row(row: Sequence[Any], width: int, needed: Sequence[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    if len(row) != width:
        raise ValueError(f"expected {width} values, got {len(row)}")
    values = list(row)
    for index, convert in needed:
        values[index] = convert(values[index])
    return tuple(values)


FEW = 8


@dataclass
class WaitingWrites:
    """A ``fastsql.together`` block's writes whose results nobody reads (``statements``, in order), and
    how to send them now (``flush``). ``fastsql._run`` puts them in front of its next statement
    (``take_waiting``); ``flush`` sends them before anything else (an ORM statement, a COPY, which
    cannot join them) and at the block's end."""

    statements: list[tuple[str, list[Any]]]
    flush: Callable[[], None]


waiting_writes: ContextVar[WaitingWrites | None] = ContextVar("waiting_writes", default=None)


def write(sql: str, params: list[Any]) -> None:
    """A statement whose result nobody reads: run now, or, inside a ``fastsql.together`` block, sent with
    the block's next statement."""
    with connection.cursor() as cursor:
        _write(cursor, sql, params)


def _write(cursor: Any, sql: str, params: list[Any]) -> None:
    """Execute a statement whose result nobody reads, or keep it for ``fastsql.together``'s message."""
    waiting = waiting_writes.get()
    if waiting is None:
        cursor.execute(sql, params)
    else:
        waiting.statements.append((sql, params))


def _before_copy() -> None:
    waiting = waiting_writes.get()
    if waiting is not None:
        waiting.flush()


def take_waiting() -> list[tuple[str, list[Any]]]:
    """The writes waiting in a ``fastsql.together`` block, handed over to be sent (``fastsql._run`` puts
    them in front of its own statement)."""
    waiting = waiting_writes.get()
    if waiting is None or not waiting.statements:
        return []
    taken = waiting.statements[:]
    waiting.statements.clear()
    return taken


def _insert_values(cursor: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]], tail: str = "") -> None:
    """One ``INSERT … VALUES (…), (…)`` of a few rows, ``tail`` after it (``RETURNING …``). PostgreSQL types
    each parameter by its target column, as COPY does, so the same row values go in."""
    quote = connection.ops.quote_name
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
           f"{', '.join([marks] * len(rows))}{tail}")
    values = [value for row in rows for value in row]
    if tail:  # its rows are read
        cursor.execute(sql, values)
    else:
        _write(cursor, sql, values)


def _execute(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) <= FEW:
            # A few rows (a single-event request's): one INSERT is one round trip where COPY takes two
            # (start, then data and end) and twice the client CPU.
            _insert_values(cursor, table, columns, rows)
            return
        if connection.vendor == "postgresql":
            _before_copy()
            # COPY: psycopg's executemany interpolates and sends every row on its own. COPY goes through
            # psycopg's own cursor, so its errors are wrapped here as Django's: callers catch IntegrityError
            # (a concurrent writer stored the same event first) and must see it as one.
            with connection.wrap_database_errors, \
                    cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Against executemany of every row: 10,000 history rows 14.7 -> 7.2 ms, 3,000 new customers 27.0 ->
        # 22.7 ms; one statement of all the rows was slower for a customer's thirty-odd columns, compiled anew
        # for every count (bench/RESULTS.md, twentieth session). Fewer rows than a chunk (a single event's,
        # an API call's) go through Django's cursor, as before.
        _multi_row(cursor, table, columns, rows, (_CHUNK_ROWS,), rest_in_one=False)


_CHUNK_ROWS = 256


def _prepared(field: models.Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def select_in(sql: str, column: str, values: Sequence[Any], params: Sequence[Any] = (), *,
              chunk: int = 2000) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` where ``column`` is one of ``values``; ``sql`` marks the test with ``{match}``
    and takes ``params`` before it, e.g. ``"SELECT value, customer_id FROM t WHERE kind = %s AND {match}"``.
    Each distinct value is looked up once (a ``GROUP BY`` in ``sql`` groups within one value's rows).

    SQLite: ``IN`` lists of ``chunk`` values. PostgreSQL: one statement for the whole list, the query run
    once per value (``unnest`` of one array parameter, ``CROSS JOIN LATERAL``; ``OFFSET 0`` keeps the
    planner from flattening it into a join). ``= ANY(array)`` let the planner choose: with a few thousand
    values and no fresh statistics (a table growing under a bulk job, autovacuum behind or off) it read
    every row of the kind or source and filtered them, and with statistics it chose a parallel sequential
    scan, so each batch cost time in proportion to the table. Per value it walks the index ``sql``'s
    conditions name, whatever the statistics say.
    """
    if not values:
        return []
    distinct = list(dict.fromkeys(values))
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(*select_in_statement(sql, column, distinct, params))
            return list(cursor.fetchall())
        for start in range(0, len(distinct), chunk):
            match, args = any_of(column, distinct[start:start + chunk])
            cursor.execute(sql.format(match=match), [*params, *args])
            rows.extend(cursor.fetchall())
    return rows


def select_in_statement(sql: str, column: str, values: Sequence[Any], params: Sequence[Any] = ()) -> tuple[str, list[Any]]:
    """``select_in``'s one statement on PostgreSQL (SQL and parameters), to send with others."""
    distinct = list(dict.fromkeys(values))
    kind = "bigint" if all(type(v) is int for v in distinct) else "text"
    inner = sql.format(match=f"{column} = wanted.value")
    return (f"SELECT found.* FROM unnest(%s::{kind}[]) AS wanted(value) "
            f"CROSS JOIN LATERAL ({inner} OFFSET 0) AS found", [pg_array(distinct), *params])


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``UPDATE … SET columns WHERE pk`` for each row (pk, *values); each pk at most once per call.

    ``bulk_update`` writes one CASE expression per column over all rows, which grows quadratically
    in the SQL it builds. SQLite: one small statement per row, prepared once (executemany), its values
    converted as ``insert_rows`` converts them (``get_db_prep_save`` of a moment was most of the Python
    time of a merge round's two updates). PostgreSQL: one statement over arrays, where a pk given twice
    would be updated from either row.
    """
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[c] for c in columns]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(str(f.column))} = %s' for f in fields)} "
           f"WHERE {quote(str(meta.pk.column))} = %s")  # type: ignore[union-attr]
    if connection.vendor == "postgresql":
        prepared = [(*(_prepared(f, v) for f, v in zip(fields, row[1:], strict=True)), row[0]) for row in rows]
    else:
        convert = [_converter(f) for f in fields]
        prepared = [(*(c(v) for c, v in zip(convert, row[1:], strict=True)), row[0]) for row in rows]
    if not prepared:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _write(cursor, *_update_from_arrays(model, fields, prepared))
        else:
            cursor.executemany(sql, prepared)


def _update_from_arrays(model: type[models.Model], fields: list[models.Field[Any, Any]],
                        prepared: list[tuple[Any, ...]]) -> tuple[str, list[list[Any]]]:
    """PostgreSQL: one ``UPDATE … FROM unnest(one array per column)`` instead of a round trip per row."""
    meta = model._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    names = [f"v{i}" for i in range(len(fields))]
    pk_type = f"{pk.db_type(connection)}[]"  # type: ignore[union-attr]
    arrays = ", ".join([*(f"%s::{f.db_type(connection)}[]" for f in fields), f"%s::{pk_type}"])
    column = f"t.{quote(str(pk.column))}"  # type: ignore[union-attr]
    # "= ANY" as well as the join: without fresh statistics the planner hashed the unnest and read the
    # whole table; with the primary key's array it reads just these rows through the index.
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET "
           f"{', '.join(f'{quote(str(f.column))} = v.{n}' for f, n in zip(fields, names, strict=True))} "
           f"FROM unnest({arrays}) AS v({', '.join(names)}, pk) WHERE {column} = v.pk AND {column} = ANY(%s::{pk_type})")
    columns = [pg_array(column) for column in zip(*prepared, strict=True)]
    return sql, [*columns, columns[-1]]
