from clientbase.demo.names import MALE, SURNAMES, feminine_surname
from clientbase.demo.values import (
    company_inn,
    company_ogrn,
    inn_is_valid,
    loyalty_card,
    mobile_number,
    spelled_phone,
    translit,
)
from clientbase.identity.rules import normalize


def test_inn_checksum_matches_known_registrations() -> None:
    assert inn_is_valid("7707083893")       # Sberbank
    assert inn_is_valid("7736207543")       # Yandex
    assert not inn_is_valid("7707083894")
    assert all(inn_is_valid(company_inn(region, n)) for region in ("77", "78", "16") for n in range(1, 500))


def test_ogrn_check_digit() -> None:
    for ogrn in ("1027700132195", company_ogrn("77", 2002, 1), company_ogrn("54", 2019, 123)):  # Sberbank first
        assert len(ogrn) == 13 and int(ogrn[:12]) % 11 % 10 == int(ogrn[12]), ogrn


def test_mobile_numbers_are_valid_distinct_and_survive_every_spelling() -> None:
    numbers = [mobile_number(i) for i in range(2_000)]
    assert len(set(numbers)) == len(numbers)
    for i, number in enumerate(numbers[:400]):
        assert normalize("phone", number) == number
        assert normalize("phone", spelled_phone(number, i)) == number


def test_loyalty_cards_are_distinct_and_normalised() -> None:
    cards = [loyalty_card(i) for i in range(5_000)]
    assert len(set(cards)) == len(cards)
    assert normalize("card", cards[0]) == cards[0]


def test_names_agree_in_gender() -> None:
    assert feminine_surname("Иванов") == "Иванова"
    assert feminine_surname("Покровский") == "Покровская"
    assert feminine_surname("Толстой") == "Толстая"
    assert feminine_surname("Шевченко") == "Шевченко"
    assert feminine_surname("Черных") == "Черных"
    assert all(m.endswith(("ич",)) and f.endswith(("на",)) for _, m, f in MALE)
    assert len(set(SURNAMES)) == len(SURNAMES)


def test_translit_gives_plain_latin() -> None:
    assert translit("Фёдор") == "fedor"
    assert translit("Щукина Юлия") == "shchukinayuliya"
    assert translit("Ильинична") == "ilinichna"
