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
# Fast paths for the spellings an import or a till sends thousands of times. Each accepts only inputs
# whose answer it can give exactly as the libraries would (tests compare the two on generated input);
# everything else, and every refusal, goes the slow way.
_PHONE_SEPARATORS = str.maketrans("", "", " ()-")
_PLAIN_RU_PHONE = re.compile(r"(?:\+7|8|7)?([0-9]{10})")
# The mobile ranges come from phonenumbers' own metadata, so they follow its updates: a match is a valid
# RU number whatever the other number types say.
def _mobile_pattern(region: str) -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    return re.compile(pattern or r"(?!)")  # no metadata: match nothing, every number goes the slow way


_RU_MOBILE = _mobile_pattern("RU")
_PLAIN_EMAIL = re.compile(r"([A-Za-z0-9]+(?:[._+-][A-Za-z0-9]+)*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def normalize_phone(raw: str, region: str, *, field: str = "phone") -> str:
    """Return the E.164 form of a phone number written in any common way.

    Russian habits are handled by the library with ``region="RU"``: ``8 (916) 123-45-67``,
    ``+7 916 123 45 67`` and ``9161234567`` all give ``+79161234567``.
    """
    plain = _plain_ru_mobile(raw) if region == "RU" else None
    if plain is not None:
        return plain
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


def _plain_ru_mobile(raw: str) -> str | None:
    """``+7 916 123-45-67``, ``8 (916) 1234567``, ``79161234567``, ``9161234567`` → E.164 without parsing,
    when the ten national digits are a Russian mobile number; None for anything else."""
    text = raw.strip()
    if text.startswith("+") and not text.startswith("+7"):
        return None
    match = _PLAIN_RU_PHONE.fullmatch(text.translate(_PHONE_SEPARATORS))
    if match is None or not _RU_MOBILE.fullmatch(match[1]):
        return None
    return "+7" + match[1]


def normalize_email(raw: str, *, field: str = "email") -> str:
    plain = _PLAIN_EMAIL.fullmatch(raw.strip())
    if plain is not None and len(plain[0]) <= _EMAIL_MAX_LENGTH and _plain_domain(plain[2]):
        return plain[0].lower()
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainValidationError.single(field, f"{raw!r} is not a valid email address: {exc}") from exc
    return result.normalized.lower()


_EMAIL_MAX_LENGTH = 254


@lru_cache(maxsize=4096)
def _plain_domain(domain: str) -> bool:
    """Whether email-validator keeps this ASCII domain as it is (bar case): then an address with a plain
    dot-atom local part normalises to itself lower-cased. A few domains (mail.ru, gmail.com) cover most
    addresses, so the answer is remembered."""
    try:
        result = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return False
    return result.domain.lower() == result.ascii_domain.lower() == domain.lower()


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
