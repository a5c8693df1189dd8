"""Message templates: a Jinja2 *immutable sandbox* with a closed list of personal fields.

Two locks keep a marketer's template away from Python internals and the settings:
1. validation refuses any name outside :data:`FIELDS` (``find_undeclared_variables``), so the
   globals a normal environment offers (``cycler``, ``joiner``, ``namespace``, ``range``) are
   refused at save time; they are also removed from the environment;
2. the sandbox refuses attribute access to underscore names (``__class__``, ``__globals__``) and
   unsafe callables at render time, raising ``SecurityError``.
Values handed to a template are plain strings and numbers, never model instances.
"""

from datetime import date
from functools import lru_cache
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from clientbase.core.errors import DomainValidationError, FieldError

# Field -> what it is. Fields other domains provide are listed only when those domains can supply
# them (see personal_fields); ``available_fields`` is what a marketer may use today.
FIELDS: dict[str, Promise] = {
    "name": _("Display name"),
    "first_name": _("First name"),
    "middle_name": _("Patronymic"),
    "birthday": _("Birth date (DD.MM)"),
    "city": _("City"),
    "balance": _("Loyalty points balance"),
    "tier": _("Loyalty tier name"),
    "coupon_code": _("Coupon code given by the trigger or campaign (empty otherwise)"),
    "favourite_product": _("The product the customer bought most often (from sales)"),
    "unsubscribe_url": _("One-click unsubscribe link for this channel"),
    "holiday": _("Holiday name (holiday trigger)"),
    "next_purchase_date": _("Predicted next purchase date (analytics)"),
    "points_expiring": _("Points about to expire (loyalty)"),
    "product": _("Arrived product name (product-arrival trigger)"),
}


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True,
                                        undefined=StrictUndefined)
    env.globals.clear()
    return env


_ENV = _environment()


def validate(text: str, *, path: str = "body") -> None:
    """Refuse a template that does not parse or names a field outside FIELDS."""
    _validate(text, path)


@lru_cache(maxsize=512)
def _validate(text: str, path: str) -> None:
    # Cached by text: the worker renders the same few templates thousands of times. Only a template that
    # passes is cached (a refusal raises, and lru_cache does not store exceptions).
    try:
        parsed = _ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise DomainValidationError.single(path, f"Line {exc.lineno}: {exc.message}") from exc
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
        name = getattr(node, "attr", None) or getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise DomainValidationError.single(path, f"Refused: {name!r} reaches Python internals")
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(FIELDS))
    if unknown:
        raise DomainValidationError([FieldError(path, f"Unknown field {name!r}; allowed: {', '.join(FIELDS)}")
                                     for name in unknown])


@lru_cache(maxsize=512)
def _compiled(text: str) -> Template:
    return _ENV.from_string(text)


@lru_cache(maxsize=512)
def referenced(text: str) -> frozenset[str]:
    """The fields a (valid) template uses, so only those are looked up."""
    return frozenset(meta.find_undeclared_variables(_ENV.parse(text)) & set(FIELDS))


def render(text: str, fields: dict[str, Any], *, path: str = "body") -> str:
    """Validate then render; a template reaching for internals raises DomainValidationError."""
    validate(text, path=path)
    try:
        return _compiled(text).render({name: fields.get(name, "") for name in FIELDS})
    except (SecurityError, UndefinedError) as exc:
        raise DomainValidationError.single(path, f"Refused: {exc}") from exc


def format_birthday(value: date | None) -> str:
    return f"{value:%d.%m}" if value else ""
