"""Customer pages: search, card, history partial, create (full and quick) and edit.

Views stay thin: they load the customer only through ``selectors.access_customer`` (a
customer the actor may not see is a 404), call the services, and render.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import exceptions as django_exceptions
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clientbase.access.actor import Actor
from clientbase.access.models import Team
from clientbase.core.errors import DomainValidationError, FieldError, MergedAway, NotFound, PermissionDenied
from clientbase.customers import display, selectors, services
from clientbase.customers.error_text import translate_error
from clientbase.customers.forms import FALLBACK_SLOTS, ProfileForm
from clientbase.customers.models import (
    Channel,
    Customer,
    CustomerKind,
    CustomFieldDefinition,
    DateKind,
    FamilyStatus,
    FieldType,
    Gender,
    Tag,
)
from clientbase.identity import services as identity_services
from clientbase.identity.models import IdentifierKind
from clientbase.web.access import staff_actor
from clientbase.web.cards import render_sections

HISTORY_PAGE = 25
SEARCH_LIMIT = 50


def _actor(request: HttpRequest, scope: str = "customers:read") -> Actor:
    """The logged-in staff member as an Actor; 403 when their role lacks ``scope``."""
    return staff_actor(request, scope)


def _customer(actor: Actor, customer_id: int, *, write: bool = False) -> Customer:
    try:
        return selectors.access_customer(actor, customer_id, write=write)
    except NotFound:
        raise Http404 from None


def to_survivor(request: HttpRequest, exc: MergedAway) -> HttpResponse:
    """A change asked of a merged customer: say where it lives on and open that card instead (also for a
    form posted from a tab opened before the merge)."""
    for error in exc.errors:
        messages.error(request, translate_error(error.message))
    return redirect("customers:card", exc.survivor_id)


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 1000))
    except ValueError:
        return 1


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """One box for phone, email, card or name; htmx asks for the results partial as the user types."""
    q, tag, city = (request.GET.get(name, "").strip() for name in ("q", "tag", "city"))
    page = _page_number(request.GET.get("page"))
    results, more = (selectors.search_page(_actor(request), q, tag=tag or None, city=city or None, page=page,
                                           size=SEARCH_LIMIT) if (q or tag or city) else ([], False))
    context = {"q": q, "tag": tag, "city": city, "results": results, "searched": bool(q or tag or city),
               "few_digits": not results and selectors.too_few_digits(q), "min_digits": selectors.MIN_DIGITS,
               "page": page, "more": more, "first_rank": (page - 1) * SEARCH_LIMIT + 1,
               "last_rank": (page - 1) * SEARCH_LIMIT + len(results)}
    if request.headers.get("HX-Request"):
        return render(request, "customers/_results.html", context)
    context["tags"] = Tag.objects.values_list("name", flat=True)[:200]
    return render(request, "customers/search.html", context)


@login_required
def card(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = selectors.card(_customer(actor, customer_id), with_history=False)
    sections = render_sections(customer, actor, request)
    # A merged profile points at the customer at the end of the chain of merges: that is where it lives on.
    survivor = selectors.survivor_of(customer.merged_into) if customer.merged_into is not None else None
    return render(request, "customers/card.html", {"customer": customer, "sections": sections, "survivor": survivor})


@login_required
def history(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The history partial, newest first, one page at a time (loaded into the card by htmx)."""
    customer = _customer(_actor(request), customer_id)
    page = Paginator(selectors.history(customer), HISTORY_PAGE).get_page(request.GET.get("page"))
    labels = dict(CustomFieldDefinition.objects.values_list("key", "label"))
    rows = [{"change": c, "label": display.field_label(c.field, labels),
             "old": display.change_text(c.field, c.old_value, labels),
             "new": display.change_text(c.field, c.new_value, labels), "channel": display.channel_label(c.channel),
             "source": display.source_text(c.source, c.field, c.old_value)}
            for c in page.object_list]
    return render(request, "customers/_history.html", {"customer": customer, "page": page, "rows": rows})


def _form_context(request: HttpRequest, form: ProfileForm, actor: Actor, **extra: Any) -> dict[str, Any]:
    teams = list(Team.objects.order_by("name")) if actor.sees_all else []
    order = list(form.values.get("channel_order") or [])
    return {
        "form": form, "teams": teams, "kinds": CustomerKind.choices, "genders": Gender.choices,
        "family_statuses": FamilyStatus.choices, "channels": [("", "—"), *Channel.choices],
        "identifier_kinds": IdentifierKind.choices, "date_kinds": DateKind.choices,
        "weekdays": display.WEEKDAYS, "fallback": order + [""] * max(FALLBACK_SLOTS - len(order), 1),
        "can_define_fields": actor.has_scope("admin"), **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request, "customers:write")
    if request.method == "GET":
        form = ProfileForm(None, customer=None, can_choose_team=actor.sees_all)
        return render(request, "customers/form.html", _form_context(request, form, actor))
    form = ProfileForm(request.POST, customer=None, can_choose_team=actor.sees_all)
    data = {**form.service_data(), "identifiers": form.new_identifiers(), "important_dates": form.new_dates()}
    try:
        customer = services.create_customer(data, actor=actor, source="web")
    except DomainValidationError as exc:
        form.add_errors(exc.errors)
        return render(request, "customers/form.html", _form_context(request, form, actor), status=422)
    except PermissionDenied as exc:
        raise django_exceptions.PermissionDenied(str(exc)) from None
    return redirect("customers:card", customer.pk)


