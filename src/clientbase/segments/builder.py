"""The rule builder form: rows of (field, op, value) joined by all/any, to and from rule JSON.

Pure translation, no ORM: what a row means is decided by rules.parse like any other rule,
so the builder cannot express anything the API would not accept.
"""

import json
from typing import Any

from clientbase.segments import rules

SPECIAL_FIELDS = {
    "tag": "tag", "identifier": "identifier", "birthday_within_days": "birthday_within_days",
    "no_contact_days": "no_contact_days",
}


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
