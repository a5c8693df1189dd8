"""Telegram Bot API ``sendMessage``; ``base_url`` is configurable so tests point it at a local server.

The ``Idempotency-Key`` header is sent for uniformity, but Telegram ignores it: for this channel only
the outbox's lease prevents a second send (see docs/engagement.md, "Guarantees").
"""

from typing import TYPE_CHECKING, Any

from clientbase.engagement.channels import Outgoing, PermanentFailure, identifier_value
from clientbase.engagement.channels.http import post_json

if TYPE_CHECKING:
    from clientbase.customers.models import Customer


class TelegramChannel:
    kind = "telegram"

    def address(self, customer: "Customer") -> str | None:
        return identifier_value(customer, "telegram")

    def send(self, outgoing: Outgoing, config: dict[str, Any]) -> str:
        token = config.get("token")
        if not token:
            raise PermanentFailure("telegram: no bot token configured")
        base = str(config.get("base_url", "https://api.telegram.org")).rstrip("/")
        data = post_json(f"{base}/bot{token}/sendMessage", {"chat_id": outgoing.address, "text": outgoing.body},
                         headers={"Idempotency-Key": outgoing.idempotency_key}, timeout=float(config.get("timeout", 10)))
        if not data.get("ok", False):
            raise PermanentFailure(f"telegram: {data.get('description', 'not ok')}")
        result = data.get("result") or {}
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""


TELEGRAM = TelegramChannel()
