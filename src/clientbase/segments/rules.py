"""The segment rule language (R6.1): JSON parsed into a small typed tree. Pure: no ORM here.

A rule is a node::

    {"all": [node, ...]}  {"any": [node, ...]}  {"not": node}
    {"field": "city", "op": "in", "value": ["Москва", "Казань"]}
    {"tag": "vip"}                                   has the tag
    {"identifier": "email"}                          has an identifier of that kind
    {"consent": "email", "status": "granted"}        current consent on a channel
    {"birthday_within_days": 7}                      own birthday in the next N days (today included)
    {"important_date": "anniversary", "within_days": 14}
    {"near_city": "Москва", "km": 200}               lives in a known city within N km
    {"purchases": {"min_count": 3, "days": 30, "category": "coffee"}}   orders in the last D days
    {"no_contact_days": 30}                          no event of any kind in the last D days
    {"segment": 12}                                  member of another (materialised) segment

Faults are reported with the JSON path of the offending part (``rule.all.1.op``).
"""

import math
from dataclasses import dataclass
from typing import Any

from clientbase.core.errors import DomainValidationError
from clientbase.customers import rules as profile
from clientbase.identity.rules import IDENTIFIER_KINDS

TEXT_OPS = {"eq", "ne", "in", "not_in", "contains", "starts_with", "is_set", "is_not_set"}
NUMBER_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "is_set", "is_not_set"}
DATE_OPS = NUMBER_OPS - {"in"} | {"within_last_days", "older_than_days", "within_next_days"}
CHOICE_OPS = {"eq", "ne", "in", "not_in", "is_set", "is_not_set"}
MULTI_OPS = {"has", "has_not", "is_set", "is_not_set"}
OPS_BY_TYPE = {"text": TEXT_OPS, "number": NUMBER_OPS, "date": DATE_OPS, "datetime": DATE_OPS,
               "choice": CHOICE_OPS, "bool": {"eq"}, "multi_choice": MULTI_OPS}

# Built-in fields: name -> (type, allowed choices or None). Stored in customers, sales figures,
# analytics scores and loyalty accounts; segments/compiler.py says where each one lives.
BUILTIN_FIELDS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "kind": ("choice", profile.KINDS),
    "first_name": ("text", None), "last_name": ("text", None), "middle_name": ("text", None),
    "legal_name": ("text", None), "business_type": ("text", None),
    "city": ("text", None), "time_zone": ("text", None),
    "gender": ("choice", profile.GENDERS),
    "family_status": ("choice", profile.FAMILY_STATUSES),
    "preferred_channel": ("choice", ("", *profile.CHANNELS)),
    "birth_date": ("date", None), "age": ("number", None), "created_at": ("datetime", None),
    "figures.orders": ("number", None), "figures.abandoned": ("number", None),
    "figures.items": ("number", None), "figures.total_spend": ("number", None),
    "figures.average_check": ("number", None), "figures.returns": ("number", None),
    "figures.returns_amount": ("number", None), "figures.profit": ("number", None),
    "figures.visit_days": ("number", None),
    "figures.first_purchase_at": ("datetime", None), "figures.last_purchase_at": ("datetime", None),
    "figures.frequency": ("choice", ("", "one_off", "rare", "regular")),
    "score.probability_alive": ("number", None), "score.clv": ("number", None),
    "score.expected_purchases_90": ("number", None), "score.next_purchase_at": ("date", None),
    "score.segment": ("choice", ("champions", "loyal", "potential_loyalist", "new", "promising",
                                 "need_attention", "about_to_sleep", "at_risk", "cannot_lose", "hibernating",
                                 "lost")),
    "score.recency_score": ("number", None), "score.frequency_score": ("number", None),
    "score.monetary_score": ("number", None),
    "loyalty.balance": ("number", None), "loyalty.tier": ("choice", None),
}

# Coordinates of the cities the "near_city" condition knows (degrees).
CITY_COORDINATES: dict[str, tuple[float, float]] = {
    "Москва": (55.756, 37.617), "Санкт-Петербург": (59.939, 30.316), "Казань": (55.796, 49.106),
    "Екатеринбург": (56.838, 60.597), "Новосибирск": (55.030, 82.920), "Нижний Новгород": (56.327, 44.006),
    "Самара": (53.195, 50.100), "Ростов-на-Дону": (47.222, 39.718), "Краснодар": (45.035, 38.975),
    "Воронеж": (51.672, 39.184), "Пермь": (58.010, 56.229), "Уфа": (54.735, 55.958),
    "Челябинск": (55.160, 61.403), "Омск": (54.989, 73.368), "Красноярск": (56.010, 92.852),
    "Тверь": (56.859, 35.912), "Ярославль": (57.626, 39.894), "Тула": (54.193, 37.618),
    "Владимир": (56.129, 40.407), "Рязань": (54.630, 39.742), "Калуга": (54.514, 36.261),
    "Сочи": (43.585, 39.723), "Владивосток": (43.115, 131.885), "Иркутск": (52.287, 104.305),
    "Тюмень": (57.153, 65.534), "Саратов": (51.534, 46.034), "Волгоград": (48.708, 44.513),
    "Калининград": (54.710, 20.511), "Мурманск": (68.970, 33.075), "Великий Новгород": (58.522, 31.270),
}

