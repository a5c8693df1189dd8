import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from clientbase.core.fastinsert import _json_text, insert_rows, pg_array, upsert_rows
from clientbase.customers.models import Tag
from clientbase.customers.tests.builders import make_customer
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
