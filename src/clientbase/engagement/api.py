"""Engagement endpoints: a customer's messages, staff tasks, templates with preview, campaigns."""

from django.http import HttpRequest
from ninja import Router, Status

from clientbase.api import require
from clientbase.core.errors import NotFound
from clientbase.customers.selectors import access_customer
from clientbase.engagement import campaigns, rendering, selectors, services
from clientbase.engagement.models import Campaign, Message, MessageTemplate, Task
from clientbase.engagement.schemas import (
    CampaignIn,
    CampaignResultOut,
    MessageIn,
    MessageOut,
    PreviewOut,
    TaskIn,
    TaskOut,
    TemplateIn,
    TemplateOut,
)

router = Router(tags=["engagement"])


def message_out(message: Message) -> dict[str, object]:
    fields = ("id", "customer_id", "channel", "kind", "status", "subject", "body", "due_at", "sent_at",
              "attempts", "source", "last_error")
    return {**{f: getattr(message, f) for f in fields}, "decisions": list(message.decisions.all())}


@router.get("/engagement/customers/{customer_id}/messages", response=list[MessageOut])
def customer_messages(request: HttpRequest, customer_id: int) -> list[dict[str, object]]:
    customer = access_customer(require(request, "customers:read"), customer_id)
    return [message_out(m) for m in selectors.customer_messages(customer, limit=100)]


@router.post("/engagement/customers/{customer_id}/messages", response={201: MessageOut})
def send_message(request: HttpRequest, customer_id: int, payload: MessageIn) -> Status:
    actor = require(request, "customers:write")
    message = services.send_message(actor, customer_id, body=payload.body, subject=payload.subject,
                                    channel=payload.channel, kind=payload.kind,
                                    idempotency_key=payload.idempotency_key)
    return Status(201, message_out(message))


@router.get("/engagement/tasks", response=list[TaskOut])
def my_tasks(request: HttpRequest, status: str = "open") -> list[Task]:
    actor = require(request, "customers:read")
    return list(selectors.visible_tasks(actor).filter(assignee_id=actor.user_id, status=status)
                .order_by("due_at", "pk")[:500])


@router.post("/engagement/tasks", response={201: TaskOut})
def create_task(request: HttpRequest, payload: TaskIn) -> Status:
    actor = require(request, "customers:write")
    customer = access_customer(actor, payload.customer_id, write=True)
    task = services.create_task(customer, kind=payload.kind, title=payload.title, due_at=payload.due_at,
                                actor=actor, assignee_id=payload.assignee_id, gift=payload.gift)
    return Status(201, task)


@router.post("/engagement/tasks/{task_id}/done", response=TaskOut)
def finish_task(request: HttpRequest, task_id: int) -> Task:
    return services.finish_task(require(request, "customers:write"), task_id)


@router.put("/engagement/templates", response=TemplateOut)
def save_template(request: HttpRequest, payload: TemplateIn) -> MessageTemplate:
    return services.save_template(payload.dict(), actor=require(request, "customers:write"))


@router.get("/engagement/templates/{template_id}/preview", response=PreviewOut)
def preview_template(request: HttpRequest, template_id: int, customer_id: int) -> dict[str, str]:
    actor = require(request, "customers:read")
    customer = access_customer(actor, customer_id)
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound(f"Template #{template_id}")
    rendered = rendering.preview(template, customer.pk)
    return {"subject": rendered.subject, "body": rendered.body}


@router.post("/engagement/campaigns", response={201: CampaignResultOut})
def start_campaign(request: HttpRequest, payload: CampaignIn) -> Status:
    """Send to a segment's members (as of its last refresh) or to listed customers, with a hold-out."""
    actor = require(request, "customers:write")
    if payload.segment_id is not None:
        from clientbase.segments import selectors as segment_selectors

        segment = segment_selectors.access_segment(payload.segment_id)
        ids = list(segment_selectors.members(actor, segment).values_list("pk", flat=True))
    else:
        from clientbase.customers.selectors import visible_customers

        ids = list(visible_customers(actor).filter(pk__in=payload.customer_ids).values_list("pk", flat=True))
    campaign = campaigns.start_campaign(name=payload.name, template_key=payload.template_key, customer_ids=ids,
                                        holdout_percent=payload.holdout_percent, seed=payload.seed,
                                        conversion_days=payload.conversion_days)
    return Status(201, campaigns.results(campaign))


@router.get("/engagement/campaigns/{campaign_id}/results", response=CampaignResultOut)
def campaign_results(request: HttpRequest, campaign_id: int) -> dict[str, float | int | None]:
    require(request, "orders:read")
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"Campaign #{campaign_id}")
    return campaigns.results(campaign)
