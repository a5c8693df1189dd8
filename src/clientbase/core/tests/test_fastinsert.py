import json

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from clientbase.core.fastinsert import _json_text, insert_rows
from clientbase.customers.models import Tag


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
