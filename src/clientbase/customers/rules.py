"""Pure validation of profile input: built-in fields and admin-defined custom fields (R1.4).

Every parser takes the raw JSON-ish value and returns the stored value or raises
DomainValidationError naming the field. Nothing here touches the database.
"""

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from clientbase.core.errors import DomainValidationError, FieldError

Parser = Callable[[str, Any], Any]

CHANNELS = ("phone", "sms", "email", "telegram", "whatsapp", "viber", "vk", "instagram", "facebook")
GENDERS = ("", "female", "male")
FAMILY_STATUSES = ("", "single", "partner", "married", "divorced", "widowed")
KINDS = ("person", "company")


def parse_date(path: str, value: Any) -> dt.date | None:
    """Dates are ISO (``1990-05-01``) or Russian style (``01.05.1990``); never guessed otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                parsed = dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            if parsed.year < 1900 or parsed > dt.date.today() + dt.timedelta(days=366 * 100):
                raise DomainValidationError.single(path, f"{value!r} is out of range.")
            return parsed
    raise DomainValidationError.single(path, f"{value!r} is not a date (use YYYY-MM-DD or DD.MM.YYYY).")


def parse_time(path: str, value: Any) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DomainValidationError.single(path, f"{value!r} is not a time of day (use HH:MM).")


def text(max_length: int) -> Parser:
    def parse(path: str, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise DomainValidationError.single(path, "Must be text.")
        value = value.strip()
        if len(value) > max_length:
            raise DomainValidationError.single(path, f"At most {max_length} characters (got {len(value)}).")
        return value

    return parse


def choice(options: Iterable[str]) -> Parser:
    allowed = tuple(options)

    def parse(path: str, value: Any) -> str:
        value = "" if value is None else value
        if value not in allowed:
            shown = ", ".join(repr(o) for o in allowed if o)
            raise DomainValidationError.single(path, f"{value!r} is not one of {shown}.")
        return str(value)

    return parse


def parse_time_zone(path: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value not in zoneinfo.available_timezones():
        raise DomainValidationError.single(path, f"{value!r} is not a time zone name like 'Europe/Moscow'.")
    return value


def parse_channels(path: str, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise DomainValidationError.single(path, "Must be a list of channels.")
    for i, item in enumerate(value):
        choice(CHANNELS)(f"{path}.{i}", item)
    if len(set(value)) != len(value):
        raise DomainValidationError.single(path, "A channel is listed twice.")
    return list(value)


def parse_days(path: str, value: Any) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in value):
        raise DomainValidationError.single(path, "Must be a list of ISO weekdays 1 (Monday) to 7 (Sunday).")
    return sorted(set(value))


def parse_children(path: str, value: Any) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise DomainValidationError.single(path, "Must be a list of {name, birth_date}.")
    result = []
    for i, child in enumerate(value):
        if not isinstance(child, dict):
            raise DomainValidationError.single(f"{path}.{i}", "Must be an object with name and birth_date.")
        name = text(100)(f"{path}.{i}.name", child.get("name"))
        born = parse_date(f"{path}.{i}.birth_date", child.get("birth_date"))
        result.append({"name": name, "birth_date": born.isoformat() if born else ""})
    return result


def parse_preferences(path: str, value: Any) -> dict[str, Any]:
    """Free-form preferences: ``{"colours": ["green"], "drink": "flat white"}``."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise DomainValidationError.single(path, "Must be an object of preference name to value(s).")
    for key, item in value.items():
        ok = isinstance(item, str) or (isinstance(item, list) and all(isinstance(x, str) for x in item))
        if not ok:
            raise DomainValidationError.single(f"{path}.{key}", "Must be text or a list of texts.")
    return dict(value)