@login_required
@require_http_methods(["GET", "POST"])
def quick_create(request: HttpRequest) -> HttpResponse:
    """Registration from one phone number (R1.7, R10.5); the rest of the profile comes later."""
    actor = _actor(request, "customers:write")
    phone = request.POST.get("phone", "").strip() if request.method == "POST" else ""
    errors: list[str] = []
    if request.method == "POST":
        try:
            customer = services.create_customer({"identifiers": [{"kind": "phone", "value": phone}]},
                                                actor=actor, source="web:quick")
        except DomainValidationError as exc:
            errors = [translate_error(e.message) for e in exc.errors]
        else:
            return redirect("customers:card", customer.pk)
    return render(request, "customers/quick.html", {"phone": phone, "errors": errors},
                  status=422 if errors else 200)


@login_required
@require_http_methods(["POST"])
def add_contact_person(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Link a person, found by phone, email or name, to a company as director, accountant, …"""
    actor = _actor(request, "customers:write")
    try:
        company = _customer(actor, customer_id, write=True)
    except MergedAway as exc:
        return to_survivor(request, exc)
    query = request.POST.get("person", "").strip()
    people = [c for c in selectors.search(actor, query, limit=5) if c.kind == CustomerKind.PERSON]
    if len(people) != 1:
        messages.error(request, _("Nobody found by “%(query)s”.") % {"query": query} if not people
                       else _("Several people match “%(query)s”; type their phone or email.") % {"query": query})
        return redirect("customers:card", company.pk)
    try:
        services.add_contact_person(company, people[0], role=request.POST.get("role", ""),
                                    title=request.POST.get("title", "").strip()[:100], actor=actor, source="web")
    except DomainValidationError as exc:
        for error in exc.errors:
            messages.error(request, translate_error(error.message))
    return redirect("customers:card", company.pk)


@login_required
@require_http_methods(["GET", "POST"])
def custom_fields(request: HttpRequest) -> HttpResponse:
    """Settings: the custom fields an admin defines for profiles (R1.4)."""
    _actor(request, "admin")
    values = {name: request.POST.get(name, "").strip() for name in
              ("key", "label", "type", "choices", "applies_to", "position")}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data: dict[str, Any] = {**values, "required": request.POST.get("required") == "on",
                                "choices": [c.strip() for c in values["choices"].split(",") if c.strip()],
                                "position": int(values["position"]) if values["position"].isdigit() else 0}
        try:
            services.define_custom_field(data)
        except DomainValidationError as exc:
            for error in exc.errors:
                errors.setdefault(error.path, []).append(translate_error(error.message))
        else:
            messages.success(request, _("Custom field “%(label)s” added.") % {"label": data["label"] or data["key"]})
            return redirect("customers:custom_fields")
    return render(request, "customers/custom_fields.html", {
        "definitions": CustomFieldDefinition.objects.all(), "values": values, "errors": errors,
        "types": FieldType.choices, "kinds": [("", _("People and companies")), *CustomerKind.choices],
    }, status=422 if errors else 200)


def _apply_edit(customer: Customer, form: ProfileForm, actor: Actor) -> None:
    """All changes of one edit in one transaction: any error anywhere and nothing is stored."""
    errors: list[FieldError] = []
    with transaction.atomic():
        try:
            # Holds the customer for the rest of the edit, or refuses a tombstone (merged since the form
            # opened): the whole edit is refused then, and the caller opens the survivor's card.
            services.update_customer(customer, form.service_data(), actor=actor, source="web")
        except MergedAway:
            raise
        except DomainValidationError as exc:
            errors.extend(exc.errors)
        for identifier in customer.identifiers.filter(pk__in=form.remove_ids):
            identity_services.remove_identifier(identifier, actor=actor, source="web")
        for i, item in enumerate(form.new_identifiers()):
            try:
                identity_services.add_identifier(customer, item["kind"], item["value"], actor=actor, source="web",
                                                 field=f"identifiers.{i}.value")
            except DomainValidationError as exc:
                errors.extend(exc.errors)
        for i, item in enumerate(form.new_dates()):
            try:
                services.add_important_date(customer, item, actor=actor, source="web", path=f"important_dates.{i}")
            except DomainValidationError as exc:
                errors.extend(exc.errors)
        if errors:
            raise DomainValidationError(errors)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request, "customers:write")
    try:
        customer = _customer(actor, customer_id, write=True)
    except MergedAway as exc:
        return to_survivor(request, exc)
    post = request.POST if request.method == "POST" else None
    form = ProfileForm(post, customer=customer, can_choose_team=actor.sees_all)
    extra = {"customer": customer, "identifiers": list(customer.identifiers.all())}
    if post is None:
        return render(request, "customers/form.html", _form_context(request, form, actor, **extra))
    try:
        _apply_edit(customer, form, actor)
    except MergedAway as exc:
        return to_survivor(request, exc)
    except DomainValidationError as exc:
        form.add_errors(exc.errors)
        return render(request, "customers/form.html", _form_context(request, form, actor, **extra), status=422)
    except PermissionDenied as exc:
        raise django_exceptions.PermissionDenied(str(exc)) from None
    return redirect("customers:card", customer.pk)
