"""The profile form: turns posted text into the service's input and puts its errors next to the inputs.

No validation lives here: ``customers.services`` and ``customers.rules`` decide what is valid. This
module only reshapes ``request.POST`` (checkbox lists, "key: value" lines, table rows) into the
dictionary the services take, and maps each ``FieldError.path`` back to the input it came from.
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from clientbase.core.errors import FieldError
from clientbase.customers.error_text import translate_error
from clientbase.customers.models import Customer, CustomFieldDefinition
from clientbase.customers.rules import to_json

TEXT_FIELDS = ["kind", "last_name", "first_name", "middle_name", "birth_date", "gender", "family_status",
               "hobbies", "lifestyle", "favourite_team", "motivation", "legal_name", "registration_number",
               "registration_details", "business_type", "address", "city", "time_zone", "notes",
               "preferred_channel", "contact_from", "contact_to"]
LIST_FIELDS = ["children", "preferences", "channel_order", "contact_days"]
BLANK_IDENTIFIER_ROWS = 3
BLANK_DATE_ROWS = 2
FALLBACK_SLOTS = 3


@dataclass
class Row:
    """One table row of the form (an identifier or an important date) with its own errors."""

    values: dict[str, str]
    errors: list[str] = field(default_factory=list)


@dataclass
class CustomInput:
    definition: CustomFieldDefinition
    value: Any
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"custom__{self.definition.key}"


def _time_text(value: Any) -> str:
    return value.isoformat("minutes") if value else ""


def initial_values(customer: Customer) -> dict[str, Any]:
    """The form's text for a stored profile (the inverse of ``ProfileForm.service_data``)."""
    values: dict[str, Any] = {name: to_json(getattr(customer, name)) or "" for name in TEXT_FIELDS}
    values["contact_from"] = _time_text(customer.contact_from)
    values["contact_to"] = _time_text(customer.contact_to)
    values["children"] = "\n".join(
        f"{c.get('name', '')}, {c.get('birth_date', '')}".rstrip(", ") for c in customer.children)
    values["preferences"] = "\n".join(
        f"{key}: {', '.join(v) + (',' if len(v) == 1 else '') if isinstance(v, list) else v}"
        for key, v in customer.preferences.items())
    values["channel_order"] = list(customer.channel_order)
    values["contact_days"] = list(customer.contact_days)
    values["tags"] = ", ".join(t.name for t in customer.tags.all())
    values["team_id"] = str(customer.team_id or "")
    return values


def _children(text: str) -> list[dict[str, str]]:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _comma, born = line.rpartition(",") if "," in line else (line, "", "")
        rows.append({"name": name.strip(), "birth_date": born.strip()})
    return rows


def _preferences(text: str) -> dict[str, Any]:
    """``drink: flat white`` is one value; ``colours: green, blue`` (or ``green,``) a list."""
    result: dict[str, Any] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if not key.strip():
            continue
        if not colon:
            value = ""
        items = [v.strip() for v in value.split(",") if v.strip()]
        result[key.strip()] = items if "," in value else value.strip()
    return result


