import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from clientbase.core import fastinsert
from clientbase.core.fastinsert import _json_text, insert_rows, pg_array, upsert_rows
from clientbase.customers.models import Tag
from clientbase.customers.tests.builders import make_customer
from clientbase.interactions.models import Event
from clientbase.sales.models import CustomerVisitDay


def test_a_constraint_violation_is_djangos_integrity_error_on_both_engines() -> None:
    """Callers retry on IntegrityError (ingest racing another writer); COPY on PostgreSQL must raise it too."""
    insert_rows(Tag, ["name"], [("vip",)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Tag, ["name"], [("new",), ("vip",)])
    assert list(Tag.objects.values_list("name", flat=True)) == ["vip"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=8)


@given(json_values)
def test_json_text_is_what_json_dumps_writes(value: object) -> None:
    """The SQLite converter's shortcuts (empty containers, plain text) must store what Django would."""
    assert _json_text(value) == (None if value is None else json.dumps(value))


def test_upsert_inserts_new_keys_and_overwrites_only_the_given_columns_of_stored_ones() -> None:
    a, b = make_customer(), make_customer(phone=None)
    day = dt.date(2026, 3, 1)
    insert_rows(CustomerVisitDay, ["customer_id", "day", "orders"], [(a.pk, day, 2)])
    stored = CustomerVisitDay.objects.get()
    with transaction.atomic():  # twice in one transaction
        upsert_rows(CustomerVisitDay, ["customer_id", "day", "orders"], [(a.pk, day, 5), (b.pk, day, 1)],
                    key=["customer_id", "day"])
        upsert_rows(CustomerVisitDay, ["customer_id", "day", "orders"], [(b.pk, day, 3)], key=["customer_id", "day"])
    upsert_rows(CustomerVisitDay, ["customer_id", "day", "orders"], [], key=["customer_id", "day"])
    rows = sorted(CustomerVisitDay.objects.values_list("id", "customer_id", "day", "orders"))
    assert rows[0] == (stored.pk, a.pk, day, 5)  # updated in place, same row
    assert rows[1][1:] == (b.pk, day, 3) and len(rows) == 2


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="array literals are a PostgreSQL parameter form")
# Text a database can hold: UTF-8 (no lone surrogates) without NUL.
@given(st.lists(st.none() | st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))),
       st.lists(st.none() | st.integers(-2**63, 2**63 - 1)),
       st.lists(st.none() | st.dates()), st.lists(st.none() | st.datetimes(timezones=st.just(dt.UTC))))
def test_array_literals_read_back_as_the_values(texts: list, numbers: list, days: list, moments: list) -> None:
    """``pg_array`` writes what psycopg's list dumper would send: each value reads back unchanged."""
    with connection.cursor() as cursor:
        for values, kind in ((texts, "text"), (numbers, "bigint"), (days, "date"), (moments, "timestamptz")):
            literal = pg_array(values)
            assert isinstance(literal, str)
            cursor.execute(f"SELECT %s::{kind}[]", [literal])
            assert cursor.fetchone()[0] == values


storable_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
_EVENT_COLUMNS = ["source", "external_id", "type", "channel", "occurred_at", "received_at", "customer_id",
                  "identifiers", "traits", "data"]


# What a JSON column can hold: no infinity (not JSON), no NUL or lone surrogate (not storable text).
storable_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | storable_text, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(storable_text, inner, max_size=3),
    max_leaves=8).filter(lambda v: v is not None)


@given(storable_text, st.datetimes(timezones=st.just(dt.UTC)), storable_json, storable_json)
def test_one_call_stores_what_executemany_stores(text: str, moment: dt.datetime, traits: object, data: object) -> None:
    """``one_call`` (SQLite: one multi-row INSERT) must leave the very column values the row-by-row insert leaves."""
    customer = make_customer(phone=None)
    Event.objects.all().delete()
    with transaction.atomic():
        for key, one_call in (("many", False), ("one", True)):
            insert_rows(Event, _EVENT_COLUMNS, [(text, key, text, "web", moment, moment, customer.pk, [text, 1, None],
                                                 traits, data)], one_call=one_call)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(c for c in _EVENT_COLUMNS if c != 'external_id')} FROM "
                       f"{Event._meta.db_table} ORDER BY external_id")
        many, one = cursor.fetchall()
    assert one == many


