"""Merge, unmerge and the review queue over the API. Thin: access check, then one service call."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from clientbase.api import require
from clientbase.core.errors import NotFound, PermissionDenied
from clientbase.customers.selectors import access_customer
from clientbase.identity import selectors
from clientbase.identity.consents import current_rows
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Merge, ReviewCase
from clientbase.identity.reviews import resolve_review
from clientbase.identity.unmerge import unmerge

router = Router(tags=["identity"])


class MergeIn(Schema):
    absorbed_id: int
    reason: str = ""


class MergeOut(Schema):
    id: int
    survivor_id: int
    absorbed_id: int
    at: datetime
    reason: str
    moved: dict[str, list[int]]
    overwritten: dict[str, Any]
    unmerged_at: datetime | None


class ReviewOut(Schema):
    id: int
    customer_a_id: int
    customer_b_id: int
    reason: str
    evidence: dict[str, Any]
    status: str
    created_at: datetime
    merge_id: int | None


class ConsentOut(Schema):
    channel: str
    status: str
    at: datetime
    source: str


class ResolveIn(Schema):
    action: str


@router.post("/customers/{customer_id}/merge", response={201: MergeOut},
             summary="Merge another customer into this one (this one survives)")
def merge(request: HttpRequest, customer_id: int, payload: MergeIn) -> Status[Merge]:
    actor = require(request, "customers:write")
    survivor = access_customer(actor, customer_id)
    absorbed = access_customer(actor, payload.absorbed_id)
    return Status(201, merge_customers(survivor, absorbed, actor=actor, reason=payload.reason or "manual"))


@router.get("/customers/{customer_id}/consents", response=list[ConsentOut],
            summary="The current consent choice per channel (granted, denied, unsubscribed) and where it came from")
def consents(request: HttpRequest, customer_id: int) -> list[Any]:
    customer = access_customer(require(request, "customers:read"), customer_id)
    return list(current_rows(customer.pk).values())


@router.get("/customers/{customer_id}/merges", response=list[MergeOut], summary="Merge history of a customer")
def merges(request: HttpRequest, customer_id: int) -> list[Merge]:
    actor = require(request, "customers:read")
    return list(selectors.merge_history(access_customer(actor, customer_id)))


@router.post("/merges/{merge_id}/unmerge", response=MergeOut, summary="Undo a merge (admins)")
def undo(request: HttpRequest, merge_id: int) -> Merge:
    actor = require(request, "admin")
    record = Merge.objects.filter(pk=merge_id).first()
    if record is None:
        raise NotFound(f"Merge #{merge_id}")
    access_customer(actor, record.survivor_id)
    return unmerge(record, actor=actor)


@router.get("/identity/reviews", response=list[ReviewOut], summary="Pairs waiting for a merge decision")
def reviews(request: HttpRequest, status: str = "open") -> list[ReviewCase]:
    actor = require(request, "customers:read")
    return list(selectors.review_queue(actor, status=status)[:500])


@router.post("/identity/reviews/{review_id}/resolve", response=ReviewOut,
             summary="Decide a review case: merge or keep_apart")
def resolve(request: HttpRequest, review_id: int, payload: ResolveIn) -> ReviewCase:
    actor = require(request, "customers:write")
    if actor.role not in {"admin", "marketer"}:
        raise PermissionDenied("Only admins and marketers decide merges.")
    case = selectors.review_queue(actor).filter(pk=review_id).first()
    if case is None:
        raise NotFound(f"Review #{review_id}")
    return resolve_review(case, payload.action, actor=actor)
