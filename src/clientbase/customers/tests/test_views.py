"""The customer pages through the Django test client, logged in as real staff users."""

import re
from typing import Any

import pytest
from django.test import Client

from clientbase.access.models import Team
from clientbase.access.tests.builders import make_user
from clientbase.customers.models import (
    ContactPerson,
    Customer,
    CustomFieldDefinition,
    ImportantDate,
    ProfileChange,
)
from clientbase.customers.services import define_custom_field
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.models import Identifier

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # A real login, with a cheap hash: the default one costs ~0.5 s per user and per login.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def logged_in(*, role: str = "admin", team: str | None = None) -> Client:
    user = make_user(role=role, team=team)
    client = Client()
    response = client.post("/login/", {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302
    return client


def base_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"kind": "person", "last_name": "Смирнова", "first_name": "Анна",
                               "time_zone": "Europe/Moscow", "identifier_kind": ["phone", "email", "phone"],
                               "identifier_value": ["", "", ""]}
    data.update(overrides)
    return data


def test_pages_need_login() -> None:
    customer = make_customer()
    for url in ("/", "/customers/", f"/customers/{customer.pk}/", f"/customers/{customer.pk}/edit/",
                f"/customers/{customer.pk}/history/", "/customers/new/", "/customers/quick/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_search_by_phone_in_another_format_finds_the_customer() -> None:
    customer = make_customer(phone="+79161234567", city="Казань", tags=["vip"])
    make_customer(phone="+79031112233", first_name="Олег", last_name="Сидоров")
    client = logged_in()
    response = client.get("/customers/", {"q": "8 (916) 123-45-67"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f"/customers/{customer.pk}/" in body
    assert "+79161234567" in body and "Казань" in body and "vip" in body
    assert "Сидоров" not in body
    assert "<html" in body


def test_search_box_finds_a_customer_by_the_last_digits_of_a_phone_within_the_filters() -> None:
    kazan = make_customer(phone="+79161234567", city="Казань", last_name="Смирнова")
    make_customer(phone="+79031234567", city="Тверь", first_name="Олег", last_name="Сидоров")
    client = logged_in()
    body = client.get("/customers/", {"q": "45-67"}).content.decode()
    assert "Смирнова" in body and "Сидоров" in body
    body = client.get("/customers/", {"q": "4567", "city": "Казань"}).content.decode()
    assert f"/customers/{kazan.pk}/" in body and "Сидоров" not in body
    # A customer found by a card number shows the card beside the phones.
    card = make_customer(phone="+79035550000", last_name="Карпова", identifiers=[{"kind": "card", "value": "7700012089369"}])
    body = client.get("/customers/", {"q": "9369"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f"/customers/{card.pk}/" in body and "7700012089369" in body and "Телефон, карта" in body
    # The box says so, in the user's language.
    assert "the last digits 4567" in client.get("/customers/").content.decode()
    assert "последние цифры 4567" in client.get("/customers/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    # Three digits are too few to search by, and the box says what to type instead of "check the spelling".
    body = client.get("/customers/", {"q": "567"}).content.decode()
    assert "Type at least 4 digits of a phone or card number." in body and "Check the spelling" not in body
    body = client.get("/customers/", {"q": "5-67"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Введите хотя бы 4 цифры номера телефона или карты." in body


def test_search_htmx_returns_only_the_results_partial() -> None:
    make_customer(last_name="Петров", first_name="Иван")
    response = logged_in().get("/", {"q": "Питров"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Петров Иван" in body
    assert "<html" not in body


def test_search_filters_by_tag_and_city() -> None:
    make_customer(phone="+79160000001", last_name="Иванов", city="Тверь", tags=["coffee"])
    make_customer(phone="+79160000002", last_name="Иванова", city="Москва", tags=["coffee"])
    client = logged_in()
    body = client.get("/customers/", {"tag": "coffee", "city": "Тверь"}).content.decode()
    assert "Иванов Иван" in body and "Иванова" not in body


def test_search_results_come_in_pages_of_fifty() -> None:
    from clientbase.customers.views import SEARCH_LIMIT

    for n in range(SEARCH_LIMIT + 3):
        make_customer(phone=f"+7916{n:07d}", last_name=f"Сидоров{n:03d}", first_name="Пётр", tags=["beans"])
    client = logged_in()
    first = client.get("/customers/", {"tag": "beans"}, HTTP_HX_REQUEST="true").content.decode()
    second = client.get("/customers/", {"tag": "beans", "page": "2"}, HTTP_HX_REQUEST="true").content.decode()
    names = re.compile(r"Сидоров(\d{3})")
    assert sorted(set(names.findall(first))) == [f"{n:03d}" for n in range(SEARCH_LIMIT)]
    assert sorted(set(names.findall(second))) == [f"{n:03d}" for n in range(SEARCH_LIMIT, SEARCH_LIMIT + 3)]
    assert "page=2" in first and "page=3" not in second and "page=1" in second
    ranked = client.get("/customers/", {"q": "Сидоров", "page": "2"}, HTTP_HX_REQUEST="true").content.decode()
    assert len(set(names.findall(ranked))) == 3
    for n in range(5):  # namesakes without the tag: a filtered ranked search skips them, pages stay full
        make_customer(phone=f"+7903{n:07d}", last_name=f"Сидоров{900 + n}", first_name="Пётр", tags=["tea"])
    filtered = [client.get("/customers/", {"q": "Сидоров", "tag": "beans", "page": str(page)},
                           HTTP_HX_REQUEST="true").content.decode() for page in (1, 2)]
    assert [len(set(names.findall(body))) for body in filtered] == [SEARCH_LIMIT, 3]
    assert not any("Сидоров9" in body for body in filtered) and "page=3" not in filtered[1]


def test_card_shows_every_section_and_history() -> None:
    define_custom_field({"key": "shoe_size", "label": "Размер обуви", "type": "number"})
    customer = make_customer(birth_date="1990-05-01", city="Тверь", tags=["vip"], custom={"shoe_size": 42},
                             preferred_channel="telegram", channel_order=["sms", "email"], contact_days=[1, 2],
                             contact_from="10:00", contact_to="14:00", hobbies="рыбалка", notes="Любит латте",
                             important_dates=[{"kind": "anniversary", "who": "жена Мария", "date": "2015-06-20"}])
    client = logged_in()
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    for key in ("identification", "identifiers", "contact", "dates", "relationship", "custom", "ownership",
                "notes", "history"):
        assert f'id="section-{key}"' in body, key
    for text in ("Петров Иван", "+79161234567", "Размер обуви", "42", "10:00–14:00", "жена Мария", "рыбалка",
                 "Любит латте", "vip"):
        assert text in body, text
    history = client.get(f"/customers/{customer.pk}/history/").content.decode()
    assert "рыбалка" in history and "first name" in history and "Размер обуви" in history


def test_history_is_paged() -> None:
    customer = make_customer()
    client = logged_in()
    for n in range(26):
        client.post(f"/customers/{customer.pk}/edit/", base_post(notes=f"note {n}"))
    assert ProfileChange.objects.filter(customer=customer, field="notes").count() == 26
    first = client.get(f"/customers/{customer.pk}/history/").content.decode()
    assert "note 25" in first and "?page=2" in first
    second = client.get(f"/customers/{customer.pk}/history/", {"page": 2}).content.decode()
    assert "note 25" not in second and "first name" in second


def test_company_card_links_contact_persons_and_back() -> None:
    company = make_customer(phone=None, kind="company", legal_name="ООО Ромашка", registration_number="7701234567")
    person = make_customer(phone="+79165550000", last_name="Кузнецов", first_name="Пётр")
    ContactPerson.objects.create(company=company, person=person, role="chief_accountant")
    client = logged_in()
    body = client.get(f"/customers/{company.pk}/").content.decode()
    assert "7701234567" in body and f"/customers/{person.pk}/" in body and "Chief accountant" in body
    body = client.get(f"/customers/{person.pk}/").content.decode()
    assert "ООО Ромашка" in body and f"/customers/{company.pk}/" in body


def test_tombstone_links_to_the_survivor() -> None:
    survivor = make_customer(phone="+79160000009")
    merged = make_customer(phone=None, first_name="Дубль")
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    body = logged_in().get(f"/customers/{merged.pk}/").content.decode()
    assert 'role="alert"' in body and f'href="/customers/{survivor.pk}/"' in body


@pytest.mark.parametrize("role", ["manager"])
def test_manager_gets_404_for_another_teams_customer(role: str) -> None:
    south = make_customer(phone="+79160000003", team_id=Team.objects.create(name="South").pk)
    north_team = Team.objects.create(name="North")
    north = make_customer(phone="+79160000004", team_id=north_team.pk)
    client = logged_in(role=role, team="North")
    for suffix in ("", "edit/", "history/"):
        assert client.get(f"/customers/{south.pk}/{suffix}").status_code == 404, suffix
        assert client.get(f"/customers/{north.pk}/{suffix}").status_code == 200, suffix
    response = client.post(f"/customers/{south.pk}/edit/", base_post(notes="hijack"))
    assert response.status_code == 404
    assert not ProfileChange.objects.filter(customer=south, field="notes").exists()
    assert "+79160000003" not in client.get("/customers/", {"q": "+7 916 000-00-03"}).content.decode()


def test_create_from_the_full_form() -> None:
    define_custom_field({"key": "drink", "label": "Напиток", "type": "choice", "choices": ["латте", "капучино"]})
    client = logged_in()
    response = client.post("/customers/new/", base_post(
        birth_date="01.05.1990", identifier_value=["8 916 765-43-21", "Anna@Example.com", ""],
        date_kind=["birthday"], date_who=["сын Иван"], date_date=["2015-03-02"], date_note=[""],
        contact_days=["1", "3"], contact_from="09:00", contact_to="12:00", channel_order=["sms", "", ""],
        preferences="цвета: зелёный, синий\nнапиток: раф", children="Маша, 2016-01-02", tags="vip, кофе",
        custom__drink="латте"))
    assert response.status_code == 302
    customer = Customer.objects.get(last_name="Смирнова")
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert str(customer.birth_date) == "1990-05-01"
    assert sorted(customer.identifiers.values_list("value", flat=True)) == ["+79167654321", "anna@example.com"]
    assert customer.contact_days == [1, 3] and customer.channel_order == ["sms"]
    assert customer.preferences == {"цвета": ["зелёный", "синий"], "напиток": "раф"}
    assert customer.children == [{"name": "Маша", "birth_date": "2016-01-02"}]
    assert customer.custom == {"drink": "латте"}
    assert sorted(t.name for t in customer.tags.all()) == ["vip", "кофе"]
    assert ImportantDate.objects.get(customer=customer).who == "сын Иван"
    assert ProfileChange.objects.filter(customer=customer, channel="web", source="web").exists()


def field_errors(body: str, name: str) -> list[str]:
    """Error messages shown in the block of the input ``name``."""
    block = re.search(rf'<div class="field has-error">\s*<label for="id_{name}".*?</div>\s*(?=<div class="field(?: has-error)?"|</div>)',
                      body, re.S)
    assert block, f"no error block for {name}"
    return re.findall(r'<div class="field-error">(.*?)</div>', block.group(0))


def test_errors_are_shown_per_field_and_nothing_is_stored() -> None:
    CustomFieldDefinition.objects.create(key="loyal_since", label="Клиент с", type="date", required=True)
    client = logged_in()
    response = client.post("/customers/new/", base_post(birth_date="31.02.1990",
                                                         identifier_value=["12", "", ""]))
    assert response.status_code == 422
    body = response.content.decode()
    assert field_errors(body, "birth_date") == ["&#x27;31.02.1990&#x27; is not a date (use YYYY-MM-DD or DD.MM.YYYY)."]
    assert 'value="Смирнова"' in body and 'value="12"' in body
    assert Customer.objects.count() == 0 and Identifier.objects.count() == 0
    response = client.post("/customers/new/", base_post(identifier_value=["12", "", ""]))
    body = response.content.decode()
    assert field_errors(body, "custom__loyal_since") == ["This field is required."]
    response = client.post("/customers/new/", base_post(identifier_value=["12", "", ""],
                                                        custom__loyal_since="2020-01-01"))
    body = response.content.decode()
    assert 'value="2020-01-01"' in body
    assert re.search(r'value="12"[^>]*>\s*<div class="field-error">[^<]*not a valid phone', body), "phone error sits next to its input"
    assert Customer.objects.count() == 0 and ProfileChange.objects.count() == 0


def test_edit_rolls_back_everything_on_any_error() -> None:
    customer = make_customer(notes="old")
    other = make_customer(phone="+79035554433", first_name="Другой")
    client = logged_in()
    phone_id = customer.identifiers.get().pk
    response = client.post(f"/customers/{customer.pk}/edit/", base_post(
        notes="new", remove_identifier=[str(phone_id)], identifier_value=["+7 903 555-44-33", "", ""]))
    assert response.status_code == 422
    assert f"already belongs to customer #{other.pk}" in response.content.decode()
    customer.refresh_from_db()
    assert customer.notes == "old" and customer.identifiers.count() == 1


def test_edit_changes_removes_and_adds() -> None:
    customer = make_customer(notes="old")
    client = logged_in()
    form = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'value="Петров"' in form
    phone_id = customer.identifiers.get().pk
    response = client.post(f"/customers/{customer.pk}/edit/", base_post(
        last_name="Петров", first_name="Иван", notes="new", remove_identifier=[str(phone_id)],
        identifier_value=["ivan@example.com", "", ""], identifier_kind=["email", "phone", "phone"],
        date_kind=["name_day"], date_who=["self"], date_date=["2000-01-20"], date_note=[""]))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.notes == "new"
    assert list(customer.identifiers.values_list("value", flat=True)) == ["ivan@example.com"]
    assert customer.important_dates.get().kind == "name_day"
    changed = set(ProfileChange.objects.filter(customer=customer, source="web").values_list("field", flat=True))
    assert changed == {"notes", "identifiers.phone", "identifiers.email", "important_dates.name_day"}


def test_unchanged_edit_records_no_history() -> None:
    customer = make_customer(preferences={"цвета": ["зелёный"], "напиток": "раф"}, contact_from="10:00",
                             contact_to="12:00", children=[{"name": "Маша", "birth_date": "2016-01-02"}])
    client = logged_in()
    before = ProfileChange.objects.count()
    body = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    values = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', body))
    textareas = dict(re.findall(r'name="(\w+)" rows="\d+">(.*?)</textarea>', body, re.S))
    post = base_post(last_name="Петров", first_name="Иван", contact_from=values["contact_from"],
                     contact_to=values["contact_to"], preferences=textareas["preferences"].replace("&quot;", '"'),
                     children=textareas["children"], time_zone=values["time_zone"])
    assert client.post(f"/customers/{customer.pk}/edit/", post).status_code == 302
    assert ProfileChange.objects.count() == before


def test_quick_registration_from_one_phone() -> None:
    client = logged_in(role="manager", team="North")
    page = client.get("/customers/quick/").content.decode()
    assert "only for a phone number" in page
    response = client.post("/customers/quick/", {"phone": "8 (916) 222-33-44"})
    customer = Customer.objects.get()
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert customer.identifiers.get().value == "+79162223344"
    assert customer.team is not None and customer.team.name == "North"
    response = client.post("/customers/quick/", {"phone": "не телефон"})
    assert response.status_code == 422 and Customer.objects.count() == 1


def test_contact_person_linked_from_the_company_card() -> None:
    company = make_customer(phone=None, kind="company", legal_name="ООО Ромашка")
    person = make_customer(phone="+79165550001", last_name="Кузнецов", first_name="Пётр")
    client = logged_in()
    card = client.get(f"/customers/{company.pk}/").content.decode()
    assert f'action="/customers/{company.pk}/contact-people/"' in card
    response = client.post(f"/customers/{company.pk}/contact-people/",
                           {"person": "8 916 555-00-01", "role": "director", "title": "Генеральный директор"})
    assert response.status_code == 302
    link = ContactPerson.objects.get()
    assert (link.company_id, link.person_id, link.role, link.title) == (company.pk, person.pk, "director",
                                                                        "Генеральный директор")
    response = client.post(f"/customers/{company.pk}/contact-people/", {"person": "Никтоев", "role": "director"},
                           follow=True)
    assert "Nobody found" in response.content.decode() and ContactPerson.objects.count() == 1


def test_a_user_without_a_staff_role_is_refused() -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="visitor", password=PASSWORD)
    customer = make_customer()
    client = Client()
    client.login(username="visitor", password=PASSWORD)
    assert client.get("/customers/", {"q": "Петров"}).status_code == 403
    assert client.get(f"/customers/{customer.pk}/").status_code == 403
    assert client.post("/customers/quick/", {"phone": "+79160000077"}).status_code == 403
    assert Customer.objects.count() == 1 and user.pk


def test_search_and_history_query_counts_do_not_grow_with_results() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in()
    customer = make_customer(phone="+79160001000", last_name="Петров", tags=["a"])

    def count(url: str, **params: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params, HTTP_HX_REQUEST="true").status_code == 200
        return len(ctx.captured_queries)

    few_results, few_changes = count("/customers/", q="Петров"), count(f"/customers/{customer.pk}/history/")
    for n in range(6):
        make_customer(phone=f"+7916000200{n}", last_name="Петров", tags=["a", "b"])
        services_update = client.post(f"/customers/{customer.pk}/edit/", base_post(last_name="Петров", notes=str(n)))
        assert services_update.status_code == 302
    assert count("/customers/", q="Петров") == few_results
    assert count(f"/customers/{customer.pk}/history/") == few_changes == 7


def test_admin_defines_custom_fields_and_errors_are_shown() -> None:
    client = logged_in()
    response = client.post("/customers/fields/", {"label": "Размер", "key": "bad key", "type": "choice"})
    assert response.status_code == 422 and CustomFieldDefinition.objects.count() == 0
    body = response.content.decode()
    assert field_errors(body, "key") == ["Use latin letters, digits and underscores."]
    assert 'value="Размер"' in body
    response = client.post("/customers/fields/", {"label": "Размер", "key": "size", "type": "choice",
                                                  "choices": "S, M, L", "required": "on"})
    assert response.status_code == 302
    definition = CustomFieldDefinition.objects.get()
    assert (definition.key, definition.choices, definition.required) == ("size", ["S", "M", "L"], True)
    assert "Размер" in client.get("/customers/new/").content.decode()
    manager = logged_in(role="manager", team="North")
    assert manager.get("/customers/fields/").status_code == 403


def test_form_errors_in_russian() -> None:
    client = logged_in()
    response = client.post("/customers/new/", base_post(birth_date="31.02.1990"), HTTP_ACCEPT_LANGUAGE="ru")
    body = response.content.decode()
    assert field_errors(body, "birth_date") == ["&#x27;31.02.1990&#x27; — не дата (используйте ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)."]
    assert "Ничего не сохранено" in body
