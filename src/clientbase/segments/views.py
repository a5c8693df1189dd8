"""Segment pages: the list, the rule builder with a live count, a segment's members."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clientbase.access.actor import Actor
from clientbase.core.errors import DomainValidationError, NotFound
from clientbase.segments import builder, selectors, services
from clientbase.segments.models import Segment
from clientbase.web.access import staff_actor


def _actor(request: HttpRequest, scope: str = "customers:read") -> Actor:
    return staff_actor(request, scope)


def _segment(segment_id: int) -> Segment:
    try:
        return selectors.access_segment(segment_id)
    except NotFound:
        raise Http404 from None


def _rule_from_post(request: HttpRequest) -> Any:
    if request.POST.get("mode") == "json":
        try:
            return json.loads(request.POST.get("rule_json") or "null")
        except ValueError as exc:
            raise DomainValidationError.single("rule", _("This is not valid JSON: %(error)s") % {"error": exc}) \
                from None
    rows = list(zip(request.POST.getlist("field"), request.POST.getlist("op"), request.POST.getlist("value"),
                    strict=False))
    return builder.rule_from_rows(request.POST.get("combinator", "all"), rows)


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    _actor(request)
    return render(request, "segments/list.html", {"segments": Segment.objects.all()})


def _builder_context(actor: Actor, rule: Any, segment: Segment | None, **extra: Any) -> dict[str, Any]:
    custom = services.custom_field_types()
    flat = builder.rows_from_rule(rule) if rule else ("all", [("", "", "")])
    return {
        "segment": segment, "rule_json": json.dumps(rule, ensure_ascii=False, indent=2) if rule else "",
        "combinator": flat[0] if flat else "all", "rows": flat[1] if flat else [],
        "nested": flat is None, "fields": builder.labelled(builder.field_choices(custom)),
        "ops": builder.labelled(sorted({op for f in builder.field_choices(custom) for op in builder.ops_for(f, custom)}),
                                builder.OP_LABELS),
        "can_write": actor.has_scope("segments:write"),
        "name": segment.name if segment else "", "description": segment.description if segment else "",
        "refresh_every": segment.refresh_every_minutes if segment else 60, **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def edit_segment(request: HttpRequest, segment_id: int | None = None) -> HttpResponse:
    actor = _actor(request)
    segment = _segment(segment_id) if segment_id else None
    if request.method == "GET":
        return render(request, "segments/builder.html", _builder_context(actor, segment.rule if segment else None,
                                                                         segment))
    actor = _actor(request, "segments:write")
    data: dict[str, Any] = {"name": request.POST.get("name", ""), "description": request.POST.get("description", "")}
    try:
        data["rule"] = _rule_from_post(request)
        every = request.POST.get("refresh_every_minutes", "60").strip() or "0"
        data["refresh_every_minutes"] = int(every) if every.isdigit() else every
        saved = services.save_segment(data, actor=actor, segment=segment)
        services.refresh(saved)
    except DomainValidationError as exc:
        context = _builder_context(actor, data.get("rule"), segment, errors=exc.errors, name=data["name"])
        return render(request, "segments/builder.html", context, status=422)
    messages.success(request, _("Segment saved: %(count)s members.") % {"count": saved.member_count})
    return redirect("segments:detail", saved.pk)


@login_required
@require_http_methods(["POST"])
def preview(request: HttpRequest) -> HttpResponse:
    """htmx: the live count and a sample for the rule being edited."""
    actor = _actor(request)
    try:
        rule = _rule_from_post(request)
        context = {"count": selectors.count(actor, rule), "sample": selectors.sample(actor, rule),
                   "rule_json": json.dumps(rule, ensure_ascii=False, indent=2)}
    except DomainValidationError as exc:
        context = {"errors": exc.errors}
    return render(request, "segments/_preview.html", context)


@login_required
def detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    actor = _actor(request)
    segment = _segment(segment_id)
    members = selectors.members(actor, segment).order_by("pk")[:100]
    recent = segment.changes.select_related("customer").order_by("-at", "-id")[:20]
    return render(request, "segments/detail.html", {
        "segment": segment, "members": members, "changes": recent,
        "rule_json": json.dumps(segment.rule, ensure_ascii=False, indent=2),
        "can_write": actor.has_scope("segments:write"), "can_export": actor.has_scope("export"),
        "visible_count": selectors.members(actor, segment).count(),
    })


@login_required
@require_http_methods(["POST"])
def refresh(request: HttpRequest, segment_id: int) -> HttpResponse:
    _actor(request, "segments:write")
    segment = _segment(segment_id)
    joined, left = services.refresh(segment)
    messages.success(request, _("Refreshed: %(joined)s entered, %(left)s left.") % {"joined": joined, "left": left})
    return redirect("segments:detail", segment.pk)


@login_required
def export(request: HttpRequest, segment_id: int) -> StreamingHttpResponse:
    actor = _actor(request, "export")
    segment = _segment(segment_id)
    response = StreamingHttpResponse(selectors.export_rows(actor, segment), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    return response


