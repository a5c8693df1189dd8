"""The review queue (R2.2): pairs a guard refused to merge automatically, decided by a person."""

from django.db import transaction

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.customers.selectors import survivor_of
from clientbase.identity.locks import lock_identity
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import ReviewCase, ReviewStatus

ACTIONS = ("merge", "keep_apart")
# The roles that decide merges on the pages: the review queue and a merge by hand from the card.
REVIEWERS = frozenset({"admin", "marketer"})


@transaction.atomic
def resolve_review(case: ReviewCase, action: str, *, actor: Actor) -> ReviewCase:
    """``merge`` merges the pair (the older survives); ``keep_apart`` stops the pair coming back."""
    case = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if case.status != ReviewStatus.OPEN:
        raise DomainValidationError.single("status", f"Review #{case.pk} is already {case.status}.")
    if action not in ACTIONS:
        raise DomainValidationError.single("action", f"Must be one of {', '.join(ACTIONS)}.")
    if action == "merge":
        lock_identity()  # before following tombstones: no ingest merges either customer after we read it
        first, second = Customer.objects.get(pk=case.customer_a_id), Customer.objects.get(pk=case.customer_b_id)
        # A customer merged since the case opened is decided through its survivor.
        first, second = survivor_of(first), survivor_of(second)
        if first.pk == second.pk:
            raise DomainValidationError.single("action", "Both customers were merged into one already.")
        survivor, absorbed = sorted((first, second), key=lambda c: c.pk)
        case.merge = merge_customers(survivor, absorbed, actor=actor, reason=f"review #{case.pk}")
        case.status = ReviewStatus.MERGED
    else:
        case.status = ReviewStatus.KEPT_APART
    case.resolved_at = now()
    case.resolved_by_id = actor.user_id
    case.save()
    return case

