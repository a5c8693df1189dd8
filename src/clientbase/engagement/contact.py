"""Contact facts about one customer: consent per channel (identity's Consent rows), the window,
the recent sends that caps count, the personal fields templates see, and unsubscribe links."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from clientbase.customers.models import Customer
from clientbase.engagement import rules, templating
from clientbase.engagement.models import Message, MessageKind, MessageStatus
from clientbase.identity.consents import current_consents, set_consent
from clientbase.identity.locks import on_survivor
from clientbase.identity.models import ConsentStatus

UNSUBSCRIBE_SALT = "clientbase.engagement.unsubscribe"
# Channels tried when the customer stated no preference and no fallback order.
DEFAULT_ORDER = ("email", "telegram", "sms")


def consent_refusal(customer_id: int, channel: str, kind: str, *, require_opt_in: bool) -> str | None:
    """Why consent forbids this message on this channel, or None.

    An unsubscribe stops marketing only (a receipt still goes out); an explicit denial stops both.
    """
    status = current_consents(customer_id, channels=[channel]).get(channel)
    if status == ConsentStatus.DENIED:
        return f"{channel}: consent denied"
    if kind == MessageKind.MARKETING:
        if status == ConsentStatus.UNSUBSCRIBED:
            return f"{channel}: unsubscribed"
        if status is None and require_opt_in:
            return f"{channel}: no consent given"
    return None


def window_of(customer: Customer) -> rules.ContactWindow:
    days = frozenset(int(d) for d in (customer.contact_days or []) if str(d).isdigit() and 1 <= int(d) <= 7)
    return rules.ContactWindow(zone=customer.time_zone or rules.DEFAULT_ZONE, days=days,
                               start=customer.contact_from, end=customer.contact_to)


def candidates(customer: Customer, fixed: str = "") -> list[str]:
    order = [str(c) for c in (customer.channel_order or [])]
    if not customer.preferred_channel and not order:
        order = list(DEFAULT_ORDER)
    return rules.channel_candidates(customer.preferred_channel, order, fixed)


def recent_sends(customer_id: int, channel: str, at: datetime, *, exclude_id: int | None = None
                 ) -> rules.RecentSends:
    """Marketing messages sent (or being sent) in the last 24 hours / 7 days; rolling windows."""
    day, week = at - timedelta(days=1), at - timedelta(days=7)
    counted = Message.objects.filter(customer_id=customer_id, kind=MessageKind.MARKETING).exclude(
        pk=exclude_id or 0).filter(
        Q(status=MessageStatus.SENT, sent_at__gte=week) | Q(status=MessageStatus.SENDING, attempts__gt=0))
    figures = counted.aggregate(
        channel_day=Count("pk", filter=Q(channel=channel, sent_at__gte=day) | Q(channel=channel, sent_at=None)),
        channel_week=Count("pk", filter=Q(channel=channel)),
        all_week=Count("pk"))
    return rules.RecentSends(**{k: int(v or 0) for k, v in figures.items()})


def _signature(value: str) -> str:
    # A shortened Signer signature (22 base64 chars, 132 bits): the whole link must fit one header line
    # (List-Unsubscribe, 78 characters) or mail libraries turn it into an encoded word clients misread.
    return signing.Signer(salt=UNSUBSCRIBE_SALT).signature(value)[:22]


def unsubscribe_token(customer_id: int, channel: str) -> str:
    value = f"{customer_id}.{channel}"
    return f"{value}.{_signature(value)}"


def check_token(token: str) -> tuple[int, str]:
    """(customer id, channel) from a link; BadSignature for a forged or altered one."""
    customer_id, _, rest = token.partition(".")
    channel, _, signature = rest.partition(".")
    if not customer_id.isdigit() or not constant_time_compare(signature, _signature(f"{customer_id}.{channel}")):
        raise signing.BadSignature("unsubscribe link")
    return int(customer_id), channel


def unsubscribe_url(customer_id: int, channel: str) -> str:
    path = reverse("engagement:unsubscribe", args=[unsubscribe_token(customer_id, channel)])
    return f"{settings.CLIENTBASE_PUBLIC_URL}{path}"


def unsubscribe(token: str) -> tuple[int, str]:
    """Record the unsubscribe a signed link asks for; BadSignature for a forged or altered link."""
    customer_id, channel = check_token(token)
    # On the profile the person lives on now (the survivor of any merges, even one finishing meanwhile).
    consent = on_survivor(customer_id, lambda customer: set_consent(customer, channel, ConsentStatus.UNSUBSCRIBED,
                                                                    source="unsubscribe link"))
    return consent.customer_id, channel


def favourite_product(customer_id: int) -> str:
    """The product this customer bought most units of, net of returns (sales' per-customer product
    counts, the same table its figures' favourites come from), else empty."""
    from clientbase.sales.models import CustomerProductCount

    name = (CustomerProductCount.objects.filter(customer_id=customer_id, quantity__gt=0)
            .order_by("-quantity", "product_id").values_list("product__name", flat=True).first())
    return str(name or "")


def loyalty_fields(customer_id: int) -> dict[str, Any]:
    """Points balance and tier from the loyalty program (the first active program's account)."""
    from clientbase.loyalty.models import Account

    account = (Account.objects.filter(customer_id=customer_id, program__active=True).select_related("tier")
               .order_by("program_id").first())
    if account is None:
        return {"balance": 0, "tier": ""}
    return {"balance": account.balance, "tier": account.tier.name if account.tier else ""}


def personal_fields(customer: Customer, channel: str, extra: dict[str, Any],
                    wanted: frozenset[str] | None = None) -> dict[str, Any]:
    """The template fields for this customer; with ``wanted``, only those (each costs a query or two)."""
    def want(*names: str) -> bool:
        return wanted is None or any(name in wanted for name in names)

    fields: dict[str, Any] = {
        "name": customer.display_name, "first_name": customer.first_name or customer.display_name,
        "middle_name": customer.middle_name, "birthday": templating.format_birthday(customer.birth_date),
        "city": customer.city,
    }
    if want("favourite_product"):
        fields["favourite_product"] = favourite_product(customer.pk)
    if want("balance", "tier"):
        fields.update(loyalty_fields(customer.pk))
    fields["unsubscribe_url"] = unsubscribe_url(customer.pk, channel)
    fields.update({k: v for k, v in extra.items() if k in templating.FIELDS and k not in fields})
    return fields
