"""Turning one raw event (a JSON object) into a ParsedEvent or field errors. No database."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils.dateparse import parse_datetime

from clientbase.core.errors import DomainValidationError, FieldError
from clientbase.customers.models import Channel
from clientbase.customers.rules import BUILTIN_FIELDS
from clientbase.identity import rules as identity_rules
from clientbase.identity.guards import Guards
from clientbase.identity.models import ConsentStatus, IdentifierKind
from clientbase.interactions.models import EventChannel

MAX_BATCH = 10_000
_TRAIT_EXCLUDED = {"kind"}
# Django's Choices.values builds a new list on every access; parsing checks each event against these.
_KINDS = frozenset(IdentifierKind.values)
_CHANNELS = frozenset(EventChannel.values)
_CONSENT_STATUSES = frozenset(ConsentStatus.values)
_CONSENT_CHANNELS = frozenset(Channel.values)  # consent is per contact channel


@dataclass(slots=True)
class CarriedIdentifier:
    kind: str
    value: str
    raw: str
    verified: bool
    # "kind:value", computed once: resolution and storing look it up several times per identifier.
    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.key = f"{self.kind}:{self.value}"


@dataclass(slots=True)
class ParsedEvent:
    index: int
    source: str
    external_id: str
    type: str
    channel: str
    occurred_at: dt.datetime
    identifiers: list[CarriedIdentifier]
    traits: dict[str, Any]
    consent: dict[str, str]
    data: dict[str, Any]
    junk: list[str] = field(default_factory=list)
    # occurred_at, identifiers, traits and data as the driver takes them (``storing.stored_columns``), made
    # with the rest of the parsing: in a stream, in the helper thread beside the batch before.
    columns: tuple[Any, ...] = ()


UNSTORABLE = "Contains text that is not valid Unicode (an unpaired surrogate)."


def _storable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unstorable_at(value: Any, path: str = "") -> str | None:
    """The path (``id``, ``traits.first_name``, ``data.items.0``) of the first text or key in ``value`` that no
    database can store, or None. JSON may carry an unpaired surrogate (``"\\ud800"``), which neither driver
    can encode nor jsonb accept; found while parsing, it rejects its event instead of failing the whole write.
    The fields are checked where they are parsed (the few texts of an event directly, traits, consent and
    data through this), not by one walk over the whole event, which cost 3 µs an event."""
    if type(value) is str:
        return None if _storable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not _storable(str(key)):
                return path
            if (found := _unstorable_at(item, where)) is not None:
                return found
    elif isinstance(value, list):
        for position, item in enumerate(value):
            if (found := _unstorable_at(item, f"{path}.{position}")) is not None:
                return found
    return None


def _text(errors: list[FieldError], raw: dict[str, Any], key: str, max_length: int) -> str:
    value = raw.get(key)
    if type(value) is str:  # the usual case, answered before the general checks below
        if not _storable(value):
            errors.append(FieldError(key, UNSTORABLE))
            return ""
        text = value.strip()
        if text and len(text) <= max_length:
            return text
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        errors.append(FieldError(key, "This field is required (a non-empty text)."))
        return ""
    text = str(value).strip()
    if len(text) > max_length:
        errors.append(FieldError(key, f"At most {max_length} characters."))
    return text


# The built-in junk rules alone: they depend on nothing but the value, so their answer can be cached.
_BUILTIN_GUARDS = Guards()


@lru_cache(maxsize=200_000)
def _normalize(kind: str, raw: str, region: str) -> str | FieldError | None:
    """The normalised value, the error, or None for a placeholder the built-in rules never link
    (answered once per distinct value: a batch names most people more than once)."""
    if _BUILTIN_GUARDS.is_junk(kind, raw):
        return None
    try:
        return identity_rules.normalize(kind, raw, region=region, field=kind)
    except DomainValidationError as exc:
        return exc.errors[0]


def _identifier_items(value: Any) -> list[tuple[Any, bool]]:
    """``"x"``, ``["x", "y"]``, ``{"value": "x", "verified": true}`` or a list of those."""
    if type(value) is str:
        return [(value, False)]
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, dict):
            result.append((item.get("value"), bool(item.get("verified"))))
        else:
            result.append((item, False))
    return result


def _identifiers(errors: list[FieldError], raw: Any, guards: Guards, region: str,
                 event: ParsedEvent) -> None:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors.append(FieldError("identifiers", "Must be an object of kind to value."))
        return
    seen: set[str] = set()
    for kind, value in raw.items():
        if kind not in _KINDS:
            errors.append(FieldError(f"identifiers.{kind}", f"Unknown identifier kind {kind!r}."))
            continue
        for position, (item, verified) in enumerate(_identifier_items(value)):
            if type(item) is not str and isinstance(item, int) and not isinstance(item, bool):
                item = str(item)
            if type(item) is not str or not item.strip():
                errors.append(FieldError(_path(kind, value, position), "Must be a non-empty text."))
                continue
            if not _storable(item):
                errors.append(FieldError(_path(kind, value, position), UNSTORABLE))
                continue
            normalized = _normalize(kind, item, region)
            if normalized is None or (guards.patterns and guards.is_junk(kind, item)):
                event.junk.append(f"{kind}:{item}")
                continue
            if isinstance(normalized, FieldError):
                errors.append(FieldError(_path(kind, value, position), normalized.message))
            elif guards.patterns and guards.is_junk(kind, item, normalized):  # the rest was checked above
                event.junk.append(f"{kind}:{item}")
            elif (key := f"{kind}:{normalized}") not in seen:
                seen.add(key)
                event.identifiers.append(CarriedIdentifier(kind, normalized, item[:254], verified))


def _path(kind: str, value: Any, position: int) -> str:
    """Where a bad identifier is: ``identifiers.phone``, or ``identifiers.phone.1`` in a list."""
    return f"identifiers.{kind}.{position}" if isinstance(value, list) else f"identifiers.{kind}"


def _traits(errors: list[FieldError], raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors.append(FieldError("traits", "Must be an object of profile fields."))
        return {}
    traits = {}
    for key, value in raw.items():
        if (where := _unstorable_at(value, f"traits.{key}")) is not None:
            errors.append(FieldError(where, UNSTORABLE))
            continue
        parser: Callable[[str, Any], Any] | None = BUILTIN_FIELDS.get(key)
        if parser is None or key in _TRAIT_EXCLUDED:
            errors.append(FieldError(f"traits.{key}", "Unknown profile field."))
            continue
        try:
            traits[key] = parser(f"traits.{key}", value)
        except DomainValidationError as exc:
            errors.extend(exc.errors)
    return traits


def _consent(errors: list[FieldError], raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        errors.append(FieldError("consent", "Must be an object of channel to granted|denied|unsubscribed."))
        return {}
    if (where := _unstorable_at(raw, "consent")) is not None:
        errors.append(FieldError(where, UNSTORABLE))
        return {}
    for channel, status in raw.items():
        if channel not in _CONSENT_CHANNELS:
            errors.append(FieldError(f"consent.{channel}", f"Unknown channel; one of {', '.join(Channel.values)}."))
        elif status not in _CONSENT_STATUSES:
            errors.append(FieldError(f"consent.{channel}", f"Must be one of {', '.join(ConsentStatus.values)}."))
    return dict(raw)


_DIRECTIONS = ("inbound", "outbound")


def _dialog_data(errors: list[FieldError], data: dict[str, Any]) -> None:
    """A ``message`` or ``call`` (the card's dialog timeline): ``direction`` inbound or outbound (inbound when
    left out), ``text`` a text, ``thread`` a text or number, a call's ``duration_seconds`` a whole number of seconds."""
    direction = data.get("direction")
    if direction is not None and direction not in _DIRECTIONS:
        errors.append(FieldError("data.direction", "Must be inbound or outbound."))
    if data.get("text") is not None and type(data["text"]) is not str:
        errors.append(FieldError("data.text", "Must be text."))
    if data.get("thread") is not None and type(data["thread"]) not in (str, int):  # a channel's own id
        errors.append(FieldError("data.thread", "Must be text or a number."))
    duration = data.get("duration_seconds")
    if duration is not None and (type(duration) is not int or duration < 0):
        errors.append(FieldError("data.duration_seconds", "Must be a whole number of seconds, 0 or more."))


