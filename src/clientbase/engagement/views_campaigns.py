"""Campaign pages: every campaign with its measured effect, and a form to send one to a segment."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clientbase.core.errors import DomainValidationError, NotFound
from clientbase.engagement import campaigns
from clientbase.engagement.models import Campaign, MessageTemplate
from clientbase.web.access import staff_actor


def _rub(kopecks: Any) -> str:
    return "—" if kopecks is None else f"{kopecks / 100:,.0f} ₽"


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor = staff_actor(request, "customers:write")
    from clientbase.segments.models import Segment

    error = ""
    if request.method == "POST":
        try:
            _start(actor, request.POST)
            return redirect("engagement:campaigns")
        except (DomainValidationError, NotFound, ValueError) as exc:
            error = str(exc)
    rows = []
    for campaign in Campaign.objects.order_by("-created_at")[:50]:
        result = campaigns.results(campaign)
        rows.append({"campaign": campaign, "r": result, "incremental": _rub(result["incremental_revenue"]),
                     "low": _rub(result["ci_low"]), "high": _rub(result["ci_high"])})
    keys = sorted(set(MessageTemplate.objects.values_list("key", flat=True)))
    return render(request, "engagement/campaigns.html", {
        "rows": rows, "segments": Segment.objects.order_by("name"), "keys": keys, "error": error},
        status=422 if error else 200)


def _start(actor: Any, data: Any) -> Campaign:
    from clientbase.segments import selectors as segment_selectors

    segment = segment_selectors.access_segment(int(data.get("segment", "0") or 0))
    ids = list(segment_selectors.members(actor, segment).values_list("pk", flat=True))
    return campaigns.start_campaign(name=data.get("name") or segment.name, template_key=data.get("template_key", ""),
                                    customer_ids=ids, holdout_percent=int(data.get("holdout_percent") or 10),
                                    seed=int(data.get("seed") or 0),
                                    conversion_days=int(data.get("conversion_days") or 14))
