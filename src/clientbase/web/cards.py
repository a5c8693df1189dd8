"""The customer card's sections: a tiny registry any domain app can add to.

The card page (``/customers/<id>/``) renders every registered section, lowest ``order``
first. A section is a template plus a *provider*: a function
``provider(customer, actor) -> dict | None`` that returns the template's context, or
``None`` to hide the section for this customer (no orders yet, no permission, …).

To add a section from another app, create ``clientbase/<app>/cards.py``; it is imported
once at start-up by ``autodiscover()`` (called from ``WebConfig.ready``)::

    from clientbase.web.cards import register_card_section

    def _orders(customer, actor):
        orders = list(selectors.recent_orders(customer)[:10])
        return {"orders": orders} if orders else None

    register_card_section("orders", _orders, title=_("Orders"),
                          template="sales/card_orders.html", order=300)

The template receives the provider's dict plus ``customer``, ``actor`` and ``section``.
The customer passed in is already loaded with ``customers.selectors.card`` (identifiers,
tags, dates, contact people prefetched) and is visible to ``actor``; a provider must not
widen what the actor may see. Orders used by the built-in sections (customers/cards.py):
identification 10 … history 900, so domain sections fit between 200 and 800.
Registering a key again replaces the earlier section (handy in tests).
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from clientbase.access.actor import Actor
    from clientbase.customers.models import Customer

SectionProvider = Callable[["Customer", "Actor"], dict[str, Any] | None]


@dataclass(frozen=True)
class CardSection:
    """One block of the card: its heading, its template and where it goes."""

    title: str | Promise
    template: str
    order: int = 500
    key: str = ""
    provider: SectionProvider | None = None


@dataclass(frozen=True)
class RenderedSection:
    section: CardSection
    html: SafeString


_registry: dict[str, CardSection] = {}


def register_card_section(key: str, provider: SectionProvider, *, title: str | Promise, template: str,
                          order: int = 500) -> CardSection:
    """Add (or replace) the card section ``key``; returns it."""
    section = CardSection(title=title, template=template, order=order, key=key, provider=provider)
    _registry[key] = section
    return section


def unregister_card_section(key: str) -> None:
    _registry.pop(key, None)


def card_sections() -> list[CardSection]:
    return sorted(_registry.values(), key=lambda s: (s.order, s.key))


def render_sections(customer: "Customer", actor: "Actor", request: HttpRequest) -> list[RenderedSection]:
    """Every visible section's HTML, in order; a provider returning None hides its section."""
    rendered = []
    for section in card_sections():
        assert section.provider is not None
        context = section.provider(customer, actor)
        if context is None:
            continue
        html = render_to_string(section.template,
                                {**context, "customer": customer, "actor": actor, "section": section}, request)
        # render_to_string returns template output, which is already escaped.
        rendered.append(RenderedSection(section, mark_safe(html)))  # noqa: S308
    return rendered


def autodiscover() -> None:
    """Import ``clientbase.<app>.cards`` for every domain app that has one."""
    for app in settings.DOMAIN_APPS:
        name = f"clientbase.{app}.cards"
        if find_spec(name) is not None:
            import_module(name)
