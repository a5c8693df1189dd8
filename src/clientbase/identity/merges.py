"""Merge and unmerge (R2.3, R2.4). The caller owns the transaction; both functions are atomic.

Rules (docs/identity.md):
- everything of the absorbed customer moves to the survivor: identifiers, events, consents and the
  rows of every registered Participant; the absorbed row stays as a tombstone (``merged_into``);
- fields: the survivor keeps its non-empty values; its empty fields take the absorbed value; every
  value that lost or was overwritten is written to history with source ``merge:<id>``;
- consent: per channel the stricter current choice wins (a row is added to make it current);
- unmerge sends recorded rows back and lets rows created after the merge follow what they came with.
"""

from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Max

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.core.text import search_key
from clientbase.customers.history import change_row
from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.rules import BUILTIN_FIELDS, to_json
from clientbase.identity.consents import current_consents, stricter
from clientbase.identity.models import Consent, Identifier, Merge
from clientbase.identity.participants import participants
from clientbase.identity.services import lock_identity

IDENTIFIER = "identity.Identifier"
EVENT = "interactions.Event"
CONSENT = "identity.Consent"
# Fields a merge never copies: they describe the profile row, not the person.
_NOT_MERGED = {"kind"}


def _empty(value: Any) -> bool:
    return value in ("", None, [], {})


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _move(label: str, source: Customer, target: Customer) -> list[int]:
    queryset = _model(label)._default_manager.filter(customer=source)
    ids = sorted(queryset.values_list("pk", flat=True))
    if ids:
        queryset.update(customer=target)
    return ids


def _merge_fields(survivor: Customer, absorbed: Customer, merge: Merge, actor: Actor) -> list[ProfileChange]:
    source = f"merge:{merge.pk}"
    rows = []
    for key in BUILTIN_FIELDS:
        if key in _NOT_MERGED:
            continue
        mine, theirs = getattr(survivor, key), getattr(absorbed, key)
        if _empty(theirs) or mine == theirs:
            continue
        if _empty(mine):
            merge.overwritten[key] = {"survivor": to_json(mine), "absorbed": to_json(theirs)}
            setattr(survivor, key, theirs)
            rows.append(change_row(survivor, key, mine, theirs, actor=actor, source=source))
        else:
            # The survivor's value wins; the losing one is kept as the "old" side of a history row.
            rows.append(change_row(survivor, key, theirs, mine, actor=actor, source=source))
    custom = dict(survivor.custom)
    for key, theirs in absorbed.custom.items():
        mine = custom.get(key)
        if _empty(theirs) or mine == theirs:
            continue
        if _empty(mine):
            merge.overwritten[f"custom.{key}"] = {"survivor": mine, "absorbed": theirs}
            custom[key] = theirs
            rows.append(change_row(survivor, f"custom.{key}", mine, theirs, actor=actor, source=source))
        else:
            rows.append(change_row(survivor, f"custom.{key}", theirs, mine, actor=actor, source=source))
    survivor.custom = custom
    added_tags = sorted(set(absorbed.tags.values_list("name", flat=True))
                        - set(survivor.tags.values_list("name", flat=True)))
    if added_tags:
        merge.overwritten["tags"] = {"added": added_tags}
        survivor.tags.add(*absorbed.tags.filter(name__in=added_tags))
        rows.append(change_row(survivor, "tags", None, added_tags, actor=actor, source=source))
    return rows


def _merge_consents(survivor: Customer, absorbed: Customer, merge: Merge) -> None:
    mine, theirs = current_consents(survivor.pk), current_consents(absorbed.pk)
    merge.moved[CONSENT] = _move(CONSENT, absorbed, survivor)
    at = now()
    created = []
    for channel in sorted(set(mine) | set(theirs)):
        wanted = stricter(mine.get(channel), theirs.get(channel))
        after = current_consents(survivor.pk, channels=[channel]).get(channel)
        if wanted is not None and after != wanted:
            row = Consent.objects.create(customer=survivor, channel=channel, status=wanted, at=at,
                                         source=f"merge:{merge.pk}")
            created.append(row.pk)
    merge.created_consents = created


def notify_participants(customer_ids: list[int]) -> None:
    """Each distinct ``after_change`` once (several participants of one domain often share one)."""
    called: list[object] = []
    for participant in participants():
        if participant.after_change is not None and participant.after_change not in called:
            called.append(participant.after_change)
            participant.after_change(customer_ids)


@transaction.atomic
def merge_customers(survivor: Customer, absorbed: Customer, *, actor: Actor, reason: str = "",
                    notify: bool = True) -> Merge:
    """Move everything of ``absorbed`` to ``survivor`` and leave ``absorbed`` as a tombstone.

    ``notify=False`` skips the participants' ``after_change``: a caller merging many pairs in one
    transaction (bulk ingest) calls ``notify_participants`` once with every customer id instead.
    """
    lock_identity()
    survivor.refresh_from_db()
    absorbed.refresh_from_db()
    if survivor.pk == absorbed.pk:
        raise DomainValidationError.single("customer_id", "A customer cannot be merged into itself.")
    for who, customer in (("survivor", survivor), ("absorbed", absorbed)):
        if customer.merged_into_id is not None:
            raise DomainValidationError.single(
                who, f"Customer #{customer.pk} was already merged into #{customer.merged_into_id}.")
    event_model = _model(EVENT)
    merge = Merge.objects.create(
        survivor=survivor, absorbed=absorbed, at=now(), actor_user_id=actor.user_id, reason=reason[:200],
        identifier_watermark=Identifier.objects.aggregate(m=Max("pk"))["m"] or 0,
        event_watermark=event_model._default_manager.aggregate(m=Max("pk"))["m"] or 0,
    )
    merge.moved = {IDENTIFIER: _move(IDENTIFIER, absorbed, survivor), EVENT: _move(EVENT, absorbed, survivor)}
    for participant in participants():
        merge.moved[participant.model] = _move(participant.model, absorbed, survivor)
    _merge_consents(survivor, absorbed, merge)
    rows = _merge_fields(survivor, absorbed, merge, actor)
    rows.append(change_row(absorbed, "merged_into", None, survivor.pk, actor=actor, source=f"merge:{merge.pk}"))
    absorbed.merged_into = survivor
    absorbed.save(update_fields=["merged_into", "updated_at"])
    survivor.search_key = search_key(survivor.last_name, survivor.first_name, survivor.middle_name,
                                     survivor.legal_name)
    survivor.save()
    ProfileChange.objects.bulk_create(rows)
    merge.save(update_fields=["moved", "overwritten", "created_consents"])
    if notify:
        notify_participants([survivor.pk, absorbed.pk])
    return merge
