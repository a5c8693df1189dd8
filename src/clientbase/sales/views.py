"""Pages: upload a customer base or an order history and read the import report."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clientbase.access.actor import actor_for_user
from clientbase.core.errors import DomainValidationError


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """The form; its htmx POST runs the import and swaps in the report (the button shows it is working)."""
    actor = actor_for_user(request.user, channel="web")
    kind = request.POST.get("kind", "customers")
    needed = "orders:write" if kind == "orders" else "customers:write"
    if not actor.has_scope(needed):
        raise PermissionDenied(_("Your role lacks the “%(scope)s” permission.") % {"scope": needed})
    if request.method == "GET":
        return render(request, "sales/import.html", {})
    from clientbase.sales.importing import run_uploaded_import

    context: dict[str, Any] = {}
    upload = request.FILES.get("file")
    if upload is None:
        context["errors"] = ["Choose a CSV or XLSX file."]
    else:
        try:
            context["result"] = run_uploaded_import(
                upload, kind=kind, mode=request.POST.get("mode", "all-or-nothing"),
                dry_run=request.POST.get("dry_run") == "on", mapping_text=request.POST.get("mapping", ""),
                actor=actor)
        except DomainValidationError as exc:
            context["errors"] = [f"{e.path}: {e.message}" for e in exc.errors]
    template = "sales/_import_report.html" if request.headers.get("HX-Request") else "sales/import.html"
    return render(request, template, context)
