"""Plain ``INSERT … VALUES`` with ``executemany`` for the bulk ingest path.

``bulk_create`` builds a model instance and prepares every field of every row through the ORM; for
hundreds of thousands of event, identifier and history rows that is most of the ingest time. Here each
column gets one converter chosen once (datetimes and JSON adapted by the backend, the rest as is), so
the values the database receives are the same the ORM would send. No ids come back: use it only for
rows nobody needs to reference in the same step.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def adapt(value: Any) -> Any:
            return connection.ops.adapt_json_value(value, encoder)

        return adapt
    return lambda value: value


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (values in ``columns`` order; foreign keys as ``<name>_id``); returns the count."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[c] for c in columns]
    converters = [_converter(f) for f in fields]
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    prepared = [tuple(convert(v) for convert, v in zip(converters, row, strict=True)) for row in rows]
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
    return len(prepared)
