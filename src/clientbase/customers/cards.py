"""The built-in sections of the customer card, registered like any domain's (see clientbase.web.cards)."""

from collections import defaultdict
from typing import Any

from django.utils.translation import gettext_lazy as _

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.customers import display, selectors
from clientbase.customers.models import ContactRole, CustomerKind, CustomFieldDefinition
from clientbase.customers.models import Customer as CustomerModel
from clientbase.identity.models import IdentifierKind
from clientbase.web.cards import register_card_section


def _identification(customer: CustomerModel, actor: Actor) -> dict[str, Any]:
    return {"age": display.age(customer.birth_date, now().date()),
            "is_company": customer.kind == CustomerKind.COMPANY}


def _company(customer: CustomerModel, actor: Actor) -> dict[str, Any] | None:
    """A company's data and people; for a person, the companies they act for (hidden when none)."""
    visible = set(selectors.visible_customers(actor).filter(
        pk__in=[link.person_id for link in customer.contact_people.all()]
        + [link.company_id for link in customer.companies.all()]).values_list("pk", flat=True))
    if customer.kind == CustomerKind.COMPANY:
        people = [link for link in customer.contact_people.all() if link.person_id in visible]
        return {"is_company": True, "people": people, "roles": ContactRole.choices,
                "can_write": actor.has_scope("customers:write") and customer.merged_into_id is None}
    companies = [link for link in customer.companies.all() if link.company_id in visible]
    return {"is_company": False, "companies": companies} if companies else None


def _identifiers(customer: CustomerModel, actor: Actor) -> dict[str, Any]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for identifier in customer.identifiers.all():
        groups[identifier.kind].append(identifier)
    labels = dict(IdentifierKind.choices)
    ordered = [(labels[kind], groups[kind]) for kind in IdentifierKind.values if kind in groups]
    return {"groups": ordered}


def _contact(customer: CustomerModel, actor: Actor) -> dict[str, Any]:
    from clientbase.customers.models import Channel

    labels = dict(Channel.choices)
    return {
        "fallback": [labels.get(c, c) for c in customer.channel_order],
        "days": display.weekday_names(customer.contact_days),
    }


def _dates(customer: CustomerModel, actor: Actor) -> dict[str, Any]:
    return {"dates": sorted(customer.important_dates.all(), key=lambda d: (d.date.month, d.date.day))}


def _relationship(customer: CustomerModel, actor: Actor) -> dict[str, Any] | None:
    if customer.kind == CustomerKind.COMPANY:
        return None
    preferences = [(key, display.value_text(value)) for key, value in customer.preferences.items()]
    return {"preferences": preferences}


def _custom(customer: CustomerModel, actor: Actor) -> dict[str, Any] | None:
    definitions = [d for d in CustomFieldDefinition.objects.all()
                   if not d.applies_to or d.applies_to == customer.kind]
    if not definitions:
        return None
    rows = [(d.label, display.value_text(customer.custom.get(d.key)), d.required) for d in definitions]
    return {"rows": rows}


def _ownership(customer: CustomerModel, actor: Actor) -> dict[str, Any]:
    return {"tags": [t.name for t in customer.tags.all()]}


def _notes(customer: CustomerModel, actor: Actor) -> dict[str, Any]:
    return {}


def _history(customer: CustomerModel, actor: Actor) -> dict[str, Any]:
    return {}


register_card_section("identification", _identification, title=_("Identification"),
                      template="customers/card/identification.html", order=10)
register_card_section("company", _company, title=_("Company"), template="customers/card/company.html", order=20)
register_card_section("identifiers", _identifiers, title=_("Contacts and identifiers"),
                      template="customers/card/identifiers.html", order=30)
register_card_section("contact", _contact, title=_("Contact preferences"),
                      template="customers/card/contact.html", order=40)
register_card_section("dates", _dates, title=_("Important dates"), template="customers/card/dates.html", order=50)
register_card_section("relationship", _relationship, title=_("Relationship"),
                      template="customers/card/relationship.html", order=60)
register_card_section("custom", _custom, title=_("Custom fields"), template="customers/card/custom.html",
                      order=70)
register_card_section("ownership", _ownership, title=_("Tags and ownership"),
                      template="customers/card/ownership.html", order=80)
register_card_section("notes", _notes, title=_("Notes"), template="customers/card/notes.html", order=90)
register_card_section("history", _history, title=_("History of changes"),
                      template="customers/card/history.html", order=900)
