"""The rule builder form: rows of (field, op, value) joined by all/any, to and from rule JSON.

Pure translation, no ORM: what a row means is decided by rules.parse like any other rule,
so the builder cannot express anything the API would not accept.
"""

import json
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clientbase.segments import rules

SPECIAL_FIELDS = {
    "tag": "tag", "identifier": "identifier", "birthday_within_days": "birthday_within_days",
    "no_contact_days": "no_contact_days",
}

# What the builder's drop-downs show; the option values stay the raw rule keys.
FIELD_LABELS: dict[str, Promise] = {
    "kind": _("Customer type"), "first_name": _("First name"), "last_name": _("Last name"),
    "middle_name": _("Middle name"), "legal_name": _("Legal name"), "business_type": _("Business type"),
    "city": _("City"), "time_zone": _("Time zone"), "gender": _("Gender"), "family_status": _("Family status"),
    "preferred_channel": _("Preferred channel"), "birth_date": _("Date of birth"), "age": _("Age"),
    "created_at": _("Added on"), "figures.orders": _("Purchases"), "figures.abandoned": _("Abandoned carts"),
    "figures.items": _("Items bought"), "figures.total_spend": _("Total spend, kopecks"),
    "figures.average_check": _("Average check, kopecks"), "figures.returns": _("Returns"),
    "figures.returns_amount": _("Returns amount, kopecks"), "figures.profit": _("Profit, kopecks"),
    "figures.visit_days": _("Visit days"), "figures.first_purchase_at": _("First purchase"),
    "figures.last_purchase_at": _("Last purchase"), "figures.frequency": _("Purchase frequency"),
    "score.probability_alive": _("Probability active"), "score.clv": _("Lifetime value (LTV), kopecks"),
    "score.expected_purchases_90": _("Expected purchases in 90 days"), "score.next_purchase_at": _("Next visit"),
    "score.segment": _("RFM segment"), "score.recency_score": _("Recency score (R)"),
    "score.frequency_score": _("Frequency score (F)"), "score.monetary_score": _("Monetary score (M)"),
    "loyalty.balance": _("Points balance"), "loyalty.tier": _("Loyalty tier"),
    "tag": _("Tag"), "identifier": _("Identifier"), "birthday_within_days": _("Birthday within, days"),
    "no_contact_days": _("No contact for, days"),
}

OP_LABELS: dict[str, Promise] = {
    "eq": _("equals"), "ne": _("does not equal"), "in": _("is one of"), "not_in": _("is none of"),
    "contains": _("contains"), "starts_with": _("starts with"), "is_set": _("is filled in"),
    "is_not_set": _("is empty"), "gt": _("greater than"), "gte": _("at least"), "lt": _("less than"),
    "lte": _("at most"), "between": _("between"), "within_last_days": _("within the last N days"),
    "older_than_days": _("more than N days ago"), "within_next_days": _("within the next N days"),
    "has": _("includes"), "has_not": _("does not include"), "is": _("is"),
}


def field_label(field: str) -> str:
    if field.startswith("custom."):
        return f"{_('Custom field')}: {field.removeprefix('custom.')}"
    return str(FIELD_LABELS.get(field, field))


def labelled(keys: list[str], labels: dict[str, Promise] | None = None) -> list[tuple[str, str]]:
    """(value, label) pairs for an <option> list: fields when labels is None, else ops."""
    if labels is None:
        return [(key, field_label(key)) for key in keys]
    return [(key, str(labels.get(key, key))) for key in keys]


def field_choices(custom_fields: dict[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    return [*rules.BUILTIN_FIELDS, *(f"custom.{k}" for k in custom_fields), *SPECIAL_FIELDS]


def ops_for(field: str, custom_fields: dict[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    if field in SPECIAL_FIELDS:
        return ["is"]
    if field.startswith("custom."):
        ftype = custom_fields.get(field.removeprefix("custom."), ("text", ()))[0]
    else:
        ftype = rules.BUILTIN_FIELDS.get(field, ("text", None))[0]
    return sorted(rules.OPS_BY_TYPE[ftype])


def _value(raw: str, op: str) -> Any:
    """Values are typed as JSON when they parse (numbers, lists, true), else taken as text."""
    raw = raw.strip()
    if op in {"is_set", "is_not_set"}:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        if op in {"in", "not_in", "between"}:
            return [part.strip() for part in raw.split(",") if part.strip()]
        return raw


def rule_from_rows(combinator: str, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    for field, op, raw in rows:
        if not field:
            continue
        if field in SPECIAL_FIELDS:
            value = _value(raw, "eq")
            conditions.append({SPECIAL_FIELDS[field]: value})
            continue
        condition: dict[str, Any] = {"field": field, "op": op}
        value = _value(raw, op)
        if value is not None:
            condition["value"] = value
        conditions.append(condition)
    return {"all" if combinator != "any" else "any": conditions}


def rows_from_rule(rule: Any) -> tuple[str, list[tuple[str, str, str]]] | None:
    """The rows for a flat rule, or None when it nests (then only the JSON editor shows it)."""
    if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("all", "any"):
        return None
    combinator = next(iter(rule))
    rows = []
    for item in rule[combinator]:
        if not isinstance(item, dict):
            return None
        if "field" in item:
            value = item.get("value")
            rows.append((item["field"], item.get("op", ""), "" if value is None else
                         (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))))
        elif len(item) == 1 and next(iter(item)) in SPECIAL_FIELDS:
            key = next(iter(item))
            value = item[key]
            rows.append((key, "is", value if isinstance(value, str) else json.dumps(value)))
        else:
            return None
    return combinator, rows
