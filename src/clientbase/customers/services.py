"""Write path for customer profiles. The caller owns the transaction; every function here is atomic."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from clientbase.access.actor import Actor
from clientbase.access.models import Team
from clientbase.core.errors import DomainValidationError, FieldError, PermissionDenied
from clientbase.core.text import search_key
from clientbase.customers import rules
from clientbase.customers.history import change_row
from clientbase.customers.models import (
    ContactPerson,
    Customer,
    CustomFieldDefinition,
    ImportantDate,
    ProfileChange,
    Tag,
)
from clientbase.identity.locks import hold_customer, lock_identity

# Keys of the input that are not plain profile fields.
COMPOUND_KEYS = {"custom", "tags", "identifiers", "important_dates", "team_id", "owner_id"}


def custom_field_specs() -> dict[str, rules.CustomField]:
    return {
        d.key: rules.CustomField(d.key, d.type, d.required, tuple(d.choices), d.applies_to)
        for d in CustomFieldDefinition.objects.all()
    }


def _parse_builtin(data: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for key, raw in data.items():
        if key in COMPOUND_KEYS:
            continue
        parser = rules.BUILTIN_FIELDS.get(key)
        if parser is None:
            errors.append(FieldError(key, "Unknown field."))
            continue
        try:
            cleaned[key] = parser(key, raw)
        except DomainValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise DomainValidationError(errors)
    return cleaned


def _refresh_search_key(customer: Customer) -> None:
    customer.search_key = search_key(customer.last_name, customer.first_name, customer.middle_name,
                                     customer.legal_name)


def _resolve_team(actor: Actor, team_id: int | None) -> int | None:
    """Managers always create in their own team; others may choose one."""
    if not actor.sees_all:
        if team_id is not None and team_id != actor.team_id:
            raise PermissionDenied(_("A manager can only create customers in their own team."))
        return actor.team_id
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        raise DomainValidationError.single("team_id", f"No team #{team_id}.")
    return team_id


def _set_tags(customer: Customer, names: Any, *, actor: Actor, source: str) -> ProfileChange | None:
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise DomainValidationError.single("tags", "Must be a list of non-empty texts.")
    wanted = sorted({n.strip().lower()[:60] for n in names})
    current = sorted(customer.tags.values_list("name", flat=True)) if customer.pk else []
    if wanted == current:
        return None
    tags = [Tag.objects.get_or_create(name=n)[0] for n in wanted]
    customer.tags.set(tags)
    return change_row(customer, "tags", current, wanted, actor=actor, source=source)


@transaction.atomic
def create_customer(data: dict[str, Any], *, actor: Actor, source: str = "") -> Customer:
    """Create a profile from whatever is known; one phone number is enough (R1.7).

    ``data`` holds profile fields plus ``custom``, ``tags``, ``identifiers``
    (``[{"kind": "phone", "value": "8 916 …", "verified": false}]``) and ``important_dates``.
    """
    from clientbase.identity.services import add_identifier

    fields = _parse_builtin(data)
    kind = fields.get("kind", "person")
    custom = rules.validate_custom(data.get("custom") or {}, custom_field_specs(), customer_kind=kind,
                                   current={}, check_required=True)
    rules.check_contact_window(fields.get("contact_from"), fields.get("contact_to"))
    identifiers = data.get("identifiers") or []
    if not isinstance(identifiers, list):
        raise DomainValidationError.single("identifiers", "Must be a list.")
    team_id = _resolve_team(actor, data.get("team_id"))
    customer = Customer(**fields, custom=custom, team_id=team_id, owner_id=data.get("owner_id") or actor.user_id)
    _refresh_search_key(customer)
    customer.save()
    rows = [change_row(customer, key, None, value, actor=actor, source=source)
            for key, value in fields.items() if value not in ("", None, [], {})]
    rows += [change_row(customer, f"custom.{k}", None, v, actor=actor, source=source) for k, v in custom.items()]
    if "tags" in data and (tag_row := _set_tags(customer, data["tags"], actor=actor, source=source)):
        rows.append(tag_row)
    ProfileChange.objects.bulk_create(rows)
    errors: list[FieldError] = []
    for i, item in enumerate(identifiers):
        if not isinstance(item, dict) or "kind" not in item or "value" not in item:
            errors.append(FieldError(f"identifiers.{i}", "Must be an object with kind and value."))
            continue
        try:
            add_identifier(customer, item["kind"], str(item["value"]), actor=actor,
                           verified=bool(item.get("verified")), label=str(item.get("label", "")),
                           source=source, field=f"identifiers.{i}.value")
        except DomainValidationError as exc:
            errors.extend(exc.errors)
    for i, item in enumerate(data.get("important_dates") or []):
        try:
            add_important_date(customer, item, actor=actor, source=source, path=f"important_dates.{i}")
        except DomainValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        # Raising inside the atomic block rolls back the customer too: nothing half-written.
        raise DomainValidationError(errors)
    return customer


@transaction.atomic
def update_customer(customer: Customer, data: dict[str, Any], *, actor: Actor,
                    source: str = "") -> list[ProfileChange]:
    """Apply a partial update; record one history row per field whose value really changed.

    The customer is held (``identity.locks.hold_customer``) and read again first: the row is saved whole,
    and a copy read before a merge committed would write back what the merge changed (a tombstone's
    pointer, a survivor's filled fields)."""
    hold_customer(customer.pk)
    customer.refresh_from_db()
    fields = _parse_builtin(data)
    kind = fields.get("kind", customer.kind)
    custom = customer.custom
    if "custom" in data:
        if not isinstance(data["custom"], dict):
            raise DomainValidationError.single("custom", "Must be an object of field key to value.")
        custom = rules.validate_custom(data["custom"], custom_field_specs(), customer_kind=kind,
                                       current=customer.custom, check_required=True)
    rules.check_contact_window(fields.get("contact_from", customer.contact_from),
                               fields.get("contact_to", customer.contact_to))
    rows = []
    for key, value in fields.items():
        old = getattr(customer, key)
        if old != value:
            rows.append(change_row(customer, key, old, value, actor=actor, source=source))
            setattr(customer, key, value)
    for key in sorted(set(custom) | set(customer.custom)):
        old, new = customer.custom.get(key), custom.get(key)
        if old != new:
            rows.append(change_row(customer, f"custom.{key}", old, new, actor=actor, source=source))
    customer.custom = custom
    if "team_id" in data and data["team_id"] != customer.team_id:
        if not actor.sees_all:
            raise PermissionDenied(_("A manager cannot move a customer to another team."))
        new_team = _resolve_team(actor, data["team_id"])
        rows.append(change_row(customer, "team", customer.team_id, new_team, actor=actor, source=source))
        customer.team_id = new_team
    if "tags" in data and (tag_row := _set_tags(customer, data["tags"], actor=actor, source=source)):
        rows.append(tag_row)
    if rows:
        _refresh_search_key(customer)
        customer.save()
        ProfileChange.objects.bulk_create(rows)
    return rows


def add_important_date(customer: Customer, item: Any, *, actor: Actor, source: str = "",
                       path: str = "important_date") -> ImportantDate:
    if not isinstance(item, dict):
        raise DomainValidationError.single(path, "Must be an object with kind, who and date.")
    kind = rules.choice(("birthday", "anniversary", "name_day", "other"))(f"{path}.kind", item.get("kind"))
    day = rules.parse_date(f"{path}.date", item.get("date"))
    if day is None:
        raise DomainValidationError.single(f"{path}.date", "This field is required.")
    who = rules.text(100)(f"{path}.who", item.get("who") or "self")
    note = rules.text(200)(f"{path}.note", item.get("note"))
    with transaction.atomic():
        hold_customer(customer.pk)
        important = ImportantDate.objects.create(customer=customer, kind=kind, who=who, date=day, note=note)
        change_row(customer, f"important_dates.{kind}", None, f"{who}: {day.isoformat()}", actor=actor,
                   source=source).save()
    return important


@transaction.atomic
def add_contact_person(company: Customer, person: Customer, *, role: str, title: str = "",
                       actor: Actor, source: str = "") -> ContactPerson:
    if company.kind != "company":
        raise DomainValidationError.single("company_id", "Contact persons belong to a company profile.")
    if person.kind != "person":
        raise DomainValidationError.single("person_id", "A contact person must be a person profile.")
    role = rules.choice(("director", "deputy", "head_of_sales", "chief_accountant", "purchaser", "other"))(
        "role", role)
    # Two customers: under the exclusive identity lock first, so no ingest batch, which updates customers in
    # its own order, holds one of them meanwhile (identity.locks: identity lock, then customer rows).
    lock_identity()
    for pk in sorted({company.pk, person.pk}):
        hold_customer(pk)
    link, created = ContactPerson.objects.get_or_create(company=company, person=person, role=role,
                                                        defaults={"title": title})
    if created:
        change_row(company, f"contact_people.{role}", None, person.display_name, actor=actor,
                   source=source).save()
    return link


@transaction.atomic
def define_custom_field(data: dict[str, Any]) -> CustomFieldDefinition:
    errors: list[FieldError] = []
    key = str(data.get("key", "")).strip()
    if not key or not key.replace("_", "").isalnum() or not key.isascii():
        errors.append(FieldError("key", "Use latin letters, digits and underscores."))
    elif CustomFieldDefinition.objects.filter(key=key).exists():
        errors.append(FieldError("key", f"A custom field {key!r} already exists."))
    ftype = str(data.get("type") or "")
    if ftype not in {"text", "number", "date", "bool", "choice", "multi_choice"}:
        errors.append(FieldError("type", f"{ftype!r} is not a field type."))
    choices = data.get("choices") or []
    if ftype in {"choice", "multi_choice"} and (
            not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices)):
        errors.append(FieldError("choices", "A choice field needs a list of texts to choose from."))
    if data.get("applies_to", "") not in ("", "person", "company"):
        errors.append(FieldError("applies_to", "Must be 'person', 'company' or empty."))
    if errors:
        raise DomainValidationError(errors)
    return CustomFieldDefinition.objects.create(
        key=key, label=str(data.get("label") or key)[:100], type=ftype, required=bool(data.get("required")),
        choices=choices if ftype in {"choice", "multi_choice"} else [],
        applies_to=data.get("applies_to", ""), position=int(data.get("position") or 0),
    )
