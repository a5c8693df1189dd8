import pytest

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
