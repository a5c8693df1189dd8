"""Every link the top navigation shows a user opens for that user (no menu item leads to a 403)."""

import re
from typing import Any

import pytest
from django.test import Client

from clientbase.access.tests.builders import make_user

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _nav_links(client: Client) -> list[str]:
    page = client.get("/").content.decode()
    nav = re.search(r'<nav class="nav">(.*?)</nav>', page, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(1))


@pytest.mark.parametrize("role", ["admin", "marketer", "manager", "support"])
def test_every_nav_link_opens_for_the_role(role: str) -> None:
    client = Client()
    user = make_user(role=role)
    assert client.login(username=user.get_username(), password=PASSWORD)
    links = _nav_links(client)
    assert "/customers/" in links
    for url in links:
        assert client.get(url).status_code == 200, (role, url)


def test_team_roles_do_not_see_whole_base_pages() -> None:
    client = Client()
    user = make_user(role="manager")
    client.login(username=user.get_username(), password=PASSWORD)
    links = _nav_links(client)
    assert "/analytics/" not in links and "/identity/reviews/" not in links


def test_only_the_most_specific_item_is_current() -> None:
    client = Client()
    user = make_user(role="admin")
    client.login(username=user.get_username(), password=PASSWORD)
    page = client.get("/customers/fields/").content.decode()
    nav = re.search(r'<nav class="nav">(.*?)</nav>', page, re.S)
    assert nav is not None
    assert re.findall(r'href="([^"]+)" aria-current="page"', nav.group(1)) == ["/customers/fields/"]
