"""Templates: personal fields, validation, and a sandbox no template can climb out of."""

import pytest

from clientbase.core.errors import DomainValidationError
from clientbase.engagement import rendering, templating
from clientbase.engagement.tests.builders import make_contact, make_template
from clientbase.sales.tests.builders import make_order


@pytest.mark.parametrize("text", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ name.__class__ }}",
    "{{ name['__class__'] }}",
    "{{ name|attr('__class__') }}",
    "{{ joiner }}",
    "{{ namespace() }}",
    "{% for x in range(10) %}{% endfor %}",
    "{{ config }}",
    "{{ settings.SECRET_KEY }}",
])
def test_reaching_python_internals_or_settings_is_refused(text: str) -> None:
    with pytest.raises(DomainValidationError):
        templating.render(text, {"name": "Anna"})


def test_attr_filter_escape_is_refused_at_render_even_if_it_passes_validation() -> None:
    text = "{{ (name|attr('upper'))() }}{{ name|attr('__cla' ~ 'ss__') }}"
    with pytest.raises(DomainValidationError) as caught:
        templating.render(text, {"name": "Anna"})
    assert "Refused" in str(caught.value)


def test_unknown_field_is_named() -> None:
    with pytest.raises(DomainValidationError) as caught:
        templating.validate("Hi {{ first_name }}, {{ shoe_size }}")
    assert [e.message.split(";")[0] for e in caught.value.errors] == ["Unknown field 'shoe_size'"]


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(DomainValidationError) as caught:
        templating.validate("line one\n{{ name ")
    assert caught.value.errors[0].message.startswith("Line 2:")


def test_preview_on_a_real_customer_with_favourite_product() -> None:
    customer = make_contact(first_name="Анна", birth_date="1990-03-08")
    make_order(customer=customer)
    template = make_template(body="{{ first_name }}, {{ birthday }}: {{ favourite_product }}{{ coupon_code }}")
    preview = rendering.preview(template, customer.pk)
    assert preview.body == "Анна, 08.03: Латте 0,4"
    assert preview.subject == "Hi Анна"


def test_loyalty_balance_and_tier_fields() -> None:
    from clientbase.loyalty.models import Account, Program, Tier

    customer = make_contact()
    program = Program.objects.create(name="Cups", slug="cups")
    gold = Tier.objects.create(program=program, name="Gold", threshold=0)
    Account.objects.create(program=program, customer=customer, balance=420, tier=gold)
    template = make_template(body="{{ balance }} points, {{ tier }}")
    assert rendering.preview(template, customer.pk).body == "420 points, Gold"
