from collections.abc import Iterator
from typing import Any

import pytest

from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.identity.consents import current_consents
from clientbase.identity.models import Identifier
from clientbase.interactions import handlers
from clientbase.interactions.models import Event
from clientbase.interactions.tests.builders import ingest, make_event

seen: list[tuple[int, int]] = []


@pytest.fixture
def test_handler() -> Iterator[None]:
    def handle(event: Any, customer: Any) -> None:
        if event.data.get("bad"):
            raise DomainValidationError.single("data.lines.0.sku", "Unknown product.")
        seen.append((event.pk, customer.pk))

    handlers.handles("test_purchase")(handle)
    yield
    handlers._handlers["test_purchase"].remove(handle)
    seen.clear()


def test_handler_runs_after_storing_and_its_error_rejects_only_that_event(test_handler: None) -> None:
    report = ingest(make_event(type="test_purchase", identifiers={"phone": "+79161234567"}),
                    make_event(type="test_purchase", identifiers={"email": "new@x.ru"}, data={"bad": True}),
                    make_event(type="visit", identifiers={"email": "other@x.ru"}))
    assert [r.status for r in report.results] == ["created", "rejected", "created"]
    assert report.results[1].errors[0].path == "data.lines.0.sku"
    assert not Identifier.objects.filter(value="new@x.ru").exists()
    assert Event.objects.count() == 2 and Customer.objects.count() == 2
    [(event_id, customer_id)] = seen
    assert Event.objects.get(pk=event_id).customer_id == customer_id == report.results[0].customer_id


def test_event_consent_and_stricter_wins_on_merge() -> None:
    ingest(make_event(identifiers={"phone": "+79161234567"}, consent={"email": "granted"}))
    ingest(make_event(identifiers={"email": "a@x.ru"}, consent={"email": "unsubscribed"}))
    [result] = ingest(make_event(identifiers={"phone": "+79161234567", "email": "a@x.ru"}, consent={})).results
    assert result.merges
    assert current_consents(result.customer_id or 0) == {"email": "unsubscribed"}