MAX_DAYS = 3660
MAX_DEPTH = 12


@dataclass(frozen=True)
class Group:
    kind: str  # "all" | "any"
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    child: "Node"


@dataclass(frozen=True)
class FieldCondition:
    field: str
    type: str
    op: str
    value: Any


@dataclass(frozen=True)
class Special:
    """A condition of its own shape: tag, identifier, consent, birthday, near_city, purchases, … ."""

    kind: str
    args: dict[str, Any]


Node = Group | Not | FieldCondition | Special


def fail(path: str, message: str) -> DomainValidationError:
    return DomainValidationError.single(path, message)


def parse(rule: Any, *, custom_fields: dict[str, tuple[str, tuple[str, ...]]] | None = None,
          path: str = "rule", depth: int = 0) -> Node:
    """Parse and validate a rule; ``custom_fields`` maps key -> (type, choices) of defined custom fields."""
    custom_fields = custom_fields or {}
    if depth > MAX_DEPTH:
        raise fail(path, f"Rules nest at most {MAX_DEPTH} levels deep.")
    if not isinstance(rule, dict) or not rule:
        raise fail(path, "A rule is a non-empty JSON object.")
    for group in ("all", "any"):
        if group in rule:
            _only_keys(rule, {group}, path)
            items = rule[group]
            if not isinstance(items, list) or not items:
                raise fail(f"{path}.{group}", "Must be a non-empty list of rules.")
            return Group(group, tuple(parse(item, custom_fields=custom_fields, path=f"{path}.{group}.{i}",
                                            depth=depth + 1) for i, item in enumerate(items)))
    if "not" in rule:
        _only_keys(rule, {"not"}, path)
        return Not(parse(rule["not"], custom_fields=custom_fields, path=f"{path}.not", depth=depth + 1))
    if "field" in rule:
        return _parse_field(rule, custom_fields, path)
    return _parse_special(rule, path)


def _only_keys(rule: dict[str, Any], allowed: set[str], path: str) -> None:
    extra = sorted(set(rule) - allowed)
    if extra:
        raise fail(f"{path}.{extra[0]}", "Unexpected key here.")


def _parse_field(rule: dict[str, Any], custom_fields: dict[str, tuple[str, tuple[str, ...]]],
                 path: str) -> FieldCondition:
    _only_keys(rule, {"field", "op", "value"}, path)
    name = rule["field"]
    if not isinstance(name, str):
        raise fail(f"{path}.field", "Must be a field name.")
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        if key not in custom_fields:
            raise fail(f"{path}.field", f"No custom field {key!r} is defined.")
        ftype, choices = custom_fields[key]
        ftype = "number" if ftype == "number" else ftype
        allowed: tuple[str, ...] | None = choices or None
    elif name in BUILTIN_FIELDS:
        ftype, allowed = BUILTIN_FIELDS[name]
    else:
        raise fail(f"{path}.field", f"Unknown field {name!r}.")
    op = rule.get("op")
    if op not in OPS_BY_TYPE[ftype]:
        raise fail(f"{path}.op", f"{op!r} does not apply to a {ftype} field; use one of "
                                 f"{', '.join(sorted(OPS_BY_TYPE[ftype]))}.")
    value = _parse_value(ftype, op, rule.get("value"), allowed, f"{path}.value")
    return FieldCondition(name, ftype, op, value)


def _parse_value(ftype: str, op: str, value: Any, allowed: tuple[str, ...] | None, path: str) -> Any:
    import datetime as dt

    if op in {"is_set", "is_not_set"}:
        return None
    if op in {"within_last_days", "older_than_days", "within_next_days"}:
        return _days(value, path)
    if op in {"in", "not_in"}:
        if not isinstance(value, list) or not value:
            raise fail(path, "Must be a non-empty list.")
        return tuple(_parse_value(ftype, "eq", v, allowed, f"{path}.{i}") for i, v in enumerate(value))
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise fail(path, "Must be a list of two bounds [low, high].")
        low, high = (_parse_value(ftype, "eq", v, allowed, f"{path}.{i}") for i, v in enumerate(value))
        if low > high:
            raise fail(path, "The low bound is above the high bound.")
        return (low, high)
    if ftype == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise fail(path, "Must be a number.")
        return value
    if ftype in {"date", "datetime"}:
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else _raise()
        except ValueError:
            raise fail(path, "Must be a date YYYY-MM-DD.") from None
    if ftype == "bool":
        if not isinstance(value, bool):
            raise fail(path, "Must be true or false.")
        return value
    if not isinstance(value, str):
        raise fail(path, "Must be text.")
    if allowed is not None and ftype in {"choice", "multi_choice"} and value not in allowed:
        raise fail(path, f"{value!r} is not one of {', '.join(repr(a) for a in allowed if a)}.")
    if op in {"contains", "starts_with"} and not value:
        raise fail(path, "Must not be empty.")
    return value


