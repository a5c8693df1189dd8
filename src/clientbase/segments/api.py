"""Segment endpoints: CRUD, live count of any rule, materialised members, refresh, export."""

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Status

from clientbase.api import require
from clientbase.core.pagination import paginate_by_id
from clientbase.segments import selectors, services
from clientbase.segments.models import Segment
from clientbase.segments.schemas import CountOut, MemberPage, RefreshOut, RuleIn, SegmentIn, SegmentOut

router = Router(tags=["segments"])


def member_out(customer: Any) -> dict[str, Any]:
    return {"id": customer.pk, "display_name": customer.display_name, "city": customer.city}


@router.post("/segments/count", response=CountOut, summary="Count and sample the customers a rule selects now")
def count_rule(request: HttpRequest, payload: RuleIn) -> dict[str, Any]:
    actor = require(request, "customers:read")
    return {"count": selectors.count(actor, payload.rule),
            "sample": [member_out(c) for c in selectors.sample(actor, payload.rule)]}


@router.get("/segments", response=list[SegmentOut], summary="Saved segments")
def list_segments(request: HttpRequest) -> list[Segment]:
    require(request, "customers:read")
    return list(Segment.objects.all())


@router.post("/segments", response={201: SegmentOut}, summary="Save a segment (the rule is validated)")
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status[Segment]:
    actor = require(request, "segments:write")
    return Status(201, services.save_segment(payload.model_dump(exclude_unset=True), actor=actor))


@router.get("/segments/{segment_id}", response=SegmentOut, summary="A segment")
def get_segment(request: HttpRequest, segment_id: int) -> Segment:
    require(request, "customers:read")
    return selectors.access_segment(segment_id)


@router.patch("/segments/{segment_id}", response=SegmentOut, summary="Change a segment")
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentIn) -> Segment:
    actor = require(request, "segments:write")
    segment = selectors.access_segment(segment_id)
    return services.save_segment(payload.model_dump(exclude_unset=True), actor=actor, segment=segment)


@router.delete("/segments/{segment_id}", response={204: None}, summary="Delete a segment")
def delete_segment(request: HttpRequest, segment_id: int) -> Status[None]:
    require(request, "segments:write")
    selectors.access_segment(segment_id).delete()
    return Status(204, None)


@router.get("/segments/{segment_id}/count", response=CountOut, summary="Live count of a saved segment's rule")
def count_segment(request: HttpRequest, segment_id: int) -> dict[str, Any]:
    actor = require(request, "customers:read")
    rule = selectors.access_segment(segment_id).rule
    return {"count": selectors.count(actor, rule), "sample": [member_out(c) for c in selectors.sample(actor, rule)]}


@router.get("/segments/{segment_id}/members", response=MemberPage, summary="Members as of the last refresh")
def segment_members(request: HttpRequest, segment_id: int, cursor: str | None = None,
                    limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    actor = require(request, "customers:read")
    page = paginate_by_id(selectors.members(actor, selectors.access_segment(segment_id)), cursor, limit)
    return {"items": [member_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/segments/{segment_id}/refresh", response=RefreshOut, summary="Materialise membership now")
def refresh_segment(request: HttpRequest, segment_id: int) -> dict[str, Any]:
    require(request, "segments:write")
    segment = selectors.access_segment(segment_id)
    joined, left = services.refresh(segment)
    return {"joined": joined, "left": left, "member_count": segment.member_count}


@router.get("/segments/{segment_id}/export.csv", summary="Export members as CSV (needs the export permission)")
def export_members(request: HttpRequest, segment_id: int) -> StreamingHttpResponse:
    actor = require(request, "export")
    segment = selectors.access_segment(segment_id)
    response = StreamingHttpResponse(selectors.export_rows(actor, segment), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    return response
