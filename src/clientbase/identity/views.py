"""Pages: the review queue, a manual merge from the card (with a confirmation page) and the unmerge button of
the card's merge history."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import exceptions as django_exceptions
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clientbase.access.actor import Actor
from clientbase.core.errors import DomainValidationError, NotFound, PermissionDenied
from clientbase.customers.error_text import translate_error
from clientbase.customers.models import Customer
from clientbase.customers.selectors import access_customer, search
from clientbase.identity import display, selectors
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Merge, ReviewStatus
from clientbase.identity.reviews import REVIEWERS, resolve_review
from clientbase.identity.unmerge import unmerge
from clientbase.web.access import staff_actor


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
    for case in cases:
        case.reason_text = display.review_reason(case.reason)  # type: ignore[attr-defined]
        case.evidence_text = display.identifier_keys(list(case.evidence.get("identifiers", [])))  # type: ignore[attr-defined]
    return render(request, "identity/reviews.html", {"cases": cases})


@login_required
@require_POST
def resolve(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        actor = _reviewer(request)
        case = selectors.review_queue(actor).filter(pk=review_id).first()
        if case is None:
            raise NotFound(f"Review #{review_id}")
        case = resolve_review(case, request.POST.get("action", ""), actor=actor)
        if case.status == ReviewStatus.MERGED:
            messages.success(request, _("Review #%(id)s: merged (merge #%(merge)s).") % {"id": review_id,
                                                                                       "merge": case.merge_id})
        else:
            messages.success(request, _("Review #%(id)s: kept apart; events will not merge them.") % {"id": review_id})
    except PermissionDenied as exc:
        raise django_exceptions.PermissionDenied(str(exc)) from None
    except NotFound:
        return HttpResponse(status=404)
    except DomainValidationError as exc:
        for error in exc.errors:
            messages.error(request, translate_error(error.message))
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
        for error in exc.errors:
            messages.error(request, translate_error(error.message))
    return redirect("customers:card", record.survivor_id)


_NUMBER = re.compile(r"^(?:#|№)\s*(\d{1,12})$")


def _other(actor: Actor, query: str) -> Customer:
    """The customer a person named to merge in: by number (``#123``), or the one customer an identifier or
    name finds; NotFound (with what to type instead) otherwise."""
    number = _NUMBER.match(query.strip())
    if number:
        return access_customer(actor, int(number.group(1)), write=True)
    found = search(actor, query, limit=2)
    if len(found) != 1:
        raise NotFound(_("Nobody found by “%(query)s”.") % {"query": query} if not found else
                       _("Several customers match “%(query)s”; give their number (#123), phone or email.")
                       % {"query": query})
    return found[0]


@login_required
@require_http_methods(["GET", "POST"])
def merge_into(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Merge another customer into this one by hand: GET (``?other=``: a number, phone, email, card,
    handle or name) shows both side by side to confirm; POST (``absorbed_id``) merges. This customer
    survives, as in ``POST /api/v1/customers/{id}/merge``. Admins and marketers, who decide merges."""
    try:
        actor = _reviewer(request)
        survivor = access_customer(actor, customer_id, write=True)
        if request.method == "POST":
            absorbed = access_customer(actor, int(request.POST.get("absorbed_id", "0") or 0), write=True)
            merge = merge_customers(survivor, absorbed, actor=actor, reason="manual (web)")
            messages.success(request, _("#%(absorbed)s merged into this customer (merge #%(merge)s).")
                             % {"absorbed": absorbed.pk, "merge": merge.pk})
            return redirect("customers:card", survivor.pk)
        absorbed = _other(actor, request.GET.get("other", ""))
        if absorbed.pk == survivor.pk:
            raise NotFound(_("That is this customer."))
    except PermissionDenied as exc:
        raise django_exceptions.PermissionDenied(str(exc)) from None
    except (NotFound, DomainValidationError) as exc:
        for text in (exc.errors if isinstance(exc, DomainValidationError) else [exc]):
            messages.error(request, translate_error(getattr(text, "message", str(text))))
        return redirect("customers:card", customer_id)
    pair = [(survivor, _("stays")), (absorbed, _("is merged into it"))]
    return render(request, "identity/merge_confirm.html", {
        "survivor": survivor, "absorbed": absorbed,
        "pair": [{"customer": c, "role": role, "identifiers": list(c.identifiers.order_by("kind", "value"))}
                 for c, role in pair]})
