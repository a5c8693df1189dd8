"""The one place a page turns its logged-in user into an Actor and checks a permission."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from clientbase.access.actor import Actor, actor_for_user


def staff_actor(request: HttpRequest, scope: str | None = None) -> Actor:
    """The staff member behind ``request``; a 403 page naming ``scope`` when their role lacks it."""
    actor = actor_for_user(request.user, channel="web")
    if scope is not None and not actor.has_scope(scope):
        raise PermissionDenied(_("Your role lacks the “%(scope)s” permission.") % {"scope": scope})
    return actor
