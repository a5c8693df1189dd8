"""SMS, WhatsApp and Viber through a configurable HTTP provider (one gateway or one per channel).

``ChannelConfig.config`` for the kind: ``url``, ``token`` (sent as ``Authorization: Bearer``),
``body`` (a JSON template whose string values may contain ``{to}``, ``{text}``, ``{key}``),
``id_field`` (the provider response's message-id field, default ``id``), ``timeout`` seconds.
The idempotency key goes in the ``Idempotency-Key`` header; providers that honour it turn a
re-send after a worker crash into a no-op.
"""

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from clientbase.engagement.channels import Outgoing, PermanentFailure, TemporaryFailure, identifier_value

if TYPE_CHECKING:
    from clientbase.customers.models import Customer

DEFAULT_BODY = {"to": "{to}", "text": "{text}"}


def fill(template: Any, values: dict[str, str]) -> Any:
    """Substitute placeholders in every string of a JSON template (no eval, no format spec)."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def post_json(url: str, payload: dict[str, Any], *, headers: dict[str, str], timeout: float) -> dict[str, Any]:
    """POST JSON; 5xx/429/network are temporary, other 4xx permanent."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        failure = TemporaryFailure if exc.code >= 500 or exc.code == 429 else PermanentFailure
        raise failure(f"HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TemporaryFailure(f"HTTP: {exc}") from exc
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class HttpChannel:
    def __init__(self, kind: str, identifier_kinds: tuple[str, ...]) -> None:
        self.kind = kind
        self.identifier_kinds = identifier_kinds

    def address(self, customer: "Customer") -> str | None:
        return identifier_value(customer, *self.identifier_kinds)

    def send(self, outgoing: Outgoing, config: dict[str, Any]) -> str:
        url = config.get("url")
        if not url:
            raise PermanentFailure(f"{self.kind}: no provider URL configured")
        headers = {"Idempotency-Key": outgoing.idempotency_key}
        if token := config.get("token"):
            headers["Authorization"] = f"Bearer {token}"
        payload = fill(config.get("body", DEFAULT_BODY), {
            "to": outgoing.address, "text": outgoing.body, "key": outgoing.idempotency_key,
            "channel": self.kind})
        data = post_json(url, payload, headers=headers, timeout=float(config.get("timeout", 10)))
        return str(data.get(config.get("id_field", "id"), ""))


SMS = HttpChannel("sms", ("phone",))
WHATSAPP = HttpChannel("whatsapp", ("whatsapp", "phone"))
VIBER = HttpChannel("viber", ("viber", "phone"))
