import datetime as dt
from typing import Any

from ninja import Schema


class ScoreOut(Schema):
    customer_id: int
    model_version: str
    computed_at: dt.datetime
    frequency: int
    recency: float
    age: float
    monetary: float
    expected_purchases_90: float
    probability_alive: float
    expected_average_spend: float
    clv: float
    next_purchase_at: dt.date | None
    next_purchase_low: dt.date | None
    next_purchase_high: dt.date | None
    next_purchase_method: str
    recency_score: int
    frequency_score: int
    monetary_score: int
    segment: str
    frequency_class: str
    why: str


class ScorePage(Schema):
    items: list[ScoreOut]
    next_cursor: str | None


class RunOut(Schema):
    version: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    observation_end: dt.date
    customers: int
    transactions: int
    params: dict[str, Any]
    timings: dict[str, Any]
    calibration: dict[str, Any]


class AggregatesOut(Schema):
    revenue: dict[str, Any]
    cohorts: dict[str, Any]
    attrition: dict[str, Any]
    rfm: dict[str, Any]
    distributions: dict[str, Any]


class RankingRow(Schema):
    customer_id: int
    name: str
    profit: int
    total_spend: int
    orders: int
    clv: float | None
    segment: str