def _raise() -> Any:
    raise ValueError


def _days(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise fail(path, f"Must be a whole number of days from 0 to {MAX_DAYS}.")
    return value


SPECIAL_SHAPES: dict[str, set[str]] = {
    "tag": {"tag"}, "identifier": {"identifier"}, "consent": {"consent", "status"},
    "birthday_within_days": {"birthday_within_days"}, "important_date": {"important_date", "within_days"},
    "near_city": {"near_city", "km"}, "purchases": {"purchases"}, "no_contact_days": {"no_contact_days"},
    "segment": {"segment"},
}


def _parse_special(rule: dict[str, Any], path: str) -> Special:
    kind = next((k for k in SPECIAL_SHAPES if k in rule), None)
    if kind is None:
        raise fail(path, "Expected all, any, not, field or one of: " + ", ".join(SPECIAL_SHAPES) + ".")
    _only_keys(rule, SPECIAL_SHAPES[kind], path)
    at = f"{path}.{kind}"
    value = rule[kind]
    if kind == "tag":
        if not isinstance(value, str) or not value.strip():
            raise fail(at, "Must be a tag name.")
        return Special(kind, {"tag": value.strip().lower()})
    if kind == "identifier":
        kinds = IDENTIFIER_KINDS
        if value not in kinds:
            raise fail(at, f"Must be one of {', '.join(kinds)}.")
        return Special(kind, {"kind": value})
    if kind == "consent":
        status = rule.get("status")
        if status not in ("granted", "denied", "unsubscribed"):
            raise fail(f"{path}.status", "Must be granted, denied or unsubscribed.")
        if not isinstance(value, str) or not value:
            raise fail(at, "Must be a channel.")
        return Special(kind, {"channel": value, "status": status})
    if kind == "birthday_within_days":
        return Special(kind, {"days": _days(value, at)})
    if kind == "important_date":
        if value not in ("birthday", "anniversary", "name_day", "other"):
            raise fail(at, "Must be birthday, anniversary, name_day or other.")
        return Special(kind, {"kind": value, "days": _days(rule.get("within_days"), f"{path}.within_days")})
    if kind == "near_city":
        if value not in CITY_COORDINATES:
            raise fail(at, "Unknown city; known: " + ", ".join(sorted(CITY_COORDINATES)) + ".")
        km = rule.get("km")
        if isinstance(km, bool) or not isinstance(km, int | float) or not 0 <= km <= 20000:
            raise fail(f"{path}.km", "Must be a distance in km from 0 to 20000.")
        return Special(kind, {"cities": tuple(sorted(cities_within(value, float(km))))})
    if kind == "purchases":
        return Special(kind, _parse_purchases(value, at))
    if kind == "no_contact_days":
        return Special(kind, {"days": _days(value, at)})
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(at, "Must be a segment id.")
    return Special(kind, {"segment_id": value})


def _parse_purchases(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(path, "Must be an object {min_count, days, category?}.")
    extra = sorted(set(value) - {"min_count", "days", "category"})
    if extra:
        raise fail(f"{path}.{extra[0]}", "Unexpected key here.")
    count = value.get("min_count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise fail(f"{path}.min_count", "Must be a whole number, 1 or more.")
    category = value.get("category")
    if category is not None and (not isinstance(category, str) or not category):
        raise fail(f"{path}.category", "Must be a category key.")
    return {"min_count": count, "days": _days(value.get("days", 30), f"{path}.days"), "category": category}


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine, Earth radius 6371 km)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def cities_within(city: str, km: float) -> list[str]:
    here = CITY_COORDINATES[city]
    return [name for name, there in CITY_COORDINATES.items() if distance_km(here, there) <= km]


def birthday_keys(today_month: int, today_day: int, days: int) -> list[tuple[int, int]]:
    """The (start, end) month*100+day ranges covering the next ``days`` days; two when the year wraps.

    29 February birthdays count on 1 March in a non-leap year's window (key 229 sits between 228 and 301).
    """
    import datetime as dt

    start = dt.date(2024, today_month, today_day) if (today_month, today_day) == (2, 29) else \
        dt.date(2023, today_month, today_day)
    end = start + dt.timedelta(days=min(days, 365))
    start_key, end_key = start.month * 100 + start.day, end.month * 100 + end.day
    if days >= 365:
        return [(101, 1231)]
    if end.year == start.year:
        return [(start_key, end_key)]
    return [(start_key, 1231), (101, end_key)]