def _moment(value: Any) -> dt.datetime | None:
    """An ISO 8601 date and time, or None: also for one that looks right but cannot be (month 13), which
    ``parse_datetime`` raises for."""
    if type(value) is not str:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def parse_event(index: int, raw: Any, guards: Guards, region: str) -> ParsedEvent:
    """Validate one event; raise DomainValidationError naming every bad field."""
    if not isinstance(raw, dict):
        raise DomainValidationError.single("", "An event must be a JSON object.")
    errors: list[FieldError] = []
    source, external_id = _text(errors, raw, "source", 60), _text(errors, raw, "id", 120)
    event_type = _text(errors, raw, "type", 40)
    channel = raw.get("channel")
    if type(channel) is not str or channel not in _CHANNELS:  # a list or object is not a channel either
        errors.append(FieldError("channel", f"Must be one of {', '.join(EventChannel.values)}."))
    occurred_at = _moment(raw.get("occurred_at"))
    if occurred_at is None or occurred_at.tzinfo is None:
        errors.append(FieldError("occurred_at", "Must be an ISO 8601 date and time with a time zone."))
    data = raw.get("data") if raw.get("data") is not None else {}
    if not isinstance(data, dict):
        errors.append(FieldError("data", "Must be an object."))
    elif data and (where := _unstorable_at(data, "data")) is not None:
        errors.append(FieldError(where, UNSTORABLE))
    elif event_type in ("message", "call"):
        _dialog_data(errors, data)
    event = ParsedEvent(index, source, external_id, event_type, str(channel), occurred_at or dt.datetime.min,
                        [], _traits(errors, raw.get("traits")), _consent(errors, raw.get("consent")),
                        data if isinstance(data, dict) else {})
    _identifiers(errors, raw.get("identifiers"), guards, region, event)
    if not errors and not event.identifiers:
        errors.append(FieldError("identifiers", "No usable identifier: the event cannot be attached to anyone."))
    if errors:
        raise DomainValidationError(errors)
    return event
