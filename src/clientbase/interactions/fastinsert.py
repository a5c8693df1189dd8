"""Bulk reads by long key lists, bulk updates and inserts that return ids, for the ingest and merge paths.

``bulk_update`` and ``bulk_create`` prepare every field of every row through the ORM; for thousands of
merged or new profiles per batch that dominates. Plain inserts use ``clientbase.core.fastinsert``.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

from clientbase.core.clock import now
from clientbase.core.fastinsert import any_of, insert_rows, reserve_ids


def _prepared(field: models.Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def select_in(sql: str, column: str, values: Sequence[Any], params: Sequence[Any] = (), *,
              chunk: int = 2000) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` where ``column`` is one of ``values``; ``sql`` marks the test with ``{match}``
    and takes ``params`` before it, e.g. ``"SELECT value, customer_id FROM t WHERE kind = %s AND {match}"``.

    The test is ``core.fastinsert.any_of``'s: one array on PostgreSQL (the whole list in one statement),
    ``IN`` lists of ``chunk`` values on SQLite.
    """
    if not values:
        return []
    step = len(values) if connection.vendor == "postgresql" else chunk
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), step):
            match, args = any_of(column, values[start:start + step])
            cursor.execute(sql.format(match=match), [*params, *args])
            rows.extend(cursor.fetchall())
    return rows


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``UPDATE … SET columns WHERE pk`` for each row (pk, *values); each pk at most once per call.

    ``bulk_update`` writes one CASE expression per column over all rows, which grows quadratically
    in the SQL it builds. SQLite: one small statement per row, prepared once (executemany). PostgreSQL:
    one statement over arrays, where a pk given twice would be updated from either row.
    """
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[c] for c in columns]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(str(f.column))} = %s' for f in fields)} "
           f"WHERE {quote(str(meta.pk.column))} = %s")  # type: ignore[union-attr]
    prepared = [(*(_prepared(f, v) for f, v in zip(fields, row[1:], strict=True)), row[0]) for row in rows]
    if not prepared:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(*_update_from_arrays(model, fields, prepared))
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
    columns = [list(column) for column in zip(*prepared, strict=True)]
    return sql, [*columns, columns[-1]]


def insert_returning_ids(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows given as {attname: value} over the model's defaults; return their ids in order.

    The ids are reserved first and the rows go in through ``core.fastinsert`` (``COPY`` on PostgreSQL,
    one prepared ``executemany`` on SQLite). A multi-row ``INSERT … RETURNING`` carried some 15,000
    placeholders per statement, and both psycopg and Django's SQLite wrapper rewrite such long query
    text in Python on every call: on PostgreSQL that took ten times as long as the insert itself.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    template = model()
    at = now()
    defaults = {f.attname: at if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else getattr(template, f.attname) for f in fields}
    ids = reserve_ids(model, len(rows))
    columns = [str(meta.pk.attname), *defaults]  # type: ignore[union-attr]
    insert_rows(model, columns, [(pk, *(row.get(name, default) for name, default in defaults.items()))
                                 for pk, row in zip(ids, rows, strict=True)])
    return ids