BUILTIN_FIELDS: dict[str, Parser] = {
    "kind": choice(KINDS),
    "first_name": text(100),
    "middle_name": text(100),
    "last_name": text(100),
    "birth_date": parse_date,
    "gender": choice(GENDERS),
    "family_status": choice(FAMILY_STATUSES),
    "children": parse_children,
    "hobbies": text(2000),
    "lifestyle": text(2000),
    "favourite_team": text(100),
    "preferences": parse_preferences,
    "motivation": text(2000),
    "legal_name": text(250),
    "registration_number": text(20),
    "registration_details": text(2000),
    "business_type": text(100),
    "address": text(300),
    "city": text(100),
    "time_zone": parse_time_zone,
    "notes": text(10000),
    "preferred_channel": choice(("", *CHANNELS)),
    "channel_order": parse_channels,
    "contact_days": parse_days,
    "contact_from": parse_time,
    "contact_to": parse_time,
}


@dataclass(frozen=True)
class CustomField:
    """What the rules need to know of a CustomFieldDefinition."""

    key: str
    type: str
    required: bool
    choices: tuple[str, ...]
    applies_to: str


def parse_custom_value(path: str, field: CustomField, value: Any) -> Any:
    """Return the JSON-storable value of a custom field, or raise naming ``path``."""
    if value is None or value == "" or value == []:
        return None
    kind = field.type
    if kind == "text":
        return text(1000)(path, value)
    if kind == "number":
        if isinstance(value, bool):
            raise DomainValidationError.single(path, "Must be a number.")
        if isinstance(value, int | float):
            return value
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise DomainValidationError.single(path, f"{value!r} is not a number.") from None
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        parsed = parse_date(path, value)
        return parsed.isoformat() if parsed else None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in {"true", "yes", "1", "да"}:
            return True
        if lowered in {"false", "no", "0", "нет"}:
            return False
        raise DomainValidationError.single(path, f"{value!r} is not yes or no.")
    if kind == "choice":
        return choice(field.choices)(path, value)
    if kind == "multi_choice":
        if not isinstance(value, list):
            raise DomainValidationError.single(path, "Must be a list of choices.")
        for i, item in enumerate(value):
            choice(field.choices)(f"{path}.{i}", item)
        return sorted(set(value), key=list(field.choices).index)
    raise DomainValidationError.single(path, f"Field type {kind!r} is not known.")


def validate_custom(values: dict[str, Any], fields: dict[str, CustomField], *, customer_kind: str,
                    current: dict[str, Any], check_required: bool) -> dict[str, Any]:
    """Validate custom values against their definitions; return the merged, cleaned dictionary.

    ``current`` holds what is stored; keys with ``None`` are removed. All faults are reported together.
    """
    errors: list[FieldError] = []
    merged = dict(current)
    for key, raw in values.items():
        path = f"custom.{key}"
        definition = fields.get(key)
        if definition is None:
            errors.append(FieldError(path, "No custom field with this key is defined."))
            continue
        if definition.applies_to and definition.applies_to != customer_kind:
            errors.append(FieldError(path, f"This field applies to {definition.applies_to} profiles only."))
            continue
        try:
            cleaned = parse_custom_value(path, definition, raw)
        except DomainValidationError as exc:
            errors.extend(exc.errors)
            continue
        if cleaned is None:
            merged.pop(key, None)
        else:
            merged[key] = cleaned
    if check_required:
        for key, definition in fields.items():
            applies = not definition.applies_to or definition.applies_to == customer_kind
            if applies and definition.required and merged.get(key) is None:
                errors.append(FieldError(f"custom.{key}", "This field is required."))
    if errors:
        raise DomainValidationError(errors)
    return merged


def check_contact_window(contact_from: dt.time | None, contact_to: dt.time | None) -> None:
    if (contact_from is None) != (contact_to is None):
        raise DomainValidationError.single("contact_to" if contact_to is None else "contact_from",
                                           "Give both ends of the contact window or neither.")
    if contact_from is not None and contact_from == contact_to:
        raise DomainValidationError.single("contact_to", "The window must not be empty.")


def to_json(value: Any) -> Any:
    """The form a value takes in history rows and API answers."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value
