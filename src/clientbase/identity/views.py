"""Pages: the review queue and the unmerge button of the card's merge history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import exceptions as django_exceptions
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clientbase.access.actor import Actor
from clientbase.core.errors import DomainValidationError, NotFound, PermissionDenied
from clientbase.customers.selectors import access_customer
from clientbase.identity import selectors
from clientbase.identity.models import Merge
from clientbase.identity.reviews import resolve_review
from clientbase.identity.unmerge import unmerge
from clientbase.web.access import staff_actor

REVIEWERS = frozenset({"admin", "marketer"})


def _reviewer(request: HttpRequest) -> Actor:
    actor = staff_actor(request)
    if actor.role not in REVIEWERS:
        raise PermissionDenied(_("Only admins and marketers decide merges."))
    return actor


@login_required
@require_http_methods(["GET"])
def reviews(request: HttpRequest) -> HttpResponse:
    try:
        actor = _reviewer(request)
    except PermissionDenied as exc:
        raise django_exceptions.PermissionDenied(str(exc)) from None
    cases = list(selectors.review_queue(actor)[:200])
    return render(request, "identity/reviews.html", {"cases": cases})


@login_required
@require_POST
def resolve(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        actor = _reviewer(request)
        case = selectors.review_queue(actor).filter(pk=review_id).first()
        if case is None:
            raise NotFound(f"Review #{review_id}")
        resolve_review(case, request.POST.get("action", ""), actor=actor)
        messages.success(request, _("Review #%(id)s decided.") % {"id": review_id})
    except PermissionDenied as exc:
        raise django_exceptions.PermissionDenied(str(exc)) from None
    except NotFound:
        return HttpResponse(status=404)
    except DomainValidationError as exc:
        messages.error(request, str(exc))
    return redirect("identity:reviews")


@login_required
@require_POST
def undo_merge(request: HttpRequest, merge_id: int) -> HttpResponse:
    actor = staff_actor(request)
    record = Merge.objects.filter(pk=merge_id).first()
    if record is None:
        return HttpResponse(status=404)
    try:
        access_customer(actor, record.survivor_id)
        if not actor.has_scope("admin"):
            raise PermissionDenied(_("Only admins can undo a merge."))
        unmerge(record, actor=actor)
        messages.success(request, _("Merge undone: #%(a)s is a separate customer again.") % {"a": record.absorbed_id})
    except NotFound:
        return HttpResponse(status=404)
    except PermissionDenied as exc:
        raise django_exceptions.PermissionDenied(str(exc)) from None
    except DomainValidationError as exc:
        messages.error(request, str(exc))
    return redirect("customers:card", record.survivor_id)
