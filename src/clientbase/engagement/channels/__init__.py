"""Channel plugins: each ``channels/<kind>/`` module exposes one object with the :class:`ChannelPlugin` shape.

A plugin knows where a customer is reached on its channel (``address``) and how to hand one
message to its provider (``send``). It raises :class:`TemporaryFailure` for errors worth retrying
(timeouts, 5xx, 429) and :class:`PermanentFailure` for the rest; it returns the provider's id.
Every plugin passes ``message.idempotency_key`` to the provider so a re-send after a worker crash
carries the same key (SMTP ``Message-ID``, HTTP ``Idempotency-Key``).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from clientbase.customers.models import Customer


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Retrying will not help (bad address, rejected by the provider)."""


@dataclass(frozen=True)
class Outgoing:
    """What a plugin sends: already rendered, already addressed."""

    address: str
    subject: str
    body: str
    idempotency_key: str
    unsubscribe_url: str = ""
    html: str = ""


class ChannelPlugin(Protocol):
    kind: str

    def address(self, customer: "Customer") -> str | None: ...

    def send(self, outgoing: Outgoing, config: dict[str, Any]) -> str: ...


def identifier_value(customer: "Customer", *kinds: str) -> str | None:
    """The customer's first identifier of the first kind present (verified first, then oldest)."""
    from clientbase.identity.models import Identifier

    for kind in kinds:
        value = (Identifier.objects.filter(customer=customer, kind=kind)
                 .order_by("-verified", "pk").values_list("value", flat=True).first())
        if value:
            return value
    return None


def registry() -> dict[str, ChannelPlugin]:
    from clientbase.engagement.channels.email import EMAIL
    from clientbase.engagement.channels.http import SMS, VIBER, WHATSAPP
    from clientbase.engagement.channels.telegram import TELEGRAM

    return {plugin.kind: plugin for plugin in (EMAIL, SMS, WHATSAPP, VIBER, TELEGRAM)}


def plugin_for(kind: str) -> "ChannelPlugin | None":
    return registry().get(kind)
