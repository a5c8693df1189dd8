from datetime import datetime

from ninja import Schema


class DecisionOut(Schema):
    at: datetime
    action: str
    reason: str


class MessageOut(Schema):
    id: int
    customer_id: int
    channel: str
    kind: str
    status: str
    subject: str
    body: str
    due_at: datetime
    sent_at: datetime | None
    attempts: int
    source: str
    last_error: str
    decisions: list[DecisionOut]


class MessageIn(Schema):
    body: str
    subject: str = ""
    channel: str = ""
    kind: str = "transactional"
    idempotency_key: str


class TaskIn(Schema):
    customer_id: int
    kind: str
    title: str
    due_at: datetime
    assignee_id: int | None = None
    gift: str = ""


class TaskOut(Schema):
    id: int
    customer_id: int
    kind: str
    title: str
    gift: str
    due_at: datetime
    assignee_id: int | None
    status: str
    source: str


class TemplateIn(Schema):
    key: str
    channel: str
    language: str = "ru"
    subject: str = ""
    body: str


class TemplateOut(Schema):
    id: int
    key: str
    channel: str
    language: str
    subject: str
    body: str


class PreviewOut(Schema):
    subject: str
    body: str


class CampaignIn(Schema):
    name: str
    template_key: str
    customer_ids: list[int] = []
    segment_id: int | None = None
    holdout_percent: int = 10
    seed: int = 0
    conversion_days: int = 14


class CampaignResultOut(Schema):
    campaign_id: int
    treated: int
    holdout: int
    delivered: int
    opened: int
    clicked: int
    converted_treated: int
    converted_holdout: int
    revenue_per_treated: float
    revenue_per_holdout: float
    incremental_revenue: float
    ci_low: float | None
    ci_high: float | None
