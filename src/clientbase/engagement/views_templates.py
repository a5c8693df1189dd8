"""The marketers' template editor: list, edit with field validation, preview on a real customer."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from clientbase.access.actor import Actor
from clientbase.core.errors import DomainValidationError, NotFound
from clientbase.customers.models import Channel
from clientbase.customers.selectors import access_customer
from clientbase.engagement import rendering, services, templating
from clientbase.engagement.channels import registry
from clientbase.engagement.models import MessageTemplate
from clientbase.web.access import staff_actor

CHANNEL_NAMES = dict(Channel.choices)


def _editor(request: HttpRequest) -> Actor:
    return staff_actor(request, "customers:write")


def _preview(actor: Actor, template: MessageTemplate, raw_id: str) -> dict[str, Any]:
    if not raw_id.isdigit():
        return {}
    try:
        customer = access_customer(actor, int(raw_id))
        rendered = rendering.preview(template, customer.pk)
    except NotFound:
        return {"preview_error": f"No customer #{raw_id} you can see."}
    except DomainValidationError as exc:
        return {"preview_error": str(exc)}
    return {"preview": rendered, "preview_customer": customer}


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _editor(request)
    templates = MessageTemplate.objects.order_by("key", "channel", "language")
    return render(request, "engagement/templates.html", {"templates": templates})


@login_required
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    actor = _editor(request)
    template = get_object_or_404(MessageTemplate, pk=template_id) if template_id else None
    context: dict[str, Any] = {"template": template, "fields": templating.FIELDS, "channels": [(c, CHANNEL_NAMES.get(c, c)) for c in sorted(registry())],
                               "data": template.__dict__ if template else {"language": "ru", "channel": "email"}}
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("key", "channel", "language", "subject", "body")}
        try:
            saved = services.save_template(data, actor=actor)
        except DomainValidationError as exc:
            return render(request, "engagement/template_form.html",
                          {**context, "data": data, "errors": exc.errors}, status=422)
        return redirect("engagement:template_edit", saved.pk)
    if template is not None:
        context.update(_preview(actor, template, request.GET.get("customer", "")))
    return render(request, "engagement/template_form.html", context)
