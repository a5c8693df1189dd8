"""Consent per customer per channel (R2.4): append-only rows, the latest one is current.

Merge keeps the stricter current choice per channel (unsubscribed > denied > granted), so a person
who unsubscribed under one profile is never mailed after a merge; unmerge gives each side its own back.
"""

from collections.abc import Iterable

from django.db import transaction

from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.identity.locks import hold_customer
from clientbase.identity.models import CONSENT_STRICTNESS, Consent, ConsentStatus


def stricter(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if CONSENT_STRICTNESS[ConsentStatus(a)] >= CONSENT_STRICTNESS[ConsentStatus(b)] else b


def current_rows(customer_id: int, *, channels: Iterable[str] | None = None) -> dict[str, Consent]:
    """{channel: the latest row} (latest by time, then by id), in channel order."""
    queryset = Consent.objects.filter(customer_id=customer_id)
    if channels is not None:
        queryset = queryset.filter(channel__in=list(channels))
    latest: dict[str, Consent] = {}
    for row in queryset.order_by("at", "pk"):
        latest[row.channel] = row
    return dict(sorted(latest.items()))


def current_consents(customer_id: int, *, channels: Iterable[str] | None = None) -> dict[str, str]:
    """{channel: status} from the latest row per channel."""
    return {channel: row.status for channel, row in current_rows(customer_id, channels=channels).items()}


def set_consent(customer: Customer, channel: str, status: str, *, source: str = "",
                path: str = "consent") -> Consent:
    if status not in ConsentStatus.values:
        raise DomainValidationError.single(path, f"Must be one of {', '.join(ConsentStatus.values)}.")
    with transaction.atomic():
        hold_customer(customer.pk)  # a merge running now waits, then carries this choice (stricter wins)
        return Consent.objects.create(customer=customer, channel=channel, status=status, at=now(), source=source)