class ProfileForm:
    """Create/edit form state: posted values (kept on error) and errors placed per input."""

    def __init__(self, post: QueryDict | None, *, customer: Customer | None, can_choose_team: bool) -> None:
        self.customer = customer
        self.can_choose_team = can_choose_team
        self.definitions = list(CustomFieldDefinition.objects.all())
        self.errors: dict[str, list[str]] = {}
        self.non_field_errors: list[str] = []
        self.identifiers: list[Row] = []
        self.dates: list[Row] = []
        self.values: dict[str, Any]
        if post is None:
            self.values = initial_values(customer) if customer else {"kind": "person", "time_zone": "Europe/Moscow",
                                                                     "channel_order": [], "contact_days": []}
            custom = customer.custom if customer else {}
            self.custom = [CustomInput(d, custom.get(d.key)) for d in self.definitions]
            self.remove_ids: list[int] = []
        else:
            self._read(post)
        self.identifiers += [Row({"kind": "", "value": ""}) for _ in range(BLANK_IDENTIFIER_ROWS)]
        self.dates += [Row({"kind": "birthday", "who": "", "date": "", "note": ""}) for _ in range(BLANK_DATE_ROWS)]

    def _read(self, post: QueryDict) -> None:
        self.values = {name: post.get(name, "").strip() for name in TEXT_FIELDS}
        self.values["children"] = post.get("children", "")
        self.values["preferences"] = post.get("preferences", "")
        self.values["channel_order"] = [c for c in post.getlist("channel_order") if c]
        self.values["contact_days"] = [int(d) for d in post.getlist("contact_days") if d.isdigit()]
        self.values["tags"] = post.get("tags", "")
        self.values["team_id"] = post.get("team_id", "")
        self.remove_ids = [int(i) for i in post.getlist("remove_identifier") if i.isdigit()]
        self.custom = []
        for definition in self.definitions:
            name = f"custom__{definition.key}"
            value: Any = post.getlist(name) if definition.type == "multi_choice" else post.get(name, "")
            self.custom.append(CustomInput(definition, value))
        for kind, value in zip(post.getlist("identifier_kind"), post.getlist("identifier_value"), strict=False):
            if value.strip():
                self.identifiers.append(Row({"kind": kind, "value": value.strip()}))
        rows = zip(post.getlist("date_kind"), post.getlist("date_who"), post.getlist("date_date"),
                   post.getlist("date_note"), strict=False)
        for kind, who, day, note in rows:
            if day.strip():
                self.dates.append(Row({"kind": kind, "who": who.strip(), "date": day.strip(), "note": note}))

    @property
    def kind(self) -> str:
        return str(self.values.get("kind") or "person")

    def custom_inputs(self) -> list[CustomInput]:
        """Custom fields that apply to the chosen kind of profile."""
        return [c for c in self.custom if not c.definition.applies_to or c.definition.applies_to == self.kind]

    def service_data(self) -> dict[str, Any]:
        """Profile fields, custom values, tags (and team) in the shape ``services`` take."""
        data: dict[str, Any] = {name: self.values[name] for name in TEXT_FIELDS}
        data["children"] = _children(self.values["children"])
        data["preferences"] = _preferences(self.values["preferences"])
        data["channel_order"] = self.values["channel_order"]
        data["contact_days"] = self.values["contact_days"]
        data["tags"] = [t.strip() for t in self.values["tags"].split(",") if t.strip()]
        data["custom"] = {c.definition.key: self._custom_value(c) for c in self.custom_inputs()}
        if self.can_choose_team:
            data["team_id"] = int(self.values["team_id"]) if self.values["team_id"].isdigit() else None
        return data

    @staticmethod
    def _custom_value(item: CustomInput) -> Any:
        if item.definition.type == "bool":
            return {"yes": True, "no": False}.get(item.value)
        return item.value

    def new_identifiers(self) -> list[dict[str, str]]:
        return [row.values for row in self.identifiers if row.values["value"]]

    def new_dates(self) -> list[dict[str, str]]:
        return [row.values for row in self.dates if row.values["date"]]

    def add_errors(self, errors: list[FieldError]) -> None:
        """Put each service error next to the input its path names."""
        for error in errors:
            self._place(error.path, translate_error(error.message))

    def _place(self, path: str, message: str) -> None:
        head, _dot, rest = path.partition(".")
        index = rest.split(".")[0]
        filled_ids = [r for r in self.identifiers if r.values["value"]]
        filled_dates = [r for r in self.dates if r.values["date"]]
        if head == "identifiers" and index.isdigit() and int(index) < len(filled_ids):
            filled_ids[int(index)].errors.append(message)
        elif head == "important_dates" and index.isdigit() and int(index) < len(filled_dates):
            filled_dates[int(index)].errors.append(message)
        elif head == "custom" and any(c.definition.key == index for c in self.custom):
            next(c for c in self.custom if c.definition.key == index).errors.append(message)
        elif head in TEXT_FIELDS or head in LIST_FIELDS or head in ("tags", "team_id"):
            self.errors.setdefault(head, []).append(message)
        else:
            self.non_field_errors.append(f"{path}: {message}")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.non_field_errors or any(r.errors for r in self.identifiers + self.dates)
                    or any(c.errors for c in self.custom))
