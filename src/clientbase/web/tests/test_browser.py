"""End to end in a real headless Chromium: log in, search by phone in another format, open the card."""

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from clientbase.access.tests.builders import make_user
from clientbase.customers.tests.builders import make_customer

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian chromium is not installed (run .ci/browser-deps)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    # Playwright's sync API runs an event loop; Django refuses ORM calls from such a thread unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.set_default_timeout(10_000)
        yield page
        browser.close()


@pytest.fixture
def anna_and_irina(transactional_db: None, settings: Any) -> tuple[Any, Any]:
    """The stored rows, made before the browser starts; the test body itself must not touch the database.
    Inside ``sync_playwright`` the body runs in another ``contextvars`` context (seen: the body and the
    ``browser_page`` teardown held different connections), and Django keeps a connection per context: one
    opened in the body was never closed, so PostgreSQL refused to drop the test database at the end
    ("being accessed by other users")."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_user(role="admin", username="anna")
    customer = make_customer(phone="+79161234567", first_name="Ирина", last_name="Лебедева", city="Тверь",
                             notes="Любит раф")
    return user, customer


def test_login_search_and_card_in_a_browser(live_server: Any, anna_and_irina: tuple[Any, Any],
                                            browser_page: Any) -> None:
    user, customer = anna_and_irina
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/")
    page.type("#q", "8 (916) 123-45-67", delay=10)
    # The results arrive through htmx as the user types, without a page load.
    link = page.locator("#results a", has_text="Лебедева Ирина")
    link.wait_for()
    link.click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    assert page.locator("h1").inner_text().startswith("Лебедева Ирина")
    history = page.locator("#history table.history")
    history.wait_for()
    assert "Любит раф" in history.inner_text()
