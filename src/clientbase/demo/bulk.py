"""Fast loading of prepared rows: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

Rows arrive already validated and normalised by the generator, as tuples in the column order of
``TABLES``. Dates and times are ISO text, datetimes are naive UTC text (both engines' sessions run
in UTC under Django), JSON columns are already serialised. Columns a table has that the demo does not
know about (added by a later migration) get their model default, so a new nullable or defaulted
column never breaks the demo.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Max, Model

Row = tuple[Any, ...]
BULK_CACHE_KIB = 256 * 1024
_encode = json.JSONEncoder().encode


@dataclass(frozen=True)
class Table:
    """Where one kind of row goes: ``model`` as ``app_label.Model`` (or a customer M2M through table)."""

    model: str
    columns: tuple[str, ...]


TABLES: dict[str, Table] = {
    "customers": Table("customers.Customer", (
        "id", "kind", "first_name", "middle_name", "last_name", "birth_date", "gender", "family_status",
        "children", "hobbies", "lifestyle", "favourite_team", "preferences", "motivation", "legal_name",
        "registration_number", "registration_details", "business_type", "address", "city", "time_zone",
        "notes", "preferred_channel", "channel_order", "contact_days", "contact_from", "contact_to",
        "custom", "owner_id", "team_id", "search_key", "created_at", "updated_at")),
    "identifiers": Table("identity.Identifier", (
        "customer_id", "kind", "value", "raw", "verified", "label", "source", "created_at")),
    "important_dates": Table("customers.ImportantDate", ("customer_id", "kind", "who", "date", "note")),
    "customer_tags": Table("customers.Customer.tags", ("customer_id", "tag_id")),
    "contact_people": Table("customers.ContactPerson", ("company_id", "person_id", "role", "title")),
    "profile_changes": Table("customers.ProfileChange", (
        "customer_id", "field", "old_value", "new_value", "actor_user_id", "channel", "source", "at")),
}


@dataclass
class Batch:
    """Rows for several tables, loaded together in one transaction."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)

    def extend(self, table: str, rows: Sequence[Row]) -> None:
        self.rows.setdefault(table, []).extend(rows)

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())


@dataclass(frozen=True)
class _Target:
    db_table: str
    columns: tuple[str, ...]
    extras: Row


def _model(label: str) -> type[Model]:
    parts = label.split(".")
    model = apps.get_model(parts[0], parts[1])
    if len(parts) == 3:
        through: type[Model] = getattr(model, parts[2]).through
        return through
    return model


@cache
def _target(name: str) -> _Target:
    spec = TABLES[name]
    model = _model(spec.model)
    known = set(spec.columns)
    extra_columns: list[str] = []
    extras: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.column in known or f.primary_key:
            continue
        extra_columns.append(str(f.column))
        extras.append(f.get_db_prep_save(f.get_default(), connection))
    return _Target(model._meta.db_table, spec.columns + tuple(extra_columns), tuple(extras))


def load(batch: Batch) -> int:
    """Insert every row of ``batch`` in one transaction, tables in ``TABLES`` order; return the row count."""
    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Demo rows can be rebuilt (and a chunked stage resumes), so a crash losing the last
            # commit is harmless; not waiting for each chunk's WAL flush is not.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        for name in TABLES:
            rows = batch.rows.get(name)
            if not rows:
                continue
            target = _target(name)
            if target.extras:
                rows = [row + target.extras for row in rows]
            if connection.vendor == "postgresql":
                _copy(cursor, target, rows)
            else:
                quoted = ", ".join(connection.ops.quote_name(c) for c in target.columns)
                marks = ", ".join(["%s"] * len(target.columns))
                cursor.executemany(
                    f"INSERT INTO {connection.ops.quote_name(target.db_table)} ({quoted}) VALUES ({marks})", rows)
            total += len(rows)
    return total


def _copy(cursor: Any, target: _Target, rows: list[Row]) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in target.columns)
    sql = f"COPY {connection.ops.quote_name(target.db_table)} ({quoted}) FROM STDIN"
    # Django's wrapper hides psycopg's cursor; COPY is only on the real one.
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def dumps(value: Any) -> str:
    """JSON text the way Django's JSONField writes it (ASCII-escaped), so raw and ORM rows look alike."""
    if not value:
        return "[]" if isinstance(value, list) else "{}" if isinstance(value, dict) else _encode(value)
    return _encode(value)


def stamp(moment: datetime) -> str:
    """A naive-UTC datetime as column text; both engines' Django sessions run in UTC."""
    return moment.replace(microsecond=0).isoformat(" ")


@contextmanager
def bulk_session() -> Iterator[None]:
    """A bigger SQLite page cache while millions of rows go in: index pages of the growing tables
    stay in memory instead of being re-read for every chunk (the settings' default is 64 MB)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={int(previous)}")


def next_customer_id() -> int:
    """The first free customer id; the demo allocates ids itself so related rows can point at them."""
    customer = apps.get_model("customers", "Customer")
    return int(customer.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def sync_customer_ids() -> None:
    """After explicit ids, move PostgreSQL's identity sequence past them (SQLite follows by itself)."""
    if connection.vendor != "postgresql":
        return
    table = apps.get_model("customers", "Customer")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                       f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))", [table])
