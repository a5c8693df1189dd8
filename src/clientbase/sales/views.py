"""Pages: upload a customer base or an order history and read the import report."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from clientbase.core.errors import DomainValidationError
from clientbase.customers.error_text import translate_error
from clientbase.web.access import staff_actor

# Fixed reasons the importers report, so the report table shows them from the catalogue
# (translate_error looks a message up as it is; reasons with values go through its patterns).
IMPORT_REASONS = [
    gettext_noop("A line needs an SKU column value."),
    gettext_noop("The discount is more than the line's amount."),
    gettext_noop("The order has no number."),
    gettext_noop("This order's lines are not next to each other; sort the file by order number."),
    gettext_noop("The order has no date."),
    gettext_noop("Nothing to find the customer by: give a phone, e-mail, card or key."),
    gettext_noop("No customer has these identifiers; import the customers first."),
    gettext_noop("The identifiers belong to different customers."),
    gettext_noop("Nothing to recognise the customer by: give a phone, e-mail, card or key column value."),
    gettext_noop("No customer with this key on the customers sheet."),
    gettext_noop("Column not imported: its header is not known; map it in the mapping file."),
    gettext_noop("No sheet of customers found; name the sheets in the mapping file."),
]


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """The form; its htmx POST runs the import and swaps in the report (the button shows it is working)."""
    kind = request.POST.get("kind", "customers")
    actor = staff_actor(request, "orders:write" if kind == "orders" else "customers:write")
    if request.method == "GET":
        return render(request, "sales/import.html", {})
    from clientbase.sales.importing import run_uploaded_import

    context: dict[str, Any] = {}
    upload = request.FILES.get("file")
    if upload is None:
        context["errors"] = [_("Choose a CSV or XLSX file.")]
    else:
        try:
            result = run_uploaded_import(
                upload, kind=kind, mode=request.POST.get("mode", "all-or-nothing"),
                dry_run=request.POST.get("dry_run") == "on", mapping_text=request.POST.get("mapping", ""),
                actor=actor)
            for problem in result["report"]:
                problem["reason"] = translate_error(problem["reason"])
            context["result"] = result
        except DomainValidationError as exc:
            context["errors"] = [f"{e.path}: {translate_error(e.message)}" for e in exc.errors]
    template = "sales/_import_report.html" if request.headers.get("HX-Request") else "sales/import.html"
    return render(request, template, context)
