"""The outbox: enqueue a message, claim due ones with a conditional UPDATE, decide, send, settle.

Guarantee (docs/engagement.md, "Guarantees"). A row is handed to a provider only by the worker
whose claim won the conditional UPDATE, and only while its lease (``claimed_at`` + lease) runs;
every later write is fenced with ``claimed_by`` so a worker that lost its lease changes nothing.
A row whose worker died is picked up again only after the lease expires. Sent, refused, skipped
and failed rows are final and are never claimed again. Hence: never two workers at once, never
after success is recorded (at most once per lease), and, unless refused or skipped by a rule,
retried until sent or out of attempts (at least once). The one gap is a crash *after* the
provider accepted and *before* ``sent`` is stored: the next worker sends again with the same
idempotency key (SMTP Message-ID, HTTP Idempotency-Key), which a provider that honours the key
drops; Telegram and plain SMTP relays do not, so there the customer could see it twice.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q

from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.engagement import contact, rules
from clientbase.engagement.channels import (
    ChannelPlugin,
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    plugin_for,
)
from clientbase.engagement.models import (
    OPEN_STATUSES,
    ChannelConfig,
    ContactSettings,
    Message,
    MessageDecision,
    MessageKind,
    MessageStatus,
)
from clientbase.engagement.rendering import Rendered, render_for

log = logging.getLogger(__name__)


def enqueue(customer: Customer, *, idempotency_key: str, kind: str = MessageKind.MARKETING,
            template_key: str = "", subject: str = "", body: str = "", channel: str = "",
            due_at: datetime | None = None, context: dict[str, Any] | None = None, source: str = "",
            address: str = "") -> Message:
    """Queue a message once per ``idempotency_key``; a repeated key returns the first row untouched."""
    at = now()
    due = due_at or at
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            message = Message.objects.create(
                customer=customer, kind=kind, template_key=template_key, subject=subject, body=body,
                channel=channel, address=address, due_at=due, next_attempt_at=due, context=context or {},
                idempotency_key=idempotency_key, source=source, created_at=at)
    except IntegrityError:
        return Message.objects.get(idempotency_key=idempotency_key)
    _log(message, "queued", f"queued for {due:%Y-%m-%d %H:%M} UTC" + (f" by {source}" if source else ""))
    return message


def _log(message: Message, action: str, reason: str) -> None:
    MessageDecision.objects.create(message=message, at=now(), action=action, reason=reason[:400])


def _claimable(at: datetime, lease: timedelta) -> Q:
    return (Q(status__in=OPEN_STATUSES, next_attempt_at__lte=at)
            | Q(status=MessageStatus.SENDING, claimed_at__lt=at - lease))


def claim(worker: str, *, limit: int = 50, at: datetime | None = None) -> list[Message]:
    """Claim up to ``limit`` due rows; each claim is one conditional UPDATE that only one worker wins."""
    at = at or now()
    lease = timedelta(seconds=ContactSettings.current().lease_seconds)
    ids = list(Message.objects.filter(_claimable(at, lease)).order_by("next_attempt_at", "pk")
               .values_list("pk", flat=True)[:limit])
    won: list[int] = []
    for pk in ids:
        try:
            if Message.objects.filter(_claimable(at, lease), pk=pk).update(
                    status=MessageStatus.SENDING, claimed_by=worker, claimed_at=at) == 1:
                won.append(pk)
        except DatabaseError:
            if not won:
                raise
            # Keep what is already ours: raising now would strand those rows until their lease ends.
            log.warning("worker %s: claim interrupted after %d rows", worker, len(won), exc_info=True)
            break
    return list(Message.objects.filter(pk__in=won).select_related("customer").order_by("next_attempt_at", "pk"))


def _settle(message: Message, worker: str, action: str, reason: str, **fields: Any) -> bool:
    """Write the outcome only if this worker still holds the claim (the fence)."""
    updated = Message.objects.filter(pk=message.pk, claimed_by=worker, status=MessageStatus.SENDING).update(
        **fields)
    if updated:
        _log(message, action, reason)
    else:
        log.warning("worker %s lost the lease on message %s; outcome %s not recorded", worker, message.pk, action)
    return bool(updated)


def _release(message: Message, worker: str, action: str, reason: str, *, status: str,
             next_attempt_at: datetime | None = None, **fields: Any) -> bool:
    extra: dict[str, Any] = {"claimed_by": "", "claimed_at": None, "status": status, **fields}
    if next_attempt_at is not None:
        extra["next_attempt_at"] = next_attempt_at
    return _settle(message, worker, action, reason, **extra)


@dataclass
class Choice:
    channel: str
    plugin: ChannelPlugin
    config: dict[str, Any]
    address: str
    rendered: Rendered


def choose_channel(message: Message, rules_row: ContactSettings,
                   configs: dict[str, ChannelConfig] | None = None) -> tuple[Choice | None, list[str]]:
    """The first candidate channel that is on, has an address, consent and a template; else reasons."""
    customer = message.customer
    if configs is None:
        configs = {c.kind: c for c in ChannelConfig.objects.all()}
    if message.kind == MessageKind.ALERT:
        return _alert_choice(message, configs)
    reasons: list[str] = []
    for channel in contact.candidates(customer, message.channel):
        plugin, config = plugin_for(channel), configs.get(channel)
        if plugin is None or (config is not None and not config.enabled):
            reasons.append(f"{channel}: channel not available")
            continue
        if refusal := contact.consent_refusal(customer.pk, channel, message.kind,
                                              require_opt_in=rules_row.require_opt_in):
            reasons.append(refusal)
            continue
        address = plugin.address(customer)
        if not address:
            reasons.append(f"{channel}: no address")
            continue
        try:
            rendered = render_for(message, channel)
        except DomainValidationError as exc:
            reasons.append(f"{channel}: template refused ({exc})")
            continue
        if rendered is None:
            reasons.append(f"{channel}: no template {message.template_key!r}")
            continue
        return Choice(channel, plugin, config.config if config else {}, address, rendered), reasons
    return None, reasons


def _alert_choice(message: Message, configs: dict[str, ChannelConfig]) -> tuple[Choice | None, list[str]]:
    """A staff alert goes to its own address on its fixed channel: no consent, window or cap applies."""
    plugin, config = plugin_for(message.channel), configs.get(message.channel)
    if plugin is None or not message.address or (config is not None and not config.enabled):
        return None, [f"{message.channel or '?'}: alert channel or address not available"]
    rendered = Rendered(subject=message.subject, body=message.body)
    return Choice(message.channel, plugin, config.config if config else {}, message.address, rendered), []


def process(message: Message, worker: str, rules_row: ContactSettings,
            configs: dict[str, ChannelConfig] | None = None) -> str:
    """Decide and, if allowed, send one claimed message; returns the status it ended in."""
    at = now()
    choice, reasons = choose_channel(message, rules_row, configs)
    if choice is None:
        _release(message, worker, "refused", "refused: " + "; ".join(reasons or ["no channel"]),
                 status=MessageStatus.REFUSED)
        return MessageStatus.REFUSED
    if message.kind == MessageKind.MARKETING:
        window = contact.window_of(message.customer)
        opens = rules.next_opening(window, at)
        if opens is not None:
            _release(message, worker, "held", rules.held_reason(window, at, opens), status=MessageStatus.HELD,
                     next_attempt_at=opens)
            return MessageStatus.HELD
        caps = rules.Caps(rules_row.cap_per_channel_day, rules_row.cap_per_channel_week,
                          rules_row.cap_all_channels_week)
        if over := rules.cap_reached(caps, contact.recent_sends(message.customer_id, choice.channel, at,
                                                                exclude_id=message.pk)):
            _release(message, worker, "skipped", over, status=MessageStatus.SKIPPED, channel=choice.channel)
            return MessageStatus.SKIPPED
    return _send(message, worker, rules_row, choice)


def _send(message: Message, worker: str, rules_row: ContactSettings, choice: Choice) -> str:
    fields = {"channel": choice.channel, "address": choice.address, "subject": choice.rendered.subject,
              "body": choice.rendered.body}
    # Last fenced write before the provider: we still hold the lease, and the attempt is counted.
    if not Message.objects.filter(pk=message.pk, claimed_by=worker, status=MessageStatus.SENDING).update(
            attempts=F("attempts") + 1, **fields):
        return MessageStatus.SENDING
    message.attempts += 1
    outgoing = Outgoing(address=choice.address, subject=choice.rendered.subject, body=choice.rendered.body,
                        idempotency_key=message.idempotency_key, unsubscribe_url=choice.rendered.unsubscribe_url,
                        html=choice.rendered.html)
    try:
        # "dry_run" (the demo's setting) runs every rule and records the send without a provider.
        provider_id = (f"dry-run:{message.idempotency_key}" if choice.config.get("dry_run")
                       else choice.plugin.send(outgoing, choice.config))
    except PermanentFailure as exc:
        _release(message, worker, "failed", f"failed: {exc}", status=MessageStatus.FAILED, last_error=str(exc))
        return MessageStatus.FAILED
    except TemporaryFailure as exc:
        if message.attempts >= rules_row.max_attempts:
            _release(message, worker, "failed", f"failed after {message.attempts} attempts: {exc}",
                     status=MessageStatus.FAILED, last_error=str(exc))
            return MessageStatus.FAILED
        retry_at = now() + rules.retry_delay(message.attempts, rules_row.retry_base_seconds)
        _release(message, worker, "retry", f"retry at {retry_at:%Y-%m-%d %H:%M:%S} UTC: {exc}",
                 status=MessageStatus.QUEUED, next_attempt_at=retry_at, last_error=str(exc))
        return MessageStatus.QUEUED
    _settle(message, worker, "sent", f"sent via {choice.channel} to {choice.address}",
            status=MessageStatus.SENT, sent_at=now(), provider_message_id=provider_id[:200])
    return MessageStatus.SENT


def run_once(worker: str, *, limit: int = 50) -> dict[str, int]:
    """Claim one batch and process it; returns counts per final status."""
    rules_row = ContactSettings.current()
    configs = {c.kind: c for c in ChannelConfig.objects.all()}  # read once per batch
    counts: dict[str, int] = {}
    for message in claim(worker, limit=limit):
        try:
            status = process(message, worker, rules_row, configs)
        except Exception as exc:  # one bad row must not stop the queue; it is retried after the lease
            log.exception("message %s: unexpected error", message.pk)
            _log(message, "error", f"error: {exc!r}"[:400])
            status = "error"
        key = str(status)  # the plain value, "sent", not the enum member
        counts[key] = counts.get(key, 0) + 1
    return counts
