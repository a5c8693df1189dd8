"""Read path for identity: merge history, the review queue."""

from django.db.models import Q, QuerySet

from clientbase.access.actor import Actor
from clientbase.core.fastinsert import select_in
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

    One query per kind (a chunk of values at a time on SQLite), so each lookup walks the (kind, value)
    unique index; plain SQL because the ORM prepares each value of a long IN list on its own, which
    cost an import a tenth of its time. Used by ingest and by both importers.
    """
    by_kind: dict[str, set[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, set()).add(value)
    table = Identifier._meta.db_table
    found: dict[tuple[str, str], int] = {}
    for kind, values in by_kind.items():
        rows = select_in(f"SELECT value, customer_id FROM {table} WHERE kind = %s AND {{match}}", "value",
                         sorted(values), [kind])
        found.update(((kind, value), customer_id) for value, customer_id in rows)
    return found
