"""Contact rules end to end: consent and unsubscribe, fallback order, the window, caps; every decision logged."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client

from clientbase.access.actor import SYSTEM
from clientbase.engagement import contact, outbox
from clientbase.engagement.models import Message, MessageStatus
from clientbase.engagement.tests.builders import configure, contact_rules, make_contact, make_message
from clientbase.engagement.tests.servers import Mailbox, Provider
from clientbase.identity.consents import current_consents, set_consent
from clientbase.identity.merges import merge_customers
from clientbase.identity.unmerge import unmerge

MONDAY_NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 15:00 in Moscow


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    clock = [MONDAY_NOON_UTC]
    monkeypatch.setattr("clientbase.engagement.outbox.now", lambda: clock[0])
    return clock


def reasons(message: Message) -> list[str]:
    return [d.reason for d in message.decisions.all()]


def test_marketing_outside_the_window_is_held_then_sent_when_it_opens(mailbox: Mailbox,
                                                                    frozen: list[datetime]) -> None:
    customer = make_contact(contact_from=time(10), contact_to=time(14), time_zone="Europe/Moscow")
    message = make_message(customer=customer, due_at=MONDAY_NOON_UTC)

    assert outbox.run_once("w") == {"held": 1}
    message.refresh_from_db()
    assert message.status == MessageStatus.HELD
    assert message.next_attempt_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert reasons(message)[-1] == "held: outside 10:00–14:00 Europe/Moscow until Tue 2026-11-24 10:00"

    frozen[0] = datetime(2026, 11, 24, 6, 59, tzinfo=UTC)
    assert outbox.run_once("w") == {}  # never early
    frozen[0] = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert outbox.run_once("w") == {"sent": 1}
    assert len(mailbox.messages) == 1


def test_transactional_ignores_the_window_and_caps(mailbox: Mailbox, frozen: list[datetime]) -> None:
    contact_rules(cap_per_channel_day=0)
    customer = make_contact(contact_from=time(10), contact_to=time(14))
    make_message(customer=customer, kind="transactional", due_at=MONDAY_NOON_UTC)
    assert outbox.run_once("w") == {"sent": 1}


def test_weekly_cap_skips_and_says_why(mailbox: Mailbox) -> None:
    contact_rules(cap_per_channel_day=10, cap_per_channel_week=2, cap_all_channels_week=10)
    customer = make_contact()
    messages = [make_message(customer=customer) for _ in range(3)]
    make_message(customer=customer, kind="transactional")

    assert outbox.run_once("w") == {"sent": 3, "skipped": 1}
    messages[2].refresh_from_db()
    assert messages[2].status == MessageStatus.SKIPPED
    assert reasons(messages[2])[-1] == "skipped: cap 2/week on this channel reached"
    assert len(mailbox.messages) == 3


def test_global_cap_counts_every_channel(mailbox: Mailbox, provider: tuple[Provider, str]) -> None:
    configure("sms", url=provider[1])
    contact_rules(cap_per_channel_day=5, cap_per_channel_week=5, cap_all_channels_week=2)
    customer = make_contact()
    make_message(customer=customer, channel="email")
    make_message(customer=customer, channel="sms")
    third = make_message(customer=customer, channel="email")
    assert outbox.run_once("w") == {"sent": 2, "skipped": 1}
    third.refresh_from_db()
    assert reasons(third)[-1] == "skipped: cap 2/week over all channels reached"


def test_unsubscribed_channel_falls_back_to_the_next(mailbox: Mailbox, provider: tuple[Provider, str]) -> None:
    server, url = provider
    configure("sms", url=url)
    customer = make_contact(preferred_channel="email", channel_order=["sms"])
    set_consent(customer, "email", "unsubscribed")
    message = make_message(customer=customer)

    assert outbox.run_once("w") == {"sent": 1}
    message.refresh_from_db()
    assert (message.channel, len(mailbox.messages), len(server.delivered)) == ("sms", 0, 1)


def test_no_allowed_channel_is_refused_with_every_reason(mailbox: Mailbox) -> None:
    customer = make_contact(preferred_channel="email", channel_order=["telegram"])
    set_consent(customer, "email", "unsubscribed")
    message = make_message(customer=customer)
    assert outbox.run_once("w") == {"refused": 1}
    message.refresh_from_db()
    assert reasons(message)[-1] == "refused: email: unsubscribed; telegram: no address"
    assert mailbox.messages == []


def test_unsubscribe_stops_marketing_but_not_receipts(mailbox: Mailbox) -> None:
    customer = make_contact(preferred_channel="email")
    set_consent(customer, "email", "unsubscribed")
    make_message(customer=customer)
    make_message(customer=customer, kind="transactional")
    assert outbox.run_once("w") == {"refused": 1, "sent": 1}


def test_opt_in_mode_needs_a_consent_row(mailbox: Mailbox) -> None:
    contact_rules(require_opt_in=True)
    customer = make_contact(preferred_channel="email")
    make_message(customer=customer)
    assert outbox.run_once("w") == {"refused": 1}
    set_consent(customer, "email", "granted")
    make_message(customer=customer)
    assert outbox.run_once("w") == {"sent": 1}


def test_one_click_unsubscribe_link(mailbox: Mailbox) -> None:
    customer = make_contact(preferred_channel="email")
    make_message(customer=customer, body="Offer. Unsubscribe: {{ unsubscribe_url }}")
    outbox.run_once("w")
    received = mailbox.messages[0]
    url = contact.unsubscribe_url(customer.pk, "email")
    assert received["List-Unsubscribe"].replace("\r\n ", "").strip() == f"<{url}>"  # folded header
    path = url.removeprefix("http://127.0.0.1:8000")

    client = Client()
    assert client.get(path).status_code == 200
    assert current_consents(customer.pk) == {}  # a GET (a link scanner) changes nothing
    assert client.post(path).status_code == 200
    assert current_consents(customer.pk) == {"email": "unsubscribed"}
    assert client.post(path[:-5] + "xxxx/").status_code == 400


def test_consent_survives_merge_and_unmerge(mailbox: Mailbox) -> None:
    stays = make_contact(email="anna@example.com", phone="+79161111111", preferred_channel="email")
    absorbed = make_contact(email="anna.p@example.com", phone="+79162222222", preferred_channel="email")
    set_consent(absorbed, "email", "unsubscribed")

    merge = merge_customers(stays, absorbed, actor=SYSTEM)
    make_message(customer=stays, key="after-merge")
    assert outbox.run_once("w") == {"refused": 1}  # the stricter choice won

    unmerge(merge, actor=SYSTEM)
    make_message(customer=stays, key="after-unmerge-1")
    make_message(customer=absorbed, key="after-unmerge-2")
    assert outbox.run_once("w") == {"sent": 1, "refused": 1}
    assert Message.objects.get(idempotency_key="after-unmerge-1").status == MessageStatus.SENT
    assert mailbox.recipients == [["anna@example.com"]]


def test_every_decision_is_logged() -> None:
    customer = make_contact(email=None, phone=None)
    message = make_message(customer=customer, due_at=datetime.now(UTC) - timedelta(minutes=1))
    outbox.run_once("w")
    assert [d.action for d in message.decisions.all()] == ["queued", "refused"]
