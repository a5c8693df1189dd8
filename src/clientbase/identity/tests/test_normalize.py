import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientbase.core.errors import DomainValidationError
from clientbase.identity.rules import normalize

SPELLINGS_OF_ONE_NUMBER = [
    "+79161234567",
    "+7 916 123-45-67",
    "+7 (916) 123-45-67",
    "8 (916) 123-45-67",
    "8-916-123-45-67",
    "89161234567",
    "9161234567",
    "(916) 123 45 67",
    "+7-916-1234567",
    "8 916 123 4567",
    "007 916 123 45 67",
    "+7.916.123.45.67",
    " 8(916)1234567 ",
]


@pytest.mark.parametrize("spelling", SPELLINGS_OF_ONE_NUMBER)
def test_every_spelling_of_a_russian_number_is_one_e164(spelling: str) -> None:
    assert normalize("phone", spelling, region="RU") == "+79161234567"


@pytest.mark.parametrize("junk", ["", "   ", "abc", "123", "+7 916 123", "8 (000) 000-00-00", "phone please",
                                  "+7 916 123 45 67 89 00"])
def test_junk_phones_are_refused_with_the_field_named(junk: str) -> None:
    with pytest.raises(DomainValidationError) as info:
        normalize("phone", junk, region="RU", field="identifiers.0.value")
    assert info.value.errors[0].path == "identifiers.0.value"
    assert info.value.errors[0].message


def test_default_region_decides_national_numbers() -> None:
    assert normalize("phone", "020 7946 0958", region="GB") == "+442079460958"


def test_whatsapp_and_viber_are_phones() -> None:
    assert normalize("whatsapp", "8 916 123 45 67") == "+79161234567"
    assert normalize("viber", "+7 916 1234567") == "+79161234567"


def test_emails_are_lower_cased_and_validated() -> None:
    assert normalize("email", " Ivan.Petrov@Mail.RU ") == "ivan.petrov@mail.ru"
    for bad in ["ivan", "ivan@", "@mail.ru", "ivan@@mail.ru", "ivan petrov@mail.ru"]:
        with pytest.raises(DomainValidationError) as info:
            normalize("email", bad)
        assert info.value.errors[0].path == "email"


def test_handles_drop_at_signs_and_urls() -> None:
    assert normalize("telegram", "@Ivan_Petrov") == "ivan_petrov"
    assert normalize("telegram", "https://t.me/Ivan_Petrov") == "ivan_petrov"
    assert normalize("instagram", "instagram.com/coffee.lover/") == "coffee.lover"
    assert normalize("vk", "https://vk.com/id12345") == "id12345"
    with pytest.raises(DomainValidationError):
        normalize("telegram", "@ivan petrov!")


def test_cards_and_external_ids() -> None:
    assert normalize("card", "0001 2345-67") == "0001234567"
    assert normalize("external", "1C:00042") == "1c:00042"
    with pytest.raises(DomainValidationError):
        normalize("external", "no-system")
    with pytest.raises(DomainValidationError) as info:
        normalize("fax", "123")
    assert "fax" in info.value.errors[0].message


def test_the_pure_list_of_kinds_is_the_models_list() -> None:
    from clientbase.identity.models import IdentifierKind
    from clientbase.identity.rules import IDENTIFIER_KINDS

    assert tuple(IdentifierKind.values) == IDENTIFIER_KINDS


# The fast paths in rules.py must answer exactly as the libraries do: the reference below is the
# plain library call, and the inputs are the spellings the fast paths accept plus near misses.
def _library_phone(raw: str) -> str | None:
    import phonenumbers

    text = raw.strip()
    text = "+" + text[2:] if text.startswith("00") else text
    try:
        number = phonenumbers.parse(text, "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _library_email(raw: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _ours(kind: str, raw: str) -> str | None:
    try:
        return normalize(kind, raw, region="RU", field=kind)
    except DomainValidationError:
        return None


_digits = st.text("0123456789", min_size=0, max_size=12)
_phone_parts = st.lists(st.one_of(_digits, st.sampled_from([" ", "(", ")", "-", "+", "+7", "8", "7", "9", "٩", "."])),
                        max_size=8)


@settings(max_examples=3000, deadline=None)
@given(_phone_parts, st.sampled_from(["", "9", "8", "+7", "7", "+79", "89", "79", "00 7 9"]))
def test_phone_fast_path_answers_as_phonenumbers(parts: list[str], head: str) -> None:
    raw = head + "".join(parts)
    if raw.strip():
        assert _ours("phone", raw) == _library_phone(raw), raw


def test_phone_fast_path_agrees_on_every_mobile_prefix() -> None:
    # Every four-digit prefix of a ten-digit national number, in each spelling the fast path takes.
    for prefix in range(9000, 10000):
        national = f"{prefix}{prefix % 1000:03d}{prefix % 97:03d}"
        for raw in (f"+7{national}", f"8{national}", f"7{national}", national,
                    f"8 ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"):
            assert _ours("phone", raw) == _library_phone(raw), raw


_local = st.text("abcXYZ019._+-!#'", min_size=0, max_size=70)
_domain = st.one_of(st.sampled_from(["mail.ru", "Gmail.COM", "example.com", "localhost", "xn--80ak6aa92e.com",
                                     "a.b", "a-.ru", "-a.ru", "a..ru", "ru", "1.2.3.4", "x.test", "y.invalid",
                                     "почта.рф", "mail.ru.", "a_b.ru", "x" * 64 + ".ru"]),
                    st.text("abz09.-", min_size=1, max_size=20))


@settings(max_examples=3000, deadline=None)
@given(_local, _domain, st.sampled_from(["", " ", "@", ".", "a" * 200]))
def test_email_fast_path_answers_as_email_validator(local: str, domain: str, pad: str) -> None:
    for raw in (f"{local}@{domain}", f" {local}@{domain}{pad}", f"{local}{pad}@{domain}"):
        if raw.strip():
            assert _ours("email", raw) == _library_email(raw), raw
