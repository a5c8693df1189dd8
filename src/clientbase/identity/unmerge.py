"""Unmerge (R2.4): both customers as they would be had the merge never happened.

Rows the merge moved go back. Rows created after the merge are decided so (docs/identity.md):
- an event goes back to the absorbed customer when the identifiers it carried include one of the
  absorbed side and none of the survivor side; identifiers first seen on such an event go with it;
- a participant row with ``follows`` goes wherever its followed row now belongs; without, it stays;
- consent rows the merge added are removed; later consent rows stay with the survivor;
- fields the merge filled are emptied again unless someone changed them since.
"""

from django.db import transaction

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.core.text import search_key
from clientbase.customers.history import change_row
from clientbase.customers.models import Customer, ProfileChange, Tag
from clientbase.customers.rules import BUILTIN_FIELDS, to_json
from clientbase.identity.locks import lock_identity
from clientbase.identity.merges import CONSENT, EVENT, IDENTIFIER, _model, notify_participants
from clientbase.identity.models import Consent, Identifier, Merge, ReviewCase, ReviewStatus
from clientbase.identity.participants import participants


def _later_moved(merge: Merge, label: str) -> set[int]:
    """Rows later merges moved into the survivor: they belong to those merges, not to this one."""
    ids: set[int] = set()
    for later in Merge.objects.filter(survivor_id=merge.survivor_id, pk__gt=merge.pk, unmerged_at__isnull=True):
        ids.update(later.moved.get(label, []))
    return ids


def _split_after_merge(merge: Merge) -> tuple[list[int], list[int]]:
    """(event ids, identifier ids) created after the merge that go back to the absorbed customer."""
    identifiers = Identifier.objects.filter(customer_id=merge.survivor_id)
    absorbed_keys = {f"{k}:{v}" for k, v in Identifier.objects.filter(pk__in=merge.moved.get(IDENTIFIER, []))
                     .values_list("kind", "value")}
    later_ids = _later_moved(merge, IDENTIFIER)
    post = {f"{k}:{v}": pk for pk, k, v in identifiers.filter(pk__gt=merge.identifier_watermark)
            .values_list("pk", "kind", "value") if pk not in later_ids}
    survivor_keys = {f"{k}:{v}" for k, v in identifiers.values_list("kind", "value")} - set(post) - absorbed_keys
    skip_events = _later_moved(merge, EVENT)
    events = (_model(EVENT)._default_manager.filter(customer_id=merge.survivor_id, pk__gt=merge.event_watermark)
              .order_by("pk").values_list("pk", "identifiers"))
    back_events: list[int] = []
    back_identifiers: list[int] = []
    for pk, carried in events:
        if pk in skip_events:
            continue
        keys = set(carried)
        goes_back = bool(keys & absorbed_keys) and not keys & survivor_keys
        if goes_back:
            back_events.append(pk)
        for key in sorted(keys & set(post)):
            (absorbed_keys if goes_back else survivor_keys).add(key)
            if goes_back:
                back_identifiers.append(post[key])
            del post[key]
    return back_events, back_identifiers


def _restore_fields(survivor: Customer, merge: Merge, actor: Actor) -> list[ProfileChange]:
    source = f"unmerge:{merge.pk}"
    rows = []
    for key, values in merge.overwritten.items():
        if key == "tags":
            names = values["added"]
            survivor.tags.remove(*Tag.objects.filter(name__in=names))
            rows.append(change_row(survivor, "tags", names, None, actor=actor, source=source))
        elif key.startswith("custom."):
            name = key.removeprefix("custom.")
            if survivor.custom.get(name) == values["absorbed"]:
                rows.append(change_row(survivor, key, values["absorbed"], values["survivor"], actor=actor,
                                       source=source))
                survivor.custom = {k: v for k, v in survivor.custom.items() if k != name}
                if values["survivor"] is not None:
                    survivor.custom[name] = values["survivor"]
        elif key in BUILTIN_FIELDS and to_json(getattr(survivor, key)) == values["absorbed"]:
            old = BUILTIN_FIELDS[key](key, values["survivor"])
            rows.append(change_row(survivor, key, getattr(survivor, key), old, actor=actor, source=source))
            setattr(survivor, key, old)
    survivor.search_key = search_key(survivor.last_name, survivor.first_name, survivor.middle_name,
                                     survivor.legal_name)
    return rows


def _send_back(label: str, ids: list[int], merge: Merge) -> None:
    if ids:
        (_model(label)._default_manager.filter(pk__in=ids, customer_id=merge.survivor_id)
         .update(customer_id=merge.absorbed_id))


@transaction.atomic
def unmerge(merge: Merge, *, actor: Actor) -> Merge:
    """Undo ``merge``; refuses when it is already undone or its survivor was merged on since.

    The pair is then kept apart (a decided review case): undoing a merge says they are two people, so no
    later event merges them again, whatever it carries. A person can still merge them by hand."""
    lock_identity()
    # Both rows locked first, as a merge locks them (identity.locks, rule 4): a writer holding either finishes first.
    list(Customer.objects.filter(pk__in=[merge.survivor_id, merge.absorbed_id]).order_by("pk")
         .select_for_update(no_key=True))
    merge.refresh_from_db()
    survivor = Customer.objects.get(pk=merge.survivor_id)
    absorbed = Customer.objects.get(pk=merge.absorbed_id)
    if merge.unmerged_at is not None:
        raise DomainValidationError.single("merge", f"Merge #{merge.pk} was already undone.")
    if survivor.merged_into_id is not None:
        raise DomainValidationError.single(
            "merge", f"Customer #{survivor.pk} was merged into #{survivor.merged_into_id} since; undo that first.")
    back_events, back_identifiers = _split_after_merge(merge)
    _send_back(IDENTIFIER, merge.moved.get(IDENTIFIER, []) + back_identifiers, merge)
    _send_back(EVENT, merge.moved.get(EVENT, []) + back_events, merge)
    _send_back(CONSENT, merge.moved.get(CONSENT, []), merge)
    Consent.objects.filter(pk__in=merge.created_consents).delete()
    for participant in participants():
        _send_back(participant.model, merge.moved.get(participant.model, []), merge)
        if participant.follows:
            (_model(participant.model)._default_manager
             .filter(customer_id=survivor.pk, **{f"{participant.follows}__customer_id": absorbed.pk})
             .update(customer_id=absorbed.pk))
    rows = _restore_fields(survivor, merge, actor)
    rows.append(change_row(absorbed, "merged_into", survivor.pk, None, actor=actor, source=f"unmerge:{merge.pk}"))
    absorbed.merged_into = None
    absorbed.save(update_fields=["merged_into", "updated_at"])
    survivor.save()
    ProfileChange.objects.bulk_create(rows)
    merge.unmerged_at = now()
    merge.unmerged_by_id = actor.user_id
    merge.save(update_fields=["unmerged_at", "unmerged_by"])
    first, second = sorted((survivor.pk, absorbed.pk))
    ReviewCase.objects.create(customer_a_id=first, customer_b_id=second, status=ReviewStatus.KEPT_APART,
                              reason=f"Merge #{merge.pk} undone", evidence={"merge": merge.pk},
                              created_at=merge.unmerged_at, resolved_at=merge.unmerged_at,
                              resolved_by_id=actor.user_id)
    notify_participants([survivor.pk, absorbed.pk])
    return merge
