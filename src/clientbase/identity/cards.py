"""The card's merge history section, with an Unmerge button for admins."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from clientbase.access.actor import Actor
from clientbase.customers.display import channel_label
from clientbase.customers.models import Customer
from clientbase.identity import display
from clientbase.identity.consents import current_rows
from clientbase.identity.reviews import REVIEWERS
from clientbase.identity.selectors import merge_history
from clientbase.web.cards import register_card_section


def _merges(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    merges = list(merge_history(customer)[:50])
    # Merging by hand (identity.views.merge_into): those who decide merges, on a customer not merged away.
    can_merge = actor.role in REVIEWERS and customer.merged_into_id is None
    if not merges and customer.merged_into_id is None and not can_merge:
        return None
    for merge in merges:
        merge.reason_text = display.merge_reason(merge.reason)  # type: ignore[attr-defined]
    return {"merges": merges, "can_unmerge": actor.has_scope("admin"), "can_merge": can_merge}


def _consents(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    """The current choice per channel: what a message to this customer is checked against."""
    return {"consents": [{"channel": channel_label(channel), "row": row}
                         for channel, row in current_rows(customer.pk).items()]}


register_card_section("consents", _consents, title=_("Consent"), template="identity/card_consents.html", order=420)
register_card_section("merge_history", _merges, title=_("Merge history"), template="identity/card_merges.html",
                      order=850)
