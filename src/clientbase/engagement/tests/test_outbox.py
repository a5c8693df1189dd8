"""The outbox against real servers on loopback: messages arrive, once, even after a worker dies."""

from datetime import timedelta

import pytest

from clientbase.core.clock import now
from clientbase.engagement import outbox
from clientbase.engagement.channels.email import message_id
from clientbase.engagement.models import Message, MessageStatus
from clientbase.engagement.tests.builders import configure, contact_rules, make_contact, make_message
from clientbase.engagement.tests.servers import Mailbox, Provider


def test_email_arrives_once_over_real_smtp(mailbox: Mailbox) -> None:
    customer = make_contact(preferred_channel="email")
    message = make_message(customer=customer, kind="transactional", key="order-1-confirmation")

    assert outbox.run_once("w1") == {"sent": 1}
    assert outbox.run_once("w1") == {}

    assert len(mailbox.messages) == 1
    assert mailbox.recipients == [["anna@example.com"]]
    received = mailbox.messages[0]
    assert received["Message-ID"] == message_id("order-1-confirmation")
    payload = received.get_payload(decode=True)
    assert isinstance(payload, bytes) and payload.decode().strip() == "Hello, Анна!"
    message.refresh_from_db()
    assert (message.status, message.channel, message.attempts) == (MessageStatus.SENT, "email", 1)
    assert message.provider_message_id == message_id("order-1-confirmation")
    assert [d.action for d in message.decisions.all()] == ["queued", "sent"]


def test_enqueue_is_idempotent_per_key() -> None:
    customer = make_contact()
    first = make_message(customer=customer, key="birthday:2026:1")
    again = make_message(customer=customer, key="birthday:2026:1", body="other")
    assert first.pk == again.pk
    assert Message.objects.count() == 1


def test_sms_through_http_provider_carries_idempotency_key(provider: tuple[Provider, str]) -> None:
    server, url = provider
    configure("sms", url=f"{url}/send", token="secret", body={"phone": "{to}", "message": "{text}"})
    customer = make_contact(email=None, preferred_channel="sms")
    message = make_message(customer=customer, kind="transactional", key="sms-1", body="Code {{ first_name }}")

    assert outbox.run_once("w1") == {"sent": 1}

    assert len(server.requests) == 1
    request = server.requests[0]
    assert request["path"] == "/send"
    assert request["body"] == {"phone": "+79161234567", "message": "Code Анна"}
    assert request["headers"]["Idempotency-Key"] == "sms-1"
    assert request["headers"]["Authorization"] == "Bearer secret"
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, "prov-1")


def test_telegram_send_message(provider: tuple[Provider, str]) -> None:
    server, url = provider
    configure("telegram", token="123:ABC", base_url=url)
    customer = make_contact(email=None, telegram="987654", preferred_channel="telegram")
    message = make_message(customer=customer, kind="transactional")

    outbox.run_once("w1")

    assert [r["path"] for r in server.requests] == ["/bot123:ABC/sendMessage"]
    assert server.requests[0]["body"] == {"chat_id": "987654", "text": "Hello, Анна!"}
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, "1")


def test_temporary_failure_backs_off_then_sends(provider: tuple[Provider, str]) -> None:
    server, url = provider
    server.fail_next = 1
    configure("sms", url=url)
    contact_rules(retry_base_seconds=60)
    message = make_message(customer=make_contact(email=None, preferred_channel="sms"), kind="transactional")

    assert outbox.run_once("w1") == {"queued": 1}
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.next_attempt_at > now() + timedelta(seconds=50)
    assert "HTTP 503" in message.last_error
    assert outbox.run_once("w1") == {}  # not due yet

    Message.objects.filter(pk=message.pk).update(next_attempt_at=now())
    assert outbox.run_once("w1") == {"sent": 1}
    message.refresh_from_db()
    assert (message.status, message.attempts, len(server.delivered)) == (MessageStatus.SENT, 2, 1)


def test_permanent_failure_is_final_and_visible(provider: tuple[Provider, str]) -> None:
    server, url = provider
    server.fail_next, server.fail_status = 1, 400
    configure("sms", url=url)
    message = make_message(customer=make_contact(email=None, preferred_channel="sms"), kind="transactional")

    assert outbox.run_once("w1") == {"failed": 1}
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now() - timedelta(days=1))
    assert outbox.run_once("w1") == {}
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.decisions.last().reason.startswith("failed: HTTP 400")  # type: ignore[union-attr]


