"""The engagement API: tasks, manual messages, templates with validation and preview."""

from datetime import UTC, datetime

from django.test import Client

from clientbase.access.tests.builders import make_token
from clientbase.engagement.models import Message, MessageTemplate
from clientbase.engagement.tests.builders import make_contact


def api(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_task_message_template_round_trip() -> None:
    client = api(make_token(role="admin"))
    customer = make_contact()
    created = client.post("/api/v1/engagement/tasks", {
        "customer_id": customer.pk, "kind": "meeting", "title": "Sign the contract",
        "due_at": datetime(2026, 12, 1, 9, tzinfo=UTC).isoformat()}, content_type="application/json")
    assert created.status_code == 201
    sent = client.post(f"/api/v1/engagement/customers/{customer.pk}/messages",
                       {"body": "Your order is ready, {{ first_name }}", "idempotency_key": "k1"},
                       content_type="application/json")
    assert sent.status_code == 201 and sent.json()["status"] == "queued"
    again = client.post(f"/api/v1/engagement/customers/{customer.pk}/messages",
                        {"body": "other", "idempotency_key": "k1"}, content_type="application/json")
    assert again.json()["id"] == sent.json()["id"] and Message.objects.count() == 1

    bad = client.put("/api/v1/engagement/templates", {"key": "promo", "channel": "email",
                                                      "body": "{{ cycler.__init__.__globals__ }}"},
                     content_type="application/json")
    assert bad.status_code == 422 and MessageTemplate.objects.count() == 0
    unknown = client.put("/api/v1/engagement/templates", {"key": "promo", "channel": "email",
                                                          "body": "Hi {{ salary }}"}, content_type="application/json")
    assert unknown.json()["errors"][0]["path"] == "body"
    saved = client.put("/api/v1/engagement/templates", {"key": "promo", "channel": "email", "language": "en",
                                                        "subject": "For {{ first_name }}", "body": "Hi {{ name }}"},
                       content_type="application/json")
    assert saved.status_code == 200
    preview = client.get(f"/api/v1/engagement/templates/{saved.json()['id']}/preview?customer_id={customer.pk}")
    assert preview.json() == {"subject": "For Анна", "body": f"Hi {customer.display_name}"}


def test_reading_messages_needs_visibility() -> None:
    customer = make_contact()
    response = api(make_token(role="manager", team="Elsewhere")).get(
        f"/api/v1/engagement/customers/{customer.pk}/messages")
    assert response.status_code == 404


def test_campaign_api_returns_results() -> None:
    client = api(make_token(role="admin"))
    ids = [make_contact(email=f"c{i}@example.com", phone=f"+7916200000{i}").pk for i in range(4)]
    started = client.post("/api/v1/engagement/campaigns", {"name": "Promo", "template_key": "promo",
                                                          "customer_ids": ids, "holdout_percent": 25},
                          content_type="application/json")
    assert started.status_code == 201
    body = started.json()
    assert (body["treated"], body["holdout"], body["delivered"], body["ci_low"]) == (3, 1, 0, None)
    again = client.get(f"/api/v1/engagement/campaigns/{body['campaign_id']}/results")
    assert again.json()["treated"] == 3
