from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from clientbase.engagement.tests.servers import Mailbox, Provider, http_provider, smtp_server


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Staff users are made with a password; the real hasher costs ~0.5 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback that the email channel talks to."""
    with smtp_server() as (box, port), override_settings(
            CLIENTBASE_SMTP={"host": "127.0.0.1", "port": port, "timeout": 5}):
        yield box


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    """A local HTTP server standing in for the SMS / messenger provider."""
    with http_provider() as running:
        yield running
