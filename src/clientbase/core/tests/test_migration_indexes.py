"""``drop_field_indexes``: what the index migrations (customers 0002/0004, identity 0003/0004, interactions
0002) run, forwards and backwards, on the database as migrated."""

from typing import cast

import pytest
from django.apps import apps as installed
from django.db import connection
from django.db.migrations.state import StateApps

from clientbase.core.migration_indexes import drop_field_indexes

FIELDS = [("Merge", "survivor"), ("Consent", "customer")]


def _plain_indexes(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [name for name, c in found.items()
            if c["index"] and not c["unique"] and not c["primary_key"] and c["columns"] == [column]]


def _state() -> list[list[str]]:
    return [_plain_indexes("identity_merge", "survivor_id"), _plain_indexes("identity_consent", "customer_id")]


@pytest.mark.django_db(transaction=True)
def test_reversing_recreates_the_single_column_indexes_and_applying_drops_them_again() -> None:
    operation = drop_field_indexes("identity", FIELDS)
    apps = cast(StateApps, installed)  # the same get_model; these models are as the migrations leave them
    assert _state() == [[], []]  # as migrated: the composite indexes serve these columns
    with connection.schema_editor() as editor:
        operation.reverse_code(apps, editor)  # type: ignore[misc]  # Optional in the stubs
    assert [len(names) for names in _state()] == [1, 1]
    with connection.schema_editor() as editor:
        operation.reverse_code(apps, editor)  # type: ignore[misc]  # Optional in the stubs
    assert [len(names) for names in _state()] == [1, 1]  # not twice
    with connection.schema_editor() as editor:
        operation.code(apps, editor)
    assert _state() == [[], []]
