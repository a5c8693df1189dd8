"""Reactions at ingest time of the identity domain (``interactions.handlers``)."""

from typing import Any

from django.conf import settings

from clientbase.access.actor import SYSTEM
from clientbase.core.errors import DomainValidationError
from clientbase.identity.models import Identifier, IdentifierKind
from clientbase.identity.rules import normalize
from clientbase.identity.services import remove_identifier
from clientbase.interactions.handlers import handles


@handles("card_replaced")
def retire_replaced_card(event: Any, customer: Any) -> None:
    """A lost card replaced: ``data.replaces`` names the old card, the event's identifiers carry the new one.

    The old card stops identifying the customer: it is taken off the profile (the history keeps it,
    source = the event). A found or stolen card then links no one and cannot reach this customer's points;
    its next use starts a profile of its own. An old card no one holds (never registered) needs nothing;
    one that belongs to someone else rejects the event (``data.replaces``), as a bad field does."""
    old = (event.data or {}).get("replaces")
    if old is None:
        return
    if type(old) is not str:
        raise DomainValidationError.single("data.replaces", "Must be the old card's number.")
    value = normalize(IdentifierKind.CARD, old, region=settings.CLIENTBASE_DEFAULT_REGION, field="data.replaces")
    identifier = Identifier.objects.filter(kind=IdentifierKind.CARD, value=value).first()
    if identifier is None:
        return
    if identifier.customer_id != customer.pk:
        raise DomainValidationError.single("data.replaces", f"Card {value} belongs to another customer.")
    remove_identifier(identifier, actor=SYSTEM, source=f"event:{event.source}/{event.external_id}")
