from typing import Any

from clientbase.access.actor import SYSTEM, Actor
from clientbase.customers.models import Customer
from clientbase.customers.services import create_customer


def make_customer(*, phone: str | None = "+79161234567", actor: Actor = SYSTEM, team_id: int | None = None,
                  **fields: Any) -> Customer:
    data: dict[str, Any] = {"first_name": "Иван", "last_name": "Петров", **fields}
    if phone:
        data.setdefault("identifiers", []).append({"kind": "phone", "value": phone})
    if team_id is not None:
        data["team_id"] = team_id
    return create_customer(data, actor=actor, source="test")
