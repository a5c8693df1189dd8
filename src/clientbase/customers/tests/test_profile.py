"""The profile write path: validation, custom fields, history (R1.4, R1.5, R1.7)."""

import datetime as dt

import pytest

from clientbase.access.tests.builders import make_actor
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.services import create_customer, define_custom_field, update_customer
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.models import Identifier


def test_a_customer_can_be_created_from_one_phone_number() -> None:
    actor = make_actor(role="support")
    customer = create_customer({"identifiers": [{"kind": "phone", "value": "8 (916) 123-45-67"}]}, actor=actor)
    assert Identifier.objects.get(customer=customer).value == "+79161234567"
    assert customer.display_name == f"#{customer.pk}"


def test_bad_input_names_every_faulty_field_and_stores_nothing() -> None:
    actor = make_actor()
    with pytest.raises(DomainValidationError) as info:
        create_customer({
            "first_name": "Анна", "birth_date": "31.02.1990", "gender": "robot", "time_zone": "Mars/Base",
            "identifiers": [{"kind": "phone", "value": "+7 916"}, {"kind": "email", "value": "anna@"}],
        }, actor=actor)
    paths = sorted(e.path for e in info.value.errors)
    assert paths == ["birth_date", "gender", "time_zone"]
    assert Customer.objects.count() == 0
    with pytest.raises(DomainValidationError) as info:
        create_customer({"first_name": "Анна", "identifiers": [
            {"kind": "phone", "value": "+7 916"}, {"kind": "email", "value": "anna@"}]}, actor=actor)
    assert [e.path for e in info.value.errors] == ["identifiers.0.value", "identifiers.1.value"]
    assert Customer.objects.count() == 0 and Identifier.objects.count() == 0 and ProfileChange.objects.count() == 0


def test_one_identifier_belongs_to_at_most_one_customer() -> None:
    first = make_customer(phone="+79161234567")
    with pytest.raises(DomainValidationError) as info:
        make_customer(phone="8 916 123 45 67")
    assert info.value.errors[0].path == "identifiers.0.value"
    assert f"#{first.pk}" in info.value.errors[0].message
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(("ftype", "choices", "good", "stored", "bad"), [
    ("text", [], "  Да  ", "Да", 42),
    ("number", [], "42,5", 42.5, "forty"),
    ("number", [], 7, 7, True),
    ("date", [], "01.05.1990", "1990-05-01", "1990-13-01"),
    ("bool", [], "да", True, "maybe"),
    ("choice", ["S", "M", "L"], "M", "M", "XXL"),
    ("multi_choice", ["tea", "coffee", "cocoa"], ["cocoa", "tea", "tea"], ["tea", "cocoa"], ["beer"]),
])
def test_custom_fields_are_validated_by_type(ftype: str, choices: list[str], good: object, stored: object,
                                             bad: object) -> None:
    define_custom_field({"key": "field", "type": ftype, "choices": choices})
    actor = make_actor()
    customer = make_customer(custom={"field": good})
    assert Customer.objects.get(pk=customer.pk).custom == {"field": stored}
    with pytest.raises(DomainValidationError) as info:
        update_customer(customer, {"custom": {"field": bad}}, actor=actor)
    assert info.value.errors[0].path.startswith("custom.field")
    assert Customer.objects.get(pk=customer.pk).custom == {"field": stored}


def test_required_custom_fields_and_unknown_keys() -> None:
    define_custom_field({"key": "drink", "type": "choice", "choices": ["latte", "tea"], "required": True})
    define_custom_field({"key": "staff_count", "type": "number", "applies_to": "company"})
    with pytest.raises(DomainValidationError) as info:
        make_customer(custom={"shoe": 42, "staff_count": 3})
    assert sorted(e.path for e in info.value.errors) == ["custom.drink", "custom.shoe", "custom.staff_count"]
    customer = make_customer(custom={"drink": "tea"})
    with pytest.raises(DomainValidationError) as info:
        update_customer(customer, {"custom": {"drink": None}}, actor=make_actor())
    assert info.value.errors[0].path == "custom.drink"


