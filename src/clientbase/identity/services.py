"""Write path for identifiers: normalise, check ownership, record in history."""

import re
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from clientbase.access.actor import Actor
from clientbase.core import fastsql
from clientbase.core.errors import DomainValidationError
from clientbase.customers.history import record_change
from clientbase.customers.models import Customer
from clientbase.identity import rules
from clientbase.identity.locks import hold_customer, hold_owner
from clientbase.identity.models import Identifier, IdentifierKind

if TYPE_CHECKING:
    from clientbase.identity.guards import Guards


def normalize(kind: str, raw: str, *, field: str | None = None) -> str:
    if kind not in IdentifierKind.values:
        raise DomainValidationError.single(field or "kind", f"Unknown identifier kind {kind!r}.")
    return rules.normalize(kind, raw, region=settings.CLIENTBASE_DEFAULT_REGION, field=field)


@transaction.atomic
def add_identifier(customer: Customer, kind: str, raw: str, *, actor: Actor, verified: bool = False,
                   label: str = "", source: str = "", field: str | None = None) -> Identifier:
    """Attach an identifier to ``customer``.

    Adding one the customer already holds is a no-op that returns it (and may mark it verified);
    one held by another customer is refused, naming that customer, because a silent steal would
    merge two people by accident (identity resolution decides merges, not profile editing).
    """
    field = field or kind
    value = normalize(kind, raw, field=field)
    hold_customer(customer.pk)  # not on a tombstone: later events would follow it there
    existing = Identifier.objects.filter(kind=kind, value=value).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            # Name the holder only to someone who may see it: a manager must not learn that a
            # customer of another team exists (R9.1).
            holder_team = Customer.objects.filter(pk=existing.customer_id).values_list("team_id", flat=True).first()
            if actor.sees_all or (actor.team_id is not None and holder_team == actor.team_id):
                raise DomainValidationError.single(
                    field, f"{value} already belongs to customer #{existing.customer_id}.")
            raise DomainValidationError.single(field, f"{value} already belongs to another customer.")
        if verified and not existing.verified:
            existing.verified = True
            existing.save(update_fields=["verified"])
        return existing
    try:
        with transaction.atomic():
            identifier = Identifier.objects.create(customer=customer, kind=kind, value=value, raw=raw[:254],
                                                   verified=verified, label=label, source=source)
    except IntegrityError:
        # Lost a race with another writer for the same value: report it like the check above.
        raise DomainValidationError.single(field, f"{value} already belongs to another customer.") from None
    record_change(customer, f"identifiers.{kind}", None, value, actor=actor, source=source)
    return identifier


@transaction.atomic
def remove_identifier(identifier: Identifier, *, actor: Actor, source: str = "") -> None:
    hold_owner(Identifier, identifier.pk)  # identifiers move with merges
    identifier.refresh_from_db()
    customer = identifier.customer
    record_change(customer, f"identifiers.{identifier.kind}", identifier.value, None, actor=actor, source=source)
    identifier.delete()


# How long a process keeps the admin's junk patterns as read outside a transaction, in seconds.
PATTERNS_TTL = 2.0
_patterns_read: "tuple[float, tuple[tuple[str, re.Pattern[str]], ...]] | None" = None


def load_guards() -> "Guards":
    """The guard configuration: settings plus admin-added junk patterns.

    Every ingest request needs the patterns, and reading them was one of a single event's ten round
    trips to PostgreSQL. So a process keeps what it read outside a transaction for ``PATTERNS_TTL``
    seconds, and forgets it when it commits a change to the patterns (``forget_patterns``, from the
    admin): a pattern added in one server process applies in the others within that time. Inside a
    transaction they are read afresh (it may hold a change of its own). Plain SQL (``core.fastsql``)."""
    from clientbase.identity.guards import DEFAULT_SINGLE_VALUED, Guards

    return Guards(
        caps=dict(getattr(settings, "CLIENTBASE_IDENTIFIER_CAPS", {})),
        single_valued=frozenset(getattr(settings, "CLIENTBASE_SINGLE_VALUED_KINDS", DEFAULT_SINGLE_VALUED)),
        patterns=_junk_patterns(),
    )


def _junk_patterns() -> "tuple[tuple[str, re.Pattern[str]], ...]":
    global _patterns_read
    from clientbase.identity.guards import compile_patterns
    from clientbase.identity.models import JunkPattern

    shared = not connection.in_atomic_block
    read, at = _patterns_read, time.monotonic()
    if shared and read is not None and at - read[0] < PATTERNS_TTL:
        return read[1]
    table = connection.ops.quote_name(JunkPattern._meta.db_table)
    patterns = compile_patterns(fastsql.rows(f"SELECT kind, pattern FROM {table} ORDER BY id", []))
    if shared:
        _patterns_read = (at, patterns)
    return patterns


def forget_patterns() -> None:
    """Read the junk patterns afresh next time (this process changed them; see ``load_guards``)."""
    global _patterns_read
    _patterns_read = None
