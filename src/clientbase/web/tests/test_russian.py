"""The Russian interface: key pages rendered with the language cookie show no English labels."""

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from clientbase.access.tests.builders import make_user
from clientbase.analytics.scoring import ScoringSettings
from clientbase.analytics.services import run_scoring
from clientbase.analytics.tests.builders import make_business

PASSWORD = "correct horse battery"
# Labels that must never reach a Russian page: one per area QA found untranslated.
ENGLISH = ("Customers", "Segments", "Import", "Campaigns", "Lifetime value", "Probability active", "Next visit",
           "My day", "Overdue", "Not stated", "Female", "figures.orders", "between", "equals", "Field",
           "Page not found", "Access denied", "Recency", "Champions", "Save", "Search",
           "Prices are too high", "of predicted lifetime value", "Display name")


class _Text(HTMLParser):
    """Visible text only: attribute values (option values are raw rule keys) and scripts are left out."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _english_left(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    return [phrase for phrase in ENGLISH if re.search(rf"(?<![\w.]){re.escape(phrase)}(?![\w.])", text)]


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _russian_client(role: str = "admin") -> Client:
    client = Client()
    user = make_user(role=role)
    assert client.login(username=user.get_username(), password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


def test_key_pages_have_no_english_labels_in_russian() -> None:
    people = make_business(customers=12)
    run_scoring(as_of=dt.date(2026, 2, 5), settings=ScoringSettings(compare_pareto=False))
    client = _russian_client()
    for url in (f"/customers/{people[0].pk}/", "/segments/new/", "/segments/", "/analytics/", "/sales/import/",
                "/engagement/my-day/", "/engagement/campaigns/", "/engagement/templates/", "/engagement/templates/new/",
                "/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert _english_left(page.content.decode()) == [], url


def test_builder_options_keep_raw_keys_and_show_russian_labels() -> None:
    html = _russian_client().get("/segments/new/").content.decode()
    assert '<option value="figures.orders" >Покупки</option>' in html
    assert '<option value="between" >между</option>' in html


def test_error_pages_are_russian() -> None:
    client = _russian_client(role="support")
    missing = client.get("/customers/999999/")
    assert missing.status_code == 404 and "Страница не найдена" in missing.content.decode()
    refused = client.get("/identity/reviews/")
    assert refused.status_code == 403 and "Доступ запрещён" in refused.content.decode()
    assert _english_left(refused.content.decode()) == []


def test_import_report_reasons_are_russian() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("base.csv", "Фамилия;Телефон;Хобби\nИванова;;чтение\n".encode(),
                                content_type="text/csv")
    page = _russian_client().post("/sales/import/", {"file": upload, "kind": "customers"}, HTTP_HX_REQUEST="true")
    text = page.content.decode()
    assert "Ничего не сохранено." in text and "Не по чему узнать клиента" in text, text
