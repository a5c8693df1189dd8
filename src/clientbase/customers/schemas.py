"""API shapes of customer profiles."""

import datetime as dt
from typing import Any

from ninja import Schema


class IdentifierIn(Schema):
    kind: str
    value: str
    verified: bool = False
    label: str = ""


class IdentifierOut(Schema):
    id: int
    kind: str
    value: str
    verified: bool
    label: str
    source: str


class ImportantDateIn(Schema):
    kind: str
    date: str
    who: str = "self"
    note: str = ""


class ImportantDateOut(Schema):
    id: int
    kind: str
    who: str
    date: dt.date
    note: str


class ContactWindow(Schema):
    days: list[int]
    from_time: str | None
    to_time: str | None
    time_zone: str


class CustomerOut(Schema):
    id: int
    kind: str
    display_name: str
    first_name: str
    middle_name: str
    last_name: str
    birth_date: dt.date | None
    gender: str
    family_status: str
    children: list[dict[str, Any]]
    hobbies: str
    lifestyle: str
    favourite_team: str
    preferences: dict[str, Any]
    motivation: str
    legal_name: str
    registration_number: str
    registration_details: str
    business_type: str
    address: str
    city: str
    time_zone: str
    notes: str
    preferred_channel: str
    channel_order: list[str]
    contact_window: ContactWindow
    custom: dict[str, Any]
    tags: list[str]
    identifiers: list[IdentifierOut]
    important_dates: list[ImportantDateOut]
    owner: str | None
    team_id: int | None
    merged_into: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class ChangeOut(Schema):
    id: int
    field: str
    old_value: Any
    new_value: Any
    user: str | None
    token: str | None
    channel: str
    source: str
    at: dt.datetime


class CustomFieldIn(Schema):
    key: str
    label: str = ""
    type: str
    required: bool = False
    choices: list[str] = []
    applies_to: str = ""
    position: int = 0


class CustomFieldOut(Schema):
    id: int
    key: str
    label: str
    type: str
    required: bool
    choices: list[str]
    applies_to: str
    position: int


class ContactPersonIn(Schema):
    person_id: int
    role: str
    title: str = ""


class CustomerIn(Schema):
    """Profile fields to set; on PATCH only the fields sent are changed. Values are validated by the service,
    so a bad one comes back as ``{"path": "birth_date", "message": …}``."""

    model_config = {"extra": "forbid"}

    kind: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    family_status: str | None = None
    children: list[dict[str, Any]] | None = None
    hobbies: str | None = None
    lifestyle: str | None = None
    favourite_team: str | None = None
    preferences: dict[str, Any] | None = None
    motivation: str | None = None
    legal_name: str | None = None
    registration_number: str | None = None
    registration_details: str | None = None
    business_type: str | None = None
    address: str | None = None
    city: str | None = None
    time_zone: str | None = None
    notes: str | None = None
    preferred_channel: str | None = None
    channel_order: list[str] | None = None
    contact_days: list[int] | None = None
    contact_from: str | None = None
    contact_to: str | None = None
    custom: dict[str, Any] | None = None
    tags: list[str] | None = None
    team_id: int | None = None
    identifiers: list[IdentifierIn] | None = None
    important_dates: list[ImportantDateIn] | None = None
