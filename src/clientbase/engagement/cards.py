"""The card's "Messages & tasks" and "Retention" sections (registered with clientbase.web.cards)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from clientbase.access.actor import Actor
from clientbase.customers.models import Customer
from clientbase.engagement import retention, selectors
from clientbase.engagement.models import TaskKind
from clientbase.web.cards import register_card_section


def _messages_and_tasks(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    messages = selectors.customer_messages(customer)
    tasks = selectors.customer_tasks(customer)
    rows = [{"message": m, "decisions": list(m.decisions.all())} for m in messages]
    return {"messages": rows, "tasks": tasks, "task_kinds": TaskKind.choices}


def _retention(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    # A merged customer's budget and reasons are the survivor's now (its orders and reasons moved there).
    return None if customer.merged_into_id is not None else retention.card_context(customer)


register_card_section("messages_tasks", _messages_and_tasks, title=_("Messages & tasks"),
                      template="engagement/card_messages_tasks.html", order=650)
register_card_section("retention", _retention, title=_("Retention"),
                      template="engagement/card_retention.html", order=660)
