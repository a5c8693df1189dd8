"""The top navigation: one list, filtered per user by scope and by which pages exist.

Domain apps' pages are mounted by ``web/urls.py`` at ``/<app>/`` from ``clientbase.<app>.urls``
(namespace = the app's ``app_name``); an entry here whose URL name does not resolve is skipped,
so an app can land its pages before its menu item and nothing breaks.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from clientbase.access.actor import Actor


def _sees_whole_base(actor: "Actor") -> bool:
    # The dashboards are figures over every customer: a team-limited role gets a 403 there (analytics.views).
    return actor.has_scope("customers:read") and actor.sees_all


def _decides_merges(actor: "Actor") -> bool:
    # Mirrors identity.views.REVIEWERS: other roles get a 403 on the review queue.
    return actor.role in {"admin", "marketer"}


# (label, url name, scope the user needs, or a test of the actor where a page asks more than a scope)
NAV: list[tuple[str | Promise, str, "str | Callable[[Actor], bool]"]] = [
    (_("Customers"), "customers:search", "customers:read"),
    (_("Create customer"), "customers:create", "customers:write"),
    (_("Quick registration"), "customers:quick", "customers:write"),
    (_("My day"), "engagement:my_day", "customers:read"),
    (_("Segments"), "segments:list", "customers:read"),
    (_("Analytics"), "analytics:dashboard", _sees_whole_base),
    (_("Merge reviews"), "identity:reviews", _decides_merges),
    (_("Campaigns"), "engagement:campaigns", "customers:write"),
    (_("Loyalty"), "loyalty:programs", "admin"),
    (_("Import"), "sales:import", "admin"),
    (_("Custom fields"), "customers:custom_fields", "admin"),
]


def nav(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``nav_items`` = [(label, url, active)] the user may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from clientbase.access.actor import actor_for_user

    actor = actor_for_user(user)
    links = []
    for label, name, allowed in NAV:
        if not (allowed(actor) if callable(allowed) else actor.has_scope(allowed)):
            continue
        try:
            links.append((label, reverse(name)))
        except NoReverseMatch:
            continue
    # Only the most specific item is current: /customers/fields/ is "Custom fields", not also "Customers".
    matching = [url for _, url in links if url != "/" and request.path.startswith(url)]
    current = max(matching, key=len) if matching else None
    return {"nav_items": [(label, url, url == current) for label, url in links]}
