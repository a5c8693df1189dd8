"""Pages: the public unsubscribe link; staff pages for the day's tasks and the calendar."""

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from clientbase.engagement import contact


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session or a CSRF token.
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button (link scanners must not unsubscribe people); POST records it."""
    try:
        contact.check_token(token)
    except signing.BadSignature:
        return HttpResponseBadRequest("This unsubscribe link is not valid.")
    if request.method != "POST":
        return render(request, "engagement/unsubscribe.html", {"token": token, "done": False})
    _, channel = contact.unsubscribe(token)
    return render(request, "engagement/unsubscribe.html", {"token": token, "done": True, "channel": channel})