def test_one_call_stores_every_row_in_order_across_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than one statement takes (and a last, shorter statement): all stored, ids in row order."""
    monkeypatch.setattr(fastinsert, "_ROWS_PER_STATEMENT", 3)
    customer = make_customer(phone=None)
    moment = dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC)
    with transaction.atomic():
        count = insert_rows(Event, _EVENT_COLUMNS, [("order", f"e{n}", "visit", "web", moment, moment, customer.pk,
                                                     [], {}, {"n": n}) for n in range(8)], one_call=True)
    assert count == 8
    stored = list(Event.objects.filter(source="order").order_by("pk").values_list("external_id", "data"))
    assert stored == [(f"e{n}", {"n": n}) for n in range(8)]


def test_one_call_statements_are_big_then_small_then_the_rest() -> None:
    """Every statement's size but the last one's repeats from call to call (the driver keeps them compiled)."""
    assert list(fastinsert._pieces(2570, 1000, 32)) == [(0, 1000), (1000, 1000), (2000, 32), (2032, 32), (2064, 32),
                                                          *((2096 + 32 * n, 32) for n in range(14)), (2544, 26)]
    assert list(fastinsert._pieces(2000, 1000, 32)) == [(0, 1000), (1000, 1000)]
    assert list(fastinsert._pieces(5, 3, 3)) == [(0, 3), (3, 2)] and list(fastinsert._pieces(0, 3, 3)) == []


def test_one_call_reports_a_duplicate_as_django_integrity_error() -> None:
    """A row breaking a unique constraint fails the insert with Django's IntegrityError, as executemany does
    (ingest catches it to redo a batch event by event)."""
    customer = make_customer(phone=None)
    moment = dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC)
    row: tuple[object, ...] = ("dup", "e1", "visit", "web", moment, moment, customer.pk, [], {}, {})
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Event, _EVENT_COLUMNS, [row, row], one_call=True)
    assert not Event.objects.filter(source="dup").exists()


def test_chunked_inserts_store_every_row_in_order_as_executemany_stores_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's multi-row statements of ``_CHUNK_ROWS`` rows, then ``executemany`` for the rows left over:
    the same column values, in row order, as ``executemany`` of every row (PostgreSQL: COPY either way)."""
    customer = make_customer(phone=None)
    moment = dt.datetime(2026, 12, 6, 10, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=3)))

    def rows(key: str) -> list[tuple[object, ...]]:
        return [("chunks", f"{key}{n}", "visit", "web", moment + dt.timedelta(days=n), moment, customer.pk,
                 [f"phone:+7900{n}"], {"first_name": "Иван"} if n % 2 else {}, {"n": n, "text": "ё\n"})
                for n in range(8)]
    with transaction.atomic():
        for key, chunk in (("a", 10_000), ("b", 3)):  # all left over, executemany; two chunks and two left over
            monkeypatch.setattr(fastinsert, "_CHUNK_ROWS", chunk)
            assert insert_rows(Event, _EVENT_COLUMNS, rows(key)) == 8
    with connection.cursor() as cursor:
        found = {}
        for key in ("a", "b"):
            cursor.execute(f"SELECT {', '.join(c for c in _EVENT_COLUMNS if c != 'external_id')} FROM "
                           f"{Event._meta.db_table} WHERE external_id LIKE %s ORDER BY id", [f"{key}%"])
            found[key] = cursor.fetchall()
    assert found["b"] == found["a"] and len(found["a"]) == 8
    assert [e.data["n"] for e in Event.objects.filter(external_id__startswith="b").order_by("pk")] == list(range(8))


def test_a_duplicate_inside_a_chunk_is_django_integrity_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastinsert, "_CHUNK_ROWS", 2)
    customer = make_customer(phone=None)
    moment = dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC)
    row: tuple[object, ...] = ("dup", "e1", "visit", "web", moment, moment, customer.pk, [], {}, {})
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Event, _EVENT_COLUMNS, [row, row, row])
    assert not Event.objects.filter(source="dup").exists()


def test_defaults_of_columns_not_given_are_kept_with_the_plan_unless_computed_per_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``_plain_rows`` keeps the converted defaults with its cached plan (a JSON default as text), except
    where a default is a callable other than dict or list: that one is called for every insert."""
    columns = [c for c in _EVENT_COLUMNS if c != "traits"]
    moment = dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC)
    row: tuple[object, ...] = ("s", "e", "visit", "web", moment, moment, None, [], {})

    def traits() -> object:
        names, [values] = fastinsert._plain_rows(Event, columns, [row])
        return dict(zip(names, values, strict=True))["traits"]

    fastinsert._rows_plan.cache_clear()
    assert traits() == "{}"
    calls = iter(range(10))
    field = Event._meta.get_field("traits")

    def computed() -> dict[str, int]:
        return {"n": next(calls)}

    monkeypatch.setattr(field, "default", computed)
    monkeypatch.setattr(field, "_get_default", computed)  # Django caches what get_default calls
    fastinsert._rows_plan.cache_clear()
    try:
        assert [traits(), traits()] == ['{"n": 0}', '{"n": 1}']
    finally:
        monkeypatch.undo()
        fastinsert._rows_plan.cache_clear()


offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))


@given(st.lists(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=offsets),
                min_size=1, max_size=fastinsert.FEW + 2))
def test_moments_of_any_offset_are_stored_as_the_same_instant(moments: list[dt.datetime]) -> None:
    """Moments go to the database as text (ISO with their own offset on PostgreSQL, naive UTC on SQLite):
    each reads back as the instant it was, through COPY and through the few rows' INSERT alike."""
    customer = make_customer(phone=None)
    Event.objects.all().delete()
    received = dt.datetime(2026, 12, 7, 15, 30, 0, 123456, tzinfo=dt.UTC)
    with transaction.atomic():
        for label, batch in (("one", moments[:1]), ("all", moments)):  # an INSERT on PostgreSQL, then COPY past FEW
            insert_rows(Event, _EVENT_COLUMNS, [("test", f"{label}-{i}", "visit", "web", moment, received,
                                                 customer.pk, [], {}, {}) for i, moment in enumerate(batch)])
    stored = {e.external_id: (e.occurred_at, e.received_at) for e in Event.objects.all()}
    assert stored["one-0"] == (moments[0], received)
    assert [stored[f"all-{i}"] for i in range(len(moments))] == [(m, received) for m in moments]
