"""Read path for identity: merge history, the review queue."""

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from clientbase.access.actor import Actor
from clientbase.core import fastsql
from clientbase.core.fastinsert import pg_array, select_in
from clientbase.customers.models import Customer
from clientbase.customers.selectors import visible
from clientbase.identity.models import Identifier, Merge, ReviewCase, ReviewStatus


def merge_history(customer: Customer) -> QuerySet[Merge]:
    """Merges this customer took part in, newest first."""
    return (Merge.objects.filter(Q(survivor=customer) | Q(absorbed=customer))
            .select_related("survivor", "absorbed", "actor_user", "unmerged_by").order_by("-at", "-pk"))


def review_queue(actor: Actor, *, status: str = ReviewStatus.OPEN) -> QuerySet[ReviewCase]:
    """Cases whose both customers the actor may see."""
    return (ReviewCase.objects.filter(visible(actor, "customer_a__"), visible(actor, "customer_b__"), status=status)
            .select_related("customer_a", "customer_b").order_by("created_at", "pk"))


def identifier_owners(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The customer holding each of these normalised (kind, value) identifiers that is stored.

    Each lookup walks the (kind, value) unique index; plain SQL because the ORM prepares each value of a
    long IN list on its own, which cost an import a tenth of its time. PostgreSQL: one statement for
    every kind (``owners_statement``). SQLite: one query per kind, a chunk of values at a time. Used by
    ingest and by both importers.
    """
    table = Identifier._meta.db_table
    if connection.vendor == "postgresql":
        return owners_found(fastsql.rows(*owners_statement(pairs))) if pairs else {}
    by_kind: dict[str, set[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, set()).add(value)
    found: dict[tuple[str, str], int] = {}
    for kind, values in by_kind.items():
        rows = select_in(f"SELECT value, customer_id FROM {table} WHERE kind = %s AND {{match}}", "value",
                         sorted(values), [kind])
        found.update(((kind, value), customer_id) for value, customer_id in rows)
    return found


def owners_statement(pairs: set[tuple[str, str]], *, lock_space: int | None = None) -> tuple[str, list[object]]:
    """PostgreSQL's lookup of who holds these identifiers (rows for ``owners_found``): ``unnest`` of kinds
    and values, a ``LATERAL`` lookup per pair, as ``select_in``. With ``lock_space`` the same statement
    then takes the advisory lock ``(lock_space, holder id as int4)`` on each holder, in ascending key
    order (``identity.locks.lock_identifiers``)."""
    ordered = sorted(pairs)
    sql = (f"WITH found AS (SELECT f.* FROM unnest(%s::text[], %s::text[]) AS w(kind, value) CROSS JOIN LATERAL "
           f"(SELECT kind, value, customer_id FROM {Identifier._meta.db_table} "
           "WHERE kind = w.kind AND value = w.value OFFSET 0) AS f) "
           "SELECT kind, value, customer_id FROM found")
    params: list[object] = [pg_array([k for k, _ in ordered]), pg_array([v for _, v in ordered])]
    if lock_space is not None:
        # The lock rows come after the lookup's (UNION ALL runs its branches in order) and carry no kind.
        sql += (" UNION ALL SELECT NULL, NULL, NULL FROM (SELECT pg_advisory_xact_lock(%s, k) FROM "
                "(SELECT DISTINCT customer_id::bit(32)::int AS k FROM found ORDER BY k) AS keys) AS locked")
        params.append(lock_space)
    return sql, params


def owners_found(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
    """``owners_statement``'s rows as (kind, value) → customer id."""
    return {(kind, value): customer_id for kind, value, customer_id in rows if kind is not None}
