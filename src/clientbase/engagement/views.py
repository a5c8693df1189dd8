"""Pages: the public unsubscribe and churn-survey links; staff pages for the day, the week, churn reasons."""

import contextlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clientbase.access.actor import Actor
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError, MergedAway, NotFound
from clientbase.customers.models import Customer
from clientbase.customers.selectors import access_customer
from clientbase.customers.views import to_survivor
from clientbase.engagement import contact, retention, selectors, services, tracking
from clientbase.engagement.triggers import business_today
from clientbase.identity.locks import on_survivor
from clientbase.web.access import staff_actor


def _actor(request: HttpRequest) -> Actor:
    return staff_actor(request)


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session or a CSRF token.
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button (link scanners must not unsubscribe people); POST records it."""
    try:
        contact.check_token(token)
    except signing.BadSignature:
        return HttpResponseBadRequest(gettext("This unsubscribe link is not valid."))
    if request.method != "POST":
        return render(request, "engagement/unsubscribe.html", {"token": token, "done": False})
    _, channel = contact.unsubscribe(token)
    return render(request, "engagement/unsubscribe.html", {"token": token, "done": True, "channel": channel})


def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The short "why did you leave?" survey a customer opens from a message (public, signed link)."""
    try:
        customer_id = Customer.objects.values_list("pk", flat=True).get(pk=retention.survey_customer(token))
    except (signing.BadSignature, Customer.DoesNotExist):
        return HttpResponseBadRequest(gettext("This survey link is not valid."))
    if request.method == "POST":
        try:
            # Filed where the person lives now: an old link may name a customer merged since.
            on_survivor(customer_id, lambda customer: services.record_churn_reason(
                customer, reason=request.POST.get("reason", ""), comment=request.POST.get("comment", ""),
                source="survey"))
        except DomainValidationError as exc:
            return render(request, "engagement/survey.html", {"choices": services.CHURN_REASONS.items(),
                                                               "error": str(exc)}, status=422)
        return render(request, "engagement/survey.html", {"done": True})
    return render(request, "engagement/survey.html", {"choices": services.CHURN_REASONS.items()})


@login_required
@require_POST
def churn_reason(request: HttpRequest, customer_id: int) -> HttpResponse:
    try:
        customer = access_customer(_actor(request), customer_id, write=True)
        services.record_churn_reason(customer, reason=request.POST.get("reason", ""),
                                     comment=request.POST.get("comment", ""), source="manager")
    except NotFound:
        raise Http404 from None
    except MergedAway as exc:
        return to_survivor(request, exc)
    except DomainValidationError as exc:
        return HttpResponseBadRequest(str(exc))
    return redirect("customers:card", customer_id)


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    day = business_today(now())
    return render(request, "engagement/my_day.html", {"day": day, **selectors.my_day(actor, day)})


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        day = date.fromisoformat(request.GET.get("week", "")) if request.GET.get("week") else business_today(now())
    except ValueError:
        day = business_today(now())
    monday = selectors.week_start(day)
    everyone = request.GET.get("everyone") == "1"
    return render(request, "engagement/calendar.html", {
        "monday": monday, "days": selectors.calendar_week(actor, monday, everyone=everyone), "everyone": everyone,
        "previous": monday - timedelta(days=7), "next": monday + timedelta(days=7)})


@login_required
@require_POST
def finish_task(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        services.finish_task(_actor(request), task_id, status=request.POST.get("status", "done"))
    except NotFound:
        raise Http404 from None
    return redirect(request.POST.get("next") or "engagement:my_day")


# A transparent 1×1 GIF.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def opened(request: HttpRequest, token: str) -> HttpResponse:
    with contextlib.suppress(signing.BadSignature):  # a broken pixel must still be an image
        tracking.record_open(token)
    return HttpResponse(PIXEL, content_type="image/gif", headers={"Cache-Control": "no-store"})


def clicked(request: HttpRequest, token: str) -> HttpResponse:
    try:
        target = tracking.record_click(token)
    except signing.BadSignature:
        return HttpResponseBadRequest(gettext("This link is not valid."))
    return HttpResponseRedirect(target)


@login_required
@require_POST
def add_task(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A task by hand from the card; the assignee defaults to the customer's owner."""
    actor = _actor(request)
    try:
        customer = access_customer(actor, customer_id, write=True)
        due = datetime.fromisoformat(request.POST.get("due_at", ""))
        if due.tzinfo is None:
            due = due.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
        services.create_task(customer, kind=request.POST.get("kind", ""), title=request.POST.get("title", "")
                             or request.POST.get("kind", ""), due_at=due, actor=actor,
                             gift=request.POST.get("gift", ""))
    except NotFound:
        raise Http404 from None
    except MergedAway as exc:
        return to_survivor(request, exc)
    except (DomainValidationError, ValueError) as exc:
        return HttpResponseBadRequest(str(exc))
    return redirect("customers:card", customer_id)


@csrf_exempt  # called by the provider, authenticated by the channel's callback token instead
@require_POST
def delivery_report(request: HttpRequest, kind: str) -> HttpResponse:
    """A provider's delivery receipt: ``{"id": provider message id, "status": "delivered" | …}``.

    Authenticated by ``ChannelConfig.config["callback_token"]`` in the ``token`` query parameter;
    recorded as a decision on the message (visible on the card), never changing what was sent.
    """
    import json

    from django.utils.crypto import constant_time_compare

    from clientbase.engagement.models import ChannelConfig, Message, MessageDecision

    config = ChannelConfig.objects.filter(kind=kind).first()
    expected = str((config.config if config else {}).get("callback_token", ""))
    if not expected or not constant_time_compare(request.GET.get("token", ""), expected):
        return HttpResponse(status=403)
    try:
        data = json.loads(request.body or b"{}")
        provider_id, status = str(data["id"]), str(data["status"])[:40]
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("Expected JSON with id and status.")
    message = Message.objects.filter(channel=kind, provider_message_id=provider_id).first()
    if message is None:
        return HttpResponse(status=404)
    MessageDecision.objects.create(message=message, at=now(), action="delivery", reason=f"provider: {status}")
    return HttpResponse(status=204)