def test_custom_field_definitions_are_validated() -> None:
    with pytest.raises(DomainValidationError) as info:
        define_custom_field({"key": "bad key!", "type": "colour", "choices": []})
    assert sorted(e.path for e in info.value.errors) == ["key", "type"]
    with pytest.raises(DomainValidationError) as info:
        define_custom_field({"key": "size", "type": "choice", "choices": []})
    assert [e.path for e in info.value.errors] == ["choices"]


def test_every_change_is_in_the_history_with_actor_channel_and_source() -> None:
    define_custom_field({"key": "drink", "type": "text"})
    creator = make_actor(role="marketer")
    customer = make_customer(actor=creator, city="Казань", custom={"drink": "латте"})
    editor = make_actor(role="support", channel="api")
    changes = update_customer(customer, {
        "city": "Москва", "birth_date": "1990-05-01", "custom": {"drink": "раф"}, "tags": ["VIP", "vip"],
        "first_name": "Иван",  # unchanged: no row
    }, actor=editor, source="call-centre")
    assert sorted((c.field, c.old_value, c.new_value) for c in changes) == [
        ("birth_date", None, "1990-05-01"),
        ("city", "Казань", "Москва"),
        ("custom.drink", "латте", "раф"),
        ("tags", [], ["vip"]),
    ]
    rows = ProfileChange.objects.filter(customer=customer, actor_user_id=editor.user_id)
    assert rows.count() == 4
    assert set(rows.values_list("channel", "source")) == {("api", "call-centre")}
    created = ProfileChange.objects.filter(customer=customer, actor_user_id=creator.user_id)
    assert set(created.values_list("field", flat=True)) == {
        "first_name", "last_name", "city", "custom.drink", "identifiers.phone"}
    assert update_customer(customer, {"city": "Москва"}, actor=editor) == []


def test_contact_window_and_channels() -> None:
    actor = make_actor()
    customer = make_customer(preferred_channel="telegram", channel_order=["sms", "email"],
                             contact_days=[5, 1, 1], contact_from="10:00", contact_to="14:00",
                             time_zone="Asia/Yekaterinburg")
    customer.refresh_from_db()
    assert customer.contact_days == [1, 5]
    assert (customer.contact_from, customer.contact_to) == (dt.time(10), dt.time(14))
    with pytest.raises(DomainValidationError) as info:
        update_customer(customer, {"contact_to": None}, actor=actor)
    assert info.value.errors[0].path == "contact_to"
    with pytest.raises(DomainValidationError) as info:
        update_customer(customer, {"channel_order": ["sms", "pigeon"]}, actor=actor)
    assert info.value.errors[0].path == "channel_order.1"


def test_important_dates_and_company_contact_people() -> None:
    from clientbase.customers.models import ContactPerson
    from clientbase.customers.services import add_contact_person

    actor = make_actor()
    person = make_customer(important_dates=[{"kind": "birthday", "who": "жена Мария", "date": "12.03.1988"}])
    assert [(d.who, d.date) for d in person.important_dates.all()] == [("жена Мария", dt.date(1988, 3, 12))]
    company = make_customer(phone="+74951234567", kind="company", legal_name="ООО «Ромашка»",
                            registration_number="7707083893", business_type="IT")
    add_contact_person(company, person, role="chief_accountant", actor=actor)
    add_contact_person(company, person, role="chief_accountant", actor=actor)
    assert ContactPerson.objects.filter(company=company).count() == 1
    with pytest.raises(DomainValidationError):
        add_contact_person(person, company, role="director", actor=actor)


def test_the_pure_choice_lists_are_the_models_choices() -> None:
    from clientbase.customers import rules
    from clientbase.customers.models import Channel, CustomerKind, FamilyStatus, Gender

    assert tuple(Channel.values) == rules.CHANNELS
    assert tuple(Gender.values) == rules.GENDERS
    assert tuple(FamilyStatus.values) == rules.FAMILY_STATUSES
    assert tuple(CustomerKind.values) == rules.KINDS
