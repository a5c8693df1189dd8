"""Layout, login/logout, the card registry, languages and static files."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from clientbase.access.tests.builders import make_user
from clientbase.customers.tests.builders import make_customer
from clientbase.web import cards

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client_admin() -> Client:
    client = Client()
    user = make_user(role="admin")
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def test_login_form_logs_in_and_redirects_home() -> None:
    user = make_user(role="support", username="olga")
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    bad = client.post("/login/", {"username": "olga", "password": "wrong"})
    assert bad.status_code == 200 and b'class="errors"' in bad.content
    good = client.post("/login/", {"username": user.get_username(), "password": PASSWORD})
    assert good.status_code == 302 and good["Location"] == "/"
    home = client.get("/")
    assert b"olga" in home.content and b'action="/logout/"' in home.content


def test_logout_is_a_post() -> None:
    client = Client()
    user = make_user(role="support")
    client.login(username=user.get_username(), password=PASSWORD)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_admin_link_only_for_admins(client_admin: Client) -> None:
    assert b'href="/admin/"' in client_admin.get("/").content
    support = Client()
    user = make_user(role="support")
    support.login(username=user.get_username(), password=PASSWORD)
    assert b'href="/admin/"' not in support.get("/").content


def test_admin_lists_customers(client_admin: Client) -> None:
    make_customer()
    for url in ("/admin/customers/customer/", "/admin/identity/identifier/", "/admin/access/staffprofile/",
                "/admin/customers/profilechange/", "/admin/access/apitoken/"):
        assert client_admin.get(url).status_code == 200, url
    assert b"+79161234567" in client_admin.get("/admin/identity/identifier/?q=916").content


@pytest.fixture
def extra_section() -> Iterator[None]:
    def provider(customer: Any, actor: Any) -> dict[str, Any] | None:
        if customer.first_name != "Иван":
            return None
        return {"rows": [("Greeting", f"hello {customer.first_name}", False)]}

    # Any template will do; this one renders the ``rows`` the provider returns.
    cards.register_card_section("test_extra", provider, title="Extra", template="customers/card/custom.html",
                                order=5)
    yield
    cards.unregister_card_section("test_extra")


def test_registered_card_section_is_rendered_in_order(client_admin: Client, extra_section: None) -> None:
    shown = make_customer(first_name="Иван")
    hidden = make_customer(phone="+79160000111", first_name="Пётр")
    body = client_admin.get(f"/customers/{shown.pk}/").content.decode()
    assert "hello Иван" in body
    assert body.index('id="section-test_extra"') < body.index('id="section-identification"')
    assert 'id="section-test_extra"' not in client_admin.get(f"/customers/{hidden.pk}/").content.decode()


def test_built_in_sections_are_registered() -> None:
    keys = [s.key for s in cards.card_sections()]
    assert keys[:2] == ["identification", "company"] and keys[-1] == "history"


def test_russian_by_accept_language_and_by_cookie(client_admin: Client) -> None:
    customer = make_customer()
    body = client_admin.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Карточка клиента" in body and "История изменений" in body and "Важные даты" in body
    assert 'lang="ru"' in body
    client = Client()
    client.post("/i18n/setlang/", {"language": "ru", "next": "/login/"})
    assert "Войти" in client.get("/login/").content.decode()
    english = client_admin.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Customer card" in english


def test_static_files_are_found_and_linked(client_admin: Client) -> None:
    assert finders.find("web/app.css") and finders.find("web/vendor/htmx.min.js")
    body = client_admin.get("/").content.decode()
    assert 'href="/static/web/app.css"' in body and 'src="/static/web/vendor/htmx.min.js"' in body


def test_admin_shows_profiles_but_does_not_edit_them(client_admin: Client) -> None:
    customer = make_customer(notes="old")
    page = client_admin.get(f"/admin/customers/customer/{customer.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    client_admin.post(f"/admin/customers/customer/{customer.pk}/change/", {"notes": "new"})
    customer.refresh_from_db()
    assert customer.notes == "old"
    assert client_admin.get("/admin/customers/customer/add/").status_code == 403
    assert client_admin.get("/admin/customers/customfielddefinition/add/").status_code == 403
