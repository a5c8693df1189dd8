"""Customer endpoints: thin handlers that check access and call one service or selector."""

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Status

from clientbase.api import require
from clientbase.core.errors import DomainValidationError
from clientbase.core.pagination import paginate_by_id
from clientbase.customers import selectors, services
from clientbase.customers.models import Customer, CustomFieldDefinition, ProfileChange
from clientbase.customers.schemas import (
    ChangeOut,
    ContactPersonIn,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomFieldIn,
    CustomFieldOut,
    IdentifierIn,
    IdentifierOut,
)
from clientbase.identity.models import IdentifierKind

router = Router(tags=["customers"])


def customer_out(customer: Customer) -> dict[str, Any]:
    identifiers = list(customer.identifiers.all())
    return {
        **{f: getattr(customer, f) for f in CustomerOut.model_fields if hasattr(customer, f)},
        "display_name": customer.display_name,
        "contact_window": {
            "days": customer.contact_days,
            "from_time": customer.contact_from.isoformat("minutes") if customer.contact_from else None,
            "to_time": customer.contact_to.isoformat("minutes") if customer.contact_to else None,
            "time_zone": customer.time_zone,
        },
        "tags": [t.name for t in customer.tags.all()],
        "identifiers": identifiers,
        "important_dates": list(customer.important_dates.all()),
        "owner": customer.owner.get_username() if customer.owner else None,
        "merged_into": customer.merged_into_id,
    }


def change_out(change: ProfileChange) -> dict[str, Any]:
    return {
        "id": change.pk, "field": change.field, "old_value": change.old_value, "new_value": change.new_value,
        "user": change.actor_user.get_username() if change.actor_user else None,
        "token": change.actor_token.prefix if change.actor_token else None,
        "channel": change.channel, "source": change.source, "at": change.at,
    }


