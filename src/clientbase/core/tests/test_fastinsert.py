import pytest
from django.db import IntegrityError, transaction

from clientbase.core.fastinsert import insert_rows
from clientbase.customers.models import Tag


def test_a_constraint_violation_is_djangos_integrity_error_on_both_engines() -> None:
    """Callers retry on IntegrityError (ingest racing another writer); COPY on PostgreSQL must raise it too."""
    insert_rows(Tag, ["name"], [("vip",)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Tag, ["name"], [("new",), ("vip",)])
    assert list(Tag.objects.values_list("name", flat=True)) == ["vip"]
