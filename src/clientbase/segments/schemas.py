import datetime as dt
from typing import Any

from ninja import Schema


class RuleIn(Schema):
    rule: dict[str, Any]


class SegmentIn(Schema):
    model_config = {"extra": "forbid"}

    name: str | None = None
    description: str | None = None
    rule: dict[str, Any] | None = None
    refresh_every_minutes: int | None = None


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    rule: dict[str, Any]
    refresh_every_minutes: int
    refreshed_at: dt.datetime | None
    member_count: int


class MemberOut(Schema):
    id: int
    display_name: str
    city: str


class CountOut(Schema):
    count: int
    sample: list[MemberOut]


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class RefreshOut(Schema):
    joined: int
    left: int
    member_count: int