@router.get("/customers", response=CustomerPage, summary="List customers (cursor pagination)")
def list_customers(request: HttpRequest, cursor: str | None = None, limit: int = 50, tag: str | None = None,
                   city: str | None = None, custom_key: str | None = None,
                   custom_value: str | None = None) -> dict[str, Any]:
    actor = require(request, "customers:read")
    custom = None
    if custom_key:
        if not CustomFieldDefinition.objects.filter(key=custom_key).exists():
            raise DomainValidationError.single("custom_key", "No custom field with this key is defined.")
        custom = {custom_key: custom_value}
    queryset = selectors.filter_customers(selectors.visible_customers(actor), tag=tag, city=city, custom=custom)
    page = paginate_by_id(queryset.select_related("owner").prefetch_related("identifiers", "tags",
                                                                            "important_dates"), cursor, limit)
    return {"items": [customer_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/customers", response={201: CustomerOut}, summary="Create a customer (one phone is enough)")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    actor = require(request, "customers:write")
    customer = services.create_customer(payload.model_dump(exclude_unset=True), actor=actor, source="api")
    return Status(201, customer_out(selectors.card(customer)))


@router.get("/customers/lookup", response=CustomerOut, summary="Find a customer by any identifier in any format")
def lookup_customer(request: HttpRequest, phone: str | None = None, email: str | None = None,
                    card: str | None = None, telegram: str | None = None, whatsapp: str | None = None,
                    viber: str | None = None, vk: str | None = None, instagram: str | None = None,
                    facebook: str | None = None, external: str | None = None) -> dict[str, Any]:
    actor = require(request, "customers:read")
    given = {k: v for k, v in locals().items() if k in IdentifierKind.values and v}
    if len(given) != 1:
        raise DomainValidationError.single("query", "Give exactly one identifier, e.g. ?phone=8 916 123-45-67.")
    kind, raw = next(iter(given.items()))
    return customer_out(selectors.card(selectors.lookup(actor, kind, raw)))


@router.get("/customers/search", response=list[CustomerOut], summary="Search by phone, email, card, part of a number, or name")
def search_customers(request: HttpRequest, q: str, limit: int = Query(20, ge=1, le=100)) -> list[dict[str, Any]]:
    actor = require(request, "customers:read")
    return [customer_out(selectors.card(c)) for c in selectors.search(actor, q, limit=limit)]


@router.get("/customers/{customer_id}", response=CustomerOut, summary="Read a customer")
def get_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    actor = require(request, "customers:read")
    return customer_out(selectors.card(selectors.access_customer(actor, customer_id)))


@router.patch("/customers/{customer_id}", response=CustomerOut, summary="Change some fields of a customer")
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerIn) -> dict[str, Any]:
    actor = require(request, "customers:write")
    customer = selectors.access_customer(actor, customer_id, write=True)
    data = payload.model_dump(exclude_unset=True)
    if "identifiers" in data or "important_dates" in data:
        raise DomainValidationError.single(
            "identifiers", "Add identifiers and dates with their own endpoints on PATCH.")
    services.update_customer(customer, data, actor=actor, source="api")
    return customer_out(selectors.card(customer))


@router.get("/customers/{customer_id}/history", response=list[ChangeOut], summary="Every change to the profile")
def customer_history(request: HttpRequest, customer_id: int, limit: int = Query(200, ge=1, le=1000),
                     field: str | None = None) -> list[dict[str, Any]]:
    actor = require(request, "customers:read")
    changes = selectors.history(selectors.access_customer(actor, customer_id))
    if field:
        # A "created" row (one per customer an import or an event created) holds every first value it set.
        changes = changes.filter(Q(field=field) | Q(field="created", new_value__has_key=field))
    return [change_out(c) for c in changes[:limit]]


@router.post("/customers/{customer_id}/identifiers", response={201: IdentifierOut}, summary="Add an identifier")
def add_identifier(request: HttpRequest, customer_id: int, payload: IdentifierIn) -> Status[Any]:
    from clientbase.identity.services import add_identifier as add

    actor = require(request, "customers:write")
    customer = selectors.access_customer(actor, customer_id, write=True)
    return Status(201, add(customer, payload.kind, payload.value, actor=actor, verified=payload.verified,
                    label=payload.label, source="api", field="value"))


@router.delete("/customers/{customer_id}/identifiers/{identifier_id}", response={204: None},
               summary="Remove an identifier")
def remove_identifier(request: HttpRequest, customer_id: int, identifier_id: int) -> Status[None]:
    from clientbase.core.errors import NotFound
    from clientbase.identity.services import remove_identifier as remove

    actor = require(request, "customers:write")
    customer = selectors.access_customer(actor, customer_id, write=True)
    identifier = customer.identifiers.filter(pk=identifier_id).first()
    if identifier is None:
        raise NotFound(f"Identifier #{identifier_id}")
    remove(identifier, actor=actor, source="api")
    return Status(204, None)


@router.post("/customers/{customer_id}/contact-people", response={201: dict}, summary="Link a contact person")
def add_contact_person(request: HttpRequest, customer_id: int, payload: ContactPersonIn) -> Status[Any]:
    actor = require(request, "customers:write")
    company = selectors.access_customer(actor, customer_id, write=True)
    person = selectors.access_customer(actor, payload.person_id, write=True)
    link = services.add_contact_person(company, person, role=payload.role, title=payload.title, actor=actor,
                                       source="api")
    return Status(201, {"id": link.pk, "company_id": company.pk, "person_id": person.pk, "role": link.role})


@router.get("/custom-fields", response=list[CustomFieldOut], summary="Custom field definitions")
def list_custom_fields(request: HttpRequest) -> list[CustomFieldDefinition]:
    require(request, "customers:read")
    return list(CustomFieldDefinition.objects.all())


@router.post("/custom-fields", response={201: CustomFieldOut}, summary="Define a custom field (admin)")
def create_custom_field(request: HttpRequest, payload: CustomFieldIn) -> Status[CustomFieldDefinition]:
    require(request, "admin")
    return Status(201, services.define_custom_field(payload.model_dump()))
