"""Every service error a form can show reads in Russian: real errors, fed through the translator."""

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation

from clientbase.access.actor import SYSTEM
from clientbase.core.errors import DomainValidationError
from clientbase.customers import rules
from clientbase.customers.error_text import translate_error
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.services import add_identifier, normalize

LATIN = set("abcdefghijklmnopqrstuvwxyz")


def _message(call: Callable[[], Any]) -> str:
    with pytest.raises(DomainValidationError) as caught:
        call()
    return caught.value.errors[0].message


def _custom(kind: str, value: Any, choices: tuple[str, ...] = ()) -> Callable[[], Any]:
    field = rules.CustomField("f", kind, False, choices, "")
    return lambda: rules.parse_custom_value("custom.f", field, value)


CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("date", lambda: rules.parse_date("birth_date", "31.02.1990"), "'31.02.1990'"),
    ("range", lambda: rules.parse_date("birth_date", "01.01.1800"), "'01.01.1800'"),
    ("time", lambda: rules.parse_time("contact_from", "25:00"), "'25:00'"),
    ("length", lambda: rules.text(3)("city", "Москва"), "3"),
    ("choice", lambda: rules.choice(("да", "нет"))("gender", "ж"), "'ж'"),
    ("zone", lambda: rules.parse_time_zone("time_zone", "Mars/Base"), "'Mars/Base'"),
    ("number", _custom("number", "много"), "'много'"),
    ("bool", _custom("bool", "может быть"), "'может быть'"),
    ("phone", lambda: normalize("phone", "12"), "'12'"),
    ("email", lambda: normalize("email", "anna@"), "'anna@'"),
    ("card", lambda: normalize("card", "!"), "'!'"),
    ("window", lambda: rules.check_contact_window(rules.parse_time("f", "10:00"), None), ""),
]


@pytest.mark.parametrize(("name", "call", "kept"), CASES, ids=[c[0] for c in CASES])
def test_service_errors_read_in_russian(name: str, call: Callable[[], Any], kept: str) -> None:
    message = _message(call)
    with translation.override("ru"):
        russian = translate_error(message)
    assert russian != message, f"no Russian for {message!r}"
    assert kept in russian
    words = russian.replace(kept, "").replace("YYYY", "").replace("HH:MM", "").replace("Europe/Moscow", "").lower()
    assert not any(ch in LATIN for ch in words.replace("(регион ru)", "")), russian


def test_taken_identifier_error_reads_in_russian() -> None:
    owner = make_customer(phone="+79160000001")
    other = make_customer(phone=None)
    message = _message(lambda: add_identifier(other, "phone", "8 916 000-00-01", actor=SYSTEM))
    with translation.override("ru"):
        assert translate_error(message) == f"+79160000001 уже принадлежит клиенту №{owner.pk}."


def test_unknown_messages_pass_through() -> None:
    with translation.override("ru"):
        assert translate_error("Something new went wrong.") == "Something new went wrong."
