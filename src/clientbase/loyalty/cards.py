"""The card's "Loyalty" section: balance, tier, lots with their expiry dates and the ledger history."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from clientbase.access.actor import Actor
from clientbase.customers.models import Customer
from clientbase.loyalty import selectors
from clientbase.web.cards import register_card_section

HISTORY = 20


def _loyalty(customer: Customer, actor: Actor) -> dict[str, Any] | None:
    if not actor.has_scope("customers:read"):
        return None
    programs = []
    for account in selectors.accounts_of(customer.pk):
        programs.append({
            "account": account,
            "program": account.program,
            "lots": list(selectors.open_lots(account.program_id, customer.pk)[:HISTORY]),
            "entries": list(selectors.history(account.program_id, customer.pk)[:HISTORY]),
            "tiers": list(selectors.tier_history(account)[:10]),
        })
    coupons = list(selectors.usable_coupons(customer.pk)[:10])
    if not programs and not coupons:
        return None
    return {"programs": programs, "coupons": coupons}


register_card_section("loyalty", _loyalty, title=_("Loyalty"), template="loyalty/card_loyalty.html", order=320)
