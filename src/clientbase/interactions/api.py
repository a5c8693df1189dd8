"""Event ingest, the dialog timeline and channel webhooks over the API."""

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from clientbase.api import require
from clientbase.core.errors import DomainValidationError
from clientbase.customers.selectors import access_customer
from clientbase.interactions import selectors, webhooks
from clientbase.interactions.ingest import IngestReport, ingest_events

router = Router(tags=["events"])
webhook_router = Router(tags=["webhooks"], auth=None)


def _body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainValidationError.single("", f"The body is not JSON: {exc}") from exc


def report_out(report: IngestReport) -> dict[str, Any]:
    return {"counts": report.counts(), "results": [r.as_dict() for r in report.results]}


@router.post("/events", summary="Ingest one event or {\"events\": [...]} (up to 10,000)",
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})
def post_events(request: HttpRequest) -> dict[str, Any]:
    actor = require(request, "events:write")
    body = _body(request)
    if isinstance(body, dict) and "events" in body:
        if not isinstance(body["events"], list):
            raise DomainValidationError.single("events", "Must be a list of events.")
        events = body["events"]
    else:
        events = [body]
    return report_out(ingest_events(events, actor=actor))


@router.get("/customers/{customer_id}/timeline", summary="Messages and calls of every channel, newest first")
def timeline(request: HttpRequest, customer_id: int, limit: int = Query(100, ge=1, le=500),
             before: datetime | None = None, channel: str | None = None) -> list[dict[str, Any]]:
    actor = require(request, "customers:read")
    customer = access_customer(actor, customer_id)
    return [asdict(item) for item in selectors.dialog_timeline(customer, limit=limit, before=before,
                                                               channel=channel)]


@webhook_router.post("/webhooks/telegram/{key}", summary="Telegram Bot API webhook (secret_token header)")
def telegram(request: HttpRequest, key: str) -> dict[str, Any]:
    secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    return report_out(webhooks.receive_telegram(key, secret, _body(request)))


@webhook_router.post("/webhooks/json/{key}", summary="Generic JSON webhook mapped by its configuration")
def generic(request: HttpRequest, key: str) -> dict[str, Any]:
    return report_out(webhooks.receive_generic(key, request.headers.get("X-Clientbase-Secret"), _body(request)))


router.add_router("/", webhook_router)