def test_gives_up_after_max_attempts(provider: tuple[Provider, str]) -> None:
    server, url = provider
    server.fail_next = 10
    configure("sms", url=url)
    contact_rules(max_attempts=2)
    message = make_message(customer=make_contact(email=None, preferred_channel="sms"), kind="transactional")
    outbox.run_once("w1")
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now())
    assert outbox.run_once("w1") == {"failed": 1}
    assert len(server.requests) == 2


def test_worker_killed_after_claim_message_goes_out_once_after_lease(mailbox: Mailbox) -> None:
    contact_rules(lease_seconds=300)
    message = make_message(customer=make_contact(), kind="transactional")

    [claimed] = outbox.claim("dead-worker")  # claims, then "dies" before sending
    assert claimed.pk == message.pk
    assert outbox.run_once("w2") == {}  # lease still running: nobody else touches it
    assert mailbox.messages == []

    Message.objects.filter(pk=message.pk).update(claimed_at=now() - timedelta(seconds=301))
    assert outbox.run_once("w2") == {"sent": 1}
    # The dead worker comes back to life: its fenced writes change nothing and send nothing.
    from clientbase.engagement.models import ContactSettings

    assert outbox.process(claimed, "dead-worker", ContactSettings.current()) == MessageStatus.SENDING
    assert outbox.run_once("w3") == {}
    assert len(mailbox.messages) == 1
    message.refresh_from_db()
    assert (message.status, message.claimed_by, message.attempts) == (MessageStatus.SENT, "w2", 1)


def test_two_workers_claim_disjoint_rows() -> None:
    customer = make_contact()
    for _ in range(6):
        make_message(customer=customer, kind="transactional")
    first = outbox.claim("a", limit=4)
    second = outbox.claim("b", limit=4)
    assert len(first) == 4 and len(second) == 2
    assert not {m.pk for m in first} & {m.pk for m in second}


def test_crash_after_provider_accepted_is_deduplicated_by_key(provider: tuple[Provider, str]) -> None:
    server, url = provider
    configure("sms", url=url)
    message = make_message(customer=make_contact(email=None, preferred_channel="sms"), kind="transactional")
    outbox.run_once("w1")
    # Simulate the crash window: the provider accepted, the 'sent' write never happened.
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, claimed_by="w1",
                                                 claimed_at=now() - timedelta(hours=1))
    assert outbox.run_once("w2") == {"sent": 1}
    assert len(server.requests) == 2
    assert len(server.delivered) == 1  # the provider recognised the repeated Idempotency-Key


def test_worker_command_once(mailbox: Mailbox, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from clientbase.engagement.cli import cmd_worker

    make_message(customer=make_contact(), kind="transactional")
    args = argparse.Namespace(once=True, batch=10, sleep=0, name="cli", no_triggers=True)
    assert cmd_worker(args) == 0
    assert capsys.readouterr().out.strip() == '{"claimed": 1, "sent": 1}'
    assert len(mailbox.messages) == 1


def test_worker_pass_runs_due_periodic_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    from clientbase.core import schedule
    from clientbase.engagement.worker import run_worker

    ran: list[str] = []
    monkeypatch.setattr(schedule, "_jobs", {})
    schedule.register("test.engagement", every=timedelta(hours=1), func=lambda: ran.append("x"))
    assert run_worker("w", triggers=True) == {"jobs": 1, "fired": 0, "claimed": 0}
    assert run_worker("w", triggers=True)["jobs"] == 0
    assert ran == ["x"]


def test_provider_delivery_report_is_logged(provider: tuple[Provider, str]) -> None:
    from django.test import Client

    server, url = provider
    configure("sms", url=url, callback_token="s3cret")
    message = make_message(customer=make_contact(email=None, preferred_channel="sms"), kind="transactional")
    outbox.run_once("w1")
    client = Client()
    report = {"id": "prov-1", "status": "delivered"}
    assert client.post("/engagement/delivery/sms/?token=wrong", report, content_type="application/json"
                       ).status_code == 403
    assert client.post("/engagement/delivery/sms/?token=s3cret", report, content_type="application/json"
                       ).status_code == 204
    assert [d.reason for d in message.decisions.all()][-1] == "provider: delivered"
