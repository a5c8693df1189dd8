"""How profile data reads on a page: field labels for history rows, values as text, age."""

import datetime as dt
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientbase.customers.models import Channel, ContactRole, Customer, DateKind
from clientbase.identity.models import IdentifierKind

WEEKDAYS = [
    (1, gettext_lazy("Mon")), (2, gettext_lazy("Tue")), (3, gettext_lazy("Wed")), (4, gettext_lazy("Thu")),
    (5, gettext_lazy("Fri")), (6, gettext_lazy("Sat")), (7, gettext_lazy("Sun")),
]


# Channels a change can arrive through (ProfileChange.channel), beyond the contact channels.
CHANGE_CHANNELS = {
    "web": gettext_lazy("web"), "api": gettext_lazy("API"), "system": gettext_lazy("system"),
    "import": gettext_lazy("import"), "cli": gettext_lazy("command line"),
}
SPECIAL_FIELDS = {"created": gettext_lazy("profile created"), "merged_into": gettext_lazy("merged into")}


def channel_label(channel: str) -> str:
    if channel in CHANGE_CHANNELS:
        return str(CHANGE_CHANNELS[channel])
    return choice_label(Channel, channel)


def source_text(source: str, field: str, old_value: Any) -> str:
    """A history row's source as it reads. A merge writes a row for every value it settled: one that
    filled an empty field from the merged profile, and one for each value of the merged profile that
    lost to this one's (old = the losing value). Shown bare ("merge:12"), the second looked like a
    rename ("Павлов → Волкова")."""
    kind, _sep, ref = source.partition(":")
    if kind != "merge" or not ref.isdigit() or field in SPECIAL_FIELDS or field == "tags":
        return source or "—"
    if old_value in (None, "", [], {}):
        return _("merge #%(id)s: taken from the merged profile") % {"id": ref}
    return _("merge #%(id)s: the merged profile's value (was) lost to this one's") % {"id": ref}


def age(birth_date: dt.date | None, today: dt.date) -> int | None:
    if birth_date is None:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def choice_label(choices: Any, value: str) -> str:
    """A stored code by its label in the user's language; a code the choices no longer name, as it is."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def field_label(field: str, custom_labels: dict[str, str]) -> str:
    """``birth_date`` → "birth date", ``custom.shoe_size`` → its label, ``identifiers.phone`` → "Identifier: Phone"."""
    head, _dot, rest = field.partition(".")
    if head == "custom" and rest:
        return custom_labels.get(rest, rest)
    if head == "identifiers" and rest:
        return f"{_('Identifier')}: {choice_label(IdentifierKind, rest)}"
    if head == "important_dates" and rest:
        return f"{_('Important date')}: {choice_label(DateKind, rest)}"
    if head == "contact_people" and rest:
        return f"{_('Contact person')}: {choice_label(ContactRole, rest)}"
    if field in SPECIAL_FIELDS:
        return str(SPECIAL_FIELDS[field])
    try:
        return str(getattr(Customer._meta.get_field(head), "verbose_name", field))
    except FieldDoesNotExist:
        return field


def value_text(value: Any) -> str:
    """A history value as one line of text; None is a dash."""
    if value is None or value in ("", [], {}):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    return str(value)


def change_text(field: str, value: Any, custom_labels: dict[str, str]) -> str:
    """A history row's value as text; a ``created`` row holding the first values (an import writes one per
    new customer) names each field by its label: "first name: Иван; Identifier: Phone: +79161234567".
    Stored codes read as their labels ("married", "sms" in the user's language), dates in the user's
    format, a merge's tombstone pointer as the customer's number."""
    if field == "created" and isinstance(value, dict):
        return "; ".join(f"{field_label(key, custom_labels)}: {change_text(key, item, custom_labels)}"
                         for key, item in value.items())
    if value is None or value in ("", [], {}):
        return value_text(value)
    if field == "merged_into":
        return f"#{value}"
    if field == "channel_order" and isinstance(value, list):
        return ", ".join(choice_label(Channel, str(v)) for v in value)
    if field == "contact_days" and isinstance(value, list) and all(isinstance(v, int) for v in value):
        return ", ".join(weekday_names(value))
    try:
        model_field = Customer._meta.get_field(field)
    except FieldDoesNotExist:
        return value_text(value)
    choices = dict(getattr(model_field, "choices", None) or ())
    if choices and isinstance(value, str):
        return str(choices.get(value, value))
    if model_field.get_internal_type() == "DateField" and isinstance(value, str):
        try:
            return date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return value_text(value)


def weekday_names(days: list[int]) -> list[str]:
    names = dict(WEEKDAYS)
    return [str(names[d]) for d in days if d in names]
