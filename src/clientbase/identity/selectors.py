"""Read path for identity: merge history, the review queue."""

from django.db.models import Q, QuerySet

from clientbase.access.actor import Actor
from clientbase.customers.models import Customer
from clientbase.customers.selectors import visible
from clientbase.identity.models import Merge, ReviewCase, ReviewStatus


def merge_history(customer: Customer) -> QuerySet[Merge]:
    """Merges this customer took part in, newest first."""
    return (Merge.objects.filter(Q(survivor=customer) | Q(absorbed=customer))
            .select_related("survivor", "absorbed", "actor_user", "unmerged_by").order_by("-at", "-pk"))


def review_queue(actor: Actor, *, status: str = ReviewStatus.OPEN) -> QuerySet[ReviewCase]:
    """Cases whose both customers the actor may see."""
    return (ReviewCase.objects.filter(visible(actor, "customer_a__"), visible(actor, "customer_b__"), status=status)
            .select_related("customer_a", "customer_b").order_by("created_at", "pk"))
