"""Normalising identifiers (R2.1). Pure functions: same input, same output, no database."""

import re
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from clientbase.core.errors import DomainValidationError

# Every identifier kind, in the order of identity.models.IdentifierKind (a test keeps the two equal).
IDENTIFIER_KINDS = ("phone", "email", "card", "external", "telegram", "whatsapp", "viber", "vk", "instagram",
                    "facebook")
PHONE_LIKE_KINDS = frozenset({"phone", "whatsapp", "viber"})
HANDLE_KINDS = frozenset({"telegram", "instagram", "facebook", "vk"})
_HANDLE = re.compile(r"^[a-z0-9_.]{2,64}$")
_CARD = re.compile(r"^[A-Z0-9]{3,40}$")
_URL_PREFIX = re.compile(
    r"^(https?://)?(www\.|m\.)?(t\.me|telegram\.me|instagram\.com|facebook\.com|fb\.com|vk\.com|vk\.ru)/",
    re.IGNORECASE,
)


def normalize_phone(raw: str, region: str, *, field: str = "phone") -> str:
    """Return the E.164 form of a phone number written in any common way.

    Russian habits are handled by the library with ``region="RU"``: ``8 (916) 123-45-67``,
    ``+7 916 123 45 67`` and ``9161234567`` all give ``+79161234567``.
    """
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise DomainValidationError.single(field, f"{raw!r} is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise DomainValidationError.single(field, f"{raw!r} is not a valid phone number for region {region}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, *, field: str = "email") -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainValidationError.single(field, f"{raw!r} is not a valid email address: {exc}") from exc
    return result.normalized.lower()


def normalize_handle(raw: str, *, field: str) -> str:
    text = _URL_PREFIX.sub("", raw.strip()).strip("/").lstrip("@").lower()
    if not _HANDLE.match(text):
        raise DomainValidationError.single(field, f"{raw!r} is not a valid handle (letters, digits, _ and .).")
    return text


def normalize_card(raw: str, *, field: str = "card") -> str:
    text = re.sub(r"[\s\-]", "", raw).upper()
    if not _CARD.match(text):
        raise DomainValidationError.single(field, f"{raw!r} is not a card number (3-40 letters or digits).")
    return text


def normalize_external(raw: str, *, field: str = "external") -> str:
    """External ids are ``system:id``; the system part is lower-cased, the id kept as is."""
    system, sep, ident = raw.strip().partition(":")
    if not sep or not system.strip() or not ident.strip():
        raise DomainValidationError.single(field, f"{raw!r} must look like 'system:id'.")
    return f"{system.strip().lower()}:{ident.strip()}"


def normalize(kind: str, raw: str, *, region: str = "RU", field: str | None = None) -> str:
    """Normalise ``raw`` as an identifier of ``kind``; raise DomainValidationError naming ``field``."""
    field = field or kind
    if not isinstance(raw, str) or not raw.strip():
        raise DomainValidationError.single(field, "Must not be empty.")
    return _normalize(kind, raw, region, field)


# Parsing a phone costs tens of microseconds and ingest sees the same spellings again and again
# (a regular's phone on every purchase): remember recent answers. Refusals are exceptions, never cached.
@lru_cache(maxsize=200_000)
def _normalize(kind: str, raw: str, region: str, field: str) -> str:
    if kind in PHONE_LIKE_KINDS:
        return normalize_phone(raw, region, field=field)
    if kind == "email":
        return normalize_email(raw, field=field)
    if kind in HANDLE_KINDS:
        return normalize_handle(raw, field=field)
    if kind == "card":
        return normalize_card(raw, field=field)
    if kind == "external":
        return normalize_external(raw, field=field)
    raise DomainValidationError.single(field, f"Unknown identifier kind {kind!r}.")
