"""History rows are indexed by actor only where an actor is set (migration customers 0004, identity 0004):
the lookups by a user or token still go through those partial indexes, and deleting a user still
empties the rows that named them."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection, models, transaction

from clientbase.access.tests.builders import make_actor
from clientbase.customers.models import ProfileChange
from clientbase.customers.services import update_customer
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Merge


@pytest.fixture
def no_table_scans() -> Iterator[None]:
    """PostgreSQL would read a test's few rows by a table scan whatever the indexes: forbid it, so the plan
    shows whether an index can serve the query at all."""
    with transaction.atomic():
        if settings.IS_POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        yield


@pytest.mark.usefixtures("no_table_scans")
@pytest.mark.parametrize(("model", "column", "index"), [
    (ProfileChange, "actor_user_id", "profile_change_actor_user"),
    (ProfileChange, "actor_token_id", "profile_change_actor_token"),
    (Merge, "actor_user_id", "merge_actor_user"),
    (Merge, "unmerged_by_id", "merge_unmerged_by"),
    (Merge, "survivor_id", "merge_survivor_at"),
    (Merge, "absorbed_id", "merge_absorbed_at"),
])
def test_lookups_by_a_key_use_an_index(model: type[models.Model], column: str, index: str) -> None:
    assert index in model._default_manager.filter(**{f"{column}__in": [1, 2]}).explain()


def test_deleting_a_user_empties_the_history_rows_that_named_them() -> None:
    actor = make_actor()
    customer = make_customer(phone=None)
    other = make_customer(phone=None)
    update_customer(customer, {"first_name": "Анна"}, actor=actor)
    merge_customers(customer, other, actor=actor)
    assert ProfileChange.objects.filter(actor_user_id=actor.user_id).exists()
    actor.user.delete()  # type: ignore[union-attr]
    assert not ProfileChange.objects.filter(actor_user__isnull=False).exists()
    assert Merge.objects.get().actor_user_id is None
