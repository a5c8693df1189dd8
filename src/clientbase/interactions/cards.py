"""The card's dialog timeline: messages and calls of every channel in one list."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from clientbase.access.actor import Actor
from clientbase.customers.models import Customer
from clientbase.interactions.selectors import dialog_timeline
from clientbase.web.cards import register_card_section


def _timeline(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    items = dialog_timeline(customer, limit=50)
    return {"items": items} if items else None


register_card_section("timeline", _timeline, title=_("Dialogs"), template="interactions/card_timeline.html",
                      order=600)
