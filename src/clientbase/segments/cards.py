"""The customer card's "Segments" section."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from clientbase.access.actor import Actor
from clientbase.customers.models import Customer
from clientbase.segments import selectors
from clientbase.web.cards import register_card_section


def _segments(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    return {"segments": selectors.segments_of(customer),
            "changes": customer.segment_changes.select_related("segment").order_by("-at", "-id")[:10]}


register_card_section("segments", _segments, title=_("Segments"), template="segments/card.html", order=650)
