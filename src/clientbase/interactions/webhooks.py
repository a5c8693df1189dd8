"""Channel traffic into events: Telegram Bot API updates and a generic JSON webhook with a mapping.

Each endpoint is a ChannelSecret row: its ``key`` is in the URL, its ``secret`` must come back in a
header (Telegram sends ``X-Telegram-Bot-Api-Secret-Token`` when the bot's webhook is set with
``secret_token``; the generic webhook expects ``X-Clientbase-Secret``).
"""

import datetime as dt
import hmac
from typing import Any

from clientbase.access.actor import Actor
from clientbase.core.errors import DomainValidationError, NotFound, PermissionDenied
from clientbase.interactions.ingest import IngestReport, ingest_events
from clientbase.interactions.models import ChannelSecret


def webhook_actor(endpoint: ChannelSecret) -> Actor:
    return Actor(user=None, role="admin", channel=f"webhook:{endpoint.key}"[:30], scopes=frozenset({"events:write"}))


def authenticate(key: str, kind: str, secret: str | None) -> ChannelSecret:
    endpoint = ChannelSecret.objects.filter(key=key, kind=kind, active=True).first()
    if endpoint is None:
        raise NotFound(f"Webhook {key!r}")
    if not secret or not hmac.compare_digest(secret.encode(), endpoint.secret.encode()):
        raise PermissionDenied("Wrong or missing webhook secret.")
    return endpoint


def telegram_event(update: dict[str, Any], endpoint: ChannelSecret) -> dict[str, Any] | None:
    """One Bot API Update as an event; None for update kinds that carry no message from a person."""
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or not isinstance(message.get("from"), dict):
        return None
    sender, chat = message["from"], message.get("chat") or {}
    identifiers: dict[str, Any] = {"telegram": str(sender.get("id", ""))}
    contact = message.get("contact")
    # A shared contact is the sender's own number only when Telegram says it belongs to the sender.
    if isinstance(contact, dict) and contact.get("phone_number") and contact.get("user_id") == sender.get("id"):
        identifiers["phone"] = {"value": str(contact["phone_number"]), "verified": True}
    traits = {k: str(sender[k]) for k in ("first_name", "last_name") if sender.get(k)}
    return {
        "source": f"telegram:{endpoint.key}", "id": str(update.get("update_id", "")), "type": "message",
        "channel": endpoint.channel,
        "occurred_at": dt.datetime.fromtimestamp(int(message.get("date", 0)), tz=dt.UTC).isoformat(),
        "identifiers": identifiers, "traits": traits,
        "data": {"direction": "inbound", "text": message.get("text") or message.get("caption") or "",
                 "thread": str(chat.get("id", "")), "message_id": message.get("message_id"),
                 "username": sender.get("username")},
    }


def _pick(payload: Any, path: str) -> Any:
    if path.startswith("="):
        return path[1:]
    value = payload
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def mapped_event(payload: Any, endpoint: ChannelSecret) -> dict[str, Any]:
    """Build an event from ``payload`` by ``endpoint.mapping``: {event field: dotted path or "=constant"}.

    Event fields: ``id``, ``type``, ``occurred_at``, ``identifiers.<kind>``, ``traits.<field>``,
    ``data.<key>``. Missing values are left out, so validation names the field that was not found.
    """
    event: dict[str, Any] = {"source": f"webhook:{endpoint.key}", "channel": endpoint.channel,
                             "identifiers": {}, "traits": {}, "data": {}}
    for target, path in endpoint.mapping.items():
        value = _pick(payload, str(path))
        if value is None:
            continue
        section, _, name = target.partition(".")
        if name and section in {"identifiers", "traits", "data"}:
            event[section][name] = value
        else:
            event[target] = str(value) if target == "id" else value
    return event


def receive_telegram(key: str, secret: str | None, update: Any) -> IngestReport:
    endpoint = authenticate(key, "telegram", secret)
    if not isinstance(update, dict):
        raise DomainValidationError.single("", "A Telegram update is a JSON object.")
    event = telegram_event(update, endpoint)
    return ingest_events([event] if event else [], actor=webhook_actor(endpoint))


def receive_generic(key: str, secret: str | None, payload: Any) -> IngestReport:
    endpoint = authenticate(key, "generic", secret)
    items = payload if isinstance(payload, list) else [payload]
    return ingest_events([mapped_event(item, endpoint) for item in items], actor=webhook_actor(endpoint))
