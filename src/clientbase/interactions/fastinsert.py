"""Inserts that hand back their new ids, for the ingest path.

``bulk_create`` prepares every field of every row through the ORM; for thousands of new profiles per
batch that dominates. Bulk reads by key lists and bulk updates are in ``clientbase.core.fastinsert``.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from clientbase.core.clock import now
from clientbase.core.fastinsert import FEW, insert_returning_ids, insert_rows, reserve_ids


def insert_with_ids(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows given as {attname: value} over the model's defaults; return their ids in order.

    The ids are reserved first and the rows go in through ``core.fastinsert`` (``COPY`` on PostgreSQL,
    one prepared ``executemany`` on SQLite); a few rows on PostgreSQL (a single event's new profile) go
    in one ``INSERT … RETURNING`` instead, a round trip fewer. A multi-row ``INSERT … RETURNING`` carried some 15,000
    placeholders per statement, and both psycopg and Django's SQLite wrapper rewrite such long query
    text in Python on every call: on PostgreSQL that took ten times as long as the insert itself.
    Only the columns some row names (and the ``auto_now`` stamps) are passed per row; every other
    column takes its default, prepared once by ``insert_rows``: a new profile from an event names two
    or three of a customer's thirty-odd columns, and converting the rest row by row (five JSON
    defaults among them) was most of the cost.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    at = now()
    stamped = {f.attname: at for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    named = {name for row in rows for name in row} - set(stamped)
    template = model()
    defaults = {**{f.attname: getattr(template, f.attname) for f in fields if f.attname in named}, **stamped}
    values = [tuple(row.get(name, default) for name, default in defaults.items()) for row in rows]
    if connection.vendor == "postgresql" and len(rows) <= FEW:
        return insert_returning_ids(model, list(defaults), values)
    ids = reserve_ids(model, len(rows))
    insert_rows(model, [str(meta.pk.attname), *defaults],  # type: ignore[union-attr]
                [(pk, *row) for pk, row in zip(ids, values, strict=True)])
    return ids
