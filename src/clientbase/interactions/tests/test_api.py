"""Ingest, timeline and webhooks over HTTP."""

import json
from typing import Any

from django.test import Client

from clientbase.access.tests.builders import make_token
from clientbase.customers.models import Customer
from clientbase.interactions.models import ChannelSecret, Event
from clientbase.interactions.tests.builders import make_event


def call(method: str, path: str, token: str | None, body: Any = None, **headers: str) -> tuple[int, Any]:
    kwargs: dict[str, Any] = dict(headers)
    if token:
        kwargs["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(Client(), method)(f"/api/v1{path}", **kwargs)
    return response.status_code, (response.json() if response.content else None)


def test_post_single_and_batch_with_per_event_results() -> None:
    token = make_token(role="manager", scopes=["events:write"])
    status, body = call("post", "/events", token, make_event(id="a", identifiers={"phone": "8 916 123-45-67"}))
    assert status == 200 and body["results"][0]["status"] == "created"
    status, body = call("post", "/events", token, {"events": [
        make_event(id="a"), make_event(id="b", identifiers={"phone": "1"}), make_event(id="c")]})
    assert [r["status"] for r in body["results"]] == ["duplicate", "rejected", "created"]
    assert body["results"][1]["errors"][0]["path"] == "identifiers.phone"
    assert body["counts"] == {"created": 1, "duplicate": 1, "rejected": 1, "merged": 0, "reviews": 0}


def test_events_need_the_scope() -> None:
    status, _ = call("post", "/events", make_token(role="support"), make_event())
    assert status == 403
    assert not Event.objects.exists()


def test_too_many_events_refused() -> None:
    status, body = call("post", "/events", make_token(), {"events": [{}] * 10_001})
    assert status == 422 and body["errors"][0]["path"] == "events"


def test_a_full_batch_of_realistic_events_fits_in_one_request(settings: Any) -> None:
    """10,000 events as a till or a site sends them are several megabytes: more than Django's default
    2.5 MB for a request body, within ours; a body beyond ours is refused with a JSON 413."""
    events = [make_event(id=f"pos-42-{n:06d}", source="pos-42", type="visit", channel="pos",
                         identifiers={"phone": f"8 (916) {n // 10_000:03d}-{n // 100 % 100:02d}-{n % 100:02d}",
                                      "email": f"Guest.{n}@Mail.ru", "card": f"{n:07d}"},
                         traits={"first_name": "Иван", "last_name": "Петров", "birth_date": "1990-05-01"},
                         data={"note": "Столик у окна, попросил счёт заранее, оплатил картой.", "table": n % 20})
              for n in range(10_000)]
    body = json.dumps({"events": events})
    assert len(body.encode()) > 2.5 * 2**20
    status, answer = call("post", "/events", make_token(scopes=["events:write"]), {"events": events})
    assert status == 200, answer
    assert answer["counts"]["created"] == 10_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
    status, answer = call("post", "/events", make_token(scopes=["events:write"]), {"events": events[:5000]})
    assert status == 413 and "1048576 bytes" in answer["errors"][0]["message"]


def test_timeline_merges_channels() -> None:
    token = make_token()
    call("post", "/events", token, {"events": [
        make_event(type="message", channel="instagram", identifiers={"phone": "+79161234567"},
                   occurred_at="2026-11-01T10:00:00+00:00", data={"direction": "inbound", "text": "Привет"}),
        make_event(type="call", channel="phone", occurred_at="2026-11-02T10:00:00+00:00",
                   data={"direction": "outbound", "duration_seconds": 65}),
        make_event(type="visit", channel="web")]})
    customer = Customer.objects.get()
    status, body = call("get", f"/customers/{customer.pk}/timeline", token)
    assert status == 200
    assert [(i["type"], i["channel"], i["direction"]) for i in body] == [
        ("call", "phone", "outbound"), ("message", "instagram", "inbound")]
    assert body[1]["text"] == "Привет" and body[0]["duration_seconds"] == 65


TELEGRAM_UPDATE = {
    "update_id": 815000001,
    "message": {"message_id": 12, "date": 1762000000, "text": "Здравствуйте, есть ли размер 42?",
                "from": {"id": 123456789, "is_bot": False, "first_name": "Анна", "username": "anna_k",
                         "language_code": "ru"},
                "chat": {"id": 123456789, "first_name": "Анна", "username": "anna_k", "type": "private"}},
}


def test_telegram_webhook_needs_the_secret_and_turns_updates_into_events() -> None:
    ChannelSecret.objects.create(key="shopbot", kind="telegram", channel="telegram", secret="s3cret")
    status, _ = call("post", "/webhooks/telegram/shopbot", None, TELEGRAM_UPDATE,
                     HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="wrong")
    assert status == 403 and not Event.objects.exists()
    status, body = call("post", "/webhooks/telegram/shopbot", None, TELEGRAM_UPDATE,
                        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cret")
    assert status == 200 and body["results"][0]["status"] == "created"
    event = Event.objects.get()
    assert (event.type, event.identifiers, event.data["thread"]) == ("message", ["telegram:123456789"], "123456789")
    contact = {"update_id": 815000002, "message": {
        "message_id": 13, "date": 1762000100, "from": TELEGRAM_UPDATE["message"]["from"],  # type: ignore[index]
        "chat": {"id": 123456789, "type": "private"},
        "contact": {"phone_number": "79161234567", "first_name": "Анна", "user_id": 123456789}}}
    call("post", "/webhooks/telegram/shopbot", None, contact, HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cret")
    customer = Customer.objects.get()
    assert customer.first_name == "Анна"
    assert sorted(customer.identifiers.values_list("kind", "value", "verified")) == [
        ("phone", "+79161234567", True), ("telegram", "123456789", False)]


def test_generic_webhook_maps_fields() -> None:
    ChannelSecret.objects.create(key="chat", kind="generic", channel="site_chat", secret="k", mapping={
        "id": "message.id", "type": "=message", "occurred_at": "message.sent_at",
        "identifiers.email": "visitor.email", "traits.first_name": "visitor.name",
        "data.text": "message.body", "data.direction": "=inbound", "data.thread": "conversation"})
    payload = {"conversation": "c-9", "visitor": {"email": "Olga@Mail.ru", "name": "Ольга"},
               "message": {"id": 77, "sent_at": "2026-11-01T09:00:00Z", "body": "Когда доставка?"}}
    status, body = call("post", "/webhooks/json/chat", None, payload, HTTP_X_CLIENTBASE_SECRET="k")
    assert status == 200 and body["results"][0]["status"] == "created"
    event = Event.objects.get()
    assert (event.source, event.external_id, event.channel) == ("webhook:chat", "77", "site_chat")
    assert event.data == {"text": "Когда доставка?", "direction": "inbound", "thread": "c-9"}
    status, _ = call("post", "/webhooks/json/chat", None, payload)
    assert status == 403
